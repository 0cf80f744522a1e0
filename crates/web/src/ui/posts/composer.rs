//! The composer: a new post's media, caption, language and groups. It creates the post
//! through `POST /api/posts/` from the browser (the upload streams there).

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;
use crate::ui::i18n::Lang;
use crate::ui::session::Ui;
use crate::ui::view::{Ctx, error_page};

struct GroupChoice {
    id: String,
    name: String,
    accounts: i64,
    languages: String,
}

/// A snippet the composer offers (shown for its language and group, see composer.js).
struct SnippetChoice {
    name: String,
    language: String,
    /// Empty: every group.
    group: String,
    text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "composer.html")]
struct ComposerPage {
    ctx: Ctx,
    snippets: Vec<SnippetChoice>,
    groups: Vec<GroupChoice>,
    languages: Vec<(&'static str, &'static str)>,
    default_language: &'static str,
}

/// The languages of the groups' accounts, most accounts first: `ru 12, en 3`.
fn language_list(groups: &[icf_core::account::Group]) -> String {
    let mut all: HashMap<&str, i64> = HashMap::new();
    for g in groups {
        for (lang, n) in &g.languages {
            *all.entry(lang.as_str()).or_default() += n;
        }
    }
    let mut v: Vec<_> = all.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(l, n)| format!("{l} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn composer(State(state): State<AppState>, ui: Ui) -> Response {
    let groups = match icf_store::groups::list(&state.app.db).await {
        Ok(g) => g,
        Err(e) => return error_page(ui.l, e.into()),
    };
    let snippets = match icf_app::snippets::list(&state.app, None, None).await {
        Ok(s) => s
            .into_iter()
            .map(|s| SnippetChoice {
                name: s.name,
                language: s.language,
                group: s.group_id.map(|g| g.to_string()).unwrap_or_default(),
                text: s.text,
            })
            .collect(),
        Err(e) => return error_page(ui.l, e.into()),
    };
    let groups = groups
        .iter()
        .map(|g| GroupChoice {
            id: g.id.to_string(),
            name: g.name.clone(),
            accounts: g.accounts_count,
            languages: language_list(std::slice::from_ref(g)),
        })
        .collect();
    let languages = icf_core::language::ALL
        .iter()
        .map(|l| (l.code(), l.native_name()))
        .collect();
    ComposerPage {
        default_language: if ui.l == Lang::Ru { "ru" } else { "en" },
        ctx: ui.ctx("posts"),
        snippets,
        groups,
        languages,
    }
    .into_response()
}
