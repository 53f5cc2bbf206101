//! `git mol`: pour formulas into molecules of beads and walk them.

use clap::{Parser, Subcommand};
use serde_json::{json, Value};

use super::formula::{library_for, load_target};
use super::text::line;
use super::{print_json, print_text, Ctx, GlobalArgs};
use crate::bead::molecule;
use crate::bead::Beads;
use crate::error::Result;
use crate::formula::{self, cook, CookMode, CookOptions};
use crate::store::Store;

/// Pour formulas into molecules of beads and walk them
///
/// A molecule is a formula poured into real beads: a root bead of type `molecule` and one
/// child bead per step (`<root>.<step>`), whose `needs` become blocking dependencies so the
/// steps come ready in order. Walk one with `git bead close STEP --continue`. A wisp is an
/// ephemeral molecule kept in the clone-local store refs/gastown/local/wisps, never synced.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-mol", version)]
#[command(
    after_help = "Exit status: 0 ok, 1 bad input, 2 usage, 3 store busy, 5 repository failure."
)]
pub struct MolCli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: MolCommand,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PourArgs {
    /// Formula name or file
    pub formula: String,
    /// Set a formula variable: NAME=VALUE (can be repeated)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Bond the molecule to this bead (it records attached_molecule)
    #[arg(long, value_name = "BEAD")]
    pub on: Option<String>,
    /// Convoy formulas: pour only the legs of this preset
    #[arg(long)]
    pub preset: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum MolCommand {
    /// Pour a formula into a persistent molecule (one commit)
    Pour(PourArgs),
    /// Pour a formula into an ephemeral molecule that sync never pushes
    Wisp(PourArgs),
    /// Show where a molecule stands and its next ready steps
    Current {
        /// Molecule id (default: the one the actor is working in, else the newest open one)
        mol: Option<String>,
    },
    /// Show a molecule's root and steps in full
    Show { mol: String },
    /// List molecules and their progress
    List {
        /// Include closed molecules
        #[arg(long)]
        all: bool,
    },
    /// Close a molecule into one digest bead that summarises its steps
    Squash {
        mol: String,
        /// A summary to put at the top of the digest
        #[arg(long)]
        summary: Option<String>,
        /// Close the steps instead of deleting them
        #[arg(long)]
        keep_children: bool,
    },
    /// Discard a molecule: delete its root and steps
    Burn { mol: String },
}

impl super::Tool for MolCli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }

    fn run(self, ctx: &Ctx) -> Result<i32> {
        run(ctx, self.command)
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn run(ctx: &Ctx, command: MolCommand) -> Result<i32> {
    let store = ctx.open_store()?;
    match command {
        MolCommand::Pour(args) => pour(ctx, &store, args, false),
        MolCommand::Wisp(args) => pour(ctx, &store, args, true),
        MolCommand::Current { mol } => {
            let (beads, id) = match mol {
                Some(mol) => molecule::find(&store, &mol)?,
                None => molecule::current(&store, &ctx.actor(&store)?)?,
            };
            let snap = beads.snapshot()?;
            let index = beads.index(&snap)?;
            let progress = molecule::progress(&index, &id, now_ms())?;
            if ctx.global.json {
                print_json(&progress)?;
            } else {
                print_text(&progress_text(&progress))?;
            }
            Ok(0)
        }
        MolCommand::Show { mol } => {
            let (beads, id) = molecule::find(&store, &mol)?;
            let snap = beads.snapshot()?;
            let index = beads.index(&snap)?;
            let members = molecule::members(&beads, &snap, &index, &id)?;
            if ctx.global.json {
                print_json(&json!({
                    "molecule": members[0].to_json(true),
                    "steps": members[1..].iter().map(|r| r.to_json(true)).collect::<Vec<_>>(),
                }))?;
            } else {
                let progress = molecule::progress(&index, &id, now_ms())?;
                let mut text = progress_text(&progress);
                for step in &members[1..] {
                    if let Some(d) = step.str("description") {
                        text.push_str(&format!("\n{}:\n", line(&step.id)));
                        for text_line in d.lines() {
                            text.push_str(&format!("  {}\n", super::text::block_line(text_line)));
                        }
                    }
                }
                print_text(&text)?;
            }
            Ok(0)
        }
        MolCommand::List { all } => {
            let mut out = Vec::new();
            for beads in [Beads::new(&store), Beads::wisps(&store)] {
                let Ok(snap) = beads.snapshot() else { continue };
                let index = beads.index(&snap)?;
                for row in index
                    .rows
                    .iter()
                    .filter(|r| index.issue_type(r) == "molecule")
                {
                    if !all && index.status(row) == "closed" {
                        continue;
                    }
                    let progress = molecule::progress(&index, index.id(row), now_ms())?;
                    out.push(json!({
                        "id": index.id(row),
                        "title": index.title(row),
                        "status": index.status(row),
                        "wisp": beads.collection != crate::bead::COLLECTION,
                        "progress": progress["progress"],
                        "next": progress["next"],
                    }));
                }
            }
            if ctx.global.json {
                print_json(&out)?;
            } else {
                let text: String = out
                    .iter()
                    .map(|m| {
                        format!(
                            "{}  {:<7} {}/{}  {}{}\n",
                            line(m["id"].as_str().unwrap_or("")),
                            line(m["status"].as_str().unwrap_or("")),
                            m["progress"]["done"],
                            m["progress"]["total"],
                            line(m["title"].as_str().unwrap_or("")),
                            if m["wisp"] == json!(true) {
                                "  (wisp)"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect();
                print_text(&text)?;
            }
            Ok(0)
        }
        MolCommand::Squash {
            mol,
            summary,
            keep_children,
        } => {
            let actor = ctx.actor(&store)?;
            let (beads, id) = molecule::find(&store, &mol)?;
            let main = Beads::new(&store);
            let digest = molecule::squash(
                &beads,
                &main,
                &actor,
                &id,
                summary.as_deref(),
                keep_children,
            )?;
            if ctx.global.json {
                print_json(&digest.to_json(true))?;
            } else {
                print_text(&format!(
                    "Squashed {} into {}\n",
                    line(&id),
                    line(&digest.id)
                ))?;
            }
            Ok(0)
        }
        MolCommand::Burn { mol } => {
            let actor = ctx.actor(&store)?;
            let (beads, id) = molecule::find(&store, &mol)?;
            let n = molecule::burn(&beads, &actor, &id)?;
            if ctx.global.json {
                print_json(&json!({"molecule": id, "deleted": n}))?;
            } else {
                ctx.status(format!("Burned {} ({n} beads)", line(&id)));
            }
            Ok(0)
        }
    }
}

fn pour(ctx: &Ctx, store: &Store, args: PourArgs, wisp: bool) -> Result<i32> {
    let library = library_for(ctx);
    let (parsed, library) = load_target(ctx, &library, &args.formula)?;
    let options = CookOptions {
        vars: formula::parse_var_assignments(&args.vars)?,
        mode: CookMode::Runtime,
        preset: args.preset,
    };
    let cooked = cook(&parsed, &library, &options)?;
    for warning in &cooked.warnings {
        ctx.status(format!("warning: {warning}"));
    }
    let actor = ctx.actor(store)?;
    let poured = molecule::pour_on(store, &actor, &cooked, args.on.as_deref(), wisp)?;
    if ctx.global.json {
        print_json(&poured)?;
    } else {
        print_text(&format!(
            "Poured {} {}: {} ({} steps)\n",
            if wisp { "wisp" } else { "molecule" },
            line(&poured.root.id),
            line(&cooked.formula),
            poured.steps.len()
        ))?;
    }
    Ok(0)
}

fn progress_text(progress: &Value) -> String {
    let mut out = format!(
        "{}: {} [{}]  {}/{} steps done\n",
        line(progress["molecule"]["id"].as_str().unwrap_or("")),
        line(progress["molecule"]["title"].as_str().unwrap_or("")),
        line(progress["molecule"]["status"].as_str().unwrap_or("")),
        progress["progress"]["done"],
        progress["progress"]["total"]
    );
    for step in progress["steps"].as_array().into_iter().flatten() {
        let mark = match step["state"].as_str().unwrap_or("") {
            "done" => "[x]",
            "current" => "[>]",
            "ready" => "[ ]",
            "blocked" => "[-]",
            _ => "[.]",
        };
        let indent = if step.get("parent").is_some() {
            "    "
        } else {
            "  "
        };
        out.push_str(&format!(
            "{indent}{mark} {}  {}  ({}){}\n",
            line(step["id"].as_str().unwrap_or("")),
            line(step["title"].as_str().unwrap_or("")),
            line(step["state"].as_str().unwrap_or("")),
            step["assignee"]
                .as_str()
                .map(|a| format!(" @{}", line(a)))
                .unwrap_or_default()
        ));
    }
    let next: Vec<&str> = progress["next"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !next.is_empty() {
        out.push_str(&format!("Next: {}\n", line(&next.join(", "))));
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        super::MolCli::command().debug_assert();
    }
}
