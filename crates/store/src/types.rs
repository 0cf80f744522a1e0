//! Column types that must read and write the same on both engines.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use uuid::Uuid;

/// A UUID column: native `UUID` on PostgreSQL, hyphenated `TEXT` on SQLite.
///
/// sqlx's own `Uuid` would be a 16-byte BLOB on SQLite, unreadable by a person with the
/// `sqlite3` shell and different from what the migrations declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DbUuid(pub Uuid);

impl<T: Into<Uuid>> From<T> for DbUuid {
    fn from(id: T) -> Self {
        DbUuid(id.into())
    }
}

impl DbUuid {
    pub fn into_id<T: From<Uuid>>(self) -> T {
        T::from(self.0)
    }
}

impl Type<Postgres> for DbUuid {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for DbUuid {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Uuid as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl Decode<'_, Postgres> for DbUuid {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        <Uuid as Decode<Postgres>>::decode(value).map(DbUuid)
    }
}

impl Type<Sqlite> for DbUuid {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for DbUuid {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.0.hyphenated().to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbUuid {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(DbUuid(Uuid::parse_str(text)?))
    }
}
