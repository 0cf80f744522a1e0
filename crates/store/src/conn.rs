//! One pooled connection held for a few statements in a row.
//!
//! sqlx tests every connection it takes back into the pool (a round trip: a message to
//! the SQLite connection's thread, a `Sync` to PostgreSQL), so each statement run on the
//! pool costs two round trips. The hot path of a publish runs its consecutive statements
//! on one [`Conn`] instead (#20). Hold one only while statements run: never across a
//! network call to Instagram, and never while waiting for another connection — with every
//! connection held by tasks that wait for a second one, the pool would stall.

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite};

use crate::{Db, StoreError};

/// A connection taken from a [`Db`]'s pool; back to the pool when dropped.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Db {
    /// Takes a connection from the pool for a few statements (see [`Conn`]).
    pub async fn acquire(&self) -> Result<Conn, StoreError> {
        Ok(match self {
            Db::Sqlite(pool) => Conn::Sqlite(pool.acquire().await?),
            Db::Postgres(pool) => Conn::Postgres(pool.acquire().await?),
        })
    }
}

/// Runs the same expression on whichever connection `conn` holds (`$c` is a
/// `&mut SqliteConnection` or `&mut PgConnection`), compiled once per engine like
/// [`on_pool!`](crate::on_pool).
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::conn::Conn::Sqlite(pooled) => {
                let $c = &mut **pooled;
                $body
            }
            $crate::conn::Conn::Postgres(pooled) => {
                let $c = &mut **pooled;
                $body
            }
        }
    };
}
