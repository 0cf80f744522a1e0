//! The command line: `icf serve | worker | migrate | user …`.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use icf_core::auth::{check_password, parse_email, parse_username};
use icf_core::enums::Role;
use icf_store::users::{NewUser, UserChanges};

use crate::config::Settings;
use crate::startup;

/// Instagram Content Factory: publish one post to many Instagram accounts, each in its
/// own language. Configured by environment variables (see .env.example).
#[derive(Debug, Parser)]
#[command(name = "icf", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (and, later, the admin UI) on ICF_LISTEN.
    Serve(ServeArgs),
    /// Run a worker process that executes queued jobs.
    Worker(WorkerArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage operators (admins and editors).
    #[command(subcommand)]
    User(UserCommand),
    /// Run a simulator of an external service (for tests and demos).
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Instagram's private mobile API; point INSTAGRAM_API_URL at it.
    Instagram(SimInstagramArgs),
}

#[derive(Debug, Args)]
pub struct SimInstagramArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub listen: std::net::SocketAddr,
    /// A JSON array of accounts to create at start:
    /// `[{"username","password","totp_secret"?,"faults"?}]`.
    #[arg(long)]
    pub seed: Option<std::path::PathBuf>,
    /// Serve HTTPS (h2) with a fresh self-signed certificate, written to --cert-out;
    /// point INSTAGRAM_API_CA at that file.
    #[arg(long)]
    pub tls: bool,
    /// Where --tls writes the certificate (PEM).
    #[arg(long, default_value = "instagram-sim.pem")]
    pub cert_out: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Do not run the in-process worker (when `icf worker` processes run elsewhere).
    #[arg(long)]
    pub no_worker: bool,
    /// Do not apply migrations on start (overrides ICF_AUTO_MIGRATE).
    #[arg(long)]
    pub no_migrate: bool,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// How many jobs this process runs at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: u32,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an operator. Without --password, the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// The password (visible to other local users in the process list; prefer stdin).
        #[arg(long)]
        password: Option<String>,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List operators.
    List,
    /// Set an operator's password. Without --password, it is read from standard input.
    SetPassword {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Disable an operator: they can no longer sign in and their tokens stop working.
    Disable {
        #[arg(long)]
        username: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: icf_core::ParseEnumError| e.to_string())
}

