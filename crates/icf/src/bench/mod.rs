//! `icf bench`: the benchmarks of BENCHMARKS.md, run against the real server, workers and
//! databases, with Instagram and the translators simulated on this machine. Each prints
//! its figures next to its goal; none of them is a test (timings vary with the machine).

mod fanout;
mod fixture;
mod latency;
mod memory;
mod punctuality;
mod soak;
mod throughput;
mod translation;
mod world;

use std::time::Duration;

pub use fixture::Store;

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
    /// Video size in MB for the memory benchmark (B4; the simulator takes up to 1 GiB).
    #[arg(long, default_value_t = 1000)]
    pub video_mb: u64,
    /// Minutes the soak runs (B7).
    #[arg(long, default_value_t = 30)]
    pub soak_minutes: u64,
}

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Figure {
    pub bench: &'static str,
    pub what: String,
    pub store: &'static str,
    pub value: String,
    pub goal: Option<&'static str>,
    /// Whether the goal is met, when there is one.
    pub met: Option<bool>,
}

impl Figure {
    pub fn new(bench: &'static str, store: &Store, what: impl Into<String>, value: String) -> Self {
        Figure {
            bench,
            what: what.into(),
            store: store.name(),
            value,
            goal: None,
            met: None,
        }
    }

    pub fn goal(mut self, goal: &'static str, met: bool) -> Self {
        self.goal = Some(goal);
        self.met = Some(met);
        self
    }

    fn print(&self) {
        let verdict = match self.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!(
            "| {} | {} | {} | {} | {} {} |",
            self.bench,
            self.what,
            self.store,
            self.value,
            self.goal.unwrap_or(""),
            verdict
        );
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
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
                Which::Throughput => throughput::run(store, args.executions).await,
                Which::Latency => latency::run(store, args.accounts, args.log_rows).await,
                Which::Memory => memory::run(store, args.video_mb).await,
                Which::Punctuality => punctuality::run(store, args.executions).await,
                Which::Translation => translation::run(store).await,
                Which::Soak => soak::run(store, args.soak_minutes).await,
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

/// `icf bench-load`: the second process of B3, requesting the given paths in a loop until
/// killed, and printing how many requests it made each second.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    #[arg(long)]
    pub base: String,
    #[arg(long, env = "ICF_BENCH_TOKEN")]
    pub token: String,
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Paths to request, in turn.
    pub paths: Vec<String>,
}

pub async fn load(args: LoadArgs) -> anyhow::Result<()> {
    if args.paths.is_empty() {
        anyhow::bail!("name at least one path to request");
    }
    let client = reqwest::Client::builder().no_proxy().build()?;
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for n in 0..args.concurrency.max(1) {
        let (client, count) = (client.clone(), count.clone());
        let (base, token, paths) = (args.base.clone(), args.token.clone(), args.paths.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = n;
            loop {
                let path = &paths[i % paths.len()];
                i += 1;
                if let Ok(r) = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                {
                    let _ = r.bytes().await;
                }
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = count.load(std::sync::atomic::Ordering::Relaxed);
        println!("{}", now - last);
        last = now;
    }
}
