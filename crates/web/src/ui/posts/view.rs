//! What the post pages share.

use icf_core::ids::PostId;

/// The post id of a page's path; `None` sends the reader to a "not found" page.
pub(super) fn parse_id(raw: &str) -> Option<PostId> {
    raw.parse().ok()
}

/// The first `n` characters of `text`, with an ellipsis when there was more.
pub(super) fn short(text: &str, n: usize) -> String {
    let mut s: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        s.push('…');
    }
    s
}
