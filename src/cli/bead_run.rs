//! What each `git bead` command does: resolve arguments, call the bead library, print.

use serde_json::{json, Map, Value};

use super::bead::{
    Command, CommentCommand, CreateArgs, DepCommand, ListArgs, QueryArgs, ReadyArgs, UpdateArgs,
};
use super::bead_view::{print_rows, record_lines};
use super::{print_json, print_text, resolve_path, Ctx};
use crate::bead::ops::{add_dep, check_no_cycle, claim, Edit};
use crate::bead::query::{self, Filter, Sort};
use crate::bead::schema::{self, now_rfc3339};
use crate::bead::{Beads, NewBead, Record};
use crate::error::{Error, Result};
use crate::store::Store;

pub fn run(ctx: &Ctx, command: Command) -> Result<i32> {
    let store = ctx.open_store()?;
    // Wisp ids (`<prefix>-wisp-…`) address the clone-local wisp store.
    let beads = match first_id(&command) {
        Some(id) => Beads::for_id(&store, id),
        None => Beads::new(&store),
    };
    match command {
        Command::Init { prefix } => init(ctx, &store, &beads, prefix),
        Command::Create(args) => create(ctx, &store, &beads, args),
        Command::Show { ids } => show(ctx, &beads, &ids),
        Command::List(args) => list(ctx, &beads, args),
        Command::Update(args) => update(ctx, &store, &beads, args),
        Command::Close {
            ids,
            reason,
            force,
            continue_molecule,
        } => close(ctx, &store, &beads, &ids, reason, force, continue_molecule),
        Command::Reopen { ids, reason } => reopen(ctx, &store, &beads, &ids, reason),
        Command::Delete { ids } => {
            let actor = ctx.actor(&store)?;
            let records = beads.modify(&actor, "delete", &ids, false, |edit| {
                if edit.record.is_deleted() {
                    return Ok(false);
                }
                edit.record.deleted = Some(edit.stamp.clone());
                Ok(true)
            })?;
            done(ctx, "Deleted", &records)
        }
        Command::Dep(cmd) => super::bead_links::dep(ctx, &store, &beads, cmd),
        Command::Label(cmd) => super::bead_links::label(ctx, &store, &beads, cmd),
        Command::Comments(cmd) => super::bead_links::comments(ctx, &store, &beads, cmd),
        Command::Ready(args) => ready(ctx, &store, &beads, args),
        Command::Blocked(args) => {
            let snap = beads.snapshot()?;
            let index = beads.index(&snap)?;
            let mut filter = filter_from(&args, false, None)?;
            check_filter(&beads, &snap, &mut filter)?;
            let sort = args.sort.unwrap_or(Sort::Priority);
            let (rows, total) = query::blocked(
                &snap,
                &index,
                &filter,
                sort,
                args.limit.unwrap_or(0),
                now_ms(),
            )?;
            print_rows(ctx, &snap, &index, &rows, total, true)
        }
        Command::Search {
            query: text,
            query_args,
            all,
        } => {
            let snap = beads.snapshot()?;
            let index = beads.index(&snap)?;
            let mut filter = filter_from(&query_args, all, Some(text))?;
            check_filter(&beads, &snap, &mut filter)?;
            let sort = query_args.sort.unwrap_or(Sort::Priority);
            let (rows, total) = query::list(
                &snap,
                &index,
                &filter,
                sort,
                false,
                query_args.limit.unwrap_or(50),
                now_ms(),
            )?;
            print_rows(ctx, &snap, &index, &rows, total, false)
        }
        Command::Stats => {
            let snap = beads.snapshot()?;
            let index = beads.index(&snap)?;
            let stats = query::stats(&index, now_ms());
            if ctx.global.json {
                print_json(&stats)?;
            } else {
                let mut text = format!(
                    "Total: {}  Open: {}  In progress: {}  Closed: {}  Ready: {}  Blocked: {}\n",
                    stats["total"],
                    stats["open"],
                    stats["in_progress"],
                    stats["closed"],
                    stats["ready"],
                    stats["blocked"]
                );
                for key in ["by_status", "by_type", "by_priority"] {
                    let parts: Vec<String> = stats[key]
                        .as_object()
                        .map(|m| m.iter().map(|(k, v)| format!("{k} {v}")).collect())
                        .unwrap_or_default();
                    text.push_str(&format!(
                        "{}: {}\n",
                        key.trim_start_matches("by_"),
                        parts.join(", ")
                    ));
                }
                print_text(&text)?;
            }
            Ok(0)
        }
        Command::Log { id, limit } => {
            let snap = beads.snapshot()?;
            let config = beads.config(&snap)?;
            let id = resolve_any(&beads, &snap, &config, &id)?;
            let entries = query::log(&snap, &id, limit)?;
            if ctx.global.json {
                print_json(&entries)?;
            } else {
                let mut text = String::new();
                for e in &entries {
                    let short = &e["commit"].as_str().unwrap_or("")
                        [..12.min(e["commit"].as_str().unwrap_or("").len())];
                    text.push_str(&format!(
                        "{short} {} {} {}\n",
                        e["date"].as_str().unwrap_or(""),
                        e["author"].as_str().unwrap_or(""),
                        e["message"]
                            .as_str()
                            .unwrap_or("")
                            .lines()
                            .next()
                            .unwrap_or("")
                    ));
                }
                print_text(&text)?;
            }
            Ok(0)
        }
        Command::Import { file, dry_run } => {
            super::bead_data::import(ctx, &store, &beads, &file, dry_run)
        }
        Command::Export {
            output,
            include_deleted,
        } => super::bead_data::export(ctx, &beads, output, include_deleted),
        Command::Config(cmd) => super::bead_data::config(ctx, &store, &beads, cmd),
    }
}

