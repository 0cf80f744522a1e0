//! The command line: `icf serve | worker | migrate | user …`.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use icf_core::auth::{check_password, parse_email, parse_username};
use icf_core::enums::Role;
use icf_store::users::{NewUser, UserChanges};
use tokio_util::sync::CancellationToken;

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

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Counts by kind and state, the oldest waiting job, running jobs and live workers.
    Status,
    /// Enqueue N diagnostic `selftest` jobs and wait until workers have run them all:
    /// checks end to end that workers are alive and complete jobs.
    Selftest {
        #[arg(long, default_value_t = 100)]
        count: u32,
        /// Simulated work per job, in milliseconds.
        #[arg(long, default_value_t = 0)]
        work_ms: u64,
        /// A name for this run (default: a random one).
        #[arg(long)]
        batch: Option<String>,
        /// Enqueue and exit without waiting.
        #[arg(long)]
        no_wait: bool,
        /// Give up waiting after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Instagram's private mobile API; point INSTAGRAM_API_URL at it.
    Instagram(SimInstagramArgs),
    /// DeepL API v2; point DEEPL_API_URL at it (any key).
    Deepl(SimProviderArgs),
    /// Google Cloud Translation v2; point GOOGLE_TRANSLATE_API_URL at it.
    Google(SimProviderArgs),
    /// LibreTranslate; point LIBRETRANSLATE_URL at it.
    Libretranslate(SimProviderArgs),
}

#[derive(Debug, Args)]
pub struct SimProviderArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:9001")]
    pub listen: std::net::SocketAddr,
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
    /// Be the clients' HTTP proxy instead: answer `CONNECT` for Instagram's hosts and
    /// serve the tunnel with TLS under their names (certificate written to --cert-out).
    /// Clients keep `https://i.instagram.com` and use `http://LISTEN` as their proxy.
    #[arg(long, conflicts_with = "tls")]
    pub proxy: bool,
    /// Where --tls or --proxy writes the certificate (PEM).
    #[arg(long, default_value = "instagram-sim.pem")]
    pub cert_out: std::path::PathBuf,
    /// Record every Instagram request, in order, as JSON lines in this file (the format
    /// of the golden traces in crates/instagram/tests/golden).
    #[arg(long)]
    pub record: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Do not run the in-process worker (when `icf worker` processes run elsewhere).
    #[arg(long)]
    pub no_worker: bool,
    /// Do not apply migrations on start (overrides ICF_AUTO_MIGRATE).
    #[arg(long)]
    pub no_migrate: bool,
    /// How many jobs the in-process worker runs at once.
    #[arg(long, default_value_t = 4)]
    pub worker_concurrency: u32,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// How many jobs this process runs at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: u32,
    /// Do not apply migrations on start (overrides ICF_AUTO_MIGRATE).
    #[arg(long)]
    pub no_migrate: bool,
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
    // Benchmarks make their own databases and settings.
    if let Command::Bench(args) = cli.command {
        return crate::bench::run(args).await;
    }
    if let Command::BenchLoad(args) = cli.command {
        return crate::bench::load(args).await;
    }
    // The demo makes its own settings, database and keys under $ICF_DATA_DIR/demo.
    if let Command::Demo(args) = cli.command {
        return crate::demo::run(args).await;
    }
    // Before ensure_secrets: the doctor reports a missing key, it never generates one.
    if let Command::Doctor = cli.command {
        let checks = crate::doctor::run(&settings).await;
        if crate::doctor::print(&checks) {
            return Ok(());
        }
        bail!("doctor: some checks failed (see the fix lines above)");
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
        Command::Worker(args) => worker(settings, args).await,
        Command::Jobs(cmd) => jobs(settings, cmd).await,
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
        Command::Accounts(AccountsCommand::Import {
            file,
            dry_run,
            language,
        }) => {
            let language = icf_core::language::Language::parse(&language)
                .map_err(|e| anyhow::anyhow!("--language: {}", e.message))?;
            let text = read_import_file(&file)?;
            let (db, cipher) = open_with_cipher(&settings).await?;
            let report = icf_app::import::import_accounts(
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
                icf_app::import::import_proxies(&db, &cipher, &text, dry_run, proxy_type).await;
            db.close().await;
            print_report(&report?);
            Ok(())
        }
        Command::RotateKeys => {
            let (db, cipher) = open_with_cipher(&settings).await?;
            let report = icf_app::key_rotation::rotate_keys(&db, &cipher).await;
            db.close().await;
            let report = report?;
            println!(
                "re-encrypted {} secrets under the first key; {} were already under it",
                report.rotated, report.current
            );
            Ok(())
        }
        Command::Sim { .. }
        | Command::Demo(_)
        | Command::Doctor
        | Command::Bench(_)
        | Command::BenchLoad(_) => {
            unreachable!("handled above")
        }
    }
}

async fn provider_sim(
    kind: icf_translate::ProviderKind,
    listen: std::net::SocketAddr,
) -> anyhow::Result<()> {
    icf_translate::sim::serve(kind, listen, startup::shutdown_signal())
        .await
        .with_context(|| format!("cannot run the simulator on {listen}"))
}

