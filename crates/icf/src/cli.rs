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
    /// Instagram accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// The proxy pool.
    #[command(subcommand)]
    Proxies(ProxiesCommand),
    /// Re-encrypt every secret at rest under the first key of ENCRYPTION_KEY (run after
    /// putting a new key first; remove the old key afterwards).
    RotateKeys,
    /// Run a simulator of a translation provider (for tests and demos), e.g.
    /// `icf sim deepl --listen 127.0.0.1:9001`, then set DEEPL_API_URL=http://127.0.0.1:9001.
    Sim(SimArgs),
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// deepl, google or libretranslate.
    #[arg(value_parser = parse_provider)]
    pub provider: icf_translate::ProviderKind,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:9001")]
    pub listen: std::net::SocketAddr,
}

fn parse_provider(s: &str) -> Result<icf_translate::ProviderKind, String> {
    icf_translate::ProviderKind::parse(s)
        .ok_or_else(|| format!("expected deepl, google or libretranslate, got '{s}'"))
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Import accounts from a file: `username:password[:language[:group[:proxy_url]]]`
    /// lines, or a CSV with a header row (username,password,language,group,proxy_url).
    Import {
        file: std::path::PathBuf,
        /// Report what would happen without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// The language of lines that name none.
        #[arg(long, default_value = "en")]
        language: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProxiesCommand {
    /// Import proxies from a file: `scheme://user:pass@host:port` or `host:port:user:pass`
    /// lines, each optionally followed by a country code.
    Import {
        file: std::path::PathBuf,
        #[arg(long)]
        dry_run: bool,
        /// The type of `host:port:user:pass` lines: http or socks5.
        #[arg(long, default_value = "http")]
        proxy_type: String,
    },
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
    // A simulator needs no database and no secrets.
    if let Command::Sim(args) = &cli.command {
        return icf_translate::sim::serve(args.provider, args.listen, startup::shutdown_signal())
            .await
            .with_context(|| format!("cannot run the simulator on {}", args.listen));
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
        // Served above, before the secrets.
        Command::Sim(_) => Ok(()),
        Command::Accounts(AccountsCommand::Import {
            file,
            dry_run,
            language,
        }) => {
            let language = icf_core::language::Language::parse(&language)
                .map_err(|e| anyhow::anyhow!("--language: {}", e.message))?;
            let text = read_import_file(&file)?;
            let (db, cipher) = open_with_cipher(&settings).await?;
            let report = icf_web::import::import_accounts(
                &db,
                &cipher,
                &text,
                dry_run,
                &language,
                i32::try_from(settings.max_posts_per_day_per_account.min(100)).unwrap_or(10),
            )
            .await;
            db.close().await;
            print_report(&report?);
            Ok(())
        }
        Command::Proxies(ProxiesCommand::Import {
            file,
            dry_run,
            proxy_type,
        }) => {
            let proxy_type: icf_core::enums::ProxyType = proxy_type
                .parse()
                .map_err(|e: icf_core::ParseEnumError| anyhow::anyhow!("--proxy-type: {e}"))?;
            let text = read_import_file(&file)?;
            let (db, cipher) = open_with_cipher(&settings).await?;
            let report =
                icf_web::import::import_proxies(&db, &cipher, &text, dry_run, proxy_type).await;
            db.close().await;
            print_report(&report?);
            Ok(())
        }
        Command::RotateKeys => {
            let (db, cipher) = open_with_cipher(&settings).await?;
            let report = icf_web::secrets::rotate_keys(&db, &cipher).await;
            db.close().await;
            let report = report?;
            println!(
                "re-encrypted {} secrets under the first key; {} were already under it",
                report.rotated, report.current
            );
            Ok(())
        }
    }
}

fn read_import_file(path: &std::path::Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))
}

async fn open_with_cipher(
    settings: &Settings,
) -> anyhow::Result<(icf_store::Db, icf_crypto::Cipher)> {
    let cipher = startup::cipher(settings)?;
    let db = startup::connect(settings).await?;
    db.migrate().await.context("applying migrations")?;
    Ok((db, cipher))
}

fn print_report(report: &icf_web::import::ImportReport) {
    for line in report.lines.iter().filter(|l| l.result != "created") {
        println!(
            "line {}: {}{}{}",
            line.line,
            line.result,
            line.item
                .as_deref()
                .map(|i| format!(" ({i})"))
                .unwrap_or_default(),
            line.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
    println!(
        "{}{} lines: {} created, {} duplicate, {} invalid",
        if report.dry_run {
            "dry run, nothing saved. "
        } else {
            ""
        },
        report.total,
        report.created,
        report.duplicate,
        report.invalid
    );
}

async fn serve(settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    let migrate = settings.auto_migrate && !args.no_migrate;
    let app = startup::App::build(&settings, migrate).await?;
    if migrate && icf_store::users::list(app.db()).await?.is_empty() {
        tracing::warn!(
            "no operators yet: create the first admin with \
             `icf user create --username admin --email you@example.com --role admin`"
        );
    }
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
