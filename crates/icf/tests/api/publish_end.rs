//! The end of a publish (issue #20): Instagram's confirmation, the execution's success and
//! the job's completion are written in one transaction by the handler, and the worker then
//! writes nothing more for that attempt. What an operator sees afterwards must be whole:
//! the job succeeded, its one attempt succeeded with a duration, the post completed.

use icf_instagram::sim::Faults;
use serde_json::json;

use crate::helpers::{Engine, app_with_simulator, sim_account, socks5_url, wait_for};
use crate::realproxy::microsocks;

engine_tests!(a_publish_and_its_job_end_together);

const PW: &str = "ig-end-pw";

async fn a_publish_and_its_job_end_together(engine: Engine) {
    let Some(proxy) = microsocks("e1", "p1") else {
        return;
    };
    let (sim, mut app) = app_with_simulator(
        engine,
        vec![sim_account("end.ig", PW, Faults::default())],
        &[("ICF_WORKER_POLL_SECS", "1")],
    )
    .await;
    app.run_worker();
    let admin = app.admin_token().await;
    let group = app.new_group(&admin, "End").await;
    app.new_account(
        &admin,
        json!({"username": "end.ig", "password": PW, "language": "en", "age_days": 1000,
            "group_id": group, "proxy_url": socks5_url(proxy.port, "e1", "p1")}),
    )
    .await;
    let post = app.new_photo_post(&admin, &group, "The end", "en").await;
    app.publish_now(&admin, &post).await;
    let path = format!("/api/posts/{post}");
    wait_for(
        async || app.get_ok(&admin, &path).await["status"] == "completed",
        "the post to complete",
    )
    .await;
    assert_eq!(sim.media(None).len(), 1);

    let (state, finished, released): (String, bool, bool) =
        icf_store::on_pool!(&app.db, |pool| sqlx::query_as(
            "SELECT state, finished_at IS NOT NULL, lease_expires_at IS NULL \
             FROM jobs WHERE kind = 'post_to_instagram'"
        )
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!(state, "succeeded");
    assert!(finished, "the job's end is recorded");
    assert!(released, "the lease is given up");
    let attempts: Vec<(String, Option<i32>, bool)> = icf_store::on_pool!(&app.db, |pool| {
        sqlx::query_as(
            "SELECT a.outcome, a.duration_ms, a.finished_at IS NOT NULL FROM job_attempts a \
             JOIN jobs j ON j.id = a.job_id WHERE j.kind = 'post_to_instagram'",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    let (outcome, duration, ended) = &attempts[0];
    assert_eq!(outcome, "succeeded");
    assert!(*ended && duration.is_some_and(|d| d >= 0), "{attempts:?}");
    let executions = app
        .get_ok(&admin, &format!("/api/posts/{post}/executions"))
        .await;
    let ex = &executions["items"][0];
    assert_eq!(ex["status"], "success", "{ex}");
    assert!(ex["instagram_media_id"].is_string(), "{ex}");
    drop(proxy);
}
