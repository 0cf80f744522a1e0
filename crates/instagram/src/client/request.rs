//! The request path: the session's headers with the request's own merged in, the body
//! encodings, the write-back of what Instagram hands out (§3.6), and the web session's one
//! request. Every call of the client goes through [`InstagramClient::call`] or, for the
//! uploads that bypass instagrapi's `private_request`, [`InstagramClient::transmit`].

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::InstagramClient;
use super::jar::dict;
use crate::error::{ErrorShape, IgError, classify};
use crate::transport::{build_web_client, map_reqwest};
use crate::types::VideoData;
use crate::wire::signed_body;

pub(crate) enum Body {
    Empty,
    Signed(Value),
    Form(Vec<(String, String)>),
    Raw(Bytes),
    /// A file sent as the body, read as it goes out.
    File {
        path: std::path::PathBuf,
        len: u64,
    },
}

impl Body {
    /// A video's bytes, or its file streamed as it goes out.
    pub(crate) fn video(data: &VideoData) -> Body {
        match data {
            VideoData::Bytes(bytes) => Body::Raw(bytes.clone()),
            VideoData::File { path, len } => Body::File {
                path: path.clone(),
                len: *len,
            },
        }
    }
}

pub(crate) const FORM_TYPE: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// instagrapi's web user agent (`PublicRequestMixin.public_user_agent`).
const PUBLIC_USER_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.1.2 Safari/605.1.15";

