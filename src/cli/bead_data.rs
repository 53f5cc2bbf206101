//! `git bead import`, `export` and `config`: moving data in and out, store settings.

use serde_json::Value;

use super::bead::ConfigCommand;
use super::{print_json, print_text, resolve_path, Ctx};
use crate::bead::{jsonl, Beads, Record};
use crate::error::{Error, Result};
use crate::store::Store;

pub fn import(
    ctx: &Ctx,
    store: &Store,
    beads: &Beads<'_>,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<i32> {
    let path = resolve_path(ctx, file);
    let lines = jsonl::parse(&read_input_bytes(&path)?)?;
    let actor = ctx.actor(store)?;
    let report = beads.import(&actor, lines, dry_run)?;
    for warning in &report.warnings {
        ctx.status(format!("warning: {warning}"));
    }
    if ctx.global.json {
        print_json(&report)?;
    } else {
        let r = &report;
        let verb = if dry_run {
            "Would import (nothing written)"
        } else {
            "Imported"
        };
        ctx.status(format!(
            "{verb}: {} created, {} updated, {} unchanged, {} deleted",
            r.created, r.updated, r.unchanged, r.deleted
        ));
    }
    Ok(0)
}

fn read_input_bytes(path: &std::path::Path) -> Result<Vec<u8>> {
    if path == std::path::Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
            .map_err(|e| Error::io("reading standard input", e))?;
        Ok(bytes)
    } else {
        std::fs::read(path)
            .map_err(|e| Error::invalid(format!("cannot read '{}': {e}", path.display())))
    }
}

pub fn export(
    ctx: &Ctx,
    beads: &Beads<'_>,
    output: Option<std::path::PathBuf>,
    include_deleted: bool,
) -> Result<i32> {
    let snap = beads.snapshot()?;
    let mut records = Vec::new();
    for (_, blob) in snap.walk("beads")? {
        let record = Record::parse(&snap.read_blob(blob)?)?;
        if record.is_deleted() && !include_deleted {
            continue;
        }
        records.push(record);
    }
    records.sort_by(|a, b| a.id.cmp(&b.id));
    let mut text = String::new();
    for record in &records {
        text.push_str(&jsonl::export_line(record));
        text.push('\n');
    }
    match output {
        Some(path) => {
            let path = resolve_path(ctx, &path);
            std::fs::write(&path, text)
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            ctx.status(format!(
                "Exported {} beads to {}",
                records.len(),
                path.display()
            ));
        }
        None => print_text(&text)?,
    }
    Ok(0)
}

pub fn config(ctx: &Ctx, store: &Store, beads: &Beads<'_>, cmd: ConfigCommand) -> Result<i32> {
    let (config, key) = match cmd {
        ConfigCommand::Set { key, value } => {
            let actor = ctx.actor(store)?;
            (beads.set_config(&actor, &key, &value)?, Some(key))
        }
        ConfigCommand::Get { key } => {
            if !crate::bead::ops::CONFIG_KEYS.contains(&key.as_str()) && key != "format" {
                return Err(Error::invalid(format!("unknown config key '{key}'")));
            }
            let snap = beads.snapshot()?;
            (beads.config(&snap)?, Some(key))
        }
        ConfigCommand::List => {
            let snap = beads.snapshot()?;
            (beads.config(&snap)?, None)
        }
    };
    let value = serde_json::to_value(&config).expect("config serialises");
    let shown = match &key {
        Some(k) => value.get(k).cloned().unwrap_or(Value::Null),
        None => value,
    };
    if ctx.global.json {
        print_json(&shown)?;
    } else {
        let text = match shown {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| format!("{k} = {}\n", plain(v)))
                .collect(),
            other => format!("{}\n", plain(&other)),
        };
        print_text(&text)?;
    }
    Ok(0)
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}
