//! DeepL API v2 as the real service answers (fact sheet §1, §7): `DeepL-Auth-Key` only,
//! a User-Agent required, ≤ 50 texts, ≤ 128 KiB bodies (413 with JSON), source codes
//! without variants, 403 with an empty body for a bad key, 456 on quota, `X-Trace-ID`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};

use super::state::{
    Captured, Injected, SimGlossary, SimState, no_response, parse_body, string_list,
};
use crate::provider::deepl::MAX_BODY_BYTES;
use crate::terms::Terms;

const CORE: &[&str] = &[
    "AR", "BG", "CS", "DA", "DE", "EL", "EN", "ES", "ET", "FI", "FR", "HU", "ID", "IT", "JA", "KO",
    "LT", "LV", "NB", "NL", "PL", "PT", "RO", "RU", "SK", "SL", "SV", "TR", "UK", "ZH",
];
const TEXT_ONLY: &[&str] = &[
    "AF", "AZ", "BE", "BN", "CA", "FA", "GA", "HE", "HI", "HR", "HY", "IS", "KA", "KK", "MK", "MS",
    "SQ", "SR", "SW", "TA", "TH", "TL", "UR", "UZ", "VI",
];
const TARGET_VARIANTS: &[&str] = &[
    "EN-GB", "EN-US", "PT-BR", "PT-PT", "ZH-HANS", "ZH-HANT", "ES-419",
];

pub(super) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/v2/translate", any(translate))
        .route("/v2/usage", any(usage))
        .route("/v2/languages", get(languages))
        .route("/v3/languages", get(languages_v3))
        .route("/__session__/last-request", get(last_request))
        .route("/v2/glossaries", post(create_glossary).get(list_glossaries))
        .route(
            "/v2/glossaries/{id}",
            get(get_glossary).delete(delete_glossary),
        )
        .route("/v2/glossaries/{id}/entries", get(glossary_entries))
        .route("/v2/glossary-language-pairs", get(glossary_pairs))
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

fn traced(mut r: Response) -> Response {
    r.headers_mut().insert(
        "x-trace-id",
        HeaderValue::from_str(&uuid_like()).unwrap_or(HeaderValue::from_static("0")),
    );
    r
}

fn uuid_like() -> String {
    use rand::Rng;
    format!("{:032x}", rand::rng().random::<u128>())
}

/// The key from `Authorization: DeepL-Auth-Key <key>`; `None` means 403.
fn key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let key = value.strip_prefix("DeepL-Auth-Key ")?.trim();
    (!key.is_empty() && key != "invalid").then(|| key.to_owned())
}

fn valid_target(code: &str) -> bool {
    CORE.contains(&code) || TEXT_ONLY.contains(&code) || TARGET_VARIANTS.contains(&code)
}

fn valid_source(code: &str) -> bool {
    CORE.contains(&code) || TEXT_ONLY.contains(&code)
}

async fn translate(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let captured = state.capture(&method, &uri, &headers, &body);
    traced(answer(&state, &method, &headers, &body, &captured).await)
}

async fn answer(
    state: &SimState,
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
    captured: &Captured,
) -> Response {
    if let Some(refused) = refuse(state, method, headers, captured).await {
        return refused;
    }
    let req = match TranslateRequest::read(state, headers, body) {
        Ok(req) => req,
        Err((status, text)) => return message(status, text),
    };
    let chars: u64 = req.texts.iter().map(|t| t.chars().count() as u64).sum();
    if !state.bill(chars) {
        return message(
            StatusCode::from_u16(456).unwrap_or(StatusCode::FORBIDDEN),
            "Quota for this billing period has been exceeded.",
        );
    }
    Json(json!({ "translations": req.translations(state) })).into_response()
}

