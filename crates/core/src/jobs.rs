//! Every kind of job icf runs, each defined once, with its payload.
//!
//! The queue itself (`icf_store::jobs`, `icf_worker`) is generic: a kind is a word and a
//! payload is JSON. icf's own kinds are named here and nowhere else: a kind is a
//! [`JobKind`], and its payload a struct implementing [`JobPayload`], so a job is enqueued
//! from the struct (serialized once, `icf_store::jobs::NewJob::of`) and its handler reads
//! the same struct back (`icf_worker::parse_payload`). A payload that does not parse can
//! never run: its job fails at once, without retries.
//!
//! Why in `icf-core` and not beside the queue in `icf-store`: a payload is plain data (ids,
//! words, numbers), and every crate that enqueues or runs a job depends on core already —
//! the store itself writes `post_to_instagram` jobs in the transaction that plans a post,
//! and the worker, the engine, the translator and the web layer enqueue or handle the
//! others. Kept here, the kinds and payloads stay free of SQL and the queue stays free of
//! icf's kinds (its tests run kinds of their own).
//!
//! The JSON is stored in `jobs.payload`: rows written by an earlier version must still
//! run after an upgrade, so a field is never renamed and a new one must have a default.
//! Handlers carry the same names as their payloads (`icf_engine::PostToInstagram` runs a
//! [`PostToInstagram`]); outside this module the payloads are written `jobs::PostToInstagram`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::enums::text_enum;
use crate::ids::{AccountId, ExecutionId, ProxyId};

text_enum!(
    /// icf's job kinds, as stored in `jobs.kind`.
    JobKind {
        PostToInstagram = "post_to_instagram",
        FirstComment = "first_comment",
        LoginAccount = "login_account",
        CheckAccountStatus = "check_account_status",
        ScheduleAccountChecks = "schedule_account_checks",
        CheckProxy = "check_proxy",
        ScheduleProxyChecks = "schedule_proxy_checks",
        RecoverProxyErrors = "recover_proxy_errors",
        MaintainAccounts = "maintain_accounts",
        DeliverAlerts = "deliver_alerts",
        TranslateText = "translate_text",
        PruneFinishedJobs = "prune_finished_jobs",
        Selftest = "selftest",
    }
);

/// The payload of one of icf's job kinds.
pub trait JobPayload: Serialize + DeserializeOwned {
    const KIND: JobKind;

    /// The payload as stored in `jobs.payload`.
    fn to_json(&self) -> Value {
        // Every payload is a struct of ids, strings and numbers, which always serialize;
        // were one ever to fail, `null` makes its job fail as unreadable rather than panic.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads a stored payload back.
    fn from_json(value: Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(value)
    }
}

macro_rules! payload_of {
    ($($payload:ident),+ $(,)?) => {$(
        impl JobPayload for $payload {
            const KIND: JobKind = JobKind::$payload;
        }
    )+};
}

payload_of!(
    PostToInstagram,
    FirstComment,
    LoginAccount,
    CheckAccountStatus,
    ScheduleAccountChecks,
    CheckProxy,
    ScheduleProxyChecks,
    RecoverProxyErrors,
    MaintainAccounts,
    DeliverAlerts,
    TranslateText,
    PruneFinishedJobs,
    Selftest,
);

/// Publishes one execution (one post on one account). Unknown fields are ignored, as the
/// handler that read `execution_id` by hand did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostToInstagram {
    pub execution_id: ExecutionId,
}

/// Posts an execution's first comment (and pins it) on the media it published: a step of
/// its own, after the media, so a failed comment is retried without touching the media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstComment {
    pub execution_id: ExecutionId,
}

/// Logs an account in, or answers its pending two-factor prompt or challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginAccount {
    pub account_id: AccountId,
    /// The code a person received for the pending two-factor prompt or challenge,
    /// encrypted (`ENCRYPTION_KEY`): the job answers it instead of logging in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_enc: Option<String>,
}

/// Checks whether Instagram still accepts the account's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckAccountStatus {
    pub account_id: AccountId,
}

/// Checks one proxy and acts for the account it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckProxy {
    pub proxy_id: ProxyId,
}

/// Sends the gathered alert events of one kind (`icf_engine::alerts::AlertKind`). Unknown
/// fields are ignored, as the handler that read `kind` by hand did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverAlerts {
    pub kind: String,
}

/// Translates a caption into many languages in the background (the results land in the
/// translation cache). Languages are codes, as the API received them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslateText {
    pub text: String,
    pub source_lang: String,
    pub target_langs: Vec<String>,
}

/// `icf jobs selftest`: checks the workers end to end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selftest {
    /// Groups the jobs of one `icf jobs selftest` run.
    pub batch: String,
    /// Simulated work before the job records itself.
    #[serde(default)]
    pub work_ms: u64,
}

// The periodic and housekeeping kinds carry nothing (`{}`). Their payload was never read
// before it was typed, so unknown fields stay accepted.

/// Enqueues one `check_account_status` per account with a session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleAccountChecks {}

/// Enqueues one `check_proxy` per proxy, then recovers accounts waiting for a proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleProxyChecks {}

/// Gives accounts in `proxy_error` a working proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverProxyErrors {}

/// Account upkeep: cooldowns, warm-up stages, old sessions, log retention.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintainAccounts {}

/// Deletes finished jobs past their retention.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneFinishedJobs {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn payloads_keep_the_json_of_the_rows_already_queued() {
        let exec = ExecutionId::new();
        let post = PostToInstagram { execution_id: exec };
        assert_eq!(post.to_json(), json!({ "execution_id": exec }));
        // Written by the previous version, read by this one.
        let old = json!({ "execution_id": exec.to_string() });
        assert_eq!(PostToInstagram::from_json(old).unwrap(), post);

        let account = AccountId::new();
        let login = LoginAccount {
            account_id: account,
            code_enc: None,
        };
        assert_eq!(login.to_json(), json!({ "account_id": account }));
        assert_eq!(
            Selftest::from_json(json!({ "batch": "b" })).unwrap(),
            Selftest {
                batch: "b".into(),
                work_ms: 0
            }
        );
        assert_eq!(MaintainAccounts {}.to_json(), json!({}));
        assert_eq!(
            DeliverAlerts::from_json(json!({ "kind": "no_worker" }))
                .unwrap()
                .kind,
            "no_worker"
        );
    }

    #[test]
    fn a_payload_that_does_not_fit_its_kind_is_refused() {
        assert!(PostToInstagram::from_json(json!({})).is_err());
        assert!(PostToInstagram::from_json(json!({ "execution_id": "nope" })).is_err());
        assert!(CheckProxy::from_json(json!({ "proxy_id": ProxyId::new(), "x": 1 })).is_err());
    }

    #[test]
    fn every_kind_has_one_word() {
        let mut words: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), JobKind::ALL.len());
        for k in JobKind::ALL {
            assert_eq!(k.as_str().parse::<JobKind>().unwrap(), *k);
        }
    }
}
