//! Which publishes the random spacing between accounts separates: the pacing check claims
//! a start in the scope, and a publish's end marks it again.

use icf_core::pacing::SpacingScope;
use icf_store::publishing::ExecutionRun;

use crate::engine::Engine;

/// The spacing scope of this execution (see `SpacingScope`): its post's, or all of icf's.
pub(super) fn spacing_scope(engine: &Engine, exec: &ExecutionRun) -> String {
    match engine.settings.pacing.scope {
        SpacingScope::Post => format!("post:{}", exec.post_id),
        SpacingScope::Global => "global".to_owned(),
    }
}
