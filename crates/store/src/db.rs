//! Connecting, migrating and checking the database, on either engine.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::{StoreError, on_pool};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The database engine behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// Which engine a `DATABASE_URL` names, or `None` for anything else.
    pub fn from_url(url: &str) -> Option<Engine> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Some(Engine::Sqlite),
            "postgres" | "postgresql" => Some(Engine::Postgres),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// Pool sizing and waits.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// A connection pool on one of the two engines. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub engine: Engine,
    /// Migrations shipped in this binary that the database has not applied.
    pub pending_migrations: usize,
}

impl Db {
    /// Opens a pool for `url` (`sqlite://path` or `postgres://…`). A SQLite file is
    /// created if missing, in WAL mode with foreign keys on.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Db, StoreError> {
        match Engine::from_url(url) {
            Some(Engine::Sqlite) => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StoreError::BadUrl(e.to_string()))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // NORMAL is durable in WAL mode except for the last commits on power loss.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options)
                    .await?;
                Ok(Db::Sqlite(pool))
            }
            Some(Engine::Postgres) => {
                let options = PgConnectOptions::from_str(url)
                    .map_err(|e| StoreError::BadUrl(e.to_string()))?
                    .application_name("icf");
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options)
                    .await?;
                Ok(Db::Postgres(pool))
            }
            None => Err(StoreError::BadUrl(
                "expected a URL starting with sqlite:// or postgres://".into(),
            )),
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies every migration the database lacks. Safe to run concurrently from several
    /// processes on PostgreSQL: sqlx takes an advisory lock.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// The versions and descriptions of the migrations this binary carries.
    pub fn known_migrations(&self) -> Vec<(i64, String)> {
        self.migrator()
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    /// Reachable, and how many migrations are still to apply.
    pub async fn readiness(&self) -> Result<Readiness, StoreError> {
        let table_exists: bool = match self {
            Db::Sqlite(pool) => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(pool)
                .await?
                    > 0
            }
            Db::Postgres(pool) => {
                sqlx::query_scalar::<_, bool>("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                    .fetch_one(pool)
                    .await?
            }
        };
        let applied: Vec<i64> = if table_exists {
            on_pool!(self, |pool| sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations WHERE success = TRUE"
            )
            .fetch_all(pool)
            .await?)
        } else {
            Vec::new()
        };
        let pending = self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
            .count();
        Ok(Readiness {
            engine: self.engine(),
            pending_migrations: pending,
        })
    }

    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}
