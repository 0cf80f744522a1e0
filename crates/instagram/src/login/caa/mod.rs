//! The CAA (Bloks) login instagrapi 3.x tries first (fact sheet §4.4–4.5), with its USDID
//! device identity registered first (§1.5): the homepage step (→ `aac`), the keystore
//! attestation (→ nonce), the token fetch and `send_login_request`, whose answer carries the
//! login (`answer`). The step params are in `params`.

mod answer;
mod params;

pub use answer::{CaaAnswer, EmbeddedLogin, extract_aac, read_login_answer};
pub use params::{device_network_info, network_info};

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::config::DEFAULT_API_BASE;
use crate::client::request::{Body, FORM_TYPE};
use crate::client::{InstagramClient, uuid4};
use crate::error::{ErrorShape, IgError, classify};
use crate::types::{Credentials, LoginOutcome};
use crate::usdid::Usdid;
use crate::wire::compact_json;
use params::CaaFlow;

/// The Bloks actions of the login, in the order they run.
const HOMEPAGE_ACTION: &str = "com.bloks.www.bloks.caa.login.process_client_data_and_redirect";
const TOKEN_FETCH_ACTION: &str = "com.bloks.www.caa.login.oauth.token.fetch.async";
const SEND_LOGIN_ACTION: &str = "com.bloks.www.bloks.caa.login.async.send_login_request";

impl InstagramClient {
    /// The CAA calls' URL: on `b.i.instagram.com` in production, on the configured base
    /// otherwise (the simulator serves both hosts).
    fn caa_url(&self, endpoint: &str) -> String {
        let base = match &self.cfg.caa_api_base {
            Some(b) => b.trim_end_matches('/').to_owned(),
            None if self.cfg.api_base == DEFAULT_API_BASE => "https://b.i.instagram.com".into(),
            None => self.cfg.api_base.clone(),
        };
        format!("{base}/{}", endpoint.trim_start_matches('/'))
    }

    /// instagrapi's `_bloks_payload`: the params as compact JSON, then the device and the
    /// Bloks version.
    fn bloks_form(&self, params: Value) -> Vec<(String, String)> {
        let hash = self.session.device_settings.bloks_versioning_id.clone();
        vec![
            ("params".into(), compact_json(&params)),
            ("_uuid".into(), self.session.uuids.uuid.clone()),
            (
                "bk_client_context".into(),
                compact_json(&json!({"bloks_version": hash, "styles_id": "instagram"})),
            ),
            ("bloks_versioning_id".into(), hash),
        ]
    }