/// The first bead id a command names, to pick the store it lives in.
fn first_id(command: &Command) -> Option<&str> {
    let id = match command {
        Command::Show { ids }
        | Command::Close { ids, .. }
        | Command::Reopen { ids, .. }
        | Command::Delete { ids } => ids.first(),
        Command::Update(args) => args.ids.first(),
        Command::Log { id, .. } => Some(id),
        Command::Comments(CommentCommand::Add { id, .. } | CommentCommand::List { id }) => Some(id),
        Command::Dep(DepCommand::Add { issue, .. } | DepCommand::Remove { issue, .. }) => {
            Some(issue)
        }
        Command::Dep(DepCommand::Tree { id, .. }) => Some(id),
        _ => None,
    };
    id.map(String::as_str)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Resolve an id that may name a deleted bead (for `log`).
pub(super) fn resolve_any(
    beads: &Beads<'_>,
    snap: &crate::store::Snapshot<'_>,
    config: &crate::bead::Config,
    id: &str,
) -> Result<String> {
    for candidate in [id.to_string(), format!("{}-{id}", config.prefix)] {
        if schema::validate_id(&candidate).is_ok()
            && snap
                .resolve(&crate::bead::id::record_path(&candidate))?
                .is_some()
        {
            return Ok(candidate);
        }
    }
    beads.resolve(snap, config, id, &mut None)
}

fn init(ctx: &Ctx, store: &Store, beads: &Beads<'_>, prefix: Option<String>) -> Result<i32> {
    let actor = ctx.actor(store)?;
    let prefix = match prefix {
        Some(p) => p,
        None => default_prefix(store),
    };
    let (config, created) = beads.init(&actor, &prefix)?;
    if ctx.global.json {
        print_json(
            &json!({"prefix": config.prefix, "created": created, "ref": Store::ref_name(crate::bead::COLLECTION)}),
        )?;
    } else if created {
        ctx.status(format!(
            "Initialized bead store with prefix '{}' in refs/gastown/beads",
            config.prefix
        ));
    } else {
        ctx.status(format!(
            "Bead store already initialized with prefix '{}'",
            config.prefix
        ));
    }
    Ok(0)
}

fn default_prefix(store: &Store) -> String {
    let dir = store
        .repo()
        .workdir()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| store.common_dir().to_path_buf());
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("bd");
    crate::bead::schema::prefix_from_dir_name(name)
}