async fn sim(command: SimCommand) -> anyhow::Result<()> {
    match command {
        SimCommand::Deepl(args) => {
            provider_sim(icf_translate::ProviderKind::DeepL, args.listen).await
        }
        SimCommand::Google(args) => {
            provider_sim(icf_translate::ProviderKind::Google, args.listen).await
        }
        SimCommand::Libretranslate(args) => {
            provider_sim(icf_translate::ProviderKind::LibreTranslate, args.listen).await
        }
        SimCommand::Instagram(args) => {
            let seed = match &args.seed {
                Some(path) => icf_instagram::sim::read_seed(path).map_err(anyhow::Error::msg)?,
                None => Vec::new(),
            };
            let accounts = seed.len();
            let mode = if args.proxy {
                icf_instagram::sim::Mode::Proxy
            } else if args.tls {
                icf_instagram::sim::Mode::Tls
            } else {
                icf_instagram::sim::Mode::Plain
            };
            let sim = icf_instagram::sim::Simulator::start_mode(args.listen, seed, mode)
                .await
                .with_context(|| format!("cannot listen on {}", args.listen))?;
            if let Some(path) = &args.record {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                sim.record(Some(file));
            }
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
            if mode == icf_instagram::sim::Mode::Proxy {
                println!("proxy: {}", sim.proxy_url());
            }
            tokio::select! {
                _ = sim.wait() => Ok(()),
                _ = startup::shutdown_signal() => Ok(()),
            }
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
    // The API process watches the workers: a dead fleet cannot report itself.
    tokio::spawn(icf_engine::alerts::watch_workers(
        app.db().clone(),
        startup::alert_settings(&settings),
        std::time::Duration::from_secs(60),
    ));
    if args.no_worker {
        return app.run(startup::shutdown_signal()).await;
    }
    // One signal stops both: the API drains its requests, the worker its jobs.
    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            startup::shutdown_signal().await;
            stop.cancel();
        }
    });
    let db = app.db().clone();
    let worker = async {
        let result = startup::run_worker(
            db,
            &settings,
            args.worker_concurrency,
            stop.clone().cancelled_owned(),
        )
        .await;
        // Said at once: the API keeps serving, but queued jobs will not run here.
        if let Err(e) = &result {
            tracing::error!(
                error = format!("{e:#}"),
                "the in-process job worker stopped"
            );
        }
        result
    };
    let (api, worker) = tokio::join!(app.run(stop.clone().cancelled_owned()), worker);
    api.and(worker)
}

async fn worker(settings: Settings, args: WorkerArgs) -> anyhow::Result<()> {
    let db = startup::connect(&settings).await?;
    if settings.auto_migrate && !args.no_migrate {
        db.migrate().await.context("applying migrations")?;
    }
    let result = startup::run_worker(
        db.clone(),
        &settings,
        args.concurrency,
        startup::shutdown_signal(),
    )
    .await;
    db.close().await;
    result
}

async fn jobs(settings: Settings, cmd: JobsCommand) -> anyhow::Result<()> {
    let db = startup::connect(&settings).await?;
    db.migrate().await.context("applying migrations")?;
    let result = jobs_command(&db, &settings, cmd).await;
    db.close().await;
    result
}

async fn jobs_command(
    db: &icf_store::Db,
    settings: &Settings,
    cmd: JobsCommand,
) -> anyhow::Result<()> {
    use icf_store::jobs;
    match cmd {
        JobsCommand::Status => {
            let alive_since = chrono::Utc::now()
                - chrono::Duration::seconds(i64::try_from(settings.job_lease_secs * 2)?);
            let q = jobs::overview(db, alive_since, 50).await?;
            println!("{:<24} {:<10} {:>8}", "kind", "state", "jobs");
            for c in &q.counts {
                println!("{:<24} {:<10} {:>8}", c.kind, c.state, c.count);
            }
            match q.oldest_waiting_since {
                Some(t) => println!(
                    "oldest waiting job: due {} s ago",
                    (chrono::Utc::now() - t).num_seconds()
                ),
                None => println!("no job is waiting"),
            }
            println!("live workers: {}", q.workers.len());
            for w in &q.workers {
                println!("  {} (concurrency {})", w.id, w.concurrency);
            }
            for r in &q.running {
                println!(
                    "  running {} {} attempt {} on {} until {}",
                    r.kind,
                    r.id,
                    r.attempt,
                    r.worker.as_deref().unwrap_or("?"),
                    r.lease_expires_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default()
                );
            }
        }
        JobsCommand::Selftest {
            count,
            work_ms,
            batch,
            no_wait,
            timeout,
        } => {
            let batch = batch.unwrap_or_else(|| {
                format!(
                    "selftest-{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..8]
                )
            });
            let registry = startup::job_registry(settings, db)?;
            let mut tx = db.begin().await?;
            for _ in 0..count {
                let job = registry.new_job(
                    icf_worker::kinds::SELFTEST,
                    serde_json::to_value(icf_worker::builtin::SelftestPayload {
                        batch: batch.clone(),
                        work_ms,
                    })?,
                );
                jobs::enqueue(&mut tx, &job).await?;
            }
            tx.commit().await?;
            println!("enqueued {count} selftest jobs in batch {batch}");
            if no_wait {
                return Ok(());
            }
            let started = std::time::Instant::now();
            loop {
                let done = jobs::selftest::completed(db, &batch).await?;
                if done >= i64::from(count) {
                    println!(
                        "all {count} jobs completed in {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                    return Ok(());
                }
                if started.elapsed().as_secs() >= timeout {
                    bail!(
                        "only {done} of {count} selftest jobs completed within {timeout} s: \
                         are workers running (`icf worker`, or `icf serve` without --no-worker)?"
                    );
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
    }
    Ok(())
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
