//! One action on many accounts (the web UI's account table): each account goes through
//! the same use case as a single request would, and gets its own outcome line.

use std::time::Duration;

use icf_core::enums::Role;
use icf_core::ids::{AccountId, GroupId};

use super::edit::{UpdateAccount, delete, update};
use super::view::label;
use crate::account_session::{LoginAnswer, StatusAnswer, check, login};
use crate::{App, AppResult};

/// What to do with every selected account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    /// Into this group, or out of any (`None`).
    Move(Option<GroupId>),
    /// Queue a session check.
    Check,
    /// Queue a login.
    Login,
    Delete,
}

/// What the action came to for one account.
pub enum BulkOutcome {
    /// Now in the group of this name (`None`: in no group).
    Moved(Option<String>),
    Checked(StatusAnswer),
    LoggingIn(LoginAnswer),
    Deleted,
}

/// One account's line of the result.
pub struct BulkLine {
    /// Its username (its id when it cannot be read).
    pub account: String,
    pub outcome: AppResult<BulkOutcome>,
}

/// Applies `action` to each account in turn; one account's failure does not stop the
/// others. Checks and logins are only queued: each waits for its account's publishing, not
/// for the others, and the workers run them side by side.
pub async fn bulk(app: &App, ids: &[AccountId], action: BulkAction) -> Vec<BulkLine> {
    let mut lines = Vec::with_capacity(ids.len());
    for &id in ids {
        let account = label(app, id).await;
        let outcome = match action {
            BulkAction::Move(group_id) => {
                let change = UpdateAccount {
                    group_id: Some(group_id),
                    ..UpdateAccount::default()
                };
                update(app, id, change)
                    .await
                    .map(|a| BulkOutcome::Moved(a.group_name))
            }
            BulkAction::Check => check::check(app, Role::Admin, id, Duration::ZERO)
                .await
                .map(BulkOutcome::Checked),
            BulkAction::Login => login::login(app, id, Duration::ZERO)
                .await
                .map(BulkOutcome::LoggingIn),
            BulkAction::Delete => delete(app, id).await.map(|()| BulkOutcome::Deleted),
        };
        lines.push(BulkLine { account, outcome });
    }
    lines
}
