//! The proxy pool: working proxies for the accounts that publish through them.

use chrono::Utc;
use icf_store::Db;

use super::report::{Check, one_line};

pub(super) async fn proxies(db: Option<&Db>) -> Check {
    const NAME: &str = "proxies";
    let Some(db) = db else {
        return Check::warn(
            NAME,
            "not checked: the database is not usable",
            "fix the database checks above, then run `icf doctor` again",
        );
    };
    let snapshot = match icf_store::stats::metrics(db, Utc::now()).await {
        Ok(s) => s,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("cannot count them: {}", one_line(&e.to_string())),
                "check the database checks above",
            );
        }
    };
    let count = |rows: &[(String, i64)], status: &str| {
        rows.iter()
            .filter(|(s, _)| s == status)
            .map(|(_, n)| *n)
            .sum::<i64>()
    };
    let total: i64 = snapshot.proxies.iter().map(|(_, n)| n).sum();
    let accounts: i64 = snapshot.accounts.iter().map(|(_, n)| n).sum();
    let active = count(&snapshot.proxies, "active");
    let failed = count(&snapshot.proxies, "failed");
    let checking = count(&snapshot.proxies, "checking");
    let detail = format!(
        "{total} in the pool: {active} active, {failed} failed, {checking} being checked; \
         {accounts} accounts"
    );
    if accounts > 0 && active == 0 {
        Check::fail(
            NAME,
            detail,
            "every account publishes through its own proxy: add working proxies \
             (`icf proxies import`) and assign them to the accounts",
        )
    } else if failed > 0 {
        Check::warn(
            NAME,
            detail,
            "re-check the failed ones (POST /api/proxies/{id}/check) and replace those that \
             stay failed",
        )
    } else {
        Check::ok(NAME, detail)
    }
}
