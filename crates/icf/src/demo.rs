//! `icf demo`: icf with everything it talks to simulated on this machine — Instagram, DeepL
//! and one SOCKS5 proxy per account — so a person can publish a post and watch it reach two
//! dozen accounts in a couple of minutes, with no keys and no network.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use fast_socks5::server::{DnsResolveHelper as _, Socks5ServerProtocol, run_tcp_proxy};
use fast_socks5::{ReplyError, Socks5Command};
use icf_instagram::sim::{SimAccount, Simulator};
use rand::Rng;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::startup;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the demo's icf listens.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// How much faster than real time the anti-ban pacing runs (60: a 2–5 min spacing
    /// becomes 2–5 s).
    #[arg(long, default_value_t = 60)]
    pub speed: u32,
}

/// A SOCKS5 proxy with a username and password on a free loopback port: the demo's stand-in
/// for an account's residential proxy (icf never connects to Instagram without one).
async fn start_proxy(user: String, pass: String) -> std::io::Result<u16> {
    start_socks5(std::sync::Arc::new(move |u: &str, p: &str| {
        u == user && p == pass
    }))
    .await
}

/// Which username and password a proxy lets in.
pub(crate) type CredentialCheck = std::sync::Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// A SOCKS5 proxy on a free loopback port that lets in the credentials `check` accepts
/// (the benchmarks give each of many accounts its own login on one proxy).
pub(crate) async fn start_socks5(check: CredentialCheck) -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let check = check.clone();
            tokio::spawn(async move {
                let served = async {
                    let (proto, cmd, target) =
                        Socks5ServerProtocol::accept_password_auth(socket, |u, p| check(&u, &p))
                            .await?
                            .0
                            .read_command()
                            .await?
                            .resolve_dns()
                            .await?;
                    match cmd {
                        Socks5Command::TCPConnect => {
                            run_tcp_proxy(proto, &target, Duration::from_secs(10), false).await?;
                        }
                        _ => proto.reply_error(&ReplyError::CommandNotSupported).await?,
                    }
                    Ok::<_, fast_socks5::SocksError>(())
                };
                if let Err(e) = served.await {
                    tracing::debug!(error = %e, "demo proxy connection ended");
                }
            });
        }
    });
    Ok(port)
}

fn random_password() -> String {
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let data_dir = fresh_data_dir()?;
    let people = people();
    let (instagram, deepl, proxies) = start_world(&people).await?;

    let mut vars: HashMap<&str, String> = HashMap::new();
    vars.insert("ICF_DATA_DIR", data_dir.display().to_string());
    vars.insert(
        "DATABASE_URL",
        format!("sqlite://{}", data_dir.join("icf.db").display()),
    );
    vars.insert("ICF_LISTEN", args.listen.to_string());
    vars.insert("INSTAGRAM_API_URL", instagram.base_url());
    vars.insert("DEEPL_API_KEY", "demo-key:fx".into());
    vars.insert("DEEPL_API_URL", deepl.url());
    vars.insert("ICF_PACING_SPEED", args.speed.to_string());
    let mut settings = Settings::from_lookup(|k| vars.get(k).cloned())?;
    settings.ensure_secrets()?;
    let app = startup::App::build(&settings, true).await?;
    let addr = app.addr();
    let db = app.db().clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let server = tokio::spawn(app.run(wait(stopped.clone())));
    let worker = {
        let (db, settings, w) = (db.clone(), settings.clone(), wait(stopped.clone()));
        tokio::spawn(async move { startup::run_worker(db, &settings, 8, w).await })
    };

    // Seed through icf's own API, so the demo data went through every check a user's would.
    let base = format!("http://{addr}");
    let admin_password = seed(&db, &base, &people, &proxies).await?;
    print_welcome(
        &base,
        &admin_password,
        people.len(),
        &instagram.base_url(),
        &deepl.url(),
        args.speed,
        &data_dir,
    );

    startup::shutdown_signal().await;
    let _ = stop.send(true);
    let _ = server.await;
    let _ = worker.await;
    Ok(())
}

/// `$ICF_DATA_DIR/demo`, emptied of the previous run's database.
fn fresh_data_dir() -> anyhow::Result<PathBuf> {
    let data_dir = std::env::var("ICF_DATA_DIR")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| "./data".into())
        .join("demo");
    // The demo starts from scratch each time: its proxies get new ports on every run.
    for f in ["icf.db", "icf.db-wal", "icf.db-shm"] {
        let _ = std::fs::remove_file(data_dir.join(f));
    }
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    Ok(data_dir)
}

/// A demo account: username, password, language and group.
type Person = (String, String, &'static str, &'static str);

/// The specification's scenario: IT has 20 accounts (10 en, 5 ru, 5 es); two small
/// groups show that a post reaches only the groups it targets.
const LAYOUT: [(&str, &[(&str, usize)]); 3] = [
    ("IT", &[("en", 10), ("ru", 5), ("es", 5)]),
    ("Finance", &[("en", 2), ("ru", 2)]),
    ("News", &[("en", 2), ("es", 2)]),
];

