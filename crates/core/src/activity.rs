//! The activity log: what icf did with Instagram, proxies and accounts, and how it went.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::enums::ActivityStatus;
use crate::ids::AccountId;

/// One logged action. `details` holds the request and response summarised (endpoint, HTTP
/// status, ids, timings, Instagram's error), always with secrets redacted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityLog {
    pub id: uuid::Uuid,
    pub account_id: Option<AccountId>,
    pub account_username: Option<String>,
    /// `login`, `upload_photo`, `configure`, `check_status`, `check_proxy`, `status_change`…
    pub action: String,
    pub status: ActivityStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
    pub error_message: Option<String>,
    pub duration_ms: i64,
    pub created_at: DateTime<Utc>,
}

/// A log entry to write.
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub account_id: Option<AccountId>,
    pub action: String,
    pub status: ActivityStatus,
    pub details: serde_json::Value,
    pub error_message: Option<String>,
    pub duration_ms: i64,
}
