use serde_json::json;

use super::super::{print_json, print_text, Ctx};
use super::{shared, Run};
use crate::agent::Address;
use crate::error::{Error, Result};
use crate::mail::nudge;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// on or off (nothing: show it)
    #[arg(value_parser = ["on", "off"])]
    state: Option<String>,
    /// Whose (default: mine)
    #[arg(long, value_name = "ADDRESS")]
    agent: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let who = match self.agent {
            Some(a) => crate::agent::Agents::new(town).resolve(&a)?.to_string(),
            None => shared::mailbox(ctx)?,
        };
        let address = Address::parse(&who).map_err(|_| {
            Error::invalid(format!(
                "{who} has no session: do-not-disturb is for agents"
            ))
        })?;
        let state_dir = nudge::state_dir_of(town, &address)?;
        let session = address.session_name();
        let changed = match self.state.as_deref() {
            Some(state) => nudge::set_dnd(&state_dir, &session, state == "on")?,
            None => false,
        };
        let on = nudge::is_dnd(&state_dir, &session);
        if ctx.global.json {
            print_json(&json!({"agent": who, "dnd": on, "changed": changed}))?;
        } else {
            print_text(&format!(
                "do-not-disturb for {who}: {}\n",
                if on { "on" } else { "off" }
            ))?;
        }
        Ok(0)
    }
}
