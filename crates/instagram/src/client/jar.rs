//! The order of the headers on the wire, as the reference client's transport produces it.
//!
//! instagrapi keeps one `requests.Session` for the private API, whose header dictionary lives
//! as long as the client: it starts with requests' defaults (`User-Agent`, `Accept-Encoding`,
//! `Accept`, `Connection`), every request lays the standard headers over it (a known name
//! keeps its place, a new one goes to the end, a `None` value keeps its place but is not
//! sent), some steps write into it directly (the CAA login's `Authorization`), and each
//! request's own headers are merged the same way for that request only. So the order of a
//! request's headers depends on what the client did before, and an app-like client must
//! reproduce that history, not one fixed list: this is that dictionary.

/// A case-insensitive, insertion-ordered header dictionary with `None` placeholders.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeaderJar {
    entries: Vec<(String, Option<String>)>,
}

/// What the HTTP/2 transport derives itself (`:authority`) or must not send.
const NOT_ON_THE_WIRE: [&str; 2] = ["host", "connection"];

impl HeaderJar {
    /// A fresh `requests.Session()`'s headers (the values are replaced at once).
    pub(crate) fn requests_session() -> HeaderJar {
        let mut j = HeaderJar::default();
        j.update([
            ("User-Agent", Some("python-requests".to_owned())),
            ("Accept-Encoding", Some("gzip, deflate".to_owned())),
            ("Accept", Some("*/*".to_owned())),
            ("Connection", Some("keep-alive".to_owned())),
        ]);
        j
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(name))
    }

    /// `dict.update`: known names keep their place, new ones are appended.
    pub(crate) fn update<K: AsRef<str>>(
        &mut self,
        pairs: impl IntoIterator<Item = (K, Option<String>)>,
    ) {
        for (k, v) in pairs {
            self.set(k.as_ref(), v);
        }
    }

    pub(crate) fn set(&mut self, name: &str, value: Option<String>) {
        match self.position(name) {
            Some(i) => self.entries[i].1 = value,
            None => self.entries.push((name.to_owned(), value)),
        }
    }

    pub(crate) fn pop(&mut self, name: &str) {
        if let Some(i) = self.position(name) {
            self.entries.remove(i);
        }
    }

    /// Keeps the names for which `keep` is true.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.entries.retain(|(k, _)| keep(k));
    }

    /// One request's headers: this dictionary with the request's own merged in (requests'
    /// `merge_setting`), `None` values dropped, and the names the transport owns removed.
    pub(crate) fn merged(&self, request: &[(String, Option<String>)]) -> Vec<(String, String)> {
        let mut all = self.clone();
        for (k, v) in request {
            all.set(k, v.clone());
        }
        all.entries
            .into_iter()
            .filter(|(k, _)| !NOT_ON_THE_WIRE.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect()
    }
}

/// A Python dict built from pairs: a repeated name keeps its first place and takes the
/// last value (case-insensitively, as requests' header dictionaries).
pub(crate) fn dict(
    pairs: impl IntoIterator<Item = (String, Option<String>)>,
) -> Vec<(String, Option<String>)> {
    let mut d = HeaderJar::default();
    d.update(pairs);
    d.entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_keep_their_place_and_none_is_not_sent() {
        let mut j = HeaderJar::requests_session();
        j.update([
            ("X-A", Some("1".to_owned())),
            ("user-agent", Some("Instagram".to_owned())),
            ("X-MID", None),
        ]);
        j.set("Content-Type", Some("form".into()));
        let req = vec![("X-B".to_owned(), Some("2".to_owned()))];
        let names: Vec<String> = j.merged(&req).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "User-Agent",
                "Accept-Encoding",
                "Accept",
                "X-A",
                "Content-Type",
                "X-B"
            ]
        );
        // A value set later appears where the name was first written.
        j.set("x-mid", Some("m".into()));
        let names: Vec<String> = j.merged(&[]).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names[4], "X-MID");
        j.pop("content-type");
        assert_eq!(j.merged(&[]).len(), 5);
    }
}
