use std::io::Write;

use serde_json::json;

use super::super::{print_json, print_text, Ctx};
use super::{shared, Run};
use crate::agent::Address;
use crate::error::Result;
use crate::mail::nudge::{self, Nudge};
use crate::mail::{Mail, State, Summary};
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// For a runtime hook: print new mail and queued nudges as a <system-reminder> block
    /// (nothing when there is nothing new), mark the mail delivered, always exit 0
    #[arg(long)]
    pub inject: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let me = shared::mailbox(ctx)?;
        let fresh = Mail::new(town).fresh(&me, false)?;
        if ctx.global.json {
            print_json(&json!({"mailbox": me, "new": fresh.len(), "messages": fresh}))?;
        } else if !fresh.is_empty() {
            print_text(&format!("{} new message(s) for {me}\n", fresh.len()))?;
        } else {
            ctx.status(format!("No new mail for {me}"));
        }
        Ok(if fresh.is_empty() { 1 } else { 0 })
    }
}

/// `check --inject`: whatever goes wrong is one line on stderr, and the exit status is 0.
pub fn inject(ctx: &Ctx) -> i32 {
    let mut problems = Vec::new();
    let text = gather(ctx, &mut problems);
    let mut stderr = std::io::stderr();
    for p in problems {
        let _ = writeln!(
            stderr,
            "git mail check --inject: {}",
            crate::error::one_line(&p)
        );
    }
    if let Some(text) = text {
        // Gemini CLI reads JSON only from its hooks; Claude Code and Codex inject plain text.
        let out = if std::env::var("GT_RUNTIME").is_ok_and(|r| r == "gemini") {
            let answer = json!({"hookSpecificOutput": {"hookEventName": "BeforeAgent", "additionalContext": text}});
            format!("{answer}\n")
        } else {
            text
        };
        let _ = std::io::stdout().lock().write_all(out.as_bytes());
    }
    0
}

/// The reminder to print, if anything is new; each failure is noted and skipped, so
/// nudges still arrive when mail cannot be read and the other way round.
fn gather(ctx: &Ctx, problems: &mut Vec<String>) -> Option<String> {
    let me = match shared::mailbox(ctx) {
        Ok(me) => me,
        Err(e) => {
            problems.push(e.to_string());
            return None;
        }
    };
    let town = match Town::discover(&ctx.dir()) {
        Ok(t) => t,
        Err(e) => {
            problems.push(e.to_string());
            return None;
        }
    };
    let mut nudges = Vec::new();
    let mut dnd = false;
    if let Ok(address) = Address::parse(&me) {
        match nudge::state_dir_of(&town, &address) {
            Ok(state_dir) => {
                let session = address.session_name();
                dnd = nudge::is_dnd(&state_dir, &session);
                match nudge::drain(&state_dir, &session) {
                    Ok(n) => nudges = n,
                    Err(e) => problems.push(e.to_string()),
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    let mail = Mail::new(&town);
    let mut fresh = mail.fresh(&me, true).unwrap_or_else(|e| {
        problems.push(e.to_string());
        Vec::new()
    });
    if dnd {
        fresh.retain(|s| s.priority == "urgent");
    }
    if fresh.is_empty() && nudges.is_empty() {
        return None;
    }
    if !fresh.is_empty() {
        let ids: Vec<String> = fresh.iter().map(|s| s.id.clone()).collect();
        let marked = ctx
            .actor(&town.store)
            .and_then(|actor| mail.mark(&actor, &me, &ids, State::Delivered));
        if let Err(e) = marked {
            problems.push(format!("could not mark mail delivered: {e}"));
        }
    }
    Some(reminder(&me, &fresh, &nudges))
}

/// Text from others, made safe to place inside the block: one line, and no tag of its own
/// (a subject must not be able to close the reminder and speak as the system).
fn inert(s: &str) -> String {
    super::super::text::line(s)
        .replace('<', "‹")
        .replace('>', "›")
}

fn reminder(me: &str, fresh: &[Summary], nudges: &[Nudge]) -> String {
    let mut out = String::from("<system-reminder>\n");
    if !fresh.is_empty() {
        out.push_str(&format!(
            "[gastown mail] {} new message{} for {me}:\n",
            fresh.len(),
            if fresh.len() == 1 { "" } else { "s" }
        ));
        for s in fresh {
            out.push_str(&format!(
                "- {} ({}, {}) from {}: {}\n",
                s.id,
                s.priority,
                s.kind,
                inert(&s.from),
                inert(&s.subject)
            ));
        }
        out.push_str("Read one with `git mail read ID`; list them with `git mail inbox`.\n");
    }
    for n in nudges {
        out.push_str(&format!(
            "[gastown nudge] from {}: {}\n",
            inert(&n.from),
            inert(&n.text)
        ));
    }
    out.push_str("</system-reminder>\n");
    out
}
