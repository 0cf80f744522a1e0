//! Instagram's error shapes (fact sheet §6.1, in instagrapi's order) and the classes icf acts
//! on (§6.3). Messages never carry a password, a session or a proxy credential.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// What the caller should do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Network trouble, 5xx, 429: try again later with backoff (but see
    /// [`IgError::maybe_applied`] for configure calls).
    Retryable,
    /// The account is throttled or action-blocked: pause it until the time given.
    Cooldown { until: DateTime<Utc> },
    /// The session is dead: log in again once, with the same device and proxy.
    Relogin,
    /// Instagram wants a human: a code, an approval in the app, a checkpoint.
    Challenge,
    /// The account is disabled, suspended or deleted.
    Banned,
    /// The account's proxy cannot be used (refused, auth failure, IP blocked by Instagram).
    Proxy,
    /// The post's media was rejected; retrying the same bytes will not help.
    BadMedia,
    /// Wrong password (or Instagram distrusts the login context): an operator must check.
    Credentials,
    /// Instagram no longer accepts the emulated app profile: update `app_profiles.json`.
    Outdated,
    /// Anything else Instagram refused; not retried automatically.
    Failed,
}

/// The §6.1 shapes, one variant per instagrapi exception icf distinguishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorShape {
    PleaseWait,
    LoginRequired,
    Forbidden,
    TwoFactorRequired,
    AccountSuspended,
    ChallengeRequired,
    FeedbackRequired,
    SentryBlock,
    RateLimit,
    BadPassword,
    VideoTooLong,
    ProxyAddressBlocked,
    NeedsUpgrade,
    /// `checkpoint_required` whose URL says the account is suspended or disabled, or
    /// `inactive user`.
    Disabled,
    Unknown,
    BadRequestEmpty,
    Throttled,
    Unauthorized,
    MaskedChallenge,
    NotFound,
    Timeout,
    ServerError,
    Other,
    NotJson,
    TranscodeNotFinished,
    MediaNeedsReupload,
}

/// Instagram answered, but not with success: an error answer of the private API, read as
/// one of the §6.1 shapes.
#[derive(Debug, Clone)]
pub struct ErrorAnswer {
    pub status: u16,
    pub kind: ErrorShape,
    /// The body's `message` (Instagram's text, no secrets), or a short description.
    pub message: String,
    /// The decoded body (`Null` when it was not JSON).
    pub body: Value,
}

/// Everything the client can fail with.
#[derive(Debug, thiserror::Error)]
pub enum IgError {
    /// The proxy is missing, malformed, refused the connection or the credentials.
    #[error("proxy error: {0}")]
    Proxy(String),
    /// The connection broke or timed out. `maybe_sent` is true when the request may have
    /// reached Instagram (the answer was lost), which matters for configure.
    #[error("network error: {message}")]
    Network { message: String, maybe_sent: bool },
    #[error("instagram answered HTTP {}: {:?} ({})", .0.status, .0.kind, .0.message)]
    Api(ErrorAnswer),
    /// The media was rejected by the upload endpoint.
    #[error("media rejected: {0}")]
    BadMedia(String),
    /// A response we could not make sense of (protocol drift).
    #[error("unexpected answer from instagram: {0}")]
    Protocol(String),
    /// The password key or TOTP secret could not be used.
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
}

/// How long icf pauses an account for each cooldown (our note: minutes for throttling,
/// a day for action blocks, §6.3).
pub const PLEASE_WAIT_COOLDOWN: Duration = Duration::minutes(15);
pub const THROTTLED_COOLDOWN: Duration = Duration::minutes(30);
pub const RATE_LIMIT_COOLDOWN: Duration = Duration::hours(1);
pub const FEEDBACK_COOLDOWN: Duration = Duration::hours(24);

impl IgError {
    pub fn class(&self) -> ErrorClass {
        self.class_at(Utc::now())
    }

    pub fn class_at(&self, now: DateTime<Utc>) -> ErrorClass {
        match self {
            IgError::Proxy(_) => ErrorClass::Proxy,
            IgError::Network { .. } => ErrorClass::Retryable,
            IgError::BadMedia(_) => ErrorClass::BadMedia,
            IgError::Protocol(_) => ErrorClass::Outdated,
            // A TOTP secret that is not base32 was entered wrong by an operator; a password
            // key we cannot use means Instagram changed its format.
            IgError::Crypto(crate::crypto::CryptoError::BadTotpSecret) => ErrorClass::Credentials,
            IgError::Crypto(crate::crypto::CryptoError::BadPublicKey) => ErrorClass::Outdated,
            IgError::Crypto(_) => ErrorClass::Failed,
            IgError::Api(e) => e.class_at(now),
        }
    }