    /// `bloks/async_action/{action}/` with its friendly name.
    async fn bloks_action(
        &mut self,
        action: &str,
        params: Value,
        extra: Vec<(&'static str, String)>,
    ) -> Result<Value, IgError> {
        let endpoint = format!("bloks/async_action/{action}/");
        let mut headers = vec![("X-FB-Friendly-Name", format!("IgApi: {endpoint}"))];
        headers.extend(extra);
        let url = self.caa_url(&format!("api/v1/{endpoint}"));
        let form = self.bloks_form(params);
        self.call(Method::POST, url, Body::Form(form), headers, true)
            .await
    }

    /// Registers the USDID key once (§1.5); a refusal only means it stays unregistered.
    async fn register_usdid(&mut self) -> Result<(), IgError> {
        let usdid = match &self.usdid {
            Some(u) => u.clone(),
            None => {
                let u = Usdid::generate();
                self.usdid = Some(u.clone());
                self.session.usdid = Some(u.to_settings());
                u
            }
        };
        if usdid.registered {
            return Ok(());
        }
        let variables = compact_json(&json!({"input": {
            "usdid_token": {"sensitive_string_value": usdid.registration_token(Utc::now().timestamp())},
            "fdid": {"sensitive_string_value": self.session.uuids.phone_id}
        }}));
        let doc_id = "124930351917786857261002920888";
        let form: Vec<(String, String)> = [
            ("method", "post"),
            ("pretty", "false"),
            ("format", "json"),
            ("server_timestamps", "true"),
            ("locale", "user"),
            ("fb_api_req_friendly_name", "IGUSDIDRegistrationMutation"),
            ("enable_canonical_naming", "true"),
            ("enable_canonical_variable_overrides", "true"),
            ("enable_canonical_naming_ambiguous_type_prefixing", "true"),
            ("variables", variables.as_str()),
            ("purpose", "fetch"),
            ("client_doc_id", doc_id),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let headers = vec![
            (
                "X-FB-Friendly-Name",
                "IGUSDIDRegistrationMutation".to_owned(),
            ),
            ("Content-Type", FORM_TYPE.to_owned()),
            ("X-Client-Doc-Id", doc_id.to_owned()),
            ("X-Root-Field-Name", "usdid_registration".to_owned()),
            ("X-Graphql-Client-Library", "pando".to_owned()),
        ];
        // `private_graphql_www_request`: the standard headers and these as the request's
        // own, beside the session's (which it leaves as they are).
        let headers = self.private_headers(headers);
        let url = self.caa_url("graphql_www");
        let (status, body) = self
            .transmit(Method::POST, url, Body::Form(form), headers)
            .await?;
        if let Some(e) = classify(status, &body) {
            if e.kind == ErrorShape::NotFound {
                return Ok(());
            }
            return Err(IgError::Api(e));
        }
        // The answer may be several JSON documents, one per line.
        let ok = String::from_utf8_lossy(&body).lines().any(|l| {
            serde_json::from_str::<Value>(l).ok().is_some_and(|v| {
                v.pointer("/data/usdid_registration/success")
                    .and_then(Value::as_bool)
                    == Some(true)
            })
        });
        if ok && let Some(u) = self.usdid.as_mut() {
            u.registered = true;
            self.session.usdid = Some(u.to_settings());
        }
        Ok(())
    }

    /// The CAA login (§4.4). `None` means "continue with the legacy login": the answer
    /// carried `CAA_LOGIN_FALLBACK:`, asked for two-step verification (whose Bloks screens
    /// icf does not drive; the legacy endpoint answers the same need with
    /// `two_factor_required`), or the CAA endpoints are gone (404).
    pub(super) async fn caa_login(
        &mut self,
        creds: Credentials<'_>,
    ) -> Result<Option<LoginOutcome>, IgError> {
        if self.session.device_settings.bloks_versioning_id.is_empty() {
            return Ok(None);
        }
        match self.caa_steps(creds).await {
            Ok(r) => Ok(r),
            Err(IgError::Api(e)) if e.kind == ErrorShape::NotFound => {
                tracing::warn!("CAA login endpoints answered 404; using the legacy login");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// USDID registration, the homepage (→ `aac`), the keystore nonce, the token fetch,
    /// then `send_login_request` with the encrypted password.
    async fn caa_steps(&mut self, creds: Credentials<'_>) -> Result<Option<LoginOutcome>, IgError> {
        self.register_usdid().await?;
        let flow = CaaFlow {
            creds,
            network_info: self
                .cfg
                .caa_network_info
                .clone()
                .unwrap_or_else(device_network_info),
            ids: self.session.uuids.clone(),
            waterfall: uuid4(),
        };
        let v = self
            .bloks_action(HOMEPAGE_ACTION, flow.homepage(), vec![])
            .await?;
        let aac = extract_aac(&v);
        let nonce = self.keystore_nonce(&flow.ids.uuid).await?;
        if let Some(aac) = &aac {
            self.bloks_action(TOKEN_FETCH_ACTION, flow.token_fetch(aac), vec![])
                .await?;
        }
        let (Some(aac), Some(nonce)) = (aac, nonce) else {
            return Err(IgError::Protocol(
                "CAA preflight did not return account access and attestation data".into(),
            ));
        };

        let enc = self.encrypted_password(creds.password).await?;
        let params = flow.send_login(&aac, &enc, self.session.mid.as_deref());
        let attest = compact_json(&json!({"attestation": [{
            "version": 2, "type": "keystore", "errors": [-1013],
            "challenge_nonce": nonce, "signed_nonce": "", "key_hash": ""
        }]}));
        let v = self
            .bloks_action(
                SEND_LOGIN_ACTION,
                params,
                vec![("X-IG-Attest-Params", attest)],
            )
            .await?;
        match read_login_answer(&v) {
            CaaAnswer::LoggedIn(l) => self.apply_caa_login(l).await.map(Some),
            CaaAnswer::Fallback | CaaAnswer::TwoStep => Ok(None),
            CaaAnswer::NoSession => Err(IgError::Protocol(
                "CAA login did not return a session".into(),
            )),
        }
    }

    /// `attestation/create_android_keystore/`: the nonce the login's attestation answers.
    async fn keystore_nonce(&mut self, device_uuid: &str) -> Result<Option<String>, IgError> {
        let url = self.caa_url("api/v1/attestation/create_android_keystore/");
        let form = vec![
            ("app_scoped_device_id".to_owned(), device_uuid.to_owned()),
            ("key_hash".to_owned(), String::new()),
        ];
        let headers = vec![(
            "X-FB-Friendly-Name",
            "IgApi: attestation/create_android_keystore/".to_owned(),
        )];
        let k = self
            .call(Method::POST, url, Body::Form(form), headers, true)
            .await?;
        Ok(k.get("challenge_nonce")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_owned))
    }

    /// The login embedded in the answer, applied as instagrapi's `bloks_apply_login_response`
    /// does: the token, the cookies and the routing values go straight into the session's
    /// headers.
    async fn apply_caa_login(&mut self, l: EmbeddedLogin) -> Result<LoginOutcome, IgError> {
        let header = |name: &str| {
            l.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
                .map(str::to_owned)
        };
        if let Some(auth) = header("ig-set-authorization") {
            self.session.set_authorization(&auth);
            if let Some(a) = self.session.authorization_header() {
                self.jar.set("Authorization", Some(a));
            }
        }
        for (k, val) in l.cookies {
            self.session.cookies.insert(k, val);
        }
        if let Some(rur) = header("ig-set-ig-u-rur") {
            self.session.ig_u_rur = Some(rur.clone());
            self.jar.set("IG-U-RUR", Some(rur));
        }
        if let Some(claim) = header("x-ig-set-www-claim") {
            self.session.ig_www_claim = Some(claim.clone());
            self.jar.set("X-IG-WWW-Claim", Some(claim));
        }
        let body = json!({"logged_in_user": l.logged_in_user});
        self.logged_in(&body).await
    }
}
