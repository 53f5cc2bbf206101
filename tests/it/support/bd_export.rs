//! A generated bd JSONL export with everything the real ones in ../shared/testdata/bd
//! use, so the default suite proves import/export and `ready` on bd data without them:
//! hash ids of several lengths, hierarchical ids (`bd-a3f8.2`), every dependency type
//! (blocks, parent-child, discovered-from, related, tracks, and an `external:` target),
//! fractional timestamps with offsets, long markdown bodies with escapes and non-ASCII
//! text, fields this project does not know (`content_hash`, `source_repo`, `owner`),
//! labels, assignees, close reasons and comments.

use serde_json::{json, Map, Value};

use super::sample::Rng;

/// An export and what it holds.
pub struct Export {
    pub text: String,
    pub total: usize,
    pub closed: usize,
}

const TYPES: [&str; 7] = ["task", "task", "bug", "feature", "chore", "convoy", "agent"];
const BASE36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// `roots` top-level beads (every sixth an epic with up to three children), deterministic
/// for a seed.
pub fn generate(seed: u64, roots: usize) -> Export {
    let mut rng = Rng(seed | 1);
    let mut issues: Vec<Map<String, Value>> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut comment_id = 100;
    for i in 0..roots {
        let id = loop {
            // bd's hash ids: 3 to 8 base36 characters (longer as a store grows).
            let len = 3 + rng.below(6) as usize;
            let suffix: String = (0..len).map(|_| *rng.pick(BASE36) as char).collect();
            let id = format!("bd-{suffix}");
            if !ids.contains(&id) {
                break id;
            }
        };
        let epic = i % 6 == 0;
        let issue_type = if epic { "epic" } else { *rng.pick(&TYPES) };
        let mut issue = bead(&mut rng, &id, issue_type);
        let mut deps = Vec::new();
        if i > 0 && rng.below(10) < 4 {
            let target = ids[rng.below(ids.len() as u64) as usize].clone();
            let kind = *rng.pick(&["blocks", "blocks", "discovered-from", "related", "tracks"]);
            deps.push(dep(&id, &target, kind));
        }
        if i == 1 {
            deps.push(dep(&id, "external:bd-other.3:bd-other.3", "tracks"));
        }
        set_deps(&mut issue, deps);
        if rng.below(5) == 0 {
            let comments: Vec<Value> = (0..1 + rng.below(3))
                .map(|k| {
                    comment_id += 1;
                    json!({"id": comment_id, "issue_id": id, "author": "agent-7",
                           "text": format!("Comment {k} on {id}: \"quoted\", tab\there, ünïcode"),
                           "created_at": "2025-11-02T22:01:07.295058-08:00"})
                })
                .collect();
            issue.insert("comments".into(), Value::Array(comments));
        }
        issues.push(issue);
        ids.push(id.clone());
        if epic {
            for child in 1..=1 + rng.below(3) {
                let child_id = format!("{id}.{child}");
                let mut issue = bead(&mut rng, &child_id, "task");
                let mut deps = vec![dep(&child_id, &id, "parent-child")];
                if child > 1 {
                    deps.push(dep(&child_id, &format!("{id}.{}", child - 1), "blocks"));
                }
                set_deps(&mut issue, deps);
                issues.push(issue);
                ids.push(child_id);
            }
        }
    }
    let closed = issues.iter().filter(|i| i["status"] == "closed").count();
    let mut text = String::new();
    for issue in &issues {
        text.push_str(&Value::Object(issue.clone()).to_string());
        text.push('\n');
    }
    Export {
        text,
        total: issues.len(),
        closed,
    }
}

fn bead(rng: &mut Rng, id: &str, issue_type: &str) -> Map<String, Value> {
    let status = *rng.pick(&["closed", "closed", "closed", "open", "open", "in_progress"]);
    let day = 1 + rng.below(28);
    let mut stamp = |hour: u64| {
        format!(
            "2025-10-{day:02}T{hour:02}:48:57.{:06}-07:00",
            rng.below(1_000_000)
        )
    };
    let created = stamp(8);
    let updated = stamp(17);
    let mut issue = json!({
        "id": id,
        "content_hash": format!("{:016x}{:016x}{:016x}{:016x}", rng.next(), rng.next(), rng.next(), rng.next()),
        "title": format!("Fix the {} & {} path — “{id}”", rng.pick(&["login", "sync", "merge"]), rng.pick(&["cache", "index"])),
        "description": format!(
            "## Context\n\nGenerated for {id}. {}\n\n```rust\nlet x = \"a\\\\b\";\n```\n\n- [ ] one\n- [x] two\n",
            "Lorem ipsum dolor sit amet, ünïcode ok. ".repeat(1 + rng.below(12) as usize)
        ),
        "status": status,
        "priority": rng.below(5),
        "issue_type": issue_type,
        "created_at": created,
        "updated_at": updated,
        "source_repo": ".",
    });
    let issue = issue.as_object_mut().unwrap();
    let mut optional = |key: &str, value: Value, rng: &mut Rng| {
        if rng.below(4) == 0 {
            issue.insert(key.into(), value);
        }
    };
    optional(
        "acceptance_criteria",
        json!("- it works\n- tests pass"),
        rng,
    );
    optional("design", json!("Keep the **old** API; add a flag."), rng);
    optional("notes", json!("Seen on 2025-10-30.\nSecond line."), rng);
    optional(
        "external_ref",
        json!(format!("gh-{}", rng.below(900) + 100)),
        rng,
    );
    optional("owner", json!("someone@example.com"), rng);
    optional("created_by", json!("mayor"), rng);
    optional(
        "labels",
        json!([format!("area:{}", rng.below(4)), "gt:role"]),
        rng,
    );
    if status == "in_progress" {
        issue.insert(
            "assignee".into(),
            json!(format!("polecat-{}", rng.below(9))),
        );
    }
    if status == "closed" {
        issue.insert(
            "closed_at".into(),
            json!("2025-11-04T12:31:59.701571-08:00"),
        );
        if rng.below(2) == 0 {
            issue.insert("close_reason".into(), json!("Done in 3f9c2e1."));
        }
    }
    issue.clone()
}

fn dep(from: &str, to: &str, kind: &str) -> Value {
    json!({"issue_id": from, "depends_on_id": to, "type": kind,
           "created_at": "2025-10-28T09:15:00.5-07:00", "created_by": "daemon"})
}

fn set_deps(issue: &mut Map<String, Value>, deps: Vec<Value>) {
    if !deps.is_empty() {
        issue.insert("dependencies".into(), Value::Array(deps));
    }
}
