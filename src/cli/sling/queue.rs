//! `git sling queue [list|run|pause|resume|clear]`: the dispatches waiting for capacity.

use std::time::{Duration, Instant};

use super::report;
use crate::agent::Agents;
use crate::cli::formula::library_for;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;
use crate::session::Sessions;
use crate::sling::{queue, Sling};
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// The rig (default: the rig of the current directory)
    #[arg(long, global = true, value_name = "RIG")]
    rig: Option<String>,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum Action {
    /// List waiting dispatches, most urgent first (the default)
    List,
    /// Start waiting dispatches while capacity allows
    Run {
        /// First wait (up to 30 s) for this session to end: `done` frees its own slot so
        #[arg(long, value_name = "SESSION", hide = true)]
        after_session: Option<String>,
    },
    /// Keep waiting dispatches from starting
    Pause,
    /// Let waiting dispatches start again
    Resume,
    /// Drop every waiting dispatch
    Clear,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<i32> {
    let town = Town::discover(&ctx.dir())?;
    let rig = match &args.rig {
        Some(name) => town.rigs().get(name)?,
        None => town.rigs().containing(&ctx.dir())?,
    };
    let store = rig.open_store()?;
    let actor = ctx.actor(&store)?;
    let action = args.action.unwrap_or(Action::List);
    let pausing = matches!(action, Action::Pause);
    match action {
        Action::List => {
            let waiting = queue::waiting(&store)?;
            if ctx.global.json {
                print_json(&waiting)?;
            } else if waiting.is_empty() {
                ctx.status(format!("No dispatches wait in rig '{}'", rig.name));
            } else {
                let mut out = String::new();
                for q in &waiting {
                    out.push_str(&format!(
                        "P{} {} -> {} (queued {} by {})\n",
                        q.priority,
                        text::line(&q.bead),
                        text::line(&q.target),
                        text::line(&q.queued_at),
                        text::line(&q.dispatched_by)
                    ));
                }
                print_text(&out)?;
            }
            Ok(0)
        }
        Action::Run { after_session } => {
            if let Some(name) = after_session {
                let sessions = Sessions::new(&store.state_dir());
                let deadline = Instant::now() + Duration::from_secs(30);
                while sessions.is_alive(&name).unwrap_or(false) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            let started = Instant::now();
            let sling = Sling::new(Agents::new(&town));
            let run = sling.drain(&actor, &rig.name, &library_for(ctx))?;
            if !run.dispatched.is_empty() {
                crate::telemetry::sling(&town, Some(&rig.name), &run.dispatched, started);
            }
            if ctx.global.json {
                print_json(&run)?;
                return Ok(if run.dispatched.iter().any(|d| d.outcome == "failed") {
                    1
                } else {
                    0
                });
            }
            if run.paused {
                ctx.status(format!(
                    "The queue of rig '{}' is paused ({} waiting)",
                    rig.name, run.waiting
                ));
            }
            let code = report(ctx, &run.dispatched)?;
            if run.waiting > 0 && !run.paused {
                ctx.status(format!("{} still waiting for capacity", run.waiting));
            }
            Ok(code)
        }
        Action::Pause | Action::Resume => {
            let pause = pausing;
            crate::town::Settings::new(&store).set(
                &actor,
                "scheduler.paused",
                Some(if pause { "true" } else { "false" }),
            )?;
            ctx.status(format!(
                "The queue of rig '{}' is {}",
                rig.name,
                if pause { "paused" } else { "running" }
            ));
            if ctx.global.json {
                print_json(&serde_json::json!({"rig": rig.name, "paused": pause}))?;
            }
            Ok(0)
        }
        Action::Clear => {
            let n = queue::clear(&store, &actor)?;
            if ctx.global.json {
                print_json(&serde_json::json!({"rig": rig.name, "cleared": n}))?;
            } else {
                ctx.status(format!("Cleared {n} waiting dispatch(es)"));
            }
            Ok(0)
        }
    }
}
