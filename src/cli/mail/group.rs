use super::super::Ctx;
use super::{lists, Run};
use crate::error::{Error, Result};
use crate::mail::{ListKind, ListSpec, Mail};
use crate::town::Town;

const KIND: ListKind = ListKind::Group;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Args {
    /// Create a group of addresses (agents, overseer, patterns, other groups)
    Create { name: String, members: Vec<String> },
    /// Add members
    Add {
        name: String,
        #[arg(required = true)]
        members: Vec<String>,
    },
    /// Remove members
    Remove {
        name: String,
        #[arg(required = true)]
        members: Vec<String>,
    },
    /// Show a group
    Show { name: String },
    /// List groups
    List,
    /// Delete a group (its messages stay)
    Delete { name: String },
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let mail = Mail::new(town);
        let actor = || ctx.actor(&town.store);
        let def = match self {
            Args::Create { name, members } => {
                let name = lists::name(KIND, &name)?;
                let spec = ListSpec {
                    members: lists::members(town, &members)?,
                    ..ListSpec::default()
                };
                mail.create_list(&actor()?, KIND, &name, &spec)?
            }
            Args::Add { name, members } => {
                let name = lists::name(KIND, &name)?;
                mail.change_members(
                    &actor()?,
                    KIND,
                    &name,
                    &lists::members(town, &members)?,
                    &[],
                )?
            }
            Args::Remove { name, members } => {
                let name = lists::name(KIND, &name)?;
                let members: Vec<String> = members.iter().map(|m| m.trim().to_string()).collect();
                mail.change_members(&actor()?, KIND, &name, &[], &members)?
            }
            Args::Show { name } => {
                let name = lists::name(KIND, &name)?;
                let all = mail.lists()?;
                let def = all.get(KIND, &name).ok_or_else(|| {
                    Error::invalid(format!("no group '{name}' (see `git mail group list`)"))
                })?;
                return lists::print_def(ctx, def, None);
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
