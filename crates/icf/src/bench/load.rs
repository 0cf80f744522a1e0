//! The load generator of B3 (latency), which runs as a second process beside the measured
//! server.

use std::time::Duration;

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
