use std::path::PathBuf;

use super::super::{print_json, print_text, text, Ctx};
use super::{shared, Run};
use crate::error::Result;
use crate::mail::{Mail, Outgoing, Resolver, Sent};
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Recipients: agents, overseer, group:/queue:/channel:NAME, patterns
    #[arg(value_name = "TO", required = true)]
    to: Vec<String>,
    /// The subject (one line)
    #[arg(short, long)]
    subject: String,
    /// The body
    #[arg(short, long, conflicts_with = "file")]
    message: Option<String>,
    /// Read the body from FILE (- for standard input)
    #[arg(short = 'F', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Copy to these addresses too (repeatable)
    #[arg(long, value_name = "ADDRESS")]
    cc: Vec<String>,
    /// task, notification, reply, escalation or protocol (default: protocol for protocol subjects, else notification)
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
    /// urgent, high, normal or low
    #[arg(long, value_name = "PRIORITY")]
    priority: Option<String>,
    /// A JSON document to attach, for structured messages between agents
    #[arg(long, value_name = "FILE")]
    payload: Option<PathBuf>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let from = shared::mailbox(ctx)?;
        let mail = Mail::new(town);
        let mut out = Outgoing {
            sent_to: self.to.clone(),
            subject: self.subject,
            body: shared::body(ctx, self.message, self.file)?,
            kind: self.kind,
            priority: self.priority,
            payload: shared::payload(ctx, self.payload)?,
            ..Outgoing::default()
        };
        let lists = mail.lists()?;
        let resolver = Resolver::new(town, &lists);
        out.to = resolver.resolve_all(&self.to)?;
        out.cc = resolver.resolve_all(&self.cc)?;
        out.sent_to.extend(self.cc);
        let actor = ctx.actor(&town.store)?;
        let sent = mail.send(&actor, &from, &out)?;
        print_sent(ctx, &sent)
    }
}

pub(super) fn print_sent(ctx: &Ctx, sent: &Sent) -> Result<i32> {
    if ctx.global.json {
        print_json(sent)?;
    } else {
        print_text(&format!(
            "sent {} to {}\n",
            sent.message.id,
            text::line(&sent.message.to.join(", "))
        ))?;
    }
    Ok(0)
}
