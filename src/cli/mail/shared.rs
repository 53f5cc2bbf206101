//! What several `git mail` commands share: whose mailbox, message bodies from flags, and
//! the text views of messages.

use std::io::Read;
use std::path::PathBuf;

use super::super::{print_json, print_text, resolve_path, text, Ctx};
use crate::error::{Error, Result};
use crate::mail::{parse_mailbox, Marked, Message, Summary, OVERSEER};

/// Whose mail: --actor, else GT_AGENT, else the overseer (the person at the keyboard).
pub fn mailbox(ctx: &Ctx) -> Result<String> {
    if let Some(actor) = &ctx.global.actor {
        return parse_mailbox(actor.trim()).map_err(|e| Error::invalid(format!("--actor: {e}")));
    }
    match std::env::var("GT_AGENT")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        Some(agent) => {
            parse_mailbox(agent.trim()).map_err(|e| Error::invalid(format!("GT_AGENT: {e}")))
        }
        None => Ok(OVERSEER.to_string()),
    }
}

/// The body: `-m TEXT`, or `-F FILE` (`-` for standard input), else empty.
pub fn body(ctx: &Ctx, message: Option<String>, file: Option<PathBuf>) -> Result<String> {
    if let Some(m) = message {
        return Ok(m);
    }
    let Some(file) = file else {
        return Ok(String::new());
    };
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("reading the body from standard input", e))?;
    } else {
        let path = resolve_path(ctx, &file);
        bytes = std::fs::read(&path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    }
    String::from_utf8(bytes)
        .map_err(|_| Error::invalid(format!("-F {}: not UTF-8 text", file.display())))
}

/// The payload of `--payload FILE`: a JSON document.
pub fn payload(ctx: &Ctx, file: Option<PathBuf>) -> Result<Option<serde_json::Value>> {
    let Some(file) = file else { return Ok(None) };
    let path = resolve_path(ctx, &file);
    let bytes =
        std::fs::read(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Error::invalid(format!(
            "--payload {}: not JSON: {}",
            file.display(),
            crate::error::one_line(&e.to_string())
        ))
    })
}

/// One line per message: `*` marks unread ones.
pub fn print_summaries(ctx: &Ctx, rows: &[Summary], empty: &str) -> Result<()> {
    if ctx.global.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        ctx.status(empty);
        return Ok(());
    }
    let mut out = String::new();
    for s in rows {
        let date = s.created.get(..16).unwrap_or(&s.created).replace('T', " ");
        let priority = if s.priority == "normal" {
            String::new()
        } else {
            format!("[{}] ", s.priority)
        };
        out.push_str(&format!(
            "{} {}  {date}  {:<22} {priority}{}\n",
            if s.read { ' ' } else { '*' },
            s.id,
            text::line(&s.from),
            text::line(&s.subject)
        ));
    }
    print_text(&out)
}

/// A whole message as text: headers, a blank line, the body.
pub fn render(m: &Message) -> String {
    let s = &m.summary;
    let mut out = format!(
        "id: {}\nfrom: {}\nto: {}\n",
        s.id,
        text::line(&s.from),
        text::line(&s.to.join(", "))
    );
    if !s.cc.is_empty() {
        out.push_str(&format!("cc: {}\n", text::line(&s.cc.join(", "))));
    }
    out.push_str(&format!(
        "subject: {}\ntype: {}  priority: {}\ndate: {}\nthread: {}\n",
        text::line(&s.subject),
        s.kind,
        s.priority,
        s.created,
        s.thread
    ));
    if let Some(r) = &s.reply_to {
        out.push_str(&format!("reply-to: {r}\n"));
    }
    if let Some(c) = &s.claimed_by {
        out.push_str(&format!("claimed-by: {}\n", text::line(c)));
    }
    out.push('\n');
    for line in m.body.lines() {
        out.push_str(&text::block_line(line));
        out.push('\n');
    }
    if let Some(p) = &m.payload {
        out.push_str(&format!("\npayload: {}\n", text::line(&p.to_string())));
    }
    out
}

/// What a mark did, one line per message.
pub fn print_marked(ctx: &Ctx, marked: &[Marked]) -> Result<i32> {
    if ctx.global.json {
        print_json(&marked)?;
    } else {
        let mut out = String::new();
        for m in marked {
            let how = if m.changed { "" } else { " (already)" };
            out.push_str(&format!("{} {}{how}\n", m.id, m.state));
        }
        print_text(&out)?;
    }
    Ok(0)
}

/// `ack` and `archive`: set a state on messages of my mailbox, print what changed.
pub fn mark(
    ctx: &Ctx,
    town: &crate::town::Town,
    ids: &[String],
    state: crate::mail::State,
) -> Result<i32> {
    let me = mailbox(ctx)?;
    let marked = crate::mail::Mail::new(town).mark(&ctx.actor(&town.store)?, &me, ids, state)?;
    print_marked(ctx, &marked)
}
