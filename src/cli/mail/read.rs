use super::super::{print_json, print_text, Ctx};
use super::{shared, Run};
use crate::error::Result;
use crate::mail::{Mail, State};
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The message id (a unique prefix will do)
    id: String,
    /// Do not mark it read
    #[arg(long)]
    peek: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let me = shared::mailbox(ctx)?;
        let mail = Mail::new(town);
        let mut message = mail.get(&me, &self.id)?;
        let mine = message.summary.to.contains(&me)
            || message.summary.cc.contains(&me)
            || message.summary.claimed_by.as_deref() == Some(me.as_str())
            || mail
                .lists()?
                .subscriptions(&me)
                .iter()
                .any(|s| message.summary.to.contains(s));
        if mine && !self.peek && !message.summary.read {
            mail.mark(
                &ctx.actor(&town.store)?,
                &me,
                std::slice::from_ref(&message.summary.id),
                State::Read,
            )?;
            message.summary.read = true;
            message.read_by.push(me);
        }
        if ctx.global.json {
            print_json(&message)?;
        } else {
            print_text(&shared::render(&message))?;
        }
        Ok(0)
    }
}