fn people() -> Vec<Person> {
    let mut people: Vec<Person> = Vec::new();
    for (group, langs) in LAYOUT {
        for (lang, n) in langs {
            for i in 0..*n {
                let username = format!("demo_{}_{lang}_{i:02}", group.to_lowercase());
                people.push((username, format!("ig-{}", random_password()), lang, group));
            }
        }
    }
    people
}

/// What the demo's icf talks to: the Instagram simulator with every account, the DeepL
/// simulator, and one proxy (its URL) per account.
async fn start_world(
    people: &[Person],
) -> anyhow::Result<(Simulator, icf_translate::sim::Sim, Vec<String>)> {
    let seed: Vec<SimAccount> = people
        .iter()
        .map(|(u, p, _, _)| serde_json::from_value(json!({"username": u, "password": p})))
        .collect::<Result<_, _>>()?;
    let instagram = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), seed)
        .await
        .context("cannot start the Instagram simulator")?;
    let deepl = icf_translate::sim::Sim::start(
        icf_translate::ProviderKind::DeepL,
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .context("cannot start the DeepL simulator")?;
    let mut proxies = Vec::new();
    for (i, _) in people.iter().enumerate() {
        let (user, pass) = (format!("proxy{i}"), random_password());
        let port = start_proxy(user.clone(), pass.clone())
            .await
            .context("cannot start a demo proxy")?;
        proxies.push(format!("socks5://{user}:{pass}@127.0.0.1:{port}"));
    }
    Ok((instagram, deepl, proxies))
}

/// The admin (its password is returned), the groups and the accounts.
async fn seed(
    db: &icf_store::Db,
    base: &str,
    people: &[Person],
    proxies: &[String],
) -> anyhow::Result<String> {
    let admin_password = std::env::var("ICF_ADMIN_PASSWORD")
        .ok()
        .filter(|p| p.len() >= 8)
        .unwrap_or_else(random_password);
    icf_store::users::create(
        db,
        icf_store::users::NewUser {
            username: "admin".into(),
            email: "admin@demo.local".into(),
            password_hash: icf_core::password::hash(&admin_password)?,
            role: icf_core::enums::Role::Admin,
        },
    )
    .await?;
    let client = reqwest::Client::builder().no_proxy().build()?;
    let token = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "admin", "password": admin_password}))
        .send()
        .await?
        .error_for_status()?
        .json::<Value>()
        .await?["access_token"]
        .as_str()
        .context("no token")?
        .to_owned();
    let mut group_ids = HashMap::new();
    for (g, _) in LAYOUT {
        let body: Value = client
            .post(format!("{base}/api/groups/"))
            .bearer_auth(&token)
            .json(&json!({"name": g, "description": format!("Demo accounts about {g}")}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        group_ids.insert(g, body["id"].as_str().unwrap_or_default().to_owned());
    }
    for (i, ((username, password, lang, group), proxy)) in people.iter().zip(proxies).enumerate() {
        // Mostly accounts of some years, and every seventh a new one still warming up, so
        // the account pages show both.
        let age_days = if i % 7 == 6 { 2 } else { 200 + 53 * i };
        client
            .post(format!("{base}/api/accounts/"))
            .bearer_auth(&token)
            .json(&json!({
                "username": username, "password": password, "language": lang,
                "group_id": group_ids[*group], "proxy_url": proxy, "age_days": age_days,
            }))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("cannot create the demo account {username}"))?;
    }
    Ok(admin_password)
}

fn print_welcome(
    base: &str,
    admin_password: &str,
    accounts: usize,
    instagram: &str,
    deepl: &str,
    speed: u32,
    data_dir: &Path,
) {
    println!(
        "\nicf demo is running on {base}\n\
         \n  sign in:     admin / {admin_password}\
         \n  web UI:      {base}/  (in a browser)\
         \n  API docs:    {base}/docs\
         \n  accounts:    {} simulated Instagram accounts: IT (10 en, 5 ru, 5 es), Finance and News,\
         \n               each behind its own SOCKS5 proxy on this machine\
         \n  simulators:  Instagram {} (published media: {}/__sim/media), DeepL {}\
         \n  pacing:      {}x faster than real time (2–5 min between accounts becomes {:.0}–{:.0} s)\
         \n  data:        {} (reset on every start)\
         \n\nPublish a post to every account of IT:\
         \n  TOKEN=$(curl -s -X POST {base}/api/auth/login -H 'content-type: application/json' \\\
         \n          -d '{{\"username\":\"admin\",\"password\":\"{admin_password}\"}}' | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\
         \n  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/api/groups/   # pick the IT group id\
         \n  curl -s -H \"Authorization: Bearer $TOKEN\" -F media=@photo.jpg -F caption='Новый курс по Python! 🔥' \\\
         \n       -F original_language=ru -F 'target_groups=[\"<IT id>\"]' {base}/api/posts/\
         \n  curl -s -X POST -H \"Authorization: Bearer $TOKEN\" {base}/api/posts/<post id>/publish\
         \n  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/api/posts/<post id>/executions\
         \n\nCtrl-C stops everything.\n",
        accounts,
        instagram,
        instagram,
        deepl,
        speed,
        120.0 / f64::from(speed.max(1)),
        300.0 / f64::from(speed.max(1)),
        data_dir.display(),
    );
}