fn json_arg(raw: &str, what: &str) -> Result<Value> {
    let value: Value = serde_json::from_str(raw)
        .map_err(|e| Error::invalid(format!("bad {what} JSON '{raw}': {e}")))?;
    if !value.is_object() {
        return Err(Error::invalid(format!(
            "{what} must be a JSON object, got '{raw}'"
        )));
    }
    Ok(value)
}

fn time_arg(raw: &str) -> Result<Value> {
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    Ok(json!(schema::parse_time(raw, chrono::Utc::now())?))
}

fn create(ctx: &Ctx, store: &Store, beads: &Beads<'_>, args: CreateArgs) -> Result<i32> {
    let actor = ctx.actor(store)?;
    let new_beads = match &args.file {
        Some(file) => {
            let path = resolve_path(ctx, file);
            let text = read_input(&path)?;
            let is_json = path
                .extension()
                .is_some_and(|e| e == "jsonl" || e == "json");
            if is_json {
                super::bead_view::beads_from_jsonl(&text)?
            } else {
                super::bead_view::beads_from_markdown(&text)?
            }
        }
        None => vec![new_bead_from_args(&args)?],
    };
    let records = beads.create(&actor, new_beads)?;
    if ctx.global.json {
        if args.file.is_some() {
            print_json(&records.iter().map(|r| r.to_json(true)).collect::<Vec<_>>())?;
        } else {
            print_json(&records[0].to_json(true))?;
        }
    } else if args.silent {
        print_text(
            &records
                .iter()
                .map(|r| format!("{}\n", r.id))
                .collect::<String>(),
        )?;
    } else {
        for record in &records {
            print_text(&format!("Created {}: {}\n", record.id, record.title()))?;
        }
    }
    Ok(0)
}

fn new_bead_from_args(args: &CreateArgs) -> Result<NewBead> {
    let mut fields = Map::new();
    let text_fields = [
        ("description", &args.description),
        ("design", &args.design),
        ("acceptance_criteria", &args.acceptance),
        ("notes", &args.notes),
        ("assignee", &args.assignee),
        ("owner", &args.owner),
        ("external_ref", &args.external_ref),
        ("issue_type", &args.issue_type),
        ("priority", &args.priority),
    ];
    for (key, value) in text_fields {
        if let Some(v) = value {
            fields.insert(key.into(), json!(v));
        }
    }
    if let Some(due) = &args.due {
        fields.insert("due_at".into(), time_arg(due)?);
    }
    if let Some(defer) = &args.defer {
        fields.insert("defer_until".into(), time_arg(defer)?);
    }
    if let Some(estimate) = args.estimate {
        fields.insert("estimated_minutes".into(), json!(estimate));
    }
    if let Some(metadata) = &args.metadata {
        fields.insert("metadata".into(), json_arg(metadata, "metadata")?);
    }
    Ok(NewBead {
        id: args.id.clone(),
        title: args.title.clone().unwrap_or_default(),
        fields,
        labels: args
            .labels
            .iter()
            .filter(|l| !l.trim().is_empty())
            .cloned()
            .collect(),
        parent: args.parent.clone(),
        deps: parse_dep_specs(&args.deps)?,
    })
}

/// `ID` or `TYPE:ID` (bd's --deps syntax); ids may themselves contain ':'.
pub fn parse_dep_specs(specs: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for spec in specs.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match spec.split_once(':') {
            Some((kind, id)) if schema::KNOWN_DEP_TYPES.contains(&kind) && !id.is_empty() => {
                out.push((id.to_string(), kind.to_string()));
            }
            _ => out.push((spec.to_string(), "blocks".to_string())),
        }
    }
    Ok(out)
}

pub(super) fn read_input(path: &std::path::Path) -> Result<String> {
    if path == std::path::Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Error::io("reading standard input", e))?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Error::invalid(format!("cannot read '{}': {e}", path.display())))
    }
}

fn show(ctx: &Ctx, beads: &Beads<'_>, ids: &[String]) -> Result<i32> {
    let snap = beads.snapshot()?;
    let config = beads.config(&snap)?;
    let mut index = None;
    let mut records = Vec::new();
    for id in ids {
        let id = beads.resolve(&snap, &config, id, &mut index)?;
        records.push(beads.load(&snap, &id)?);
    }
    if ctx.global.json {
        print_json(&records.iter().map(|r| r.to_json(true)).collect::<Vec<_>>())?;
    } else {
        let text: Vec<String> = records.iter().map(record_lines).collect();
        print_text(&text.join("\n"))?;
    }
    Ok(0)
}

