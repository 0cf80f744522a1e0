//! Simulated Instagram accounts behind one SOCKS5 proxy that gives each account its own
//! login (so each has its own proxy in icf's pool), imported into a fixture.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Utc;
use icf_instagram::sim::{SimAccount, Simulator};
use serde_json::json;

use super::fixture::Fixture;

pub struct World {
    pub sim: Simulator,
    pub proxy_port: u16,
    /// The simulator's CA certificate, when it serves https: the file a worker is given
    /// as `INSTAGRAM_API_CA` (removed with the world).
    pub ca_file: Option<tempfile::NamedTempFile>,
}

impl World {
    /// The Instagram simulator with `n` accounts `{prefix}_{i}`; `faults` picks each
    /// account's faults (JSON of `icf_instagram::sim::Faults`, or null).
    pub async fn start(
        prefix: &str,
        n: usize,
        faults: impl Fn(usize) -> serde_json::Value,
    ) -> anyhow::Result<World> {
        Self::start_mode(prefix, n, faults, false).await
    }

    /// [`World::start`] with the simulator behind TLS (h2 offered), so account clients speak
    /// to it as to Instagram: TLS 1.3, HTTP/2, one connection kept and reused.
    pub async fn start_tls(
        prefix: &str,
        n: usize,
        faults: impl Fn(usize) -> serde_json::Value,
    ) -> anyhow::Result<World> {
        Self::start_mode(prefix, n, faults, true).await
    }

    async fn start_mode(
        prefix: &str,
        n: usize,
        faults: impl Fn(usize) -> serde_json::Value,
        tls: bool,
    ) -> anyhow::Result<World> {
        let seed: Vec<SimAccount> = (0..n)
            .map(|i| {
                let mut a = json!({"username": username(prefix, i), "password": password(i)});
                let f = faults(i);
                if !f.is_null() {
                    a["faults"] = f;
                }
                serde_json::from_value(a)
            })
            .collect::<Result<_, _>>()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        let sim = if tls {
            Simulator::start_tls(addr, seed).await?
        } else {
            Simulator::start(addr, seed).await?
        };
        let ca_file = match sim.cert_pem() {
            Some(pem) => {
                let mut f = tempfile::NamedTempFile::new()?;
                std::io::Write::write_all(&mut f, pem.as_bytes())?;
                Some(f)
            }
            None => None,
        };
        let proxy_port = crate::demo::start_socks5(Arc::new(|u: &str, p: &str| {
            u.strip_prefix('u').is_some_and(|n| p == format!("p{n}"))
        }))
        .await?;
        Ok(World {
            sim,
            proxy_port,
            ca_file,
        })
    }

    /// Import lines for the accounts, in `group`, in `languages` in turn.
    pub fn lines(&self, prefix: &str, n: usize, group: &str, languages: &[&str]) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    "{}:{}:{}:{group}:socks5://u{i}:p{i}@127.0.0.1:{}",
                    username(prefix, i),
                    password(i),
                    languages[i % languages.len()],
                    self.proxy_port
                )
            })
            .collect()
    }
}

pub fn username(prefix: &str, i: usize) -> String {
    format!("{prefix}_{i:05}")
}

fn password(i: usize) -> String {
    format!("ig-pass-{i:05}")
}

/// Makes every account a year old, so warm-up limits do not apply (a benchmark of a mature
/// agency, not of new accounts).
pub async fn age_accounts(fx: &Fixture) -> anyhow::Result<()> {
    let year_ago = Utc::now() - chrono::Duration::days(365);
    icf_store::on_pool!(&fx.db, |pool| {
        sqlx::query("UPDATE accounts SET registered_at = $1")
            .bind(year_ago)
            .execute(pool)
            .await
            .map(|_| ())?
    });
    Ok(())
}

/// Counts executions by status: (ended, total).
pub async fn progress(fx: &Fixture) -> anyhow::Result<(i64, i64)> {
    let (ended, total): (i64, i64) = icf_store::on_pool!(&fx.db, |pool| {
        sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN status IN ('success', 'failed', 'cancelled') THEN 1 ELSE 0 END), 0), \
             COUNT(*) FROM post_executions",
        )
        .fetch_one(pool)
        .await?
    });
    Ok((ended, total))
}

/// Waits until every execution has ended, or `limit` passes.
pub async fn wait_all_ended(fx: &Fixture, limit: std::time::Duration) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    loop {
        let (ended, total) = progress(fx).await?;
        if total > 0 && ended == total {
            return Ok(());
        }
        if start.elapsed() > limit {
            anyhow::bail!("only {ended} of {total} executions ended in {limit:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
