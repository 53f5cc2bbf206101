//! What several `git bead` commands share: the query flags, argument parsers, the usual
//! report of a write.

use clap::Args;
use serde_json::{Map, Value};

use crate::bead::query::{Filter, Sort};
use crate::bead::{schema, Beads, Record};
use crate::cli::{print_json, text, Ctx};
use crate::error::{Error, Result};
use crate::store::Snapshot;

/// The filters of `list`, `ready`, `blocked` and `search`.
#[derive(Debug, Clone, Args)]
pub struct QueryArgs {
    /// Only these statuses (comma-separated)
    #[arg(long, short, value_delimiter = ',')]
    pub status: Vec<String>,
    /// Only these types (comma-separated)
    #[arg(long = "type", short = 't', value_delimiter = ',')]
    pub issue_type: Vec<String>,
    /// Only beads with all of these labels (can be repeated)
    #[arg(long, short, value_delimiter = ',')]
    pub label: Vec<String>,
    /// Only beads with at least one of these labels
    #[arg(long, value_delimiter = ',')]
    pub label_any: Vec<String>,
    #[arg(long, short)]
    pub assignee: Option<String>,
    /// Only beads nobody is assigned to
    #[arg(long)]
    pub unassigned: bool,
    /// Only these priorities (comma-separated, 0-4)
    #[arg(long, short, value_delimiter = ',')]
    pub priority: Vec<String>,
    /// Only descendants of this bead
    #[arg(long)]
    pub parent: Option<String>,
    /// Show at most N beads (0 = no limit)
    #[arg(long, short = 'n')]
    pub limit: Option<usize>,
    /// Sort order
    #[arg(long, value_enum)]
    pub sort: Option<Sort>,
}

impl QueryArgs {
    /// The filter these flags select (`all`: closed beads too; `text`: a search string),
    /// checked against the store's statuses and types.
    pub fn filter(
        &self,
        beads: &Beads<'_>,
        snap: &Snapshot<'_>,
        all: bool,
        text: Option<String>,
    ) -> Result<Filter> {
        let priorities = self
            .priority
            .iter()
            .map(|p| schema::parse_priority(p).map(|p| p as u8))
            .collect::<Result<Vec<_>>>()?;
        let mut filter = Filter {
            statuses: self
                .status
                .iter()
                .map(|s| s.trim().to_ascii_lowercase().replace('-', "_"))
                .collect(),
            all,
            types: self.issue_type.clone(),
            labels: self.label.clone(),
            labels_any: self.label_any.clone(),
            assignee: self.assignee.clone(),
            unassigned: self.unassigned,
            priorities,
            text,
            parent: self.parent.clone(),
        };
        filter.check(&beads.config(snap)?)?;
        Ok(filter)
    }

    pub fn sort(&self) -> Sort {
        self.sort.unwrap_or(Sort::Priority)
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Report written records: their JSON, or `VERB ID: TITLE` status lines.
pub fn done(ctx: &Ctx, verb: &str, records: &[Record]) -> Result<i32> {
    if ctx.global.json {
        print_json(&records.iter().map(|r| r.to_json(true)).collect::<Vec<_>>())?;
    } else {
        for record in records {
            ctx.status(format!(
                "{verb} {}: {}",
                text::line(&record.id),
                text::line(record.title())
            ));
        }
    }
    Ok(0)
}

/// A JSON object given on the command line (`--metadata`).
pub fn json_object_arg(raw: &str, what: &str) -> Result<Map<String, Value>> {
    let value: Value = serde_json::from_str(raw)
        .map_err(|e| Error::invalid(format!("bad {what} JSON '{raw}': {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(Error::invalid(format!(
            "{what} must be a JSON object, got '{raw}'"
        ))),
    }
}

/// A time given on the command line; "" clears it (`None`).
pub fn time_arg(raw: &str) -> Result<Option<String>> {
    if raw.is_empty() {
        return Ok(None);
    }
    Ok(Some(schema::parse_time(raw, chrono::Utc::now())?))
}

/// `ID` or `TYPE:ID` (bd's --deps syntax); ids may themselves contain ':'.
pub fn parse_dep_specs(specs: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for spec in specs.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match spec.split_once(':') {
            Some((kind, id)) if schema::KNOWN_DEP_TYPES.contains(&kind) && !id.is_empty() => {
                out.push((id.to_string(), kind.to_string()));
            }
            _ => out.push((spec.to_string(), "blocks".to_string())),
        }
    }
    out
}

/// The text of a file, or of standard input for `-`.
pub fn read_input(path: &std::path::Path) -> Result<String> {
    String::from_utf8(read_input_bytes(path)?)
        .map_err(|_| Error::invalid(format!("'{}' is not valid UTF-8", path.display())))
}

/// The bytes of a file, or of standard input for `-` (import names the line of bad UTF-8).
pub fn read_input_bytes(path: &std::path::Path) -> Result<Vec<u8>> {
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