/// Refuse statuses and types the store does not know (they would silently match nothing).
fn check_filter(
    beads: &Beads<'_>,
    snap: &crate::store::Snapshot<'_>,
    filter: &mut Filter,
) -> Result<()> {
    let config = beads.config(snap)?;
    schema::normalize_filter(
        &mut filter.statuses,
        &mut filter.types,
        &config.statuses,
        &config.types,
    )
}

pub fn filter_from(args: &QueryArgs, all: bool, text: Option<String>) -> Result<Filter> {
    let priorities = args
        .priority
        .iter()
        .map(|p| schema::parse_priority(p).map(|p| p as u8))
        .collect::<Result<Vec<_>>>()?;
    Ok(Filter {
        statuses: args
            .status
            .iter()
            .map(|s| s.trim().to_ascii_lowercase().replace('-', "_"))
            .collect(),
        all,
        types: args.issue_type.clone(),
        labels: args.label.clone(),
        labels_any: args.label_any.clone(),
        assignee: args.assignee.clone(),
        unassigned: args.unassigned,
        priorities,
        text,
        parent: args.parent.clone(),
    })
}

fn list(ctx: &Ctx, beads: &Beads<'_>, args: ListArgs) -> Result<i32> {
    let snap = beads.snapshot()?;
    let index = beads.index(&snap)?;
    let mut filter = filter_from(&args.query, args.all, args.text.clone())?;
    check_filter(beads, &snap, &mut filter)?;
    if let Some(parent) = &filter.parent {
        let config = beads.config(&snap)?;
        filter.parent = Some(beads.resolve(&snap, &config, parent, &mut None)?);
    }
    let sort = args.query.sort.unwrap_or(Sort::Priority);
    let limit = args.query.limit.unwrap_or(50);
    let (rows, total) = query::list(&snap, &index, &filter, sort, args.reverse, limit, now_ms())?;
    print_rows(ctx, &snap, &index, &rows, total, false)
}

fn ready(ctx: &Ctx, store: &Store, beads: &Beads<'_>, args: ReadyArgs) -> Result<i32> {
    let mut filter = filter_from(&args.query, false, None)?;
    check_filter(beads, &beads.snapshot()?, &mut filter)?;
    let sort = args.query.sort.unwrap_or(Sort::Priority);
    if args.claim {
        let actor = ctx.actor(store)?;
        let claimed = beads.claim_first_ready(&actor, &filter, sort, now_ms())?;
        return match claimed {
            Some(record) => {
                if ctx.global.json {
                    print_json(&record.to_json(true))?;
                } else {
                    print_text(&format!("Claimed {}: {}\n", record.id, record.title()))?;
                }
                Ok(0)
            }
            None => {
                if ctx.global.json {
                    print_json(&Value::Null)?;
                } else {
                    ctx.status("No ready work to claim.");
                }
                Ok(1)
            }
        };
    }
    let snap = beads.snapshot()?;
    let index = beads.index(&snap)?;
    if args.explain {
        let explained = query::explain(&index, now_ms());
        if ctx.global.json {
            print_json(&explained)?;
        } else {
            print_text(&super::bead_view::explain_text(&explained))?;
        }
        return Ok(0);
    }
    let (rows, total) = query::ready(
        &snap,
        &index,
        &filter,
        sort,
        args.query.limit.unwrap_or(100),
        now_ms(),
    )?;
    if rows.is_empty() && !ctx.global.json {
        let open = index
            .rows
            .iter()
            .filter(|r| index.status(r) == "open")
            .count();
        ctx.status(if open == 0 {
            "No open beads."
        } else {
            "No ready work: every open bead is blocked or deferred (see `git bead blocked`)."
        });
        return Ok(0);
    }
    print_rows(ctx, &snap, &index, &rows, total, false)
}

