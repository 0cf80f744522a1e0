//! `icf sim …`: the simulators of the services icf talks to, run on their own for tests
//! and demos.

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::startup;

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

pub(super) async fn run(command: SimCommand) -> anyhow::Result<()> {
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
        SimCommand::Instagram(args) => instagram(args).await,
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

/// Instagram's private API (plain, TLS, or as the clients' proxy), until Ctrl-C.
async fn instagram(args: SimInstagramArgs) -> anyhow::Result<()> {
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
