//! The translation providers: reachable, the key accepted, DeepL's quota not used up.

use std::time::Duration;

use icf_translate::{ProviderConfig, ProviderKind};
use secrecy::ExposeSecret;

use super::report::{Check, chain, one_line};
use crate::config::{Settings, redact_url};

pub(super) async fn translation(settings: &Settings) -> Vec<Check> {
    const NAME: &str = "translation";
    let config = settings.translation_config();
    let Some(primary) = config.primary else {
        return vec![Check::ok(
            NAME,
            "no provider configured: captions are written by hand in each language",
        )];
    };
    let timeout = Duration::from_secs(settings.translation.timeout_secs.max(1));
    let mut checks = vec![provider(NAME, &primary, timeout).await];
    if let Some(fallback) = config.fallback {
        checks.push(provider("translation fallback", &fallback, timeout).await);
    }
    checks
}

/// A provider's cheapest authenticated request: DeepL's usage (which is also its quota),
/// Google's and LibreTranslate's language lists.
async fn provider(name: &'static str, config: &ProviderConfig, timeout: Duration) -> Check {
    let kind = config.kind();
    let client = match reqwest::Client::builder()
        .user_agent(concat!("icf-doctor/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => return Check::fail(name, format!("cannot build an HTTP client: {e}"), "-"),
    };
    let (request, host, key_var) = match request(name, &client, config) {
        Ok(r) => r,
        Err(check) => return check,
    };
    let host = redact_url(&host);
    let label = kind.as_str();
    let resp = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            // Without the URL: Google's key is a query parameter.
            return Check::fail(
                name,
                format!(
                    "{label} at {host} is unreachable: {}",
                    one_line(&chain(&e.without_url()))
                ),
                "check this machine's outbound HTTPS (firewall, DNS, proxy) and the provider's \
                 URL setting",
            );
        }
    };
    let status = resp.status();
    if status == reqwest::StatusCode::FORBIDDEN || status == reqwest::StatusCode::UNAUTHORIZED {
        return Check::fail(
            name,
            format!("{label} at {host} refused the key ({status})"),
            format!("check {key_var}: it is wrong, revoked or for another account"),
        );
    }
    if !status.is_success() {
        return Check::fail(
            name,
            format!("{label} at {host} answered {status}"),
            "check the provider's status page and URL setting; try again later",
        );
    }
    if kind != ProviderKind::DeepL {
        return Check::ok(
            name,
            format!("{label} at {host} is reachable (it has no quota endpoint)"),
        );
    }
    deepl_usage(name, label, &host, resp).await
}

/// The request that proves the key, the host it goes to (for the report) and the variable
/// of the key.
fn request(
    name: &'static str,
    client: &reqwest::Client,
    config: &ProviderConfig,
) -> Result<(reqwest::RequestBuilder, String, &'static str), Check> {
    Ok(match config {
        ProviderConfig::DeepL { key, base_url, .. } => {
            let base = base_url.clone().unwrap_or_else(|| {
                icf_translate::provider::deepl::host_for_key(key.expose_secret()).to_owned()
            });
            (
                client.get(format!("{base}/v2/usage")).header(
                    "Authorization",
                    format!("DeepL-Auth-Key {}", key.expose_secret()),
                ),
                base,
                "DEEPL_API_KEY",
            )
        }
        ProviderConfig::Google { key, base_url } => {
            let base = base_url
                .clone()
                .unwrap_or_else(|| "https://translation.googleapis.com".to_owned());
            let url = match reqwest::Url::parse_with_params(
                &format!("{base}/language/translate/v2/languages"),
                &[("key", key.expose_secret()), ("target", "en")],
            ) {
                Ok(u) => u,
                Err(e) => {
                    return Err(Check::fail(
                        name,
                        format!("google: not a URL: {e}"),
                        "check GOOGLE_TRANSLATE_API_URL",
                    ));
                }
            };
            (client.get(url), base, "GOOGLE_TRANSLATE_API_KEY")
        }
        ProviderConfig::LibreTranslate { url, .. } => (
            client.get(format!("{url}/languages")),
            url.clone(),
            "LIBRETRANSLATE_API_KEY",
        ),
    })
}

/// DeepL's usage answer: how much of the period's quota is gone.
async fn deepl_usage(
    name: &'static str,
    label: &str,
    host: &str,
    resp: reqwest::Response,
) -> Check {
    #[derive(serde::Deserialize)]
    struct Usage {
        character_count: u64,
        character_limit: u64,
    }
    match resp.json::<Usage>().await {
        Ok(u) if u.character_limit > 0 => {
            let used = u.character_count as f64 * 100.0 / u.character_limit as f64;
            let detail = format!(
                "{label} at {host} is reachable; {} of {} characters used this period ({used:.0}%)",
                u.character_count, u.character_limit
            );
            if used >= 90.0 {
                Check::warn(
                    name,
                    detail,
                    "raise the DeepL plan's limit, or set TRANSLATION_FALLBACK_PROVIDER",
                )
            } else {
                Check::ok(name, detail)
            }
        }
        Ok(u) => Check::ok(
            name,
            format!(
                "{label} at {host} is reachable; {} characters used, no limit",
                u.character_count
            ),
        ),
        Err(_) => Check::warn(
            name,
            format!("{label} at {host} is reachable, but its usage answer was not understood"),
            "check DEEPL_API_URL points at DeepL's API",
        ),
    }
}
