//! `git agent prime`: what an agent needs at the start of a session. With `--hook` it is
//! the runtime's SessionStart hook: it reads the hook's JSON on stdin, records the
//! runtime's session id and activity, and answers in the runtime's JSON shape. A hook must
//! never fail the agent's turn, so `--hook` prints what it can and exits 0 (errors go to
//! stderr).

use std::io::{IsTerminal, Read, Write};

use super::{open_town, Run};
use crate::agent::{prime, Agents};
use crate::cli::{print_json, print_text, Ctx};
use crate::error::Result;
use crate::runtime::{self, HookInput};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent (default: the agent whose sandbox this is, else GT_AGENT)
    address: Option<String>,
    /// Run as the runtime's SessionStart hook (reads its JSON on stdin; always exits 0)
    #[arg(long)]
    hook: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        if !self.hook {
            let town = open_town(ctx)?;
            let agents = Agents::new(&town);
            let address = super::target(&agents, ctx, self.address.as_deref())?;
            let primed = agents.prime(&address)?;
            if ctx.global.json {
                print_json(&primed)?;
            } else {
                print_text(&prime::render(&primed))?;
            }
            return Ok(0);
        }
        let input = read_hook_input();
        let context = match self.session_start(ctx, &input) {
            Ok(text) => text,
            Err(err) => {
                let _ = writeln!(std::io::stderr(), "git agent prime --hook: {err}");
                format!("[gastown] could not prime this session: {err}\n")
            }
        };
        let mut answer = serde_json::to_vec(&prime::hook_answer(&context)).unwrap_or_default();
        answer.push(b'\n');
        let _ = std::io::stdout().write_all(&answer);
        Ok(0)
    }
}

impl Args {
    /// Record the session's start and render the context.
    fn session_start(&self, ctx: &Ctx, input: &HookInput) -> Result<String> {
        let town = open_town(ctx)?;
        let agents = Agents::new(&town);
        let address = super::target(&agents, ctx, self.address.as_deref())?;
        let primed = agents.prime(&address)?;
        let runtime_name = std::env::var("GT_RUNTIME")
            .ok()
            .filter(|r| !r.is_empty())
            .or_else(|| primed.agent.runtime.clone())
            .unwrap_or_else(|| runtime::DEFAULT_RUNTIME.to_string());
        let actor = ctx.actor(&town.store)?;
        // The context matters more than the bookkeeping: report a failure, still prime.
        if let Err(err) = agents.session_started(&actor, &address, &runtime_name, input) {
            let _ = writeln!(std::io::stderr(), "git agent prime --hook: {err}");
        }
        Ok(prime::render(&primed))
    }
}

/// The hook's JSON input; nothing when stdin is a terminal (run by hand) or unreadable.
fn read_hook_input() -> HookInput {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return HookInput::default();
    }
    let mut bytes = Vec::new();
    let _ = stdin.read_to_end(&mut bytes);
    runtime::parse_hook_input(&bytes)
}
