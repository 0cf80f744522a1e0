//! Compares a trace of icf's requests with a golden trace of instagrapi's, request by
//! request, under the allow-list in `tests/golden/allow-list.json`. Every difference is one
//! readable line naming the request and the place; an empty list means icf sent what the
//! reference client sends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The pinned reference client's traces.
pub const REFERENCE: &str = "instagrapi-3.2.2";

pub fn read_trace(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read the golden trace {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

pub fn golden(scenario: &str) -> Vec<Value> {
    read_trace(
        &golden_dir()
            .join(REFERENCE)
            .join(format!("{scenario}.jsonl")),
    )
}

/// What may differ, and how paths are normalised.
pub struct AllowList {
    paths: Vec<(String, String)>,
    headers: HashMap<String, String>,
    json_headers: Vec<String>,
    fields: HashMap<String, String>,
    /// Fields that may differ on one endpoint only (by normalised path), where the same
    /// name is a constant elsewhere.
    fields_at: HashMap<String, HashMap<String, String>>,
}

impl AllowList {
    pub fn load() -> AllowList {
        let path = golden_dir().join("allow-list.json");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let map = |k: &str| -> HashMap<String, String> {
            v[k].as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        };
        AllowList {
            paths: v["paths"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_owned(),
                        p[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
            headers: map("headers"),
            json_headers: v["json_headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_owned())
                .collect(),
            fields: map("fields"),
            fields_at: v["fields_at"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(path, f)| {
                            let f = f
                                .as_object()
                                .unwrap()
                                .iter()
                                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().into()))
                                .collect();
                            (path.clone(), f)
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// A path with its variable parts named (`/rupload_igphoto/{upload_name}`); the first
    /// pattern that matches wins.
    fn path(&self, p: &str) -> String {
        for (pattern, name) in &self.paths {
            if let Some(named) = normalise(pattern, name, p) {
                return named;
            }
        }
        p.to_owned()
    }

    /// Whether `key` may differ on the request to the (normalised) `path`.
    fn allows(&self, path: &str, key: &str) -> bool {
        self.fields.contains_key(key)
            || self
                .fields_at
                .get(path)
                .is_some_and(|f| f.contains_key(key))
    }
}

/// The allow-list's path patterns, without a regex crate: `^`, then `/`-separated segments,
/// each a literal or one of `[0-9]+`, `[0-9_]+`, `[^/]+`; `$` at the end matches the whole
/// path, else the pattern is a prefix (ending with `/`) and the rest of the path is kept
/// after the name (`/api/v1/media/{media_id}/comment/`).
fn normalise(pattern: &str, name: &str, p: &str) -> Option<String> {
    // `[^/]+` holds a slash: name it before splitting into segments.
    const ANY: &str = "<any>";
    let body = pattern
        .strip_prefix('^')
        .unwrap_or(pattern)
        .replace("[^/]+", ANY);
    let (body, anchored) = match body.strip_suffix('$') {
        Some(b) => (b, true),
        None => (body.as_str(), false),
    };
    let mut pat: Vec<&str> = body.split('/').collect();
    if !anchored {
        // `…/` as a prefix: the path goes on after that slash.
        if pat.last() != Some(&"") {
            panic!("allow-list prefix pattern must end with '/': {pattern}");
        }
        pat.pop();
    }
    let segs: Vec<&str> = p.split('/').collect();
    if segs.len() < pat.len() || (anchored && segs.len() != pat.len()) {
        return None;
    }
    let seg_ok = |want: &str, got: &str| match want {
        "[0-9]+" => !got.is_empty() && got.chars().all(|c| c.is_ascii_digit()),
        "[0-9_]+" => !got.is_empty() && got.chars().all(|c| c.is_ascii_digit() || c == '_'),
        ANY => !got.is_empty(),
        literal if literal.contains('[') => panic!("allow-list pattern not understood: {pattern}"),
        literal => literal == got,
    };
    if !pat.iter().zip(&segs).all(|(w, g)| seg_ok(w, g)) {
        return None;
    }
    if anchored {
        return Some(name.to_owned());
    }
    if segs.len() == pat.len() {
        // The prefix needs its closing slash.
        return None;
    }
    Some(format!("{name}{}", segs[pat.len()..].join("/")))
}

/// The kind of a value that may differ: its JSON type, and for a string its shape.
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(n) if n.is_f64() => "float".into(),
        Value::Number(_) => "int".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
        Value::String(s) => format!("string:{}", shape(s)),
    }
}

fn shape(s: &str) -> &'static str {
    let is_hex = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_hexdigit());
    let uuid = s.len() == 36
        && s.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.split('-').all(is_hex);
    if s.is_empty() {
        "empty"
    } else if uuid {
        "uuid"
    } else if s.chars().all(|c| c.is_ascii_digit()) {
        "digits"
    } else if s.starts_with("android-") {
        "android-id"
    } else {
        "text"
    }
}

pub struct Diff<'a> {
    allow: &'a AllowList,
    out: Vec<String>,
    /// The normalised path of the request being compared.
    path: String,
}

impl<'a> Diff<'a> {
    pub fn new(allow: &'a AllowList) -> Self {
        Diff {
            allow,
            out: Vec::new(),
            path: String::new(),
        }
    }

    fn say(&mut self, at: &str, what: String) {
        self.out.push(format!("{at}: {what}"));
    }

    /// Two JSON values: types, object keys and their order, arrays, and constants unless the
    /// key is in the allow-list (then the kind).
    fn json(&mut self, at: &str, key: &str, want: &Value, got: &Value) {
        if self.allow.allows(&self.path, key) && !want.is_object() && !want.is_array() {
            if kind(want) != kind(got) {
                self.say(
                    at,
                    format!("{} expected, icf sent {}", kind(want), kind(got)),
                );
            }
            return;
        }
        match (want, got) {
            (Value::Object(w), Value::Object(g)) => {
                self.keys(
                    at,
                    w.keys().map(String::as_str),
                    g.keys().map(String::as_str),
                );
                for (k, wv) in w {
                    if let Some(gv) = g.get(k) {
                        self.json(&format!("{at}.{k}"), k, wv, gv);
                    }
                }
            }
            (Value::Array(w), Value::Array(g)) => {
                if w.len() != g.len() {
                    self.say(
                        at,
                        format!("{} items expected, icf sent {}", w.len(), g.len()),
                    );
                }
                for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                    self.json(&format!("{at}[{i}]"), key, wv, gv);
                }
            }
            _ if kind(want) != kind(got) => self.say(
                at,
                format!(
                    "{want} ({}) expected, icf sent {got} ({})",
                    kind(want),
                    kind(got)
                ),
            ),
            _ if want != got => self.say(at, format!("{want} expected, icf sent {got}")),
            _ => {}
        }
    }

    /// Names and their order.
    fn keys<'k>(
        &mut self,
        at: &str,
        want: impl Iterator<Item = &'k str>,
        got: impl Iterator<Item = &'k str>,
    ) {
        let w: Vec<&str> = want.collect();
        let g: Vec<&str> = got.collect();
        let missing: Vec<&&str> = w.iter().filter(|k| !g.contains(k)).collect();
        let extra: Vec<&&str> = g.iter().filter(|k| !w.contains(k)).collect();
        if !missing.is_empty() {
            self.say(at, format!("missing {missing:?}"));
        }
        if !extra.is_empty() {
            self.say(at, format!("not sent by the reference: {extra:?}"));
        }
        let wc: Vec<&&str> = w.iter().filter(|k| g.contains(k)).collect();
        let gc: Vec<&&str> = g.iter().filter(|k| w.contains(k)).collect();
        if let Some(i) = (0..wc.len()).find(|&i| wc[i] != gc[i]) {
            let from = i.saturating_sub(2);
            self.say(
                at,
                format!(
                    "order differs at {}: expected …{:?}…, icf sent …{:?}…",
                    i + 1,
                    &wc[from..wc.len().min(i + 4)],
                    &gc[from..gc.len().min(i + 4)]
                ),
            );
        }
    }

    fn pairs(v: &Value) -> Vec<(String, String)> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        (
                            p[0].as_str().unwrap_or_default().to_owned(),
                            p[1].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn headers(&mut self, at: &str, want: &Value, got: &Value) {
        let w = Self::pairs(want);
        let g = Self::pairs(got);
        self.keys(
            &format!("{at} headers"),
            w.iter().map(|(k, _)| k.as_str()),
            g.iter().map(|(k, _)| k.as_str()),
        );
        for (name, wv) in &w {
            let Some((_, gv)) = g.iter().find(|(k, _)| k == name) else {
                continue;
            };
            let here = format!("{at} header {name}");
            if self.allow.json_headers.contains(name) {
                match (
                    serde_json::from_str::<Value>(wv),
                    serde_json::from_str::<Value>(gv),
                ) {
                    (Ok(wj), Ok(gj)) => self.json(&here, name, &wj, &gj),
                    _ => self.say(&here, format!("JSON expected, icf sent {gv:?}")),
                }
            } else if name == "cookie" {
                let names = |c: &str| -> Vec<String> {
                    c.split(';')
                        .filter_map(|p| p.split('=').next())
                        .map(|n| n.trim().to_owned())
                        .collect()
                };
                let (wn, gn) = (names(wv), names(gv));
                if wn != gn {
                    self.say(&here, format!("cookies {wn:?} expected, icf sent {gn:?}"));
                }
            } else if self.allow.headers.contains_key(name) {
                if shape(wv) != shape(gv) {
                    self.say(
                        &here,
                        format!("a {} value expected, icf sent {gv:?}", shape(wv)),
                    );
                }
            } else if wv != gv {
                self.say(&here, format!("{wv:?} expected, icf sent {gv:?}"));
            }
        }
    }

    fn request(&mut self, at: &str, want: &Value, got: &Value) {
        for part in ["query", "form"] {
            let (w, g) = (Self::pairs(&want[part]), Self::pairs(&got[part]));
            if w.is_empty() && g.is_empty() {
                continue;
            }
            let here = format!("{at} {part}");
            self.keys(
                &here,
                w.iter().map(|(k, _)| k.as_str()),
                g.iter().map(|(k, _)| k.as_str()),
            );
            for (k, wv) in &w {
                let Some((_, gv)) = g.iter().find(|(gk, _)| gk == k) else {
                    continue;
                };
                let (wd, gd) = (&want["decoded"][k], &got["decoded"][k]);
                if !wd.is_null() || !gd.is_null() {
                    self.json(&format!("{here} {k}"), k, wd, gd);
                } else {
                    self.json(
                        &format!("{here} {k}"),
                        k,
                        &Value::String(wv.clone()),
                        &Value::String(gv.clone()),
                    );
                }
            }
        }
        // Where JSON stood as a string and how it was written (Python's spacing or compact):
        // invisible once decoded, visible to a server that reads the bytes.
        if let (Some(ws), Some(gs)) = (want["styles"].as_object(), got["styles"].as_object()) {
            for (place, style) in ws {
                match gs.get(place) {
                    Some(g) if g != style => self.say(
                        at,
                        format!("{place}: JSON written {style} expected, icf wrote it {g}"),
                    ),
                    Some(_) => {}
                    None => self.say(
                        at,
                        format!(
                            "{place}: a JSON text ({style}) expected, icf sent no JSON text there"
                        ),
                    ),
                }
            }
            for place in gs.keys().filter(|p| !ws.contains_key(*p)) {
                self.say(
                    at,
                    format!("{place}: icf sent a JSON text where the reference sends none"),
                );
            }
        }
        if !want["json"].is_null() || !got["json"].is_null() {
            self.json(&format!("{at} json body"), "", &want["json"], &got["json"]);
        }
        if want["multipart"] != got["multipart"] {
            self.say(
                at,
                format!(
                    "multipart parts {} expected, icf sent {}",
                    want["multipart"], got["multipart"]
                ),
            );
        }
        let body_kind = |v: &Value| {
            ["form", "json", "multipart", "body"]
                .into_iter()
                .find(|k| !v[*k].is_null())
                .unwrap_or("none")
        };
        if body_kind(want) != body_kind(got) {
            self.say(
                at,
                format!(
                    "a {} body expected, icf sent {}",
                    body_kind(want),
                    body_kind(got)
                ),
            );
        }
    }

    fn line(&self, v: &Value) -> String {
        format!(
            "{} {}{}",
            v["method"].as_str().unwrap_or_default(),
            v["host"].as_str().unwrap_or_default(),
            self.allow.path(v["path"].as_str().unwrap_or_default())
        )
    }

    /// Compares the sequences; the request lines must match one for one, then each pair.
    pub fn traces(mut self, want: &[Value], got: &[Value]) -> Vec<String> {
        let wl: Vec<String> = want.iter().map(|v| self.line(v)).collect();
        let gl: Vec<String> = got.iter().map(|v| self.line(v)).collect();
        if wl != gl {
            self.say(
                "request sequence",
                format!("\n  expected: {wl:#?}\n  icf sent: {gl:#?}"),
            );
        }
        for (i, (w, g)) in want.iter().zip(got).enumerate() {
            let at = format!("#{} {}", i + 1, wl[i]);
            if wl[i] != gl[i] {
                break;
            }
            self.path = self.allow.path(w["path"].as_str().unwrap_or_default());
            if w["http"] != g["http"] {
                self.say(
                    &at,
                    format!("HTTP/{} expected, icf used HTTP/{}", w["http"], g["http"]),
                );
            }
            self.headers(&at, &w["headers"], &g["headers"]);
            self.request(&at, w, g);
        }
        self.out
    }
}

/// Fails with every difference listed.
pub fn assert_conforms(scenario: &str, got: &[Value]) {
    let allow = AllowList::load();
    let want = golden(scenario);
    let diffs = Diff::new(&allow).traces(&want, got);
    if !diffs.is_empty() {
        if let Ok(dir) = std::env::var("ICF_TRACE_OUT") {
            let path = Path::new(&dir).join(format!("{scenario}.jsonl"));
            let text: String = got.iter().map(|v| format!("{v}\n")).collect();
            let _ = std::fs::write(&path, text);
        }
        panic!(
            "{scenario}: {} difference(s) from {REFERENCE}:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    }
}

#[test]
fn the_comparison_finds_what_it_must() {
    let allow = AllowList::load();
    let req = |form: Value, decoded: Value, headers: Value| {
        serde_json::json!({"method":"POST","host":"i.instagram.com","path":"/api/v1/x/","query":[],"http":"2",
            "headers": headers, "form": form, "decoded": decoded})
    };
    let want = req(
        serde_json::json!([["signed_body", "…"]]),
        serde_json::json!({"signed_body": {"a": 1, "phone_id": "69b8c0de-0000-4000-8000-000000000000", "b": "x"}}),
        serde_json::json!([["user-agent", "UA"], ["x-mid", "abc"]]),
    );
    // Same but for an allowed value: no difference.
    let same = req(
        serde_json::json!([["signed_body", "…"]]),
        serde_json::json!({"signed_body": {"a": 1, "phone_id": "11111111-2222-4333-8444-555555555555", "b": "x"}}),
        serde_json::json!([["user-agent", "UA"], ["x-mid", "xyz"]]),
    );
    assert!(
        Diff::new(&allow)
            .traces(std::slice::from_ref(&want), &[same])
            .is_empty()
    );
    // Key order, a type, a constant, an id's shape, a header's order: five differences.
    let other = req(
        serde_json::json!([["signed_body", "…"]]),
        serde_json::json!({"signed_body": {"b": "y", "a": "1", "phone_id": "1234"}}),
        serde_json::json!([["x-mid", "xyz"], ["user-agent", "UA"]]),
    );
    let d = Diff::new(&allow).traces(&[want], &[other]);
    assert_eq!(d.len(), 5, "{d:#?}");
    assert!(d.iter().any(|l| l.contains("order")));
    assert!(d.iter().any(|l| l.contains("int") && l.contains("string")));
    assert!(d.iter().any(|l| l.contains("string:uuid expected")));
    // A JSON text where the reference sends one, written the other way, or sent as a value
    // instead: invisible once decoded, so compared apart.
    let mut a = req(
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!([]),
    );
    let mut b = a.clone();
    a["styles"] = serde_json::json!({"signed_body": "compact", "signed_body.usertags": "spaced"});
    b["styles"] = serde_json::json!({"signed_body": "spaced"});
    let d = Diff::new(&allow).traces(&[a], &[b]);
    assert_eq!(d.len(), 2, "{d:#?}");
}

#[test]
fn allow_list_paths_name_the_variable_parts() {
    let allow = AllowList::load();
    assert_eq!(
        allow.path("/rupload_igphoto/1764000000000_0_123456789"),
        "/rupload_igphoto/{upload_name}"
    );
    assert_eq!(
        allow.path("/api/v1/challenge/123/abc/"),
        "/api/v1/challenge/{user_id}/{nonce}/"
    );
    assert_eq!(allow.path("/api/v1/qe/sync/"), "/api/v1/qe/sync/");
    assert_eq!(
        allow.path("/api/v1/feed/user/58000000001/"),
        "/api/v1/feed/user/{user_id}/"
    );
    assert_eq!(
        allow.path("/api/v1/feed/user/58000000001/story/"),
        "/api/v1/feed/user/{user_id}/story/"
    );
    // What follows a media id is kept: a comment is not its list.
    assert_eq!(
        allow.path("/api/v1/media/348_58/comment/"),
        "/api/v1/media/{media_id}/comment/"
    );
    assert_eq!(
        allow.path("/api/v1/media/348_58/comments/"),
        "/api/v1/media/{media_id}/comments/"
    );
    assert_eq!(
        allow.path("/api/v1/media/348_58/pin_comment/18000000000000260/"),
        "/api/v1/media/{media_id}/pin_comment/{comment_pk}/"
    );
    assert_eq!(
        allow.path("/api/v1/media/configure/"),
        "/api/v1/media/configure/"
    );
}
