//! Connecting, migrating and checking the database, on either engine.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::StoreError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The SQLite file holds password hashes and encrypted secrets: only icf's user may read
/// it, whatever the umask. Before opening, the file is created 0600 (SQLite creates its
/// `-wal` and `-shm` files with the main file's mode); `after_open`, the three are set to
/// 0600 if they are more open (a database created by an older icf). In-memory databases
/// have no file.
fn private_sqlite_files(file: &std::path::Path, after_open: bool) -> std::io::Result<()> {
    let name = file.to_string_lossy();
    if name.is_empty() || name.starts_with(':') || name.contains("mode=memory") {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !after_open {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(file)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                // A missing folder and the like: SQLite's own error says it better.
                Err(_) => return Ok(()),
            }
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = std::path::PathBuf::from(format!("{name}{suffix}"));
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = after_open;
    Ok(())
}

/// Which database engine a [`Db`] runs on. Not called `Engine`: `icf_engine::Engine` is
/// icf's Instagram engine, and one name should mean one thing across the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    /// Which engine a `DATABASE_URL` names, or `None` for anything else.
    pub fn from_url(url: &str) -> Option<DbKind> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Some(DbKind::Sqlite),
            "postgres" | "postgresql" => Some(DbKind::Postgres),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            DbKind::Sqlite => "sqlite",
            DbKind::Postgres => "postgres",
        }
    }
}

/// Runs the same expression against whichever pool `db` holds. The body is compiled
/// twice, once per engine, so a query that only one engine can bind fails the build.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}

/// A pooled PostgreSQL connection idle for this long is pinged before it is handed out.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(10);

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
    pub kind: DbKind,
    /// Migrations shipped in this binary that the database has not applied.
    pub pending_migrations: usize,
}

impl Db {
    /// Opens a pool for `url` (`sqlite://path` or `postgres://…`). A SQLite file is
    /// created if missing, in WAL mode with foreign keys on.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Db, StoreError> {
        match DbKind::from_url(url) {
            Some(DbKind::Sqlite) => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StoreError::BadUrl(e.to_string()))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // NORMAL is durable in WAL mode except for the last commits on power loss.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let file = options.get_filename().to_owned();
                private_sqlite_files(&file, false).map_err(|e| StoreError::Database(e.into()))?;
                let pool = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    // sqlx pings every connection it hands out, by default: on SQLite a
                    // round trip to the connection's thread before each statement, for a
                    // file handle in this process that cannot have been cut off (#20).
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?;
                // SQLite gives -wal and -shm the main file's mode; files left by an older
                // icf (0644) are tightened too.
                private_sqlite_files(&file, true).map_err(|e| StoreError::Database(e.into()))?;
                Ok(Db::Sqlite(pool))
            }
            Some(DbKind::Postgres) => {
                let options = PgConnectOptions::from_str(url)
                    .map_err(|e| StoreError::BadUrl(e.to_string()))?
                    .application_name("icf");
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    // sqlx's default pings every connection before handing it out: a
                    // network round trip before each statement, as many as the statements
                    // themselves (#20). Only a connection idle for a while is checked: one
                    // in use moments ago is almost surely alive, and one that is not (the
                    // server restarted just now) fails its statement, which the caller
                    // retries like any database error, and sqlx drops it on release.
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= PING_WHEN_IDLE_FOR {
                                sqlx::Connection::ping(conn).await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect_with(options)
                    .await?;
                Ok(Db::Postgres(pool))
            }
            None => Err(StoreError::BadUrl(
                "expected a URL starting with sqlite:// or postgres://".into(),
            )),
        }
    }

    pub fn kind(&self) -> DbKind {
        match self {
            Db::Sqlite(_) => DbKind::Sqlite,
            Db::Postgres(_) => DbKind::Postgres,
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
            kind: self.kind(),
            pending_migrations: pending,
        })
    }

    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_sqlite_files_are_private() {
        let dir = std::env::temp_dir().join(format!("icf-db-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fresh = dir.join("fresh.db");
        let db = Db::connect(
            &format!("sqlite://{}", fresh.display()),
            &PoolSettings::default(),
        )
        .await
        .unwrap();
        db.migrate().await.unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let path = std::path::PathBuf::from(format!("{}{suffix}", fresh.display()));
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
        db.close().await;

        // A database an older icf left world-readable is tightened when opened.
        let old = dir.join("old.db");
        std::fs::write(&old, b"").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let db = Db::connect(
            &format!("sqlite://{}", old.display()),
            &PoolSettings::default(),
        )
        .await
        .unwrap();
        db.migrate().await.unwrap();
        assert_eq!(mode(&old), 0o600);
        db.close().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
