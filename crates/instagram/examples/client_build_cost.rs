//! What it costs to build account HTTP clients (issue #20): builds N API clients (h2, TLS 1.3)
//! and N web clients (HTTP/1.1), each through its own proxy, and prints the CPU time, the wall
//! time and the resident memory (VmRSS growth while the N are held) per client. A figure printer, not a test: nothing is asserted. Some kernels account
//! thread CPU time in scheduler ticks (4 ms here); for totals of a few ms read the wall time.
//!
//! `cargo run --release -p icf-instagram --example client_build_cost -- [N] [extra-ca.pem]`

use std::time::Instant;

use icf_instagram::client::ClientConfig;
use icf_instagram::transport::{
    ProxyEndpoint, ProxyScheme, TransportOptions, build_client, build_web_client,
};

/// CPU time of the whole process (user + system), from /proc (Linux); 0 elsewhere.
fn cpu_ns() -> u64 {
    // Field 1 of /proc/self/schedstat is the time spent on the CPU, in nanoseconds, of the
    // main thread; building clients starts no threads, so the process's own stat is summed too.
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    let after = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the ')' field 3 (state) is index 0, so utime (14) is index 11, stime (15) index 12.
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks * 10_000_000 // USER_HZ is 100 on Linux
}

/// Resident memory of the process (VmRSS), in KiB; 0 where /proc is missing.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let extra_ca = args
        .next()
        .map(|p| std::fs::read_to_string(p).expect("read the CA PEM"));
    let cfg = ClientConfig {
        extra_ca_pem: extra_ca.clone(),
        ..ClientConfig::default()
    };
    let proxies: Vec<ProxyEndpoint> = (0..n)
        .map(|i| {
            ProxyEndpoint::new(
                ProxyScheme::Http,
                format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256),
                3128,
                Some((format!("user{i}"), "secret".into())),
            )
        })
        .collect();
    // One client first, so one-time costs (the shared TLS configuration, if any) are not
    // counted per client; they are printed apart.
    let (t0, c0) = (Instant::now(), thread_cpu_ns());
    let first = build_client(
        &proxies[0],
        false,
        TransportOptions::default(),
        extra_ca.as_deref(),
    )
    .expect("build the first client");
    drop(first);
    let (first_wall, first_cpu) = (t0.elapsed(), thread_cpu_ns() - c0);

    for (label, web) in [("API (h2, TLS 1.3)", false), ("web (HTTP/1.1)", true)] {
        let (t, c, p, rss0) = (Instant::now(), thread_cpu_ns(), cpu_ns(), rss_kb());
        let mut kept = Vec::with_capacity(n);
        for proxy in &proxies {
            let client = if web {
                build_web_client(proxy, cfg.transport, cfg.extra_ca_pem.as_deref())
            } else {
                build_client(
                    proxy,
                    false,
                    TransportOptions::default(),
                    extra_ca.as_deref(),
                )
            };
            kept.push(client.expect("build a client"));
        }
        let (wall, cpu, pcpu) = (t.elapsed(), thread_cpu_ns() - c, cpu_ns() - p);
        let rss = rss_kb().saturating_sub(rss0);
        drop(kept);
        println!(
            "{label}: {n} clients, CPU {:.1} ms ({:.1} µs/client; process {:.0} ms), wall {:.1} ms ({:.1} µs/client), RSS +{:.1} MB ({:.1} KB/client)",
            cpu as f64 / 1e6,
            cpu as f64 / 1e3 / n as f64,
            pcpu as f64 / 1e6,
            wall.as_secs_f64() * 1e3,
            wall.as_secs_f64() * 1e6 / n as f64,
            rss as f64 / 1024.0,
            rss as f64 / n as f64,
        );
    }
    println!(
        "first client (one-time costs included): CPU {:.2} ms, wall {:.2} ms; extra CA: {}",
        first_cpu as f64 / 1e6,
        first_wall.as_secs_f64() * 1e3,
        if extra_ca.is_some() { "yes" } else { "no" }
    );
}