fn password_from(arg: Option<String>) -> anyhow::Result<String> {
    match arg {
        Some(p) => Ok(p),
        None => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            Ok(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    }
}

pub async fn run(cli: Cli, mut settings: Settings) -> anyhow::Result<()> {
    // Simulators need no database, secrets or data dir.
    if let Command::Sim { command } = cli.command {
        return sim(command).await;
    }
    let generated = settings.ensure_secrets()?;
    for var in generated {
        tracing::warn!(
            variable = var,
            dir = %settings.data_dir.display(),
            "{var} was not set: generated one and stored it in the data dir (mode 0600). \
             Back it up; set it explicitly in production."
        );
    }
    match cli.command {
        Command::Serve(args) => serve(settings, args).await,
        Command::Worker(_) => {
            bail!("the job worker is not part of this build yet; `icf serve` handles the API")
        }
        Command::Migrate => {
            let db = startup::connect(&settings).await?;
            db.migrate().await.context("applying migrations")?;
            let readiness = db.readiness().await?;
            println!(
                "migrations applied on {} ({} known, {} pending)",
                readiness.engine.as_str(),
                db.known_migrations().len(),
                readiness.pending_migrations
            );
            db.close().await;
            Ok(())
        }
        Command::User(cmd) => user(settings, cmd).await,
        Command::Sim { .. } => unreachable!("handled above"),
    }
}

async fn sim(command: SimCommand) -> anyhow::Result<()> {
    match command {
        SimCommand::Instagram(args) => {
            let seed = match &args.seed {
                Some(path) => icf_instagram::sim::read_seed(path).map_err(anyhow::Error::msg)?,
                None => Vec::new(),
            };
            let accounts = seed.len();
            let sim = if args.tls {
                icf_instagram::sim::Simulator::start_tls(args.listen, seed).await
            } else {
                icf_instagram::sim::Simulator::start(args.listen, seed).await
            }
            .with_context(|| format!("cannot listen on {}", args.listen))?;
            if let Some(pem) = sim.cert_pem() {
                std::fs::write(&args.cert_out, pem)
                    .with_context(|| format!("cannot write {}", args.cert_out.display()))?;
                println!(
                    "certificate: {} (INSTAGRAM_API_CA)",
                    args.cert_out.display()
                );
            }
            println!(
                "instagram simulator on {} ({accounts} seeded accounts); INSTAGRAM_API_URL={}",
                sim.addr(),
                sim.base_url()
            );
            tokio::select! {
                _ = sim.wait() => Ok(()),
                _ = startup::shutdown_signal() => Ok(()),
            }
        }
    }
}

async fn serve(settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    let migrate = settings.auto_migrate && !args.no_migrate;
    let app = startup::App::build(&settings, migrate).await?;
    tracing::info!(
        addr = %app.addr(),
        database = app.db().engine().as_str(),
        "icf is listening"
    );
    app.run(startup::shutdown_signal()).await
}

async fn user(settings: Settings, cmd: UserCommand) -> anyhow::Result<()> {
    let db = startup::connect(&settings).await?;
    db.migrate().await.context("applying migrations")?;
    let result = user_command(&db, cmd).await;
    db.close().await;
    result
}

async fn user_command(db: &icf_store::Db, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            username,
            email,
            password,
            role,
        } => {
            let username = parse_username(&username)?;
            let email = parse_email(&email)?;
            let password = password_from(password)?;
            check_password(&password)?;
            let password_hash = icf_core::password::hash(&password)?;
            let user = icf_store::users::create(
                db,
                NewUser {
                    username,
                    email,
                    password_hash,
                    role,
                },
            )
            .await
            .map_err(|e| match e {
                icf_store::StoreError::Conflict { field } => {
                    anyhow::anyhow!("a user with this {field} already exists")
                }
                other => other.into(),
            })?;
            println!(
                "created {} user '{}' ({})",
                user.role, user.username, user.id
            );
        }
        UserCommand::List => {
            let users = icf_store::users::list(db).await?;
            println!(
                "{:<24} {:<32} {:<7} {:<8} last sign-in",
                "username", "email", "role", "active"
            );
            for u in users {
                println!(
                    "{:<24} {:<32} {:<7} {:<8} {}",
                    u.username,
                    u.email,
                    u.role,
                    if u.is_active { "yes" } else { "no" },
                    u.last_login_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "never".into())
                );
            }
        }
        UserCommand::SetPassword { username, password } => {
            let creds = find(db, &username).await?;
            let password = password_from(password)?;
            check_password(&password)?;
            let password_hash = icf_core::password::hash(&password)?;
            icf_store::users::update(
                db,
                creds.user.id,
                UserChanges {
                    password_hash: Some(password_hash),
                    ..UserChanges::default()
                },
            )
            .await?;
            println!(
                "password of '{}' changed; their old tokens no longer work",
                creds.user.username
            );
        }
        UserCommand::Disable { username } => {
            let creds = find(db, &username).await?;
            icf_store::users::update(
                db,
                creds.user.id,
                UserChanges {
                    is_active: Some(false),
                    ..UserChanges::default()
                },
            )
            .await?;
            println!("'{}' is disabled", creds.user.username);
        }
    }
    Ok(())
}

async fn find(
    db: &icf_store::Db,
    username: &str,
) -> anyhow::Result<icf_store::users::UserCredentials> {
    let name = username.trim().to_lowercase();
    icf_store::users::find_by_username(db, &name)
        .await?
        .with_context(|| format!("no user named '{name}'"))
}