/// What DeepL answers before it reads the body: the method, the key, the User-Agent, and
/// the faults a test injected.
async fn refuse(
    state: &SimState,
    method: &Method,
    headers: &HeaderMap,
    captured: &Captured,
) -> Option<Response> {
    if method != Method::POST {
        return Some(message(
            StatusCode::METHOD_NOT_ALLOWED,
            "GET requests to /v2/translate are deprecated; use POST.",
        ));
    }
    if key(headers).is_none() {
        return Some(StatusCode::FORBIDDEN.into_response());
    }
    if headers
        .get(header::USER_AGENT)
        .is_none_or(|v| v.as_bytes().is_empty())
    {
        return Some(message(
            StatusCode::BAD_REQUEST,
            "User-Agent header missing.",
        ));
    }
    let injected = match state.session_fault(headers, captured) {
        Some(fault) => Some(fault),
        None => state.inject().await,
    };
    match injected {
        // Like DeepL: no body on 429 and 5xx.
        Some(Injected::TooMany) => Some(StatusCode::TOO_MANY_REQUESTS.into_response()),
        Some(Injected::ServerError(s)) => Some(s.into_response()),
        Some(Injected::NoResponse) => Some(no_response().await),
        None => None,
    }
}

/// A `/v2/translate` body as DeepL validates it, in DeepL's order.
struct TranslateRequest {
    req: Value,
    texts: Vec<String>,
    target: String,
    source: Option<String>,
    tag_handling: Option<String>,
    /// The entries of the `glossary_id` named, applied to every text.
    glossary: Vec<icf_core::glossary::GlossaryEntry>,
}

impl TranslateRequest {
    /// The body's fields, or the status and message DeepL refuses it with.
    fn read(
        state: &SimState,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Self, (StatusCode, &'static str)> {
        let bad = |text: &'static str| (StatusCode::BAD_REQUEST, text);
        if body.len() > MAX_BODY_BYTES {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"));
        }
        let req = parse_body(headers, body)
            .ok_or_else(|| bad("Invalid request: expected a JSON body."))?;
        let texts = string_list(req.get("text"))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("Parameter 'text' not specified."))?;
        if texts.len() > 50 {
            return Err(bad(
                "Too many texts: at most 50 'text' parameters per request.",
            ));
        }
        let target = req
            .get("target_lang")
            .and_then(Value::as_str)
            .map(str::to_ascii_uppercase)
            .ok_or_else(|| bad("Parameter 'target_lang' not specified."))?;
        if !valid_target(&target) || state.hidden(&target) {
            return Err(bad("Value for 'target_lang' not supported."));
        }
        let source = req
            .get("source_lang")
            .and_then(Value::as_str)
            .map(str::to_ascii_uppercase);
        if let Some(s) = &source
            && (!valid_source(s) || state.hidden(s))
        {
            return Err(bad("Value for 'source_lang' not supported."));
        }
        let tag_handling = req
            .get("tag_handling")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(t) = &tag_handling
            && t != "xml"
            && t != "html"
        {
            return Err(bad("Value for 'tag_handling' not supported."));
        }
        match req.get("ignore_tags") {
            None | Some(Value::String(_)) => {}
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
            Some(_) => {
                return Err(bad(
                    "Value for 'ignore_tags' not supported: expected tag names.",
                ));
            }
        }
        let glossary = glossary_of(state, &req, source.as_deref(), &target)?;
        let strict_xml = tag_handling.as_deref() == Some("xml")
            && req.get("tag_handling_version").and_then(Value::as_str) != Some("v1");
        if strict_xml && texts.iter().any(|t| !well_formed(t)) {
            return Err(bad(
                "Tag handling v2 requires valid XML: the text is not well-formed.",
            ));
        }
        Ok(Self {
            req,
            texts,
            target,
            source,
            tag_handling,
            glossary,
        })
    }

    fn translations(&self, state: &SimState) -> Vec<Value> {
        let detected = self.source.clone().unwrap_or_else(|| "EN".into());
        let terms = Terms::new(&self.glossary);
        self.texts
            .iter()
            .map(|t| {
                let markup = self.tag_handling.is_some();
                let t = &outside_tags(t, markup, |prose| terms.replace(prose));
                let mut v = json!({
                    "detected_source_language": detected,
                    "text": state.translate(t, &self.target, markup),
                });
                if self.tag_handling.is_some() {
                    v["tag_handling_version"] = self
                        .req
                        .get("tag_handling_version")
                        .cloned()
                        .unwrap_or(json!("v2"));
                }
                if self.req.get("show_billed_characters") == Some(&Value::Bool(true)) {
                    v["billed_characters"] = json!(t.chars().count());
                }
                v
            })
            .collect()
    }
}

