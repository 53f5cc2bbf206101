//! `git bead dep`, `label` and `comments`: the links and notes between beads.

use serde_json::{json, Value};

use super::bead::{CommentCommand, DepCommand, LabelCommand};
use super::bead_run::{done, resolve_any};
use super::{print_json, print_text, Ctx};
use crate::bead::ops::{add_dep, check_no_cycle};
use crate::bead::query;
use crate::bead::schema::{self, now_rfc3339};
use crate::bead::Beads;
use crate::error::{Error, Result};
use crate::store::Store;

pub fn dep(ctx: &Ctx, store: &Store, beads: &Beads<'_>, cmd: DepCommand) -> Result<i32> {
    match cmd {
        DepCommand::Add {
            issue,
            depends_on,
            dep_type,
        } => {
            let actor = ctx.actor(store)?;
            let kind = schema::validate_dep_type(&dep_type)?;
            let target = {
                let snap = beads.snapshot()?;
                let config = beads.config(&snap)?;
                beads.resolve(&snap, &config, &depends_on, &mut None)?
            };
            let records = beads.modify(&actor, "dep add", &[issue], true, |edit| {
                let id = edit.record.id.clone();
                if id == target {
                    return Err(Error::invalid(format!("bead {id} cannot depend on itself")));
                }
                if edit.snap.resolve(&crate::bead::id::record_path(&target))?.is_none() {
                    return Err(Error::NotFound(target.clone()));
                }
                if let Some((_, existing, _)) = edit.record.live_deps().find(|(t, _, _)| *t == target) {
                    if existing == kind {
                        return Ok(false);
                    }
                    return Err(Error::invalid(format!(
                        "{id} already depends on {target} as '{existing}'; remove that first (one type per pair)"
                    )));
                }
                check_no_cycle(edit.index()?, &id, &target, &kind)?;
                Ok(add_dep(edit.record, &target, &kind, edit.stamp, &edit.actor.name, &now_rfc3339()))
            })?;
            if ctx.global.json {
                print_json(
                    &json!({"issue_id": records[0].id, "depends_on_id": target, "type": kind}),
                )?;
            } else {
                ctx.status(format!(
                    "{} now depends on {target} ({kind})",
                    records[0].id
                ));
            }
            Ok(0)
        }
        DepCommand::Remove { issue, depends_on } => {
            let actor = ctx.actor(store)?;
            let target = {
                let snap = beads.snapshot()?;
                let config = beads.config(&snap)?;
                resolve_any(beads, &snap, &config, &depends_on).unwrap_or(depends_on.clone())
            };
            let records = beads.modify(&actor, "dep remove", &[issue], false, |edit| {
                let Some(member) = edit.record.deps.get_mut(&target).filter(|m| m.on) else {
                    return Err(Error::invalid(format!(
                        "{} does not depend on {target}",
                        edit.record.id
                    )));
                };
                member.on = false;
                member.at = edit.stamp.clone();
                Ok(true)
            })?;
            if ctx.global.json {
                print_json(
                    &json!({"issue_id": records[0].id, "depends_on_id": target, "removed": true}),
                )?;
            } else {
                ctx.status(format!("{} no longer depends on {target}", records[0].id));
            }
            Ok(0)
        }
        DepCommand::Tree { id, up, depth } => {
            let snap = beads.snapshot()?;
            let config = beads.config(&snap)?;
            let mut index = Some(beads.index(&snap)?);
            let id = beads.resolve(&snap, &config, &id, &mut index)?;
            let index = index.expect("loaded above");
            let tree = query::dep_tree(&index, &id, up, depth);
            if ctx.global.json {
                print_json(&tree)?;
            } else {
                let mut text = String::new();
                super::bead_view::tree_text(&tree, 0, &mut text);
                print_text(&text)?;
            }
            Ok(0)
        }
        DepCommand::Cycles => {
            let snap = beads.snapshot()?;
            let index = beads.index(&snap)?;
            let cycles = crate::bead::graph::cycles(&index);
            if ctx.global.json {
                print_json(&cycles)?;
            } else if cycles.is_empty() {
                ctx.status("No dependency cycles.");
            } else {
                let text: String = cycles
                    .iter()
                    .map(|c| format!("{}\n", c.join(" → ")))
                    .collect();
                print_text(&text)?;
            }
            Ok(if cycles.is_empty() { 0 } else { 1 })
        }
    }
}

