//! `git agent nuke`: stop the session, remove the sandbox and branch, free the name.

use super::{on_agent, Run};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent's address
    address: String,
    /// Discard uncommitted and unmerged work in the sandbox
    #[arg(long)]
    force: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        on_agent(ctx, Some(&self.address), |town, agents, address| {
            let actor = ctx.actor(&town.store)?;
            let nuked = agents.retire(&actor, &address, self.force)?;
            if let Some(rig) = &address.rig {
                // A freed slot starts queued work.
                let rig = town.rigs().get(rig)?;
                let store = rig.open_store()?;
                if let Err(err) = crate::sling::queue::run_detached(&rig, &store, None) {
                    ctx.status(format!("warning: could not start the queue run: {err}"));
                }
            }
            if ctx.global.json {
                print_json(&nuked)?;
            } else {
                let mut out = format!("Nuked {address}");
                if nuked.session_stopped {
                    out.push_str(", session stopped");
                }
                if let Some(path) = &nuked.sandbox_removed {
                    out.push_str(&format!(
                        ", removed {}",
                        text::line(&path.to_string_lossy())
                    ));
                }
                if let Some(bead) = &nuked.released {
                    out.push_str(&format!(", {} back to open", text::line(bead)));
                }
                let lost =
                    nuked.discarded.uncommitted.len() + nuked.discarded.unmerged_commits.len();
                if lost > 0 {
                    out.push_str(&format!(
                        "; discarded {} uncommitted file(s) and {} unmerged commit(s)",
                        nuked.discarded.uncommitted.len(),
                        nuked.discarded.unmerged_commits.len()
                    ));
                }
                out.push('\n');
                print_text(&out)?;
            }
            Ok(0)
        })
    }
}