/// `text` with `f` applied to its prose only: with tag handling, the tags pass untouched.
fn outside_tags(text: &str, markup: bool, f: impl Fn(&str) -> String) -> String {
    if !markup {
        return f(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&f(&rest[..open]));
        let close = rest[open..].find('>').map_or(rest.len(), |c| open + c + 1);
        out.push_str(&rest[open..close]);
        rest = &rest[close..];
    }
    out.push_str(&f(rest));
    out
}

/// The entries of the request's `glossary_id`, checked as DeepL checks them: a glossary
/// needs `source_lang`, must exist, and must be for the request's pair.
fn glossary_of(
    state: &SimState,
    req: &Value,
    source: Option<&str>,
    target: &str,
) -> Result<Vec<icf_core::glossary::GlossaryEntry>, (StatusCode, &'static str)> {
    let Some(id) = req.get("glossary_id").and_then(Value::as_str) else {
        return Ok(Vec::new());
    };
    let Some(source) = source else {
        return Err((
            StatusCode::BAD_REQUEST,
            "Use of a glossary requires the source_lang parameter to be specified.",
        ));
    };
    let glossaries = state.glossaries();
    let g = glossaries
        .iter()
        .find(|g| g.id == id)
        .ok_or((StatusCode::NOT_FOUND, "Glossary not found."))?;
    let target_base = target.split('-').next().unwrap_or(target);
    if !g.source_lang.eq_ignore_ascii_case(source)
        || !g.target_lang.eq_ignore_ascii_case(target_base)
    {
        return Err((
            StatusCode::BAD_REQUEST,
            "Language pair of the glossary does not match the source_lang and target_lang of the request.",
        ));
    }
    Ok(g.entries.clone())
}

/// Whether `text` is well-formed XML content: balanced tags, `<` only in tags and `&` only
/// in entities.
fn well_formed(text: &str) -> bool {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find(['<', '&']) {
        rest = &rest[pos..];
        if rest.starts_with('&') {
            let Some(semi) = rest.find(';') else {
                return false;
            };
            let entity = &rest[1..semi];
            let ok = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
                || entity
                    .strip_prefix("#x")
                    .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
                || entity
                    .strip_prefix('#')
                    .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
            if !ok {
                return false;
            }
            rest = &rest[semi + 1..];
            continue;
        }
        let Some(end) = rest.find('>') else {
            return false;
        };
        let tag = &rest[1..end];
        if tag.contains('<') {
            return false;
        }
        if let Some(name) = tag.strip_prefix('/') {
            if open.pop() != Some(name.trim()) {
                return false;
            }
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or_default();
            if name.is_empty() {
                return false;
            }
            open.push(name);
        }
        rest = &rest[end + 1..];
    }
    open.is_empty()
}

async fn usage(State(state): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    let Some(key) = key(&headers) else {
        return traced(StatusCode::FORBIDDEN.into_response());
    };
    let (count, limit) = state.usage();
    let body = if key.ends_with(":fx") {
        json!({ "character_count": count, "character_limit": limit })
    } else {
        json!({
            "character_count": count, "character_limit": limit,
            "api_key_character_count": count, "api_key_character_limit": limit,
            "products": [{ "product_type": "write", "billing_unit": "characters",
                           "api_key_unit_count": count, "account_unit_count": count }],
        })
    };
    traced(Json(body).into_response())
}

async fn languages(headers: HeaderMap, uri: Uri) -> Response {
    if key(&headers).is_none() {
        return traced(StatusCode::FORBIDDEN.into_response());
    }
    let target = uri.query().is_some_and(|q| q.contains("type=target"));
    let mut list: Vec<Value> = CORE
        .iter()
        .chain(TEXT_ONLY)
        .filter(|c| !(target && (**c == "EN" || **c == "PT")))
        .map(|c| {
            if target {
                json!({ "language": c, "name": c, "supports_formality": false })
            } else {
                json!({ "language": c, "name": c })
            }
        })
        .collect();
    if target {
        list.extend(
            TARGET_VARIANTS
                .iter()
                .map(|c| json!({ "language": c, "name": c, "supports_formality": false })),
        );
    }
    traced(Json(list).into_response())
}

