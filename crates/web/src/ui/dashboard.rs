//! The dashboard: published over time, groups at a glance, the most troubled accounts,
//! and the live queue (updated by `/api/events`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use icf_store::stats::{AccountStats, Overview, PostStats};

use super::session::Ui;
use super::view::{Ctx, error_page, opt_time, percent};
use crate::state::AppState;

struct GroupRow {
    id: String,
    name: String,
    accounts: i64,
    statuses: String,
    languages: String,
    published: i64,
    rate: String,
}

struct Troubled {
    id: String,
    username: String,
    status: String,
    failures: i64,
    rate: String,
    last_error: String,
    last_post: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ctx: Ctx,
    o: Overview,
    day_series: String,
    hour_series: String,
    published_total: i64,
    groups: Vec<GroupRow>,
    troubled: Vec<Troubled>,
    rate_24h: String,
    rate_7d: String,
}

fn pairs(m: &std::collections::BTreeMap<String, i64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn page(State(state): State<AppState>, ui: Ui) -> Response {
    let l = ui.l;
    let now = Utc::now();
    let loaded = async {
        let o = icf_store::stats::overview(&state.app.db, now).await?;
        let posts: PostStats = icf_store::stats::posts(&state.app.db, now).await?;
        let accounts: Vec<AccountStats> = icf_store::stats::accounts(&state.app.db, 5).await?;
        let groups = icf_store::groups::list(&state.app.db).await?;
        let outcomes =
            icf_store::stats::group_outcomes(&state.app.db, now - chrono::Duration::days(30))
                .await?;
        Ok::<_, icf_store::StoreError>((o, posts, accounts, groups, outcomes))
    }
    .await;
    let (o, posts, accounts, groups, outcomes) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(l, e.into()),
    };
    let groups = groups
        .into_iter()
        .map(|g| GroupRow {
            id: g.id.to_string(),
            published: posts.by_group.get(&g.name).copied().unwrap_or(0),
            rate: percent(outcomes.get(&g.name).and_then(|o| o.success_rate)),
            statuses: g
                .statuses
                .iter()
                .map(|(k, v)| format!("{} {v}", l.word(k)))
                .collect::<Vec<_>>()
                .join(", "),
            languages: pairs(&g.languages),
            name: g.name,
            accounts: g.accounts_count,
        })
        .collect();
    let troubled = accounts
        .into_iter()
        .filter(|a| a.failures > 0 || a.status != "active")
        .map(|a| Troubled {
            id: a.account_id.to_string(),
            username: a.username,
            status: a.status,
            failures: a.failures,
            rate: percent(a.success_rate),
            last_error: a.last_error.unwrap_or_default(),
            last_post: opt_time(&a.last_post_at),
        })
        .collect();
    DashboardPage {
        ctx: ui.ctx("dashboard"),
        day_series: serde_json::to_string(&posts.by_day).unwrap_or_default(),
        hour_series: serde_json::to_string(&posts.by_hour).unwrap_or_default(),
        published_total: posts.by_day.values().sum(),
        rate_24h: percent(o.last_24h.success_rate),
        rate_7d: percent(o.last_7d.success_rate),
        o,
        groups,
        troubled,
    }
    .into_response()
}