    /// True when a non-idempotent request (configure) may have been applied even though
    /// no success came back: look for the media before publishing again.
    pub fn maybe_applied(&self) -> bool {
        match self {
            IgError::Network { maybe_sent, .. } => *maybe_sent,
            IgError::Api(e) => matches!(
                e.kind,
                ErrorShape::ServerError | ErrorShape::NotJson | ErrorShape::Timeout
            ),
            _ => false,
        }
    }

    pub fn api_kind(&self) -> Option<&ErrorShape> {
        match self {
            IgError::Api(e) => Some(&e.kind),
            _ => None,
        }
    }
}

impl ErrorAnswer {
    /// What a call that needs a login answers when the session holds none, without asking
    /// Instagram: the same class as Instagram's own `login_required`.
    pub(crate) fn login_required(message: &str) -> ErrorAnswer {
        ErrorAnswer {
            status: 403,
            kind: ErrorShape::LoginRequired,
            message: message.into(),
            body: Value::Null,
        }
    }

    pub fn class_at(&self, now: DateTime<Utc>) -> ErrorClass {
        use ErrorShape as K;
        match self.kind {
            K::PleaseWait => ErrorClass::Cooldown {
                until: now + PLEASE_WAIT_COOLDOWN,
            },
            K::Throttled => ErrorClass::Cooldown {
                until: now + THROTTLED_COOLDOWN,
            },
            K::RateLimit => ErrorClass::Cooldown {
                until: now + RATE_LIMIT_COOLDOWN,
            },
            K::FeedbackRequired => ErrorClass::Cooldown {
                until: now + FEEDBACK_COOLDOWN,
            },
            K::LoginRequired | K::Unauthorized => ErrorClass::Relogin,
            K::TwoFactorRequired | K::ChallengeRequired | K::MaskedChallenge => {
                ErrorClass::Challenge
            }
            K::AccountSuspended | K::Disabled => ErrorClass::Banned,
            K::SentryBlock | K::ProxyAddressBlocked => ErrorClass::Proxy,
            K::BadPassword => ErrorClass::Credentials,
            K::VideoTooLong | K::MediaNeedsReupload => ErrorClass::BadMedia,
            K::NeedsUpgrade => ErrorClass::Outdated,
            K::ServerError | K::Timeout | K::NotJson | K::TranscodeNotFinished => {
                ErrorClass::Retryable
            }
            K::Forbidden | K::Unknown | K::BadRequestEmpty | K::NotFound | K::Other => {
                ErrorClass::Failed
            }
        }
    }
}