async fn languages_v3(State(state): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    if key(&headers).is_none() {
        return traced(StatusCode::FORBIDDEN.into_response());
    }
    let entry = |code: &str, source: bool, tags: bool| {
        let mut features = serde_json::Map::new();
        if tags {
            features.insert("tag_handling".into(), json!({ "status": "stable" }));
        }
        json!({
            "lang": code, "name": code, "status": "stable",
            "usable_as_source": source, "usable_as_target": true,
            "features": features,
        })
    };
    let mut list: Vec<Value> = CORE
        .iter()
        .map(|c| entry(&c.to_ascii_lowercase(), true, true))
        .collect();
    list.extend(
        TEXT_ONLY
            .iter()
            .map(|c| entry(&c.to_ascii_lowercase(), true, false)),
    );
    list.extend(TARGET_VARIANTS.iter().map(|c| entry(c, false, true)));
    list.retain(|e| !e["lang"].as_str().is_some_and(|c| state.hidden(c)));
    traced(Json(list).into_response())
}

/// deepl-mock's `GET /__session__/last-request`.
async fn last_request(State(state): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    let Some(id) = headers
        .get("mock-server-session")
        .and_then(|v| v.to_str().ok())
    else {
        return message(
            StatusCode::BAD_REQUEST,
            "mock-server-session header missing.",
        );
    };
    match state.session_last(id) {
        Some(last) => Json(last).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// What DeepL answers about a glossary.
fn glossary_info(g: &SimGlossary) -> Value {
    json!({
        "glossary_id": g.id, "name": g.name, "ready": true,
        "source_lang": g.source_lang, "target_lang": g.target_lang,
        "creation_time": g.creation_time, "entry_count": g.entries.len(),
    })
}

/// Every pair of two different core languages: DeepL's glossaries languages.
fn glossary_pair_ok(source: &str, target: &str) -> bool {
    let core = |c: &str| CORE.contains(&c.to_ascii_uppercase().as_str());
    source != target && core(source) && core(target)
}

/// DeepL's `entries_format`: `tsv` lines, or `csv` lines of two fields; no blank term.
fn glossary_entries_of(
    entries: &str,
    format: &str,
) -> Result<Vec<icf_core::glossary::GlossaryEntry>, String> {
    let sep = match format {
        "tsv" => '\t',
        "csv" => ',',
        other => return Err(format!("Unsupported entries format '{other}'.")),
    };
    let mut out: Vec<icf_core::glossary::GlossaryEntry> = Vec::new();
    for (i, line) in entries.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((term, translation)) = line.split_once(sep) else {
            return Err(format!("Entry {} does not have two fields.", i + 1));
        };
        let (term, translation) = (term.trim(), translation.trim());
        if term.is_empty() || translation.is_empty() {
            return Err(format!("Entry {} has an empty term.", i + 1));
        }
        if out.iter().any(|e| e.term == term) {
            return Err(format!("Entry {} repeats the term '{term}'.", i + 1));
        }
        out.push(icf_core::glossary::GlossaryEntry {
            term: term.to_owned(),
            translation: translation.to_owned(),
        });
    }
    if out.is_empty() {
        return Err("No entries provided.".into());
    }
    Ok(out)
}

fn glossary_error(status: StatusCode, text: &str, detail: String) -> Response {
    (status, Json(json!({ "message": text, "detail": detail }))).into_response()
}

async fn create_glossary(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.capture(&method, &uri, &headers, &body);
    if key(&headers).is_none() {
        return traced(StatusCode::FORBIDDEN.into_response());
    }
    let Some(req) = parse_body(&headers, &body) else {
        return traced(message(
            StatusCode::BAD_REQUEST,
            "Invalid request: expected a JSON body.",
        ));
    };
    let field = |name: &str| req.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(name), Some(source), Some(target), Some(entries)) = (
        field("name"),
        field("source_lang").map(|s| s.to_ascii_lowercase()),
        field("target_lang").map(|s| s.to_ascii_lowercase()),
        field("entries"),
    ) else {
        return traced(message(
            StatusCode::BAD_REQUEST,
            "Missing parameter: name, source_lang, target_lang and entries are required.",
        ));
    };
    if !glossary_pair_ok(&source, &target) {
        return traced(message(
            StatusCode::BAD_REQUEST,
            "Unsupported glossary source and target language pair.",
        ));
    }
    let format = field("entries_format").unwrap_or_else(|| "tsv".into());
    let entries = match glossary_entries_of(&entries, &format) {
        Ok(e) => e,
        Err(detail) => {
            return traced(glossary_error(
                StatusCode::BAD_REQUEST,
                "Invalid glossary entries provided",
                detail,
            ));
        }
    };
    let id = uuid_like();
    let g = SimGlossary {
        id: format!(
            "{}-{}-{}-{}-{}",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..]
        ),
        name,
        source_lang: source,
        target_lang: target,
        entries,
        creation_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    let info = glossary_info(&g);
    state.glossaries().push(g);
    traced((StatusCode::CREATED, Json(info)).into_response())
}

