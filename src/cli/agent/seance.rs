//! `git agent seance`: an agent's past sessions, and `--talk ID` to open one of them again.

use std::os::unix::process::CommandExt;

use super::{on_agent, Run};
use crate::agent::seance::{PastSession, Seance};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::{Error, Result};
use crate::status::short_duration;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent's address (default: the agent whose sandbox this is)
    address: Option<String>,
    /// Open session ID (its number, or the runtime's session id) in its runtime: forked
    /// where the runtime can fork (claude), else resumed; with --json, print the command
    #[arg(long, value_name = "ID")]
    talk: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        on_agent(ctx, self.address.as_deref(), |_, agents, address| {
            let Some(id) = &self.talk else {
                let seance = agents.seance(&address)?;
                if ctx.global.json {
                    print_json(&seance)?;
                } else {
                    print_text(&render(&seance))?;
                }
                return Ok(0);
            };
            let talk = agents.talk(&address, id)?;
            if ctx.global.json {
                // Scripts get the command instead of a terminal taken over.
                print_json(&talk)?;
                return Ok(0);
            }
            let how = if talk.forked {
                "a fork of"
            } else {
                "(resuming; this runtime cannot fork, so this continues)"
            };
            ctx.status(format!(
                "Opening {how} {}'s session {} ({} {})",
                talk.agent,
                talk.session,
                text::line(&talk.runtime),
                text::line(&talk.runtime_session_id)
            ));
            let err = std::process::Command::new(&talk.argv[0])
                .args(&talk.argv[1..])
                .current_dir(&talk.cwd)
                .exec();
            Err(Error::io(
                format!("running {}", talk.argv[0].to_string_lossy()),
                err,
            ))
        })
    }
}

fn render(s: &Seance) -> String {
    if s.sessions.is_empty() {
        return format!("{} has had no sessions\n", s.agent);
    }
    let mut rows = vec![[
        "ID".to_string(),
        "STARTED".into(),
        "RUNTIME".into(),
        "TOOK".into(),
        "OUTCOME".into(),
        "HOOK".into(),
        "RUNTIME SESSION".into(),
    ]];
    rows.extend(s.sessions.iter().map(row));
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!("{}\n", text::line(&s.agent.to_string()));
    for r in &rows {
        let mut line = String::from("  ");
        for (i, cell) in r.iter().enumerate() {
            line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn row(p: &PastSession) -> [String; 7] {
    let e = &p.entry;
    let started = e.started_at.replace('T', " ");
    let started = started.split('.').next().unwrap_or_default();
    [
        e.id.to_string(),
        text::line(started.trim_end_matches('Z')).into_owned(),
        text::line(&e.runtime).into_owned(),
        p.runtime_s
            .map(short_duration)
            .unwrap_or_else(|| "-".into()),
        text::line(&p.outcome).into_owned(),
        e.hook
            .as_deref()
            .map(|h| text::line(h).into_owned())
            .unwrap_or_else(|| "-".into()),
        e.runtime_session_id
            .as_deref()
            .map(|h| text::line(h).into_owned())
            .unwrap_or_else(|| "-".into()),
    ]
}
