use super::super::Ctx;
use super::{lists, Run};
use crate::error::{Error, Result};
use crate::mail::{ListKind, ListSpec, Mail};
use crate::town::Town;

const KIND: ListKind = ListKind::Queue;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Args {
    /// Create a queue: each message sent to it is taken by one claimant (`git mail claim`)
    Create {
        name: String,
        /// Who may claim (repeatable; default: anyone)
        #[arg(long = "member", value_name = "ADDRESS")]
        members: Vec<String>,
        /// fifo (oldest first) or priority (most urgent first)
        #[arg(long, default_value = "fifo")]
        order: String,
    },
    /// Show a queue and its waiting and claimed messages
    Show {
        name: String,
        /// Done (archived) messages too
        #[arg(long)]
        all: bool,
    },
    /// List queues
    List,
    /// Delete a queue (its messages stay)
    Delete { name: String },
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let mail = Mail::new(town);
        match self {
            Args::Create {
                name,
                members,
                order,
            } => {
                let name = lists::name(KIND, &name)?;
                let spec = ListSpec {
                    members: lists::members(town, &members)?,
                    order: Some(order),
                    ..ListSpec::default()
                };
                let def = mail.create_list(&ctx.actor(&town.store)?, KIND, &name, &spec)?;
                lists::print_def(ctx, &def, None)
            }
            Args::Show { name, all } => {
                let name = lists::name(KIND, &name)?;
                let defs = mail.lists()?;
                let def = defs.get(KIND, &name).ok_or_else(|| {
                    Error::invalid(format!("no queue '{name}' (see `git mail queue list`)"))
                })?;
                let held = mail.held_by(&format!("queue:{name}"), all)?;
                lists::print_def(ctx, def, Some(&held))
            }
            Args::List => lists::print_defs(ctx, KIND, &mail.lists()?.defs),
            Args::Delete { name } => {
                let name = lists::name(KIND, &name)?;
                let def = mail.delete_list(&ctx.actor(&town.store)?, KIND, &name)?;
                lists::print_def(ctx, &def, None)
            }
        }
    }
}
