//! `git agent done`: hand the hooked work in (see `crate::agent::done` for the steps and
//! why a re-run after a crash finishes the job without a duplicate), then end the caller's
//! own session.

use std::io::Write;

use super::{open_town, Run};
use crate::agent::done::{DoneReport, DoneSpec, DoneStatus};
use crate::agent::Agents;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// completed (to the merge queue), escalated (bead blocked) or deferred (bead back to open)
    #[arg(long, default_value = "completed", value_name = "STATUS")]
    status: String,
    /// A note left on the bead
    #[arg(short = 'm', long = "message", value_name = "NOTE")]
    note: Option<String>,
    /// Commit uncommitted changes first instead of refusing
    #[arg(long)]
    commit: bool,
    /// Review only: no merge request; the bead waits for a person
    #[arg(long)]
    no_merge: bool,
    /// Keep the session running afterwards
    #[arg(long)]
    keep_session: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let started = std::time::Instant::now();
        let spec = DoneSpec {
            status: DoneStatus::parse(&self.status)?,
            note: self.note.clone(),
            commit: self.commit,
            no_merge: self.no_merge,
        };
        let town = open_town(ctx)?;
        let agents = Agents::new(&town);
        let address = super::target(&agents, ctx, None)?;
        let actor = ctx.actor(&town.store)?;
        let report = agents.done(&actor, &address, &spec)?;
        crate::telemetry::done(&town, &report, started);
        let own_session =
            std::env::var("GT_SESSION").ok().as_deref() == Some(address.session_name().as_str());
        let ending = own_session && !self.keep_session;
        print_report(ctx, &report, ending)?;
        // The slot this agent frees goes to the most urgent queued dispatch, once our
        // session has ended (a detached run: this process may not outlive the stop below).
        if let Some(rig) = &address.rig {
            let rig = town.rigs().get(rig)?;
            let store = rig.open_store()?;
            // The merge queue drains within seconds, with no cron (merge_queue.auto).
            if report.merge_request.is_some() {
                if let Err(err) = crate::mq::spawn_pass(&town, &rig) {
                    ctx.status(format!(
                        "warning: could not start a merge-queue pass: {err}"
                    ));
                }
            }
            let freed = ending.then(|| address.session_name());
            if let Err(err) = crate::sling::queue::run_detached(&rig, &store, freed.as_deref()) {
                ctx.status(format!("warning: could not start the queue run: {err}"));
            }
        }
        if ending {
            // Stopping our own session signals our process group, this process included:
            // everything must be out before.
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            crate::cli::flush_telemetry();
            agents.stop(&address)?;
        }
        Ok(0)
    }
}

fn print_report(ctx: &Ctx, report: &DoneReport, ending: bool) -> Result<()> {
    if ctx.global.json {
        return print_json(report);
    }
    let status = serde_json::to_value(report.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut out = format!(
        "Done {}: {} {status}",
        report.agent,
        text::line(&report.bead)
    );
    if let Some(mr) = &report.merge_request {
        let how = if report.created_merge_request {
            "created"
        } else {
            "already there"
        };
        out.push_str(&format!(", merge request {} ({how})", text::line(&mr.id)));
    }
    if report.resumed {
        out.push_str(", finishing an interrupted done");
    }
    out.push('\n');
    print_text(&out)?;
    if ending {
        ctx.status("Ending this session.");
    }
    Ok(())
}
