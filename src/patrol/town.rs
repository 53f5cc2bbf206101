//! Town-wide deacon duties and the services of other domains patrol calls: the town
//! store's housekeeping, and escalations (the 4th death of a bead's session, an agent that
//! says it is stuck, a gate past its timeout).

use super::{deacon, Finding, Pass};
use crate::error::{Error, Result};

/// Town-wide duties (only on a whole-town pass).
pub(crate) fn town_duties(pass: &Pass<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if !pass.town.is_lone_rig() {
        match deacon::housekeeping(pass, &pass.town.store, &pass.town.root) {
            Ok(found) => out.extend(found),
            Err(err) => out.push(Finding {
                outcome: "failed".into(),
                error: Some(crate::error::one_line(&err.to_string())),
                ..Finding::new("deacon", "housekeeping", "gc --auto of the town store")
            }),
        }
    }
    out
}

/// Raise an escalation; a line saying what was raised.
pub(crate) fn escalate(
    pass: &Pass<'_, '_>,
    category: &str,
    summary: &str,
    bead: Option<&str>,
) -> Result<String> {
    let _ = (pass, bead);
    Err(Error::invalid(format!(
        "cannot escalate ({category}: {summary}): escalations are not part of this build yet"
    )))
}
