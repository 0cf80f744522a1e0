use std::collections::BTreeSet;

use icf_store::{Db, on_pool};

use crate::helpers::{Engine, TestApp, TestDb, test_settings};

engine_tests!(
    migrations_create_every_table_and_column,
    migrating_twice_changes_nothing,
    the_schema_enforces_its_rules,
);

/// Every table and column of the specification §2–§3, plus icf's additions.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "users",
        &[
            "id",
            "username",
            "email",
            "password_hash",
            "role",
            "is_active",
            "token_version",
            "ui_language",
            "last_login_at",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "groups",
        &[
            "id",
            "name",
            "name_key",
            "description",
            "created_at",
            "updated_at",
            "active_from",
            "active_until",
            "media_variants",
        ],
    ),
    (
        "proxies",
        &[
            "id",
            "proxy_type",
            "host",
            "port",
            "credentials_enc",
            "credentials_key",
            "country",
            "status",
            "last_check_at",
            "last_latency_ms",
            "last_error",
            "success_rate",
            "checks_total",
            "checks_ok",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "accounts",
        &[
            "id",
            "username",
            "password_enc",
            "session_data_enc",
            "totp_secret_enc",
            "group_id",
            "language",
            "proxy_id",
            "status",
            "status_reason",
            "cooldown_until",
            "pending_challenge",
            "device_id",
            "user_agent",
            "device",
            "locale",
            "timezone_offset",
            "posts_limit_per_day",
            "warmup_stage",
            "registered_at",
            "last_post_at",
            "last_login_at",
            "failed_attempts",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "account_publishes",
        &["execution_id", "outcome", "account_id", "post_id", "at"],
    ),
    ("pacing_marks", &["scope", "last_at", "queue_end_at"]),
    (
        "account_status_history",
        &[
            "id",
            "account_id",
            "old_status",
            "new_status",
            "reason",
            "created_at",
        ],
    ),
    (
        "posts",
        &[
            "id",
            "media_paths",
            "media_type",
            "caption_original",
            "original_language",
            "target_groups",
            "status",
            "priority",
            "scheduled_at",
            "created_by",
            "created_at",
            "updated_at",
            "posted_at",
            "options",
            "resolved",
        ],
    ),
    (
        "snippets",
        &[
            "id",
            "name",
            "name_key",
            "group_id",
            "language",
            "text",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "post_reviews",
        &[
            "id",
            "post_id",
            "decision",
            "user_id",
            "username",
            "comment",
            "requested_at",
            "priority",
            "created_at",
        ],
    ),
    (
        "post_translations",
        &[
            "post_id",
            "language",
            "text",
            "origin",
            "stale",
            "provider",
            "created_at",
            "updated_at",
            "first_comment",
            "alt_text",
        ],
    ),
    (
        "post_executions",
        &[
            "id",
            "post_id",
            "account_id",
            "language",
            "caption_translated",
            "status",
            "error_class",
            "error_message",
            "retry_count",
            "planned_at",
            "upload_id",
            "instagram_media_id",
            "instagram_code",
            "posted_at",
            "created_at",
            "updated_at",
            "first_comment",
            "alt_text",
            "comment_status",
            "comment_id",
            "comment_error",
            "commented_at",
            "variants",
        ],
    ),
    (
        "translations_cache",
        &[
            "id",
            "text_hash",
            "text_original",
            "language_from",
            "language_to",
            "text_translated",
            "service",
            "hits",
            "created_at",
        ],
    ),
    (
        "activity_logs",
        &[
            "id",
            "account_id",
            "action",
            "status",
            "details",
            "error_message",
            "duration_ms",
            "created_at",
        ],
    ),
    (
        "jobs",
        &[
            "id",
            "kind",
            "payload",
            "priority",
            "state",
            "run_at",
            "attempts",
            "max_attempts",
            "last_error",
            "lease_owner",
            "lease_expires_at",
            "unique_key",
            "concurrency_key",
            "created_at",
            "updated_at",
            "finished_at",
            "result",
        ],
    ),
    (
        "alert_events",
        &["id", "kind", "subject", "message", "created_at", "sent_at"],
    ),
    (
        "job_attempts",
        &[
            "id",
            "job_id",
            "attempt",
            "worker",
            "started_at",
            "finished_at",
            "duration_ms",
            "outcome",
            "error",
        ],
    ),
    (
        "job_workers",
        &[
            "id",
            "hostname",
            "pid",
            "concurrency",
            "started_at",
            "heartbeat_at",
            "stopped_at",
        ],
    ),
    (
        "job_selftest_runs",
        &["job_id", "batch", "attempt", "worker", "finished_at"],
    ),
    ("revoked_tokens", &["jti", "user_id", "expires_at"]),
    (
        "glossaries",
        &[
            "id",
            "name",
            "name_key",
            "source_lang",
            "target_lang",
            "entries",
            "version",
            "deepl_glossary_id",
            "created_at",
            "updated_at",
        ],
    ),
];

pub async fn schema_columns(db: &Db) -> BTreeSet<(String, String)> {
    let rows: Vec<(String, String)> = match db {
        Db::Sqlite(pool) => sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name != '_sqlx_migrations'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name != '_sqlx_migrations'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    rows.into_iter().collect()
}

async fn migrations_create_every_table_and_column(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let actual = schema_columns(&app.db).await;
    let expected: BTreeSet<(String, String)> = EXPECTED
        .iter()
        .flat_map(|(t, cols)| cols.iter().map(move |c| (t.to_string(), c.to_string())))
        .collect();
    let missing: Vec<_> = expected.difference(&actual).collect();
    assert!(missing.is_empty(), "missing columns: {missing:?}");
    // Anything beyond the list must be added to it (and to the other engine's migration).
    let extra: Vec<_> = actual.difference(&expected).collect();
    assert!(
        extra.is_empty(),
        "columns not in the expected schema: {extra:?}"
    );
}

async fn migrating_twice_changes_nothing(engine: Engine) {
    let test_db = TestDb::new(engine).await;
    let settings = test_settings(&test_db, &[]);
    let db = icf::startup::connect(&settings).await.unwrap();
    assert_eq!(
        db.readiness().await.unwrap().pending_migrations,
        db.known_migrations().len()
    );
    db.migrate().await.unwrap();
    let first = schema_columns(&db).await;
    db.migrate().await.unwrap();
    assert_eq!(schema_columns(&db).await, first);
    assert_eq!(db.readiness().await.unwrap().pending_migrations, 0);
    db.close().await;
}

async fn the_schema_enforces_its_rules(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let db = &app.db;
    let now = chrono::Utc::now();
    let proxy = icf_store::DbUuid(uuid::Uuid::now_v7());
    on_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO proxies (id, proxy_type, host, port, created_at, updated_at) VALUES ($1, 'http', '127.0.0.1', 3128, $2, $2)"
    )
    .bind(proxy)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap()
    });

    let insert_account = |username: &'static str, status: &'static str| {
        let db = db.clone();
        async move {
            on_pool!(&db, |pool| {
                sqlx::query(
                "INSERT INTO accounts (id, username, password_enc, language, proxy_id, status, device_id, \
                 user_agent, device, created_at, updated_at) \
                 VALUES ($1, $2, 'enc', 'en', $3, $4, 'android-1', 'ua', '{}', $5, $5)"
            )
            .bind(icf_store::DbUuid(uuid::Uuid::now_v7()))
            .bind(username)
            .bind(proxy)
            .bind(status)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(icf_store::StoreError::from)
            })
        }
    };
    insert_account("first", "active")
        .await
        .expect("first account");
    // One proxy serves at most one account: the database refuses a second.
    match insert_account("second", "active").await {
        Err(icf_store::StoreError::Conflict { field }) => assert_eq!(field, "proxy_id"),
        other => panic!("second account on the same proxy: {other:?}"),
    }
    // Statuses outside the specification's set are refused.
    assert!(matches!(
        insert_account("third", "frozen").await,
        Err(icf_store::StoreError::Constraint(_))
    ));
}
