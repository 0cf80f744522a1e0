//! The command line: `icf serve | worker | migrate | user …`.
//!
//! One file per group of subcommands (the process roles, `jobs`, `user`, `sim`), each with
//! its arguments; the imports and key rotation, which share the opening of the database
//! with the cipher, stay here beside the dispatch.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::startup;

mod jobs;
mod roles;
mod sim;
mod user;

pub use jobs::JobsCommand;
pub use roles::{ServeArgs, WorkerArgs};
pub use sim::{SimCommand, SimInstagramArgs, SimProviderArgs};
pub use user::UserCommand;

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
    /// Try icf with nothing to set up: Instagram, DeepL and the accounts' proxies are
    /// simulated on this machine; prints the admin password and how to publish.
    Demo(crate::demo::DemoArgs),
    /// Run the HTTP API (and, later, the admin UI) on ICF_LISTEN, and a job worker.
    ///
    /// The in-process worker is left out with --no-worker, when `icf worker` processes
    /// run elsewhere.
    Serve(ServeArgs),
    /// Run a worker process that executes queued jobs.
    ///
    /// On SIGTERM it stops claiming, lets running jobs finish within
    /// ICF_WORKER_SHUTDOWN_GRACE_SECS and gives the rest back to the queue.
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
    /// Run a simulator of an external service (for tests and demos), e.g.
    /// `icf sim deepl --listen 127.0.0.1:9001`, then set DEEPL_API_URL=http://127.0.0.1:9001.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
    /// Run the benchmarks (BENCHMARKS.md) on SQLite and, with --postgres, PostgreSQL:
    /// Instagram and the translators are simulated on this machine.
    Bench(crate::bench::BenchArgs),
    /// The load generator of `icf bench latency` (a second process).
    #[command(hide = true)]
    BenchLoad(crate::bench::LoadArgs),
    /// Inspect the job queue and check the workers.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Check this deployment (configuration, database, key, ffmpeg, storage, providers,
    /// proxies, workers, app profile): one line each, a fix for each failure; exits 1 on a
    /// failure.
    Doctor,
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

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command {
        // Simulators need no database, secrets or data dir.
        Command::Sim { command } => sim::run(command).await,
        // Benchmarks make their own databases and settings.
        Command::Bench(args) => crate::bench::run(args).await,
        Command::BenchLoad(args) => crate::bench::load(args).await,
        // The demo makes its own settings, database and keys under $ICF_DATA_DIR/demo.
        Command::Demo(args) => crate::demo::run(args).await,
        // Before ensure_secrets: the doctor reports a missing key, it never generates one.
        Command::Doctor => doctor(&settings).await,
        command => run_with_secrets(command, settings).await,
    }
}

async fn doctor(settings: &Settings) -> anyhow::Result<()> {
    let checks = crate::doctor::run(settings).await;
    if crate::doctor::print(&checks) {
        return Ok(());
    }
    bail!("doctor: some checks failed (see the fix lines above)");
}

/// The commands that work on the deployment's data: its keys are resolved first
/// (generated into the data dir on the very first start).
async fn run_with_secrets(command: Command, mut settings: Settings) -> anyhow::Result<()> {
    let generated = settings.ensure_secrets()?;
    for var in generated {
        tracing::warn!(
            variable = var,
            dir = %settings.data_dir.display(),
            "{var} was not set: generated one and stored it in the data dir (mode 0600). \
             Back it up; set it explicitly in production."
        );
    }
    match command {
        Command::Serve(args) => roles::serve(settings, args).await,
        Command::Worker(args) => roles::worker(settings, args).await,
        Command::Jobs(cmd) => jobs::run(settings, cmd).await,
        Command::Migrate => roles::migrate(&settings).await,
        Command::User(cmd) => user::run(settings, cmd).await,
        Command::Accounts(cmd) => accounts(&settings, cmd).await,
        Command::Proxies(cmd) => proxies(&settings, cmd).await,
        Command::RotateKeys => rotate_keys(&settings).await,
        Command::Sim { .. }
        | Command::Demo(_)
        | Command::Doctor
        | Command::Bench(_)
        | Command::BenchLoad(_) => {
            unreachable!("handled by run")
        }
    }
}

async fn accounts(settings: &Settings, cmd: AccountsCommand) -> anyhow::Result<()> {
    match cmd {
        AccountsCommand::Import {
            file,
            dry_run,
            language,
        } => {
            let language = icf_core::language::Language::parse(&language)
                .map_err(|e| anyhow::anyhow!("--language: {}", e.message))?;
            let text = read_import_file(&file)?;
            let (db, cipher) = open_with_cipher(settings).await?;
            let report = icf_app::import::import_accounts(
                &db,
                &cipher,
                &text,
                dry_run,
                &icf_app::import::ImportDefaults {
                    language,
                    posts_limit_per_day: i32::try_from(
                        settings.pacing.max_posts_per_day_per_account.min(100),
                    )
                    .unwrap_or(10),
                    new_groups: settings.media.new_group_variants,
                },
            )
            .await;
            db.close().await;
            print_report(&report?);
            Ok(())
        }
    }
}

async fn proxies(settings: &Settings, cmd: ProxiesCommand) -> anyhow::Result<()> {
    match cmd {
        ProxiesCommand::Import {
            file,
            dry_run,
            proxy_type,
        } => {
            let proxy_type: icf_core::enums::ProxyType = proxy_type
                .parse()
                .map_err(|e: icf_core::ParseEnumError| anyhow::anyhow!("--proxy-type: {e}"))?;
            let text = read_import_file(&file)?;
            let (db, cipher) = open_with_cipher(settings).await?;
            let report =
                icf_app::import::import_proxies(&db, &cipher, &text, dry_run, proxy_type).await;
            db.close().await;
            print_report(&report?);
            Ok(())
        }
    }
}

async fn rotate_keys(settings: &Settings) -> anyhow::Result<()> {
    let (db, cipher) = open_with_cipher(settings).await?;
    let report = icf_app::key_rotation::rotate_keys(&db, &cipher).await;
    db.close().await;
    let report = report?;
    println!(
        "re-encrypted {} secrets under the first key; {} were already under it",
        report.rotated, report.current
    );
    Ok(())
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

fn print_report(report: &icf_app::import::ImportReport) {
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
