//! `git agent activity`: what the runtime's hooks report at each turn (UserPromptSubmit:
//! `working`; Notification: `waiting`; Stop: `stop`). Always exits 0 with `--hook`: a hook
//! must never fail the agent's turn.

use std::io::Write;

use super::{open_town, Run};
use crate::agent::activity::HookEvent;
use crate::agent::Agents;
use crate::cli::{print_json, print_text, Ctx};
use crate::error::{Error, Result};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The event: working, waiting or stop
    #[arg(long, value_name = "EVENT")]
    hook: Option<String>,
    /// The agent (default: the agent whose sandbox this is, else GT_AGENT)
    address: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let Some(event) = self.hook.clone() else {
            return self.show(ctx);
        };
        // The runtime's hook input is not needed here; it is left unread.
        if let Err(err) = self.record(ctx, &event) {
            let _ = writeln!(
                std::io::stderr(),
                "git agent activity --hook {event}: {err}"
            );
        }
        Ok(0)
    }
}

impl Args {
    fn record(&self, ctx: &Ctx, event: &str) -> Result<()> {
        let event = HookEvent::parse(event)?;
        let town = open_town(ctx)?;
        let agents = Agents::new(&town);
        let address = super::target(&agents, ctx, self.address.as_deref())?;
        let report = agents.report_activity(&address, event)?;
        if ctx.global.json {
            print_json(&report)?;
        }
        Ok(())
    }

    /// Without --hook: the agent's session as `show` has it (activity and working state).
    fn show(&self, ctx: &Ctx) -> Result<i32> {
        let town = open_town(ctx)?;
        let agents = Agents::new(&town);
        let address = super::target(&agents, ctx, self.address.as_deref())?;
        let view = agents.view(&address)?;
        let Some(session) = view.session else {
            return Err(Error::invalid(format!("{address} has never had a session")));
        };
        if ctx.global.json {
            print_json(&session)?;
        } else {
            print_text(&format!(
                "{address}: {}\n",
                super::view::activity_cell(&Some(session))
            ))?;
        }
        Ok(0)
    }
}