fn update(ctx: &Ctx, store: &Store, beads: &Beads<'_>, args: UpdateArgs) -> Result<i32> {
    let actor = ctx.actor(store)?;
    let mut sets: Vec<(String, Value)> = Vec::new();
    let text_fields = [
        ("title", &args.title),
        ("description", &args.description),
        ("design", &args.design),
        ("acceptance_criteria", &args.acceptance),
        ("notes", &args.notes),
        ("owner", &args.owner),
        ("external_ref", &args.external_ref),
    ];
    for (key, value) in text_fields {
        if let Some(v) = value {
            if key == "title" && v.trim().is_empty() {
                return Err(Error::invalid("a bead needs a non-empty title"));
            }
            sets.push((key.into(), json!(v)));
        }
    }
    if let Some(a) = &args.assignee {
        sets.push((
            "assignee".into(),
            if a.is_empty() { Value::Null } else { json!(a) },
        ));
    }
    if let Some(p) = &args.priority {
        sets.push(("priority".into(), json!(schema::parse_priority(p)?)));
    }
    if let Some(due) = &args.due {
        sets.push(("due_at".into(), time_arg(due)?));
    }
    if let Some(defer) = &args.defer {
        sets.push(("defer_until".into(), time_arg(defer)?));
    }
    if let Some(estimate) = args.estimate {
        sets.push(("estimated_minutes".into(), json!(estimate)));
    }
    if let Some(metadata) = &args.metadata {
        sets.push(("metadata".into(), json_arg(metadata, "metadata")?));
    }
    for pair in &args.set {
        let (key, raw) = pair
            .split_once('=')
            .ok_or_else(|| Error::invalid(format!("bad --set '{pair}': use KEY=VALUE")))?;
        let key = key.trim();
        if key.is_empty() || schema::MANAGED_FIELDS.contains(&key) || key == "status" {
            return Err(Error::invalid(format!(
                "--set cannot change '{key}'; use the command that manages it"
            )));
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| json!(raw));
        sets.push((key.to_string(), value));
    }
    for key in &args.unset {
        if schema::MANAGED_FIELDS.contains(&key.as_str())
            || ["title", "status", "priority", "issue_type"].contains(&key.as_str())
        {
            return Err(Error::invalid(format!("--unset cannot remove '{key}'")));
        }
        sets.push((key.clone(), Value::Null));
    }
    let labels_add: Vec<String> = args
        .add_label
        .iter()
        .map(|l| schema::validate_label(l))
        .collect::<Result<_>>()?;
    let labels_remove: Vec<String> = args
        .remove_label
        .iter()
        .map(|l| l.trim().to_string())
        .collect();
    // Resolve the new parent before taking the lock; it is re-checked inside.
    let parent = match &args.parent {
        Some(p) if !p.is_empty() => {
            let snap = beads.snapshot()?;
            let config = beads.config(&snap)?;
            Some(Some(beads.resolve(&snap, &config, p, &mut None)?))
        }
        Some(_) => Some(None),
        None => None,
    };
    let status = args.status.clone();
    let issue_type = args.issue_type.clone();
    let append = args.append_notes.clone();
    let needs_index = matches!(parent, Some(Some(_)));
    let records = beads.modify(
        &actor,
        if args.claim { "claim" } else { "update" },
        &args.ids,
        needs_index,
        |edit| {
            let mut changed = false;
            if let Some(t) = &issue_type {
                let t = schema::normalize_type(t, &edit.config.types)?;
                changed |= edit.set("issue_type", json!(t));
            }
            if let Some(s) = &status {
                let s = schema::normalize_status(s, &edit.config.statuses)?;
                changed |= edit.set_status(&s);
            }
            for (key, value) in &sets {
                changed |= edit.set(key, value.clone());
            }
            if let Some(extra) = &append {
                let notes = match edit.record.str("notes") {
                    Some(old) => format!("{old}\n\n{extra}"),
                    None => extra.clone(),
                };
                changed |= edit.set("notes", json!(notes));
            }
            for label in &labels_add {
                changed |= edit.record.set_label(label, true, edit.stamp);
            }
            for label in &labels_remove {
                changed |= edit.record.set_label(label, false, edit.stamp);
            }
            if let Some(parent) = &parent {
                changed |= set_parent(edit, parent.as_deref())?;
            }
            if args.claim {
                changed |= claim(edit)?;
            }
            Ok(changed)
        },
    )?;
    done(
        ctx,
        if args.claim { "Claimed" } else { "Updated" },
        &records,
    )
}

