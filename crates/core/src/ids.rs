//! Typed identifiers, so an account id can never be passed where a post id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id. Version 7 UUIDs sort by creation time, which keeps B-tree inserts local.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

typed_id!(
    /// An icf operator (admin or editor).
    UserId,
    /// An Instagram account managed by icf.
    AccountId,
    /// A group of accounts (IT, Finance, News…).
    GroupId,
    /// A proxy in the pool.
    ProxyId,
    /// A post: media plus a caption, published to the accounts of some groups.
    PostId,
    /// One post on one account.
    ExecutionId,
    /// A row of the job queue.
    JobId,
    /// A caption snippet or hashtag set, kept for a group and a language.
    SnippetId,
    /// A glossary: forced translations of terms for one language pair.
    GlossaryId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id = AccountId::new();
        let parsed: AccountId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<AccountId>(&json).unwrap(), id);
        assert!("not-a-uuid".parse::<AccountId>().is_err());
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let a = PostId::new();
        let b = PostId::new();
        assert!(a < b);
    }
}