async fn list_glossaries(State(state): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    if key(&headers).is_none() {
        return traced(StatusCode::FORBIDDEN.into_response());
    }
    let list: Vec<Value> = state.glossaries().iter().map(glossary_info).collect();
    traced(Json(json!({ "glossaries": list })).into_response())
}

fn not_found() -> Response {
    traced(message(StatusCode::NOT_FOUND, "Glossary not found."))
}

async fn get_glossary(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if key(&headers).is_none() {
        return traced(StatusCode::FORBIDDEN.into_response());
    }
    match state.glossaries().iter().find(|g| g.id == id) {
        Some(g) => traced(Json(glossary_info(g)).into_response()),
        None => not_found(),
    }
}

/// The entries as TSV, DeepL's only format for reading them back.
async fn glossary_entries(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if key(&headers).is_none() {
        return traced(StatusCode::FORBIDDEN.into_response());
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/tab-separated-values");
    if !(accept.contains("text/tab-separated-values") || accept.contains("*/*")) {
        return traced(message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Accept header: entries are only available as text/tab-separated-values.",
        ));
    }
    match state.glossaries().iter().find(|g| g.id == id) {
        Some(g) => traced(
            (
                [(
                    header::CONTENT_TYPE,
                    "text/tab-separated-values; charset=UTF-8",
                )],
                icf_core::glossary::to_tsv(&g.entries),
            )
                .into_response(),
        ),
        None => not_found(),
    }
}

async fn delete_glossary(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    state.capture(&method, &uri, &headers, &[]);
    if key(&headers).is_none() {
        return traced(StatusCode::FORBIDDEN.into_response());
    }
    let mut glossaries = state.glossaries();
    let before = glossaries.len();
    glossaries.retain(|g| g.id != id);
    if glossaries.len() == before {
        return not_found();
    }
    traced(StatusCode::NO_CONTENT.into_response())
}

async fn glossary_pairs(headers: HeaderMap) -> Response {
    if key(&headers).is_none() {
        return traced(StatusCode::FORBIDDEN.into_response());
    }
    let mut pairs = Vec::new();
    for s in CORE {
        for t in CORE.iter().filter(|t| *t != s) {
            pairs.push(json!({
                "source_lang": s.to_ascii_lowercase(),
                "target_lang": t.to_ascii_lowercase(),
            }));
        }
    }
    traced(Json(json!({ "supported_languages": pairs })).into_response())
}

#[cfg(test)]
mod tests {
    use super::well_formed;

    #[test]
    fn xml_v2_needs_well_formed_text() {
        assert!(well_formed(
            "Tom &amp; Jerry &lt;3 <x id=\"0\"/> <b>ok</b> &#39;"
        ));
        assert!(!well_formed("Tom & Jerry"));
        assert!(!well_formed("I <3 you"));
        assert!(!well_formed("<b>open"));
        // `>` may stand in text content.
        assert!(well_formed("a > b"));
    }
}
