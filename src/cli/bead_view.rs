//! How beads look on a terminal, and parsing of bulk-create files.

use serde_json::{json, Map, Value};

use super::{print_json, print_text, Ctx};
use crate::bead::index::Index;
use crate::bead::{NewBead, Record};
use crate::error::{Error, Result};
use crate::store::Snapshot;

/// Print index rows: full records as a JSON array, or one line each.
pub fn print_rows(
    ctx: &Ctx,
    snap: &Snapshot<'_>,
    index: &Index,
    rows: &[usize],
    total: usize,
    with_blockers: bool,
) -> Result<i32> {
    if ctx.global.json {
        let mut out = Vec::with_capacity(rows.len());
        for &i in rows {
            let row = &index.rows[i];
            let record = Record::parse(&snap.read_blob(row.blob)?)?;
            let mut value = record.to_json(false);
            if with_blockers {
                value["blocked_by"] = json!(crate::bead::graph::blocked_by(index, row));
            }
            out.push(value);
        }
        print_json(&out)?;
        return Ok(0);
    }
    let mut text = String::new();
    for &i in rows {
        let row = &index.rows[i];
        text.push_str(&format!(
            "{}  P{}  {:<8} {:<11} {}",
            index.id(row),
            row.priority,
            index.issue_type(row),
            index.status(row),
            index.title(row)
        ));
        if !index.assignee(row).is_empty() {
            text.push_str(&format!("  @{}", index.assignee(row)));
        }
        let labels: Vec<&str> = index.labels(row).collect();
        if !labels.is_empty() {
            text.push_str(&format!("  [{}]", labels.join(", ")));
        }
        if with_blockers {
            text.push_str(&format!(
                "  ← {}",
                crate::bead::graph::blocked_reason(index, row)
            ));
        }
        text.push('\n');
    }
    print_text(&text)?;
    if total > rows.len() {
        ctx.status(format!(
            "Showing {} of {total} (use --limit 0 for all)",
            rows.len()
        ));
    }
    Ok(0)
}

/// The `show` view of one record.
pub fn record_lines(record: &Record) -> String {
    let mut out = format!("{}: {}\n", record.id, record.title());
    out.push_str(&format!(
        "Status: {}   Priority: P{}   Type: {}\n",
        record.status(),
        record.priority(),
        record.issue_type()
    ));
    let mut people = Vec::new();
    for (label, key) in [("Assignee", "assignee"), ("Owner", "owner")] {
        if let Some(v) = record.str(key) {
            people.push(format!("{label}: {v}"));
        }
    }
    if !people.is_empty() {
        out.push_str(&format!("{}\n", people.join("   ")));
    }
    out.push_str(&format!(
        "Created: {} by {}   Updated: {}\n",
        record.str("created_at").unwrap_or("?"),
        record.str("created_by").unwrap_or("?"),
        record.str("updated_at").unwrap_or("?")
    ));
    for (label, key) in [
        ("Closed", "closed_at"),
        ("Close reason", "close_reason"),
        ("Due", "due_at"),
        ("Deferred until", "defer_until"),
        ("External ref", "external_ref"),
        ("Attached molecule", "attached_molecule"),
    ] {
        if let Some(v) = record.str(key) {
            out.push_str(&format!("{label}: {v}\n"));
        }
    }
    let labels: Vec<&str> = record.label_names().collect();
    if !labels.is_empty() {
        out.push_str(&format!("Labels: {}\n", labels.join(", ")));
    }
    let deps: Vec<String> = record
        .live_deps()
        .map(|(t, k, _)| format!("{t} ({k})"))
        .collect();
    if !deps.is_empty() {
        out.push_str(&format!("Depends on: {}\n", deps.join(", ")));
    }
    for (label, key) in [
        ("Description", "description"),
        ("Design", "design"),
        ("Acceptance criteria", "acceptance_criteria"),
        ("Notes", "notes"),
    ] {
        if let Some(text) = record.str(key) {
            out.push_str(&format!("\n{label}:\n"));
            for line in text.lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
    }
    if let Some(Value::Array(comments)) = record.to_json(true).get("comments") {
        out.push_str(&format!("\nComments ({}):\n", comments.len()));
        for c in comments {
            out.push_str(&format!(
                "  [{}] {}: {}\n",
                c["created_at"].as_str().unwrap_or(""),
                c["author"].as_str().unwrap_or(""),
                c["text"].as_str().unwrap_or("")
            ));
        }
    }
    out
}

pub fn explain_text(explained: &Value) -> String {
    let mut out = String::new();
    let s = &explained["summary"];
    out.push_str(&format!(
        "{} open: {} ready, {} not ready, {} cycles\n",
        s["open"], s["ready"], s["not_ready"], s["cycles"]
    ));
    for item in explained["ready"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "ready    {}  {}\n",
            item["id"].as_str().unwrap_or(""),
            item["title"].as_str().unwrap_or("")
        ));
    }
    for item in explained["blocked"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "waiting  {}  {}  ← {}\n",
            item["id"].as_str().unwrap_or(""),
            item["title"].as_str().unwrap_or(""),
            item["reason"].as_str().unwrap_or("")
        ));
    }
    for cycle in explained["cycles"].as_array().into_iter().flatten() {
        let ids: Vec<&str> = cycle
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        out.push_str(&format!("cycle    {}\n", ids.join(" → ")));
    }
    out
}

pub fn tree_text(node: &Value, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let kind = node["dep_type"]
        .as_str()
        .map(|k| format!(" ({k})"))
        .unwrap_or_default();
    let cycle = if node["cycle"] == json!(true) {
        "  [cycle]"
    } else {
        ""
    };
    out.push_str(&format!(
        "{indent}{} [{}] {}{kind}{cycle}\n",
        node["id"].as_str().unwrap_or(""),
        node["status"].as_str().unwrap_or(""),
        node["title"].as_str().unwrap_or("")
    ));
    for child in node["children"].as_array().into_iter().flatten() {
        tree_text(child, depth + 1, out);
    }
}

/// Bulk create from JSONL: one object per line with a title and any bd fields; `parent`
/// and `deps` (ids or TYPE:ID) are honoured.
pub fn beads_from_jsonl(text: &str) -> Result<Vec<NewBead>> {
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
            deps: super::bead_run::parse_dep_specs(&deps)?,
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
pub fn beads_from_markdown(text: &str) -> Result<Vec<NewBead>> {
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
                    bead.deps.extend(super::bead_run::parse_dep_specs(&specs)?);
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
