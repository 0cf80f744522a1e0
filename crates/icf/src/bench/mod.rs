//! `icf bench`: the benchmarks of BENCHMARKS.md, run against the real server, workers and
//! databases, with Instagram and the translators simulated on this machine. Each prints
//! its figures next to its goal; none of them is a test (timings vary with the machine).

mod bulk;
mod fanout;
mod figure;
mod fixture;
mod latency;
mod load;
mod memory;
mod punctuality;
mod soak;
mod throughput;
mod translation;
mod variants;
mod world;

pub use figure::{Figure, ms};
pub use fixture::Store;
pub use load::{LoadArgs, load};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    /// B1: one post to 10,000 accounts in 5 languages, planned and queued.
    Fanout,
    /// B2: executions per second against the simulator, pacing off, 1 and 2 workers.
    Throughput,
    /// B3: API latency with 10,000 accounts and 1,000,000 log rows, under load.
    Latency,
    /// B4: peak memory while a large video is uploaded and published to 50 accounts.
    Memory,
    /// B5: how late scheduled executions start.
    Punctuality,
    /// B6: translation requests and billed characters, first and second time.
    Translation,
    /// B7: serve + two workers publishing with faults for a long time (not in `all`).
    Soak,
    /// B8: a photo post to 100 accounts with each account's own copy, and without.
    Variants,
    /// B9: 500 posts with 500 photos from a spreadsheet and a ZIP, checked then imported.
    Bulk,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Which benchmarks to run (default: all but soak).
    #[arg(value_enum)]
    pub which: Vec<Which>,
    /// A PostgreSQL server to run on besides SQLite; each benchmark creates and drops a
    /// database of its own there.
    #[arg(long, env = "ICF_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
    /// Run on PostgreSQL only.
    #[arg(long)]
    pub no_sqlite: bool,
    /// Accounts for fan-out and latency (B1, B3).
    #[arg(long, default_value_t = 10_000)]
    pub accounts: usize,
    /// Activity log rows for latency (B3).
    #[arg(long, default_value_t = 1_000_000)]
    pub log_rows: usize,
    /// Executions per throughput run (B2) and scheduled executions (B5).
    #[arg(long, default_value_t = 1_000)]
    pub executions: usize,
    /// B2 with the simulator over https (TLS 1.3 and h2 through each account's proxy, one
    /// connection kept per account, as Instagram is reached) instead of plain HTTP.
    #[arg(long)]
    pub https: bool,
    /// Video size in MB for the memory benchmark (B4; the simulator takes up to 1 GiB).
    #[arg(long, default_value_t = 1000)]
    pub video_mb: u64,
    /// Accounts the memory benchmark publishes the video to (B4).
    #[arg(long, default_value_t = 50)]
    pub memory_accounts: usize,
    /// B4 with each account's own copy of the video (`media_variants=light`): the worker
    /// re-encodes it per account (in an ffmpeg child) and uploads the copy.
    #[arg(long)]
    pub copies: bool,
    /// Minutes the soak runs (B7).
    #[arg(long, default_value_t = 30)]
    pub soak_minutes: u64,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let which = if args.which.is_empty() {
        vec![
            Which::Fanout,
            Which::Throughput,
            Which::Latency,
            Which::Memory,
            Which::Punctuality,
            Which::Translation,
            Which::Variants,
            Which::Bulk,
        ]
    } else {
        args.which.clone()
    };
    let mut stores = Vec::new();
    if !args.no_sqlite {
        stores.push(Store::Sqlite);
    }
    if let Some(url) = &args.postgres {
        stores.push(Store::Postgres(url.clone()));
    }
    if stores.is_empty() {
        anyhow::bail!("--no-sqlite needs --postgres URL");
    }
    println!(
        "icf bench {} on {} ({} cores)",
        env!("CARGO_PKG_VERSION"),
        stores
            .iter()
            .map(Store::name)
            .collect::<Vec<_>>()
            .join(" and "),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let mut all = Vec::new();
    for w in which {
        for store in &stores {
            // The soak and memory figures are about processes, not the database: PostgreSQL
            // (production's) when given.
            if matches!(w, Which::Soak | Which::Memory)
                && stores.len() > 1
                && matches!(store, Store::Sqlite)
            {
                continue;
            }
            eprintln!("running {w:?} on {}…", store.name());
            let figures = match w {
                Which::Fanout => fanout::run(store, args.accounts).await,
                Which::Throughput => throughput::run(store, args.executions, args.https).await,
                Which::Latency => latency::run(store, args.accounts, args.log_rows).await,
                Which::Memory => {
                    memory::run(store, args.video_mb, args.memory_accounts, args.copies).await
                }
                Which::Punctuality => punctuality::run(store, args.executions).await,
                Which::Translation => translation::run(store).await,
                Which::Soak => soak::run(store, args.soak_minutes).await,
                Which::Variants => variants::run(store).await,
                Which::Bulk => bulk::run(store).await,
            };
            match figures {
                Ok(f) => {
                    for x in &f {
                        x.print();
                    }
                    all.extend(f);
                }
                Err(e) => eprintln!("{w:?} on {} failed: {e:#}", store.name()),
            }
        }
    }
    println!("\n| bench | what | database | figure | goal |");
    println!("|---|---|---|---|---|");
    for f in &all {
        f.print();
    }
    Ok(())
}
