//! One integration-test binary (faster to link than one per file). Every test starts the
//! real app on a random port against a fresh database, once on SQLite and once on
//! PostgreSQL (`ICF_TEST_DATABASE_URL`; set `ICF_REQUIRE_POSTGRES=1` to fail instead of
//! skipping when it is missing, as CI does).

#[macro_use]
mod helpers;

mod account_instagram;
mod accounts;
mod alerts;
mod antiban;
mod approvals;
mod auth;
mod bulk;
mod cli;
mod demo;
mod deploy;
mod docs;
mod e2e;
mod faults;
mod glossaries;
mod groups;
mod hardening_http;
mod health;
mod import;
mod kept_clients;
mod logs;
mod metrics;
mod migrations;
mod originality;
mod post_options;
mod posts;
mod proxies;
mod proxy_health;
mod publish;
mod publish_end;
mod queue;
mod realproxy;
mod s3;
mod secrets;
mod security;
mod sentry_reports;
mod sim_instagram;
mod snippets;
mod stats;
mod translate;
mod ui;
mod upkeep;
mod users;
mod worker_processes;