fn text<'a>(body: &'a Value, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Maps one HTTP answer to an error, in instagrapi's order (§6.1); `None` is success.
pub fn classify(status: u16, raw: &[u8]) -> Option<ErrorAnswer> {
    use ErrorShape as K;
    let parsed: Option<Value> = serde_json::from_slice(raw).ok();
    let body = parsed.clone().unwrap_or(Value::Null);
    let message = text(&body, "message").to_owned();
    let error_type = text(&body, "error_type").to_owned();
    let err = |kind: K| {
        Some(ErrorAnswer {
            status,
            kind,
            message: if message.is_empty() {
                format!("HTTP {status}")
            } else {
                message.clone()
            },
            body: body.clone(),
        })
    };
    let ok = (200..300).contains(&status);
    if !ok {
        if message.contains("Please wait a few minutes") {
            return err(K::PleaseWait);
        }
        match status {
            403 if message == "login_required" => return err(K::LoginRequired),
            403 => return err(K::Forbidden),
            400 => {
                let Some(b) = parsed.as_ref() else {
                    return if raw.iter().all(u8::is_ascii_whitespace) {
                        err(K::BadRequestEmpty)
                    } else {
                        err(K::NotJson)
                    };
                };
                if b.get("two_factor_info").is_some() {
                    return err(K::TwoFactorRequired);
                }
                if message == "challenge_required" {
                    let url = b
                        .pointer("/challenge/url")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    return if url.contains("/suspended/") {
                        err(K::AccountSuspended)
                    } else {
                        err(K::ChallengeRequired)
                    };
                }
                if message == "feedback_required" {
                    return err(K::FeedbackRequired);
                }
                match error_type.as_str() {
                    "sentry_block" => return err(K::SentryBlock),
                    "rate_limit_error" => return err(K::RateLimit),
                    "bad_password" => return err(K::BadPassword),
                    "two_factor_required" => return err(K::TwoFactorRequired),
                    _ => {}
                }
                if message.contains("VideoTooLongException") {
                    return err(K::VideoTooLong);
                }
                if message.contains("The username you entered") {
                    return err(K::ProxyAddressBlocked);
                }
                if error_type == "needs_upgrade" {
                    return err(K::NeedsUpgrade);
                }
                let checkpoint = text(b, "checkpoint_url");
                if checkpoint.contains("/suspended/")
                    || checkpoint.contains("/disabled/")
                    || message.contains("inactive user")
                {
                    return err(K::Disabled);
                }
                return err(K::Unknown);
            }
            429 => return err(K::Throttled),
            401 => return err(K::Unauthorized),
            404 if raw == b"Not Found" => return err(K::MaskedChallenge),
            404 => return err(K::NotFound),
            408 => return err(K::Timeout),
            500..=599 => return err(K::ServerError),
            _ => return err(K::Other),
        }
    }
    let Some(b) = parsed else {
        return err(K::NotJson);
    };
    if text(&b, "status") == "fail" {
        if message.contains("Transcode not finished") {
            return err(K::TranscodeNotFinished);
        }
        return err(K::Other);
    }
    if b.get("error_title").is_some() {
        return if message == "media_needs_reupload" {
            err(K::MediaNeedsReupload)
        } else {
            err(K::Other)
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorShape as K;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_000_000, 0).unwrap()
    }

    fn check(status: u16, body: &str, kind: K, class: ErrorClass) {
        let e = classify(status, body.as_bytes()).expect("an error");
        assert_eq!(e.kind, kind, "{status} {body}");
        assert_eq!(IgError::Api(e).class_at(now()), class, "{status} {body}");
    }

    fn cooldown(d: Duration) -> ErrorClass {
        ErrorClass::Cooldown { until: now() + d }
    }

    #[test]
    fn success_bodies_are_not_errors() {
        assert!(classify(200, br#"{"status":"ok","media":{}}"#).is_none());
    }

    #[test]
    fn please_wait_is_a_short_cooldown_on_400_and_429() {
        let b = r#"{"message":"Please wait a few minutes before you try again.","status":"fail"}"#;
        check(400, b, K::PleaseWait, cooldown(PLEASE_WAIT_COOLDOWN));
        check(429, b, K::PleaseWait, cooldown(PLEASE_WAIT_COOLDOWN));
    }

    #[test]
    fn login_required_means_relogin() {
        check(
            403,
            r#"{"message":"login_required","error_title":"You've Been Logged Out","error_body":"Please log back in.","logout_reason":8,"status":"fail"}"#,
            K::LoginRequired,
            ErrorClass::Relogin,
        );
    }

    #[test]
    fn unauthorized_means_relogin() {
        check(401, "", K::Unauthorized, ErrorClass::Relogin);
    }

    #[test]
    fn other_403_fails() {
        check(
            403,
            r#"{"message":"nope","status":"fail"}"#,
            K::Forbidden,
            ErrorClass::Failed,
        );
    }

    #[test]
    fn two_factor_is_a_challenge() {
        check(
            400,
            r#"{"message":"x","two_factor_required":true,"two_factor_info":{"username":"a","two_factor_identifier":"id"},"status":"fail","error_type":"two_factor_required"}"#,
            K::TwoFactorRequired,
            ErrorClass::Challenge,
        );
        check(
            400,
            r#"{"message":"x","status":"fail","error_type":"two_factor_required"}"#,
            K::TwoFactorRequired,
            ErrorClass::Challenge,
        );
    }

    #[test]
    fn challenge_required_is_a_challenge_unless_suspended() {
        check(
            400,
            r#"{"message":"challenge_required","challenge":{"url":"https://i.instagram.com/challenge/1/abc/","api_path":"/challenge/1/abc/","native_flow":true},"status":"fail","error_type":"checkpoint_challenge_required"}"#,
            K::ChallengeRequired,
            ErrorClass::Challenge,
        );
        check(
            400,
            r#"{"message":"challenge_required","challenge":{"url":"https://www.instagram.com/accounts/suspended/?next=x"},"status":"fail"}"#,
            K::AccountSuspended,
            ErrorClass::Banned,
        );
    }

    #[test]
    fn masked_challenge_404() {
        check(404, "Not Found", K::MaskedChallenge, ErrorClass::Challenge);
        check(404, r#"{"message":"x"}"#, K::NotFound, ErrorClass::Failed);
    }

    #[test]
    fn feedback_required_is_a_day_long_cooldown() {
        check(
            400,
            r#"{"message":"feedback_required","spam":true,"feedback_title":"Action Blocked","feedback_message":"This action was blocked. Please try again later.","status":"fail"}"#,
            K::FeedbackRequired,
            cooldown(FEEDBACK_COOLDOWN),
        );
    }

    #[test]
    fn sentry_block_and_ip_block_blame_the_proxy() {
        check(
            400,
            r#"{"message":"Sorry, there was a problem","error_type":"sentry_block","status":"fail"}"#,
            K::SentryBlock,
            ErrorClass::Proxy,
        );
        check(
            400,
            r#"{"message":"The username you entered doesn't appear to belong to an account.","status":"fail"}"#,
            K::ProxyAddressBlocked,
            ErrorClass::Proxy,
        );
    }

    #[test]
    fn rate_limit_error_is_an_hour_cooldown() {
        check(
            400,
            r#"{"message":"rate limited","error_type":"rate_limit_error","status":"fail"}"#,
            K::RateLimit,
            cooldown(RATE_LIMIT_COOLDOWN),
        );
    }

    #[test]
    fn bad_password_needs_an_operator() {
        check(
            400,
            r#"{"message":"The password you entered is incorrect.","invalid_credentials":true,"error_type":"bad_password","exception_name":"UserInvalidCredentials","status":"fail"}"#,
            K::BadPassword,
            ErrorClass::Credentials,
        );
    }

    #[test]
    fn video_too_long_and_reupload_are_bad_media() {
        check(
            400,
            r#"{"message":"Uploaded video is too long: VideoTooLongException","status":"fail"}"#,
            K::VideoTooLong,
            ErrorClass::BadMedia,
        );
        check(
            200,
            r#"{"message":"media_needs_reupload","error_title":"bad image input extra:{}","status":"ok"}"#,
            K::MediaNeedsReupload,
            ErrorClass::BadMedia,
        );
    }

    #[test]
    fn needs_upgrade_means_the_app_profile_is_stale() {
        check(
            400,
            r#"{"message":"upgrade","error_type":"needs_upgrade","status":"fail"}"#,
            K::NeedsUpgrade,
            ErrorClass::Outdated,
        );
    }

    #[test]
    fn suspended_checkpoints_and_inactive_users_are_banned() {
        check(
            400,
            r#"{"message":"checkpoint_required","checkpoint_url":"https://i.instagram.com/accounts/suspended/?x","lock":true,"status":"fail"}"#,
            K::Disabled,
            ErrorClass::Banned,
        );
        check(
            400,
            r#"{"message":"checkpoint_required","checkpoint_url":"https://www.instagram.com/accounts/disabled/","status":"fail"}"#,
            K::Disabled,
            ErrorClass::Banned,
        );
        check(
            400,
            r#"{"message":"inactive user","status":"fail"}"#,
            K::Disabled,
            ErrorClass::Banned,
        );
    }

    #[test]
    fn other_400s_fail_without_retry() {
        check(
            400,
            r#"{"message":"consent_required","status":"fail"}"#,
            K::Unknown,
            ErrorClass::Failed,
        );
        check(400, "", K::BadRequestEmpty, ErrorClass::Failed);
    }

    #[test]
    fn throttling_429_with_an_empty_body_is_a_cooldown() {
        check(429, "", K::Throttled, cooldown(THROTTLED_COOLDOWN));
    }

    #[test]
    fn server_errors_timeouts_and_html_are_retryable() {
        check(
            500,
            "<html>oops</html>",
            K::ServerError,
            ErrorClass::Retryable,
        );
        check(503, "", K::ServerError, ErrorClass::Retryable);
        check(408, "", K::Timeout, ErrorClass::Retryable);
        check(
            200,
            "<html>proxy page</html>",
            K::NotJson,
            ErrorClass::Retryable,
        );
        check(418, "{}", K::Other, ErrorClass::Failed);
    }

    #[test]
    fn transcode_not_finished_is_retryable() {
        check(
            202,
            r#"{"message":"Transcode not finished yet.","status":"fail"}"#,
            K::TranscodeNotFinished,
            ErrorClass::Retryable,
        );
    }

    #[test]
    fn transport_failures_classify_by_cause() {
        let proxy = IgError::Proxy("connection refused".into());
        assert_eq!(proxy.class(), ErrorClass::Proxy);
        let net = IgError::Network {
            message: "reset".into(),
            maybe_sent: true,
        };
        assert_eq!(net.class(), ErrorClass::Retryable);
        assert!(net.maybe_applied());
        assert_eq!(IgError::BadMedia("x".into()).class(), ErrorClass::BadMedia);
        let totp = IgError::Crypto(crate::crypto::CryptoError::BadTotpSecret);
        assert_eq!(totp.class(), ErrorClass::Credentials);
        let key = IgError::Crypto(crate::crypto::CryptoError::BadPublicKey);
        assert_eq!(key.class(), ErrorClass::Outdated);
    }
}