pub fn label(ctx: &Ctx, store: &Store, beads: &Beads<'_>, cmd: LabelCommand) -> Result<i32> {
    let (mut ids, on, verb) = match cmd {
        LabelCommand::Add { ids_and_label } => (ids_and_label, true, "label add"),
        LabelCommand::Remove { ids_and_label } => (ids_and_label, false, "label remove"),
        LabelCommand::List { id } => {
            let snap = beads.snapshot()?;
            let index = beads.index(&snap)?;
            let counts: std::collections::BTreeMap<String, usize> = match id {
                Some(id) => {
                    let config = beads.config(&snap)?;
                    let id = beads.resolve(&snap, &config, &id, &mut None)?;
                    let record = beads.load(&snap, &id)?;
                    let labels: Vec<&str> = record.label_names().collect();
                    if ctx.global.json {
                        print_json(&labels)?;
                    } else {
                        print_text(&labels.iter().map(|l| format!("{l}\n")).collect::<String>())?;
                    }
                    return Ok(0);
                }
                None => {
                    let mut counts = std::collections::BTreeMap::new();
                    for row in &index.rows {
                        for label in index.labels(row) {
                            *counts.entry(label.to_string()).or_default() += 1;
                        }
                    }
                    counts
                }
            };
            if ctx.global.json {
                print_json(&counts)?;
            } else {
                print_text(
                    &counts
                        .iter()
                        .map(|(l, n)| format!("{l}\t{n}\n"))
                        .collect::<String>(),
                )?;
            }
            return Ok(0);
        }
    };
    let label = schema::validate_label(&ids.pop().expect("clap requires two values"))?;
    let actor = ctx.actor(store)?;
    let records = beads.modify(&actor, verb, &ids, false, |edit| {
        Ok(edit.record.set_label(&label, on, edit.stamp))
    })?;
    done(ctx, if on { "Labelled" } else { "Unlabelled" }, &records)
}

pub fn comments(ctx: &Ctx, store: &Store, beads: &Beads<'_>, cmd: CommentCommand) -> Result<i32> {
    match cmd {
        CommentCommand::Add { id, text } => {
            if text.trim().is_empty() {
                return Err(Error::invalid("a comment needs text"));
            }
            let actor = ctx.actor(store)?;
            let mut added = Value::Null;
            beads.modify(&actor, "comment", &[id], false, |edit| {
                added = crate::bead::ops::add_comment(edit, &text);
                Ok(true)
            })?;
            if ctx.global.json {
                print_json(&added)?;
            } else {
                ctx.status(format!(
                    "Comment added to {}",
                    added["issue_id"].as_str().unwrap_or("")
                ));
            }
            Ok(0)
        }
        CommentCommand::List { id } => {
            let snap = beads.snapshot()?;
            let config = beads.config(&snap)?;
            let id = beads.resolve(&snap, &config, &id, &mut None)?;
            let record = beads.load(&snap, &id)?;
            let comments = record
                .to_json(true)
                .get("comments")
                .cloned()
                .unwrap_or(json!([]));
            if ctx.global.json {
                print_json(&comments)?;
            } else {
                let text: String = comments
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        format!(
                            "[{}] {}: {}\n",
                            c["created_at"].as_str().unwrap_or(""),
                            c["author"].as_str().unwrap_or(""),
                            c["text"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                print_text(&text)?;
            }
            Ok(0)
        }
    }
}