impl InstagramClient {
    /// Stores what Instagram hands out on every response (§3.6).
    fn write_back(&mut self, headers: &HeaderMap) {
        let get = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Some(a) = get("ig-set-authorization") {
            self.session.set_authorization(&a);
        }
        if let Some(mid) = get("ig-set-x-mid").filter(|m| !m.is_empty()) {
            self.session.mid = Some(mid);
        }
        if let Some(rur) = get("ig-set-ig-u-rur").filter(|m| !m.is_empty()) {
            self.session.ig_u_rur = Some(rur);
        }
        if let Some(claim) = get("x-ig-set-www-claim").filter(|m| !m.is_empty()) {
            self.session.ig_www_claim = Some(claim);
        }
        for c in headers.get_all("set-cookie") {
            let Ok(c) = c.to_str() else { continue };
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let (name, value) = (name.trim(), value.trim());
                if name.is_empty() {
                    continue;
                }
                let expired = c.to_ascii_lowercase().contains("max-age=0");
                if value.is_empty() || expired {
                    self.session.cookies.remove(name);
                } else {
                    self.session.cookies.insert(name.into(), value.into());
                }
            }
        }
    }

    /// instagrapi's `private_request`: the standard headers laid over the session's,
    /// `Content-Type` kept for a POST and dropped for a GET, `Authorization` with the
    /// request's own headers.
    async fn send(
        &mut self,
        method: Method,
        url: String,
        body: Body,
        extra: Vec<(&'static str, String)>,
        login: bool,
    ) -> Result<(u16, Bytes), IgError> {
        if !login {
            self.pace().await;
        }
        let base = self.base_headers();
        self.jar.update(base);
        let mut request: Vec<(String, Option<String>)> = extra
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v)))
            .collect();
        self.add_authorization(&mut request);
        match body {
            Body::Empty => self.jar.pop("Content-Type"),
            _ => self.jar.set("Content-Type", Some(FORM_TYPE.into())),
        }
        self.transmit(method, url, body, request).await
    }

    /// instagrapi's `private_headers(extra)`: the standard headers, then the request's,
    /// then `Authorization`; sent beside the session's headers without changing them (the
    /// uploads call `requests.Session.post` directly).
    pub(crate) fn private_headers(
        &mut self,
        extra: Vec<(&'static str, String)>,
    ) -> Vec<(String, Option<String>)> {
        let base = self
            .base_headers()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v));
        let extra = extra.into_iter().map(|(k, v)| (k.to_owned(), Some(v)));
        let mut h = dict(base.chain(extra));
        self.add_authorization(&mut h);
        h
    }

    /// The session's `Authorization`, after the request's headers, unless the request
    /// brings its own (instagrapi adds it to every private request's headers).
    fn add_authorization(&self, request: &mut Vec<(String, Option<String>)>) {
        if let Some(auth) = self.session.authorization_header()
            && !request
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            request.push(("Authorization".into(), Some(auth)));
        }
    }

    /// instagrapi's `request_timeout` sleep before a request that is not part of a login.
    pub(crate) async fn pace(&self) {
        if !self.cfg.pace.is_zero() {
            tokio::time::sleep(self.cfg.pace).await;
        }
    }

    /// Sends one request: the session's headers with the request's merged in, then the
    /// cookies and the length as the transport adds them.
    pub(crate) async fn transmit(
        &mut self,
        method: Method,
        url: String,
        body: Body,
        request: Vec<(String, Option<String>)>,
    ) -> Result<(u16, Bytes), IgError> {
        let is_post = method == Method::POST;
        let mut req = self.http.request(method, url);
        let headers = self.jar.merged(&request);
        let explicit_length = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let (bytes, file) = match body {
            Body::Empty => (None, None),
            Body::Signed(v) => (Some(Bytes::from(signed_body(&v))), None),
            Body::Form(pairs) => (
                Some(Bytes::from(
                    form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(pairs)
                        .finish(),
                )),
                None,
            ),
            Body::Raw(bytes) => (Some(bytes), None),
            Body::File { path, len } => (None, Some((path, len))),
        };
        let len = bytes
            .as_ref()
            .map(|b| b.len() as u64)
            .or(file.as_ref().map(|(_, l)| *l));
        // The transport adds the cookies after the request's headers, and the length
        // last unless the request named it.
        if let Some(cookie) = self.cookie_header() {
            req = req.header("Cookie", cookie);
        }
        if let (Some(len), false) = (len, explicit_length) {
            req = req.header("Content-Length", len.to_string());
        }
        req = match (bytes, file) {
            (Some(b), _) => req.body(b),
            (None, Some((path, _))) => {
                // Checked when the media was prepared; gone since means the post was deleted.
                let file = tokio::fs::File::open(&path).await.map_err(|e| {
                    IgError::BadMedia(format!("the stored video cannot be read: {e}"))
                })?;
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
                req.body(reqwest::Body::wrap_stream(stream))
            }
            (None, None) => req,
        };
        // Once connected, a POST may have reached Instagram even if no answer came back.
        let resp = req.send().await.map_err(|e| map_reqwest(e, is_post))?;
        let status = resp.status().as_u16();
        // Instagram never asks for HTTP auth; a proxy that rejects our credentials does
        // (407, or tinyproxy's 401 with a Basic challenge on plain-HTTP requests).
        let auth_challenge = resp.headers().contains_key("www-authenticate")
            || resp.headers().contains_key("proxy-authenticate");
        if status == 407 || (status == 401 && auth_challenge) {
            return Err(IgError::Proxy(
                "the proxy refused the credentials (HTTP 407)".into(),
            ));
        }
        self.write_back(resp.headers());
        let bytes = resp.bytes().await.map_err(|e| map_reqwest(e, true))?;
        if status == 403
            && classify(status, &bytes).is_some_and(|e| e.kind == ErrorShape::LoginRequired)
        {
            // The session is dead; keep the device, drop the login (§4.2).
            self.forget_login();
        }
        Ok((status, bytes))
    }

    /// The session's cookies as the `Cookie` header.
    fn cookie_header(&self) -> Option<String> {
        let c = &self.session.cookies;
        (!c.is_empty()).then(|| {
            c.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// instagrapi's web session (`Client.public`): HTTP/1.1 with a desktop Safari's
    /// headers, used for the password key (`password_publickeys`). Same proxy, no cookies.
    pub(crate) async fn public_get(
        &mut self,
        url: String,
    ) -> Result<(u16, HeaderMap, Bytes), IgError> {
        if self.web.is_none() {
            self.web = Some(build_web_client(
                &self.proxy,
                self.cfg.transport,
                self.cfg.extra_ca_pem.as_deref(),
            )?);
        }
        let Some(web) = &self.web else {
            return Err(IgError::Protocol("no web client".into()));
        };
        // First, as urllib3 writes it over HTTP/1.1; with the port only when it is not the
        // scheme's.
        let host = reqwest::Url::parse(&url)
            .ok()
            .and_then(|u| {
                let h = u.host_str()?.to_owned();
                Some(match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h,
                })
            })
            .unwrap_or_default();
        let req = web
            .get(url)
            .header("Host", host)
            .header("User-Agent", PUBLIC_USER_AGENT)
            .header("Accept-Encoding", "gzip,deflate")
            .header("Accept", "*/*")
            .header("Connection", "Keep-Alive")
            .header("Accept-Language", "en-US");
        let resp = req.send().await.map_err(|e| map_reqwest(e, false))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| map_reqwest(e, false))?;
        Ok((status, headers, bytes))
    }

    /// A private API call: the answer as JSON, or the classified error.
    pub(crate) async fn call(
        &mut self,
        method: Method,
        url: String,
        body: Body,
        extra: Vec<(&'static str, String)>,
        login: bool,
    ) -> Result<Value, IgError> {
        let (status, bytes) = self.send(method, url, body, extra, login).await?;
        if let Some(e) = classify(status, &bytes) {
            return Err(IgError::Api(e));
        }
        serde_json::from_slice(&bytes)
            .map_err(|_| IgError::Protocol("the answer is not JSON".into()))
    }
}
