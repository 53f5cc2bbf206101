use super::super::Ctx;
use super::{lists, Run};
use crate::error::{Error, Result};
use crate::mail::{ListKind, ListSpec, Mail};
use crate::town::Town;

const KIND: ListKind = ListKind::Channel;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Args {
    /// Create a channel: its subscribers read what is posted to it
    Create {
        name: String,
        /// Keep only the newest N messages
        #[arg(long = "retain", value_name = "N")]
        retain_count: Option<u64>,
        /// Drop messages older than H hours
        #[arg(long = "retain-hours", value_name = "H")]
        retain_hours: Option<u64>,
    },
    /// Subscribe a mailbox (default: mine)
    Subscribe {
        name: String,
        address: Option<String>,
    },
    /// Unsubscribe a mailbox (default: mine)
    Unsubscribe {
        name: String,
        address: Option<String>,
    },
    /// Show a channel and the messages it keeps
    Show { name: String },
    /// List channels
    List,
    /// Delete a channel (its messages stay)
    Delete { name: String },
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let mail = Mail::new(town);
        let actor = || ctx.actor(&town.store);
        let def = match self {
            Args::Create {
                name,
                retain_count,
                retain_hours,
            } => {
                let name = lists::name(KIND, &name)?;
                if retain_count == Some(0) || retain_hours == Some(0) {
                    return Err(Error::invalid("a channel's retention must be at least 1"));
                }
                let spec = ListSpec {
                    retain_count,
                    retain_hours,
                    ..ListSpec::default()
                };
                mail.create_list(&actor()?, KIND, &name, &spec)?
            }
            Args::Subscribe { name, address } => {
                let name = lists::name(KIND, &name)?;
                let who = lists::one_mailbox(ctx, town, address.as_deref())?;
                mail.change_members(&actor()?, KIND, &name, &[who], &[])?
            }
            Args::Unsubscribe { name, address } => {
                let name = lists::name(KIND, &name)?;
                let who = lists::one_mailbox(ctx, town, address.as_deref())?;
                mail.change_members(&actor()?, KIND, &name, &[], &[who])?
            }
            Args::Show { name } => {
                let name = lists::name(KIND, &name)?;
                let defs = mail.lists()?;
                let def = defs.get(KIND, &name).ok_or_else(|| {
                    Error::invalid(format!("no channel '{name}' (see `git mail channel list`)"))
                })?;
                let held = mail.held_by(&format!("channel:{name}"), true)?;
                return lists::print_def(ctx, def, Some(&held));
            }
            Args::List => return lists::print_defs(ctx, KIND, &mail.lists()?.defs),
            Args::Delete { name } => {
                let name = lists::name(KIND, &name)?;
                mail.delete_list(&actor()?, KIND, &name)?
            }
        };
        lists::print_def(ctx, &def, None)
    }
}