fn set_parent(edit: &mut Edit<'_, '_>, parent: Option<&str>) -> Result<bool> {
    let id = edit.record.id.clone();
    let old: Vec<String> = edit
        .record
        .live_deps()
        .filter(|(_, kind, _)| *kind == "parent-child")
        .map(|(t, _, _)| t.to_string())
        .collect();
    let mut changed = false;
    for target in old.iter().filter(|t| Some(t.as_str()) != parent) {
        let member = edit.record.deps.get_mut(target).expect("listed above");
        member.on = false;
        member.at = edit.stamp.clone();
        changed = true;
    }
    if let Some(parent) = parent {
        if parent == id {
            return Err(Error::invalid(format!(
                "bead {id} cannot be its own parent"
            )));
        }
        if edit
            .snap
            .resolve(&crate::bead::id::record_path(parent))?
            .is_none()
        {
            return Err(Error::NotFound(parent.to_string()));
        }
        check_no_cycle(edit.index()?, &id, parent, "parent-child")?;
        changed |= add_dep(
            edit.record,
            parent,
            "parent-child",
            edit.stamp,
            &edit.actor.name,
            &now_rfc3339(),
        );
    }
    Ok(changed)
}

fn close(
    ctx: &Ctx,
    store: &Store,
    beads: &Beads<'_>,
    ids: &[String],
    reason: Option<String>,
    force: bool,
    continue_molecule: bool,
) -> Result<i32> {
    let actor = ctx.actor(store)?;
    let records = beads.modify(&actor, "close", ids, !force, |edit| {
        if edit.record.status() == "closed" {
            return Ok(false);
        }
        if !force {
            crate::bead::ops::check_closable(edit)?;
        }
        let mut changed = edit.set_status("closed");
        if let Some(reason) = &reason {
            changed |= edit.set("close_reason", json!(reason));
        }
        Ok(changed)
    })?;
    if continue_molecule {
        let outcome = crate::bead::molecule::continue_after_close(
            beads,
            &actor,
            &records[records.len() - 1].id,
            now_ms(),
        )?;
        if ctx.global.json {
            print_json(&outcome)?;
        } else {
            let mut text = format!("Closed {}\n", outcome["closed_step"].as_str().unwrap_or(""));
            if let Some(next) = outcome["next_step"].as_object() {
                text.push_str(&format!(
                    "Next step (claimed): {}: {}\n",
                    next.get("id").and_then(Value::as_str).unwrap_or(""),
                    next.get("title").and_then(Value::as_str).unwrap_or("")
                ));
            } else if outcome["molecule_complete"] == json!(true) {
                text.push_str(&format!(
                    "Molecule {} complete\n",
                    outcome["molecule_id"].as_str().unwrap_or("")
                ));
            } else {
                text.push_str("No next step is ready\n");
            }
            print_text(&text)?;
        }
        return Ok(0);
    }
    done(ctx, "Closed", &records)
}

fn reopen(
    ctx: &Ctx,
    store: &Store,
    beads: &Beads<'_>,
    ids: &[String],
    reason: Option<String>,
) -> Result<i32> {
    let actor = ctx.actor(store)?;
    let records = beads.modify(&actor, "reopen", ids, false, |edit| {
        if edit.record.status() != "closed" {
            return Ok(false);
        }
        let mut changed = edit.set_status("open");
        changed |= edit.set("close_reason", Value::Null);
        if let Some(reason) = &reason {
            crate::bead::ops::add_comment(edit, &format!("Reopened: {reason}"));
            changed = true;
        }
        Ok(changed)
    })?;
    done(ctx, "Reopened", &records)
}

pub(super) fn done(ctx: &Ctx, verb: &str, records: &[Record]) -> Result<i32> {
    if ctx.global.json {
        print_json(&records.iter().map(|r| r.to_json(true)).collect::<Vec<_>>())?;
    } else {
        for record in records {
            ctx.status(format!("{verb} {}: {}", record.id, record.title()));
        }
    }
    Ok(0)
}
