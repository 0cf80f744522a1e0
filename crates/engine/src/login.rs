//! Logging an account in, run as a `login_account` job: through the account's own proxy,
//! serialized with its publishing (the job's concurrency key is the account), never
//! retried in a loop (one attempt: a failed password is not something to repeat). The
//! outcome is recorded on the job, so the API can answer with it or a client can read it
//! later. Answering a pending two-factor code or challenge is a step of the login, run by
//! the same kind of job: the code travels encrypted in its payload.

use icf_core::enums::{JobPriority, JobState};
use icf_core::ids::{AccountId, JobId};
use icf_core::jobs::{self, JobKind, JobPayload};
use icf_instagram::{IgError, LoginOutcome};
use icf_store::jobs::NewJob;
use icf_worker::{JobContext, JobHandler, Outcome, parse_payload};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::engine::Engine;
use crate::error::{EngineError, class_name};

/// Recorded when a code arrives for an account with nothing pending any more.
pub const NO_PENDING_CODE: &str = "no code is pending for this account: log in first";

/// What a login came to, as recorded on its job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoginReport {
    /// `logged_in`, `two_factor_required`, `challenge_required` or `failed`.
    pub outcome: String,
    /// What Instagram asks for (two-factor methods, the challenge), or who logged in.
    pub details: Option<Value>,
    /// When it failed: `proxy`, `credentials`, `challenge`, `banned`, `cooldown`, …
    pub error_class: Option<String>,
    pub error: Option<String>,
}

impl LoginReport {
    pub fn from_result(r: Result<LoginOutcome, IgError>) -> LoginReport {
        match r {
            Ok(outcome) => {
                let mut v = serde_json::to_value(&outcome).unwrap_or_else(|_| json!({}));
                let name = v
                    .get("outcome")
                    .and_then(Value::as_str)
                    .unwrap_or("logged_in")
                    .to_owned();
                if let Some(o) = v.as_object_mut() {
                    o.remove("outcome");
                }
                LoginReport {
                    outcome: name,
                    details: Some(v).filter(|v| v.as_object().is_some_and(|o| !o.is_empty())),
                    error_class: None,
                    error: None,
                }
            }
            Err(e) => LoginReport {
                outcome: "failed".into(),
                details: None,
                error_class: Some(class_name(e.class()).into()),
                error: Some(e.to_string()),
            },
        }
    }
}

impl Engine {
    /// Logs the account in now. A session that is still alive is kept (a fresh login is
    /// the riskiest action); otherwise the password (and stored TOTP secret) are sent once.
    /// Instagram's (and the proxy's) answers are in the `Ok` result, the account's status
    /// already moved by them; `Err` is icf's own trouble.
    pub async fn login_account(
        &self,
        id: AccountId,
    ) -> Result<Result<LoginOutcome, IgError>, EngineError> {
        let mut conn = match self.connect(id).await {
            Ok(c) => c,
            Err(EngineError::Instagram(e)) => {
                self.apply_error(id, &e).await?;
                return Ok(Err(e));
            }
            Err(e) => return Err(e),
        };
        let result = match self.check_session(&mut conn).await {
            Ok(true) => {
                let info = icf_instagram::AccountInfo {
                    user_id: conn.client.session().user_id().unwrap_or_default(),
                    username: conn.account.username.clone(),
                };
                icf_store::publishing::mark_logged_in(&self.db, id).await?;
                Ok(Ok(LoginOutcome::LoggedIn(info)))
            }
            Ok(false) => {
                if conn.client.session().is_logged_in()
                    && let Err(e) = conn.clear_login()
                {
                    return Ok(Err(e));
                }
                split(self.login(&mut conn).await)
            }
            Err(EngineError::Instagram(e)) => Ok(Err(e)),
            Err(e) => Err(e),
        };
        self.finish(conn).await?;
        result
    }
}

