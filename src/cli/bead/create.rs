//! `git bead create`: one bead from flags, or many from a JSONL or markdown file.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::shared::{json_object_arg, parse_dep_specs, read_input, time_arg};
use super::Run;
use crate::bead::{Beads, NewBead};
use crate::cli::{print_json, print_text, resolve_path, text, Ctx};
use crate::error::{Error, Result};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Title of the bead
    #[arg(required_unless_present = "file")]
    pub title: Option<String>,
    #[arg(long, short)]
    pub description: Option<String>,
    /// Issue type: task, bug, feature, epic, chore, decision, ...
    #[arg(long = "type", short = 't')]
    pub issue_type: Option<String>,
    /// Priority 0 (highest) to 4 (backlog), or P0-P4
    #[arg(long, short)]
    pub priority: Option<String>,
    #[arg(long, short)]
    pub assignee: Option<String>,
    /// Labels, comma-separated (can be repeated)
    #[arg(long = "labels", short = 'l', value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Make the bead a child of this one (its id becomes <parent>.N)
    #[arg(long)]
    pub parent: Option<String>,
    /// Dependencies, comma-separated: ID or TYPE:ID (can be repeated)
    #[arg(long, value_delimiter = ',')]
    pub deps: Vec<String>,
    #[arg(long)]
    pub design: Option<String>,
    /// Acceptance criteria
    #[arg(long, visible_alias = "acceptance-criteria")]
    pub acceptance: Option<String>,
    #[arg(long)]
    pub notes: Option<String>,
    /// Use this id instead of generating one
    #[arg(long)]
    pub id: Option<String>,
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub external_ref: Option<String>,
    /// Due time: RFC 3339, YYYY-MM-DD or +N[m|h|d|w]
    #[arg(long)]
    pub due: Option<String>,
    /// Hide from ready until this time
    #[arg(long)]
    pub defer: Option<String>,
    /// Estimated minutes of work
    #[arg(long)]
    pub estimate: Option<u32>,
    /// Metadata as a JSON object
    #[arg(long)]
    pub metadata: Option<String>,
    /// Create many beads from a file: bd JSONL (.jsonl/.json) or markdown (## Title sections)
    #[arg(long, short, conflicts_with = "title")]
    pub file: Option<PathBuf>,
    /// Print only the new id
    #[arg(long)]
    pub silent: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let actor = ctx.actor(beads.store)?;
        let new_beads = match &self.file {
            Some(file) => {
                let path = resolve_path(ctx, file);
                let text = read_input(&path)?;
                let is_json = path
                    .extension()
                    .is_some_and(|e| e == "jsonl" || e == "json");
                if is_json {
                    beads_from_jsonl(&text)?
                } else {
                    beads_from_markdown(&text)?
                }
            }
            None => vec![self.new_bead()?],
        };
        let records = beads.create(&actor, new_beads)?;
        if ctx.global.json {
            if self.file.is_some() {
                print_json(&records.iter().map(|r| r.to_json(true)).collect::<Vec<_>>())?;
            } else {
                print_json(&records[0].to_json(true))?;
            }
        } else if self.silent {
            print_text(
                &records
                    .iter()
                    .map(|r| format!("{}\n", text::line(&r.id)))
                    .collect::<String>(),
            )?;
        } else {
            let lines: String = records
                .iter()
                .map(|r| format!("Created {}: {}\n", text::line(&r.id), text::line(r.title())))
                .collect();
            print_text(&lines)?;
        }
        Ok(0)
    }
}

impl Args {
    fn new_bead(&self) -> Result<NewBead> {
        let mut fields = Map::new();
        let text_fields = [
            ("description", &self.description),
            ("design", &self.design),
            ("acceptance_criteria", &self.acceptance),
            ("notes", &self.notes),
            ("assignee", &self.assignee),
            ("owner", &self.owner),
            ("external_ref", &self.external_ref),
            ("issue_type", &self.issue_type),
            ("priority", &self.priority),
        ];
        for (key, value) in text_fields {
            if let Some(v) = value {
                fields.insert(key.into(), json!(v));
            }
        }
        if let Some(due) = &self.due {
            fields.insert("due_at".into(), json!(time_arg(due)?));
        }
        if let Some(defer) = &self.defer {
            fields.insert("defer_until".into(), json!(time_arg(defer)?));
        }
        if let Some(estimate) = self.estimate {
            fields.insert("estimated_minutes".into(), json!(estimate));
        }
        if let Some(metadata) = &self.metadata {
            fields.insert(
                "metadata".into(),
                Value::Object(json_object_arg(metadata, "metadata")?),
            );
        }
        Ok(NewBead {
            id: self.id.clone(),
            title: self.title.clone().unwrap_or_default(),
            fields,
            labels: self
                .labels
                .iter()
                .filter(|l| !l.trim().is_empty())
                .cloned()
                .collect(),
            parent: self.parent.clone(),
            deps: parse_dep_specs(&self.deps),
        })
    }
}

