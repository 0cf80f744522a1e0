//! The one error type of the storage layer.

/// What went wrong talking to the database, in terms the layers above can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; `field` names the column when known.
    #[error("{field} already exists")]
    Conflict { field: String },
    /// A foreign key or check constraint refused the write.
    #[error("the write breaks a rule of the schema: {0}")]
    Constraint(String),
    /// A stored value icf cannot read back (a CHECK should have prevented it).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("unsupported database URL: {0}")]
    BadUrl(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = err {
            return StoreError::NotFound;
        }
        if let Some(db) = err.as_database_error() {
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return StoreError::Conflict {
                        field: unique_field(db.constraint(), db.message()),
                    };
                }
                sqlx::error::ErrorKind::ForeignKeyViolation
                | sqlx::error::ErrorKind::CheckViolation
                | sqlx::error::ErrorKind::NotNullViolation => {
                    return StoreError::Constraint(db.message().to_owned());
                }
                _ => {}
            }
        }
        StoreError::Database(err)
    }
}

/// The column a unique violation is about. PostgreSQL names the constraint
/// (`users_username_key`); SQLite names the columns in its message
/// (`UNIQUE constraint failed: users.username`).
fn unique_field(constraint: Option<&str>, message: &str) -> String {
    if let Some(name) = constraint {
        let name = name.strip_suffix("_key").unwrap_or(name);
        // "<table>_<column>": drop the table part when there is one.
        return match name.split_once('_') {
            Some((_, column)) if !column.is_empty() => column.to_owned(),
            _ => name.to_owned(),
        };
    }
    if let Some(cols) = message.split("failed: ").nth(1) {
        let first = cols.split(',').next().unwrap_or(cols).trim();
        return first.rsplit('.').next().unwrap_or(first).to_owned();
    }
    "value".to_owned()
}

#[cfg(test)]
mod tests {
    use super::unique_field;

    #[test]
    fn names_the_column_on_both_engines() {
        assert_eq!(unique_field(Some("users_username_key"), ""), "username");
        assert_eq!(unique_field(Some("groups_name_key_key"), ""), "name_key");
        assert_eq!(
            unique_field(None, "UNIQUE constraint failed: users.email"),
            "email"
        );
        assert_eq!(
            unique_field(None, "UNIQUE constraint failed: jobs.unique_key, jobs.kind"),
            "unique_key"
        );
    }
}
