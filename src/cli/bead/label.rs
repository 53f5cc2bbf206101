//! `git bead label`: add, remove and list labels.

use std::collections::BTreeMap;

use clap::Subcommand;

use super::shared::done;
use super::Run;
use crate::bead::Beads;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, Subcommand)]
pub enum Args {
    /// Add LABEL to beads: IDS... LABEL
    Add {
        #[arg(required = true, num_args = 2..)]
        ids_and_label: Vec<String>,
    },
    /// Remove LABEL from beads: IDS... LABEL
    Remove {
        #[arg(required = true, num_args = 2..)]
        ids_and_label: Vec<String>,
    },
    /// List a bead's labels, or every label in use with counts
    List { id: Option<String> },
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let (mut ids, on) = match self {
            Args::Add { ids_and_label } => (ids_and_label, true),
            Args::Remove { ids_and_label } => (ids_and_label, false),
            Args::List { id: Some(id) } => return list_one(ctx, beads, &id),
            Args::List { id: None } => return list_all(ctx, beads),
        };
        let label = ids.pop().expect("clap requires two values");
        let actor = ctx.actor(beads.store)?;
        let records = beads.label(&actor, &ids, &label, on)?;
        done(ctx, if on { "Labelled" } else { "Unlabelled" }, &records)
    }
}

fn list_one(ctx: &Ctx, beads: &Beads<'_>, id: &str) -> Result<i32> {
    let snap = beads.snapshot()?;
    let config = beads.config(&snap)?;
    let id = beads.resolve(&snap, &config, id, &mut None)?;
    let record = beads.load(&snap, &id)?;
    let labels: Vec<&str> = record.label_names().collect();
    if ctx.global.json {
        print_json(&labels)?;
    } else {
        print_text(
            &labels
                .iter()
                .map(|l| format!("{}\n", text::line(l)))
                .collect::<String>(),
        )?;
    }
    Ok(0)
}

fn list_all(ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
    let snap = beads.snapshot()?;
    let index = beads.index(&snap)?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for row in &index.rows {
        for label in index.labels(row) {
            *counts.entry(label.to_string()).or_default() += 1;
        }
    }
    if ctx.global.json {
        print_json(&counts)?;
    } else {
        print_text(
            &counts
                .iter()
                .map(|(l, n)| format!("{}\t{n}\n", text::line(l)))
                .collect::<String>(),
        )?;
    }
    Ok(0)
}