/// Bulk create from JSONL: one object per line with a title and any bd fields; `parent`
/// and `deps` (ids or TYPE:ID) are honoured.
fn beads_from_jsonl(text: &str) -> Result<Vec<NewBead>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line)
            .map_err(|e| Error::invalid(format!("line {}: malformed JSON: {e}", n + 1)))?;
        let Value::Object(mut object) = value else {
            return Err(Error::invalid(format!(
                "line {}: expected a JSON object",
                n + 1
            )));
        };
        let title = match object.remove("title") {
            Some(Value::String(t)) if !t.trim().is_empty() => t,
            _ => return Err(Error::invalid(format!("line {}: missing \"title\"", n + 1))),
        };
        let labels = take_strings(&mut object, "labels");
        let mut deps = take_strings(&mut object, "deps");
        if let Some(Value::Array(list)) = object.remove("dependencies") {
            for dep in list {
                if let Some(target) = dep.get("depends_on_id").and_then(Value::as_str) {
                    let kind = dep.get("type").and_then(Value::as_str).unwrap_or("blocks");
                    deps.push(format!("{kind}:{target}"));
                }
            }
        }
        let parent = object
            .remove("parent")
            .and_then(|v| v.as_str().map(str::to_string));
        let id = object
            .remove("id")
            .and_then(|v| v.as_str().map(str::to_string));
        out.push(NewBead {
            id,
            title,
            fields: object,
            labels,
            parent,
            deps: parse_dep_specs(&deps),
        });
    }
    if out.is_empty() {
        return Err(Error::invalid("the file holds no beads"));
    }
    Ok(out)
}

fn take_strings(object: &mut Map<String, Value>, key: &str) -> Vec<String> {
    match object.remove(key) {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// Bulk create from markdown, bd's format: each `## Title` starts a bead; text under it is
/// the description; `### Priority`, `### Type`, `### Description`, `### Design`,
/// `### Acceptance Criteria`, `### Assignee`, `### Labels`, `### Dependencies` set fields.
fn beads_from_markdown(text: &str) -> Result<Vec<NewBead>> {
    let mut out: Vec<NewBead> = Vec::new();
    let mut section: Option<String> = None;
    let mut buffer = String::new();
    let flush =
        |bead: Option<&mut NewBead>, section: &Option<String>, buffer: &mut String| -> Result<()> {
            let content = buffer.trim().to_string();
            buffer.clear();
            let Some(bead) = bead else { return Ok(()) };
            if content.is_empty() {
                return Ok(());
            }
            let key = section
                .as_deref()
                .unwrap_or("description")
                .to_ascii_lowercase();
            match key.as_str() {
                "description" => {
                    bead.fields.insert("description".into(), json!(content));
                }
                "priority" => {
                    bead.fields.insert("priority".into(), json!(content));
                }
                "type" => {
                    bead.fields.insert("issue_type".into(), json!(content));
                }
                "design" | "notes" | "assignee" => {
                    bead.fields.insert(key, json!(content));
                }
                "acceptance criteria" | "acceptance" => {
                    bead.fields
                        .insert("acceptance_criteria".into(), json!(content));
                }
                "labels" => bead.labels.extend(
                    content
                        .split([',', '\n'])
                        .map(|l| l.trim().to_string())
                        .filter(|l| !l.is_empty()),
                ),
                "dependencies" | "deps" => {
                    let specs: Vec<String> = content
                        .split([',', '\n'])
                        .map(|l| l.trim().trim_start_matches("- ").to_string())
                        .filter(|l| !l.is_empty())
                        .collect();
                    bead.deps.extend(parse_dep_specs(&specs));
                }
                other => {
                    return Err(Error::invalid(format!(
                        "unknown section '### {other}' under '{}'",
                        bead.title
                    )))
                }
            }
            Ok(())
        };
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            flush(out.last_mut(), &section, &mut buffer)?;
            section = None;
            out.push(NewBead {
                title: title.trim().to_string(),
                ..NewBead::default()
            });
        } else if let Some(name) = line.strip_prefix("### ") {
            flush(out.last_mut(), &section, &mut buffer)?;
            section = Some(name.trim().to_string());
        } else {
            buffer.push_str(line);
            buffer.push('\n');
        }
    }
    flush(out.last_mut(), &section, &mut buffer)?;
    if out.is_empty() {
        return Err(Error::invalid(
            "the markdown file holds no '## Title' sections",
        ));
    }
    Ok(out)
}
