//! The closed sets of values the specification names. Stored as text with a CHECK
//! constraint, shown in the API as the same lowercase words.

/// A value outside an enum's set; names the set so the message is useful on its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not one of: {allowed}")]
pub struct ParseEnumError {
    pub value: String,
    pub allowed: &'static str,
}

/// A closed set of words: the enum, `ALL`, `as_str`, `Display` and a `FromStr` whose error
/// names the set. Paths are absolute so other modules of the crate (`jobs`) can use it.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The allowed words, comma-separated, for error messages.
            pub const fn allowed() -> &'static str {
                concat!($($text, ", "),+)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::enums::ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::enums::ParseEnumError {
                        value: s.chars().take(64).collect(),
                        allowed: $name::allowed().trim_end_matches(", "),
                    }),
                }
            }
        }
    };
}

pub(crate) use text_enum;

text_enum!(
    /// What an operator may do: `admin` everything, `editor` posting only.
    Role { Admin = "admin", Editor = "editor" }
);

text_enum!(
    /// The state of an Instagram account (specification §2.1).
    AccountStatus {
        Active = "active",
        Banned = "banned",
        Cooldown = "cooldown",
        LoginRequired = "login_required",
        ProxyError = "proxy_error",
    }
);

text_enum!(
    /// How a proxy is spoken to.
    ProxyType { Http = "http", Socks5 = "socks5" }
);

text_enum!(
    /// The health of a proxy in the pool.
    ProxyStatus { Active = "active", Failed = "failed", Checking = "checking" }
);

text_enum!(
    /// What kind of Instagram media a post becomes.
    MediaType { Photo = "photo", Video = "video", Carousel = "carousel", Reel = "reel", Story = "story" }
);

text_enum!(
    /// Whether each account gets its own copy of a post's media (issue `[originality]`):
    /// `off` sends every account the same file; `light` changes it invisibly (a slight
    /// crop, colour shifts, a different encoding); `strong` changes it more, slightly
    /// visibly. Identical files across accounts link the accounts to one operator and are
    /// demoted as content Instagram has "seen before".
    MediaVariants { Off = "off", Light = "light", Strong = "strong" }
);

text_enum!(
    /// The life of a post as a whole. `in_review` and `rejected` exist only where posts
    /// need an admin's approval (`ICF_REQUIRE_APPROVAL`, see `review`): an editor's post
    /// waits there instead of going out.
    PostStatus {
        Draft = "draft",
        InReview = "in_review",
        Rejected = "rejected",
        Pending = "pending",
        Posting = "posting",
        Completed = "completed",
        Failed = "failed",
    }
);

text_enum!(
    /// The state of one post on one account. `cancelled` is icf's addition: queued work
    /// a person called off, which is neither a success nor Instagram's failure.
    ExecutionStatus {
        Queued = "queued",
        Posting = "posting",
        Success = "success",
        Failed = "failed",
        Cancelled = "cancelled",
    }
);

text_enum!(
    /// Where a post's caption in one language came from.
    TranslationOrigin { Source = "source", Machine = "machine", Edited = "edited" }
);

text_enum!(
    /// Outcome of an action in the activity log.
    ActivityStatus { Success = "success", Failed = "failed" }
);

text_enum!(
    /// The state of a row in the job queue.
    JobState {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Cancelled = "cancelled",
    }
);

text_enum!(
    /// Job priority (specification §3.3): `high` urgent posts, `normal` posts, `low` retries.
    JobPriority { High = "high", Normal = "normal", Low = "low" }
);

impl JobPriority {
    /// The number stored in the queue; higher runs first.
    pub const fn rank(self) -> i16 {
        match self {
            JobPriority::High => 2,
            JobPriority::Normal => 1,
            JobPriority::Low => 0,
        }
    }

    pub const fn from_rank(rank: i16) -> Self {
        match rank {
            2.. => JobPriority::High,
            1 => JobPriority::Normal,
            _ => JobPriority::Low,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_each_word_and_names_the_set_on_error() {
        for s in AccountStatus::ALL {
            assert_eq!(s.as_str().parse::<AccountStatus>().unwrap(), *s);
        }
        let err = "frozen".parse::<AccountStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "'frozen' is not one of: active, banned, cooldown, login_required, proxy_error"
        );
    }

    #[test]
    fn priority_rank_orders_high_first() {
        assert!(JobPriority::High.rank() > JobPriority::Normal.rank());
        assert!(JobPriority::Normal.rank() > JobPriority::Low.rank());
        for p in JobPriority::ALL {
            assert_eq!(JobPriority::from_rank(p.rank()), *p);
        }
    }
}
