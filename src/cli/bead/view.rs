//! How beads look on a terminal. Every piece of bead text goes through `text::line` (or
//! `text::block_line` for multi-line fields), so it cannot rewrite the terminal.

use serde_json::{json, Value};

use crate::bead::details;
use crate::bead::index::Index;
use crate::bead::{query, Record};
use crate::cli::text::{block_line, line};
use crate::cli::{print_json, print_text, Ctx};
use crate::error::Result;
use crate::store::Snapshot;

/// How `print_rows` lays rows out on a terminal (JSON is always a flat array).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Flat,
    /// Children indented under their parents (`list --tree`).
    Tree,
}

/// Print index rows: bd's counted rows as a JSON array, or one line each.
pub fn print_rows(
    ctx: &Ctx,
    snap: &Snapshot<'_>,
    index: &Index,
    rows: &[usize],
    total: usize,
    with_blockers: bool,
    layout: Layout,
) -> Result<i32> {
    if ctx.global.json {
        print_json(&details::counted_rows(snap, index, rows, with_blockers)?)?;
        return Ok(0);
    }
    let placed: Vec<(usize, usize)> = match layout {
        Layout::Flat => rows.iter().map(|&i| (i, 0)).collect(),
        Layout::Tree => query::forest(index, rows),
    };
    let mut text = String::new();
    for (i, depth) in placed {
        let row = &index.rows[i];
        text.push_str(&"  ".repeat(depth));
        text.push_str(&format!(
            "{}  P{}  {:<8} {:<11} {}",
            line(index.id(row)),
            row.priority,
            line(index.issue_type(row)),
            line(index.status(row)),
            line(index.title(row))
        ));
        if !index.assignee(row).is_empty() {
            text.push_str(&format!("  @{}", line(index.assignee(row))));
        }
        let labels: Vec<&str> = index.labels(row).collect();
        if !labels.is_empty() {
            text.push_str(&format!("  [{}]", line(&labels.join(", "))));
        }
        if with_blockers {
            text.push_str(&format!(
                "  ← {}",
                line(&crate::bead::graph::blocked_reason(index, row))
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
    let mut out = format!("{}: {}\n", line(&record.id), line(record.title()));
    out.push_str(&format!(
        "Status: {}   Priority: P{}   Type: {}\n",
        line(record.status()),
        record.priority(),
        line(record.issue_type())
    ));
    let mut people = Vec::new();
    for (label, key) in [("Assignee", "assignee"), ("Owner", "owner")] {
        if let Some(v) = record.str(key) {
            people.push(format!("{label}: {}", line(v)));
        }
    }
    if !people.is_empty() {
        out.push_str(&format!("{}\n", people.join("   ")));
    }
    out.push_str(&format!(
        "Created: {} by {}   Updated: {}\n",
        line(record.str("created_at").unwrap_or("?")),
        line(record.str("created_by").unwrap_or("?")),
        line(record.str("updated_at").unwrap_or("?"))
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
            out.push_str(&format!("{label}: {}\n", line(v)));
        }
    }
    let labels: Vec<&str> = record.label_names().collect();
    if !labels.is_empty() {
        out.push_str(&format!("Labels: {}\n", line(&labels.join(", "))));
    }
    let deps: Vec<String> = record
        .live_deps()
        .map(|(t, k, _)| format!("{} ({})", line(t), line(k)))
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
            for text_line in text.lines() {
                out.push_str(&format!("  {}\n", block_line(text_line)));
            }
        }
    }
    if let Some(Value::Array(comments)) = record.to_json(true).get("comments") {
        out.push_str(&format!("\nComments ({}):\n", comments.len()));
        for c in comments {
            out.push_str(&format!("  {}", comment_line(c)));
        }
    }
    out
}

/// `[DATE] AUTHOR: TEXT` and a newline.
pub fn comment_line(comment: &Value) -> String {
    format!(
        "[{}] {}: {}\n",
        line(comment["created_at"].as_str().unwrap_or("")),
        line(comment["author"].as_str().unwrap_or("")),
        line(comment["text"].as_str().unwrap_or(""))
    )
}

pub fn explain_text(explained: &Value) -> String {
    let mut out = String::new();
    let s = &explained["summary"];
    out.push_str(&format!(
        "{} open: {} ready, {} not ready, {} cycles\n",
        s["open"], s["ready"], s["not_ready"], s["cycles"]
    ));
    let text = |item: &Value, key: &str| line(item[key].as_str().unwrap_or("")).into_owned();
    for item in explained["ready"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "ready    {}  {}\n",
            text(item, "id"),
            text(item, "title")
        ));
    }
    for item in explained["blocked"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "waiting  {}  {}  ← {}\n",
            text(item, "id"),
            text(item, "title"),
            text(item, "reason")
        ));
    }
    for cycle in explained["cycles"].as_array().into_iter().flatten() {
        let ids: Vec<&str> = cycle
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        out.push_str(&format!("cycle    {}\n", line(&ids.join(" → "))));
    }
    out
}

pub fn tree_text(node: &Value, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let kind = node["dep_type"]
        .as_str()
        .map(|k| format!(" ({})", line(k)))
        .unwrap_or_default();
    let cycle = if node["cycle"] == json!(true) {
        "  [cycle]"
    } else {
        ""
    };
    out.push_str(&format!(
        "{indent}{} [{}] {}{kind}{cycle}\n",
        line(node["id"].as_str().unwrap_or("")),
        line(node["status"].as_str().unwrap_or("")),
        line(node["title"].as_str().unwrap_or(""))
    ));
    for child in node["children"].as_array().into_iter().flatten() {
        tree_text(child, depth + 1, out);
    }
}