impl Engine {
    /// Answers the account's pending two-factor prompt or challenge with `code`; a passed
    /// challenge logs in once more. `Ok(None)` when nothing is pending. Instagram's
    /// answers are in the inner result, the account's status already moved by them.
    pub async fn answer_code(
        &self,
        id: AccountId,
        code: &str,
    ) -> Result<Option<Result<LoginOutcome, IgError>>, EngineError> {
        let mut conn = match self.connect(id).await {
            Ok(c) => c,
            Err(EngineError::Instagram(e)) => {
                self.apply_error(id, &e).await?;
                return Ok(Some(Err(e)));
            }
            Err(e) => return Err(e),
        };
        let result = split(self.submit_code(&mut conn, code).await)?.transpose();
        self.finish(conn).await?;
        Ok(result)
    }
}

fn split<T>(r: Result<T, EngineError>) -> Result<Result<T, IgError>, EngineError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(EngineError::Instagram(e)) => Ok(Err(e)),
        Err(e) => Err(e),
    }
}

/// A person's code for the account's pending two-factor prompt or challenge, as a
/// `login_account` job: high priority, one attempt, after whatever the account is doing.
/// Never joined with another job (each code is its own answer); the code is stored
/// encrypted with `cipher`.
pub async fn enqueue_code(
    db: &icf_store::Db,
    cipher: &icf_crypto::Cipher,
    id: AccountId,
    code: &str,
) -> Result<JobId, icf_store::StoreError> {
    let job = NewJob::of(&jobs::LoginAccount {
        account_id: id,
        code_enc: Some(cipher.encrypt(code)),
    })
    .priority(JobPriority::High)
    .max_attempts(1)
    .concurrency_key(id.to_string());
    icf_store::jobs::enqueue_now(db, &job)
        .await?
        .ok_or_else(|| {
            icf_store::StoreError::Corrupt("a code job without a unique key was refused".into())
        })
}

/// The login of an account as a job: high priority (a person is waiting), one attempt,
/// serialized with the account's other Instagram work. A login already waiting or
/// running for the account is joined rather than doubled.
pub async fn enqueue_login(
    db: &icf_store::Db,
    id: AccountId,
) -> Result<JobId, icf_store::StoreError> {
    let key = id.to_string();
    if let Some(job) = icf_store::jobs::latest(db, JobKind::LoginAccount.as_str(), &key).await?
        && matches!(job.state, JobState::Queued | JobState::Running)
    {
        return Ok(job.id);
    }
    let job = NewJob::of(&jobs::LoginAccount {
        account_id: id,
        code_enc: None,
    })
    .priority(JobPriority::High)
    .max_attempts(1)
    .concurrency_key(key);
    icf_store::jobs::enqueue_now(db, &job)
        .await?
        .ok_or_else(|| {
            icf_store::StoreError::Corrupt("a login job without a unique key was refused".into())
        })
}

/// Runs [`jobs::LoginAccount`].
pub struct LoginAccount {
    pub engine: Engine,
}

impl JobHandler for LoginAccount {
    fn kind(&self) -> &'static str {
        jobs::LoginAccount::KIND.as_str()
    }

    fn max_attempts(&self) -> u32 {
        1
    }

    async fn run(&self, ctx: JobContext, payload: Value) -> Outcome {
        let p: jobs::LoginAccount = match parse_payload(payload) {
            Ok(p) => p,
            Err(abandon) => return abandon,
        };
        let done = match &p.code_enc {
            Some(token) => {
                let code = match self.engine.cipher.decrypt(token) {
                    Ok(c) => c,
                    Err(e) => return Outcome::Abandon(format!("the code: {e}")),
                };
                self.engine
                    .answer_code(p.account_id, code.expose_secret())
                    .await
            }
            None => self.engine.login_account(p.account_id).await.map(Some),
        };
        let report = match done {
            Ok(Some(r)) => LoginReport::from_result(r),
            Ok(None) => LoginReport {
                outcome: "failed".into(),
                details: None,
                error_class: None,
                error: Some(NO_PENDING_CODE.into()),
            },
            Err(EngineError::Store(icf_store::StoreError::NotFound)) => {
                return Outcome::Abandon("the account no longer exists".into());
            }
            Err(e) => return Outcome::Abandon(e.to_string()),
        };
        let value = serde_json::to_value(&report).unwrap_or(Value::Null);
        if let Err(e) = icf_store::jobs::set_result(&ctx.db, ctx.job_id(), &value).await {
            return Outcome::Failure(e.to_string());
        }
        Outcome::Success
    }
}
