//! The roles a process takes: `icf serve` (the API, with or without a worker), `icf worker`
//! and `icf migrate`.

use anyhow::Context;
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::startup;

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

pub(super) async fn serve(settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    let migrate = settings.database.auto_migrate && !args.no_migrate;
    let app = startup::App::build(&settings, migrate).await?;
    if migrate && icf_store::users::list(app.db()).await?.is_empty() {
        tracing::warn!(
            "no operators yet: create the first admin with \
             `icf user create --username admin --email you@example.com --role admin`"
        );
    }
    tracing::info!(
        addr = %app.addr(),
        database = app.db().kind().as_str(),
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

pub(super) async fn worker(settings: Settings, args: WorkerArgs) -> anyhow::Result<()> {
    let db = startup::connect(&settings).await?;
    if settings.database.auto_migrate && !args.no_migrate {
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

pub(super) async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let db = startup::connect(settings).await?;
    db.migrate().await.context("applying migrations")?;
    let readiness = db.readiness().await?;
    println!(
        "migrations applied on {} ({} known, {} pending)",
        readiness.kind.as_str(),
        db.known_migrations().len(),
        readiness.pending_migrations
    );
    db.close().await;
    Ok(())
}
