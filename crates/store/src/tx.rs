//! One transaction over either engine, so several repositories can write together:
//! a post's executions and the jobs that publish them commit together or not at all.

use sqlx::{Postgres, Sqlite, Transaction};

use crate::{Db, StoreError};

/// The engine-specific half of a [`Tx`]; reach it through [`on_tx!`](crate::on_tx).
pub enum TxConn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// An open transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    conn: TxConn,
    /// Set when a job was enqueued: after the commit, in-process workers are woken.
    pub(crate) wake_workers: bool,
}

impl Tx {
    pub fn conn_mut(&mut self) -> &mut TxConn {
        &mut self.conn
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.commit().await?,
            TxConn::Postgres(tx) => tx.commit().await?,
        }
        if self.wake_workers {
            crate::jobs::wakeup::wake_local_workers();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.rollback().await?,
            TxConn::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

impl Db {
    /// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
    /// taken up front, so a transaction that reads then writes cannot fail half-way
    /// with "database is locked" when another writer got there first.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let conn = match self {
            Db::Sqlite(pool) => TxConn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => TxConn::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            conn,
            wake_workers: false,
        })
    }
}

/// Runs the same expression against the connection of whichever transaction `tx` holds
/// (`$conn` is a `&mut SqliteConnection` or `&mut PgConnection`). Like
/// [`on_pool!`](crate::on_pool), the body is compiled once per engine.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx.conn_mut() {
            $crate::tx::TxConn::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::tx::TxConn::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Begins a write transaction on a concrete pool, for repositories that work inside one
/// engine's `on_pool!` arm (bulk imports). Same rule as [`Db::begin`]: `BEGIN IMMEDIATE`
/// on SQLite.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for sqlx::SqlitePool {
    type Db = Sqlite;
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for sqlx::PgPool {
    type Db = Postgres;
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin().await
    }
}
