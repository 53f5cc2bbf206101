use std::path::PathBuf;

use super::super::Ctx;
use super::send::print_sent;
use super::{shared, Run};
use crate::error::Result;
use crate::mail::{Mail, Outgoing, Resolver};
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The message to answer (a unique prefix will do)
    id: String,
    /// The body
    #[arg(short, long, conflicts_with = "file")]
    message: Option<String>,
    /// Read the body from FILE (- for standard input)
    #[arg(short = 'F', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// The subject (default: Re: and the original's)
    #[arg(short, long)]
    subject: Option<String>,
    /// Copy to these addresses too (repeatable)
    #[arg(long, value_name = "ADDRESS")]
    cc: Vec<String>,
    /// urgent, high, normal or low
    #[arg(long, value_name = "PRIORITY")]
    priority: Option<String>,
    /// A JSON document to attach
    #[arg(long, value_name = "FILE")]
    payload: Option<PathBuf>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let from = shared::mailbox(ctx)?;
        let mail = Mail::new(town);
        let lists = mail.lists()?;
        let out = Outgoing {
            cc: Resolver::new(town, &lists).resolve_all(&self.cc)?,
            sent_to: self.cc,
            subject: self.subject.unwrap_or_default(),
            body: shared::body(ctx, self.message, self.file)?,
            priority: self.priority,
            payload: shared::payload(ctx, self.payload)?,
            ..Outgoing::default()
        };
        let sent = mail.reply(&ctx.actor(&town.store)?, &from, &self.id, &out)?;
        print_sent(ctx, &sent)
    }
}
