//! `git agent prime`: everything an agent needs at the start of a session, from state alone —
//! who it is, its role's instructions, the work on its hook (with its molecule's steps as a
//! checklist, the current step marked), its unread mail, and its predecessor's handoff note.
//! Run by the agent, or by the runtime's SessionStart hook (`--hook`).

use std::path::Path;

use serde::Serialize;
use serde_json::{json, Value};

use super::{Address, Agent, Agents, Role};
use crate::bead::{molecule, Beads};
use crate::error::Result;
use crate::records;
use crate::town::Town;

/// What `prime --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Primed {
    pub agent: Agent,
    /// The role's instructions (built-in, or `directives/<role>.md` of the rig or town).
    pub instructions: String,
    /// Where the instructions came from: `built-in` or a file path.
    pub instructions_from: String,
    pub hook: Option<HookView>,
    /// The hook's molecule, when a formula was poured onto it.
    pub molecule: Option<Value>,
    /// Unread messages for this agent (the town's mail).
    pub mail: Vec<Value>,
    /// The note the agent's previous session left (`git agent handoff -m`).
    pub handoff: Option<Value>,
    /// Advisory locks this agent holds (`git board lock`): release them when done.
    pub locks: Vec<crate::board::Lock>,
    /// The most recent decisions of the town (`git board decide`), newest first.
    pub decisions: Vec<crate::board::Decision>,
    /// What to do now, in one sentence.
    pub next: String,
}

/// The bead on the hook, as the agent needs it.
#[derive(Debug, Clone, Serialize)]
pub struct HookView {
    pub id: String,
    pub title: String,
    pub status: String,
    pub priority: i64,
    pub issue_type: String,
    pub description: String,
    pub acceptance_criteria: String,
    pub design: String,
    pub notes: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_formula: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_vars: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convoy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatched_by: Option<String>,
    pub comments: Vec<Value>,
}

const BUILT_IN: [(Role, &str); 6] = [
    (Role::Polecat, include_str!("roles/polecat.md")),
    (Role::Crew, include_str!("roles/crew.md")),
    (Role::Mayor, include_str!("roles/mayor.md")),
    (Role::Deacon, include_str!("roles/deacon.md")),
    (Role::Witness, include_str!("roles/witness.md")),
    (Role::Refinery, include_str!("roles/refinery.md")),
];

/// The role's instructions: `directives/<role>.md` in the rig, else in the town, else the
/// built-in template. (The most specific file wins, so a rig can say what differs there.)
pub fn instructions(town: &Town, rig_path: Option<&Path>, role: Role) -> (String, String) {
    let file = format!("directives/{}.md", role.as_str());
    let candidates = rig_path
        .into_iter()
        .chain(std::iter::once(town.root.as_path()));
    for dir in candidates {
        let path = dir.join(&file);
        if let Ok(text) = std::fs::read_to_string(&path) {
            return (text, path.to_string_lossy().into_owned());
        }
    }
    let text = BUILT_IN
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, t)| *t)
        .unwrap_or_default();
    (text.to_string(), "built-in".to_string())
}

impl Agents<'_> {
    /// Prime `address`.
    pub fn prime(&self, address: &Address) -> Result<Primed> {
        let agent = self.get(address)?;
        let (store, rig) = self.store_for(address)?;
        let (instructions, instructions_from) = instructions(
            self.town,
            rig.as_ref().map(|r| r.path.as_path()),
            address.role,
        );
        let mut hook = None;
        let mut molecule_view = None;
        if let Some(bead) = &agent.hook {
            let beads = Beads::for_id(&store, bead);
            let snap = beads.snapshot()?;
            if let Some(record) = records::read(&snap, &crate::bead::id::record_path(bead))? {
                let text = |k: &str| record.str(k).unwrap_or("").to_string();
                let mut comments: Vec<(String, Value)> = record
                    .comments
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                comments.sort_by(|a, b| a.0.cmp(&b.0));
                hook = Some(HookView {
                    id: bead.clone(),
                    title: record.title().to_string(),
                    status: record.status().to_string(),
                    priority: record.priority(),
                    issue_type: record.issue_type().to_string(),
                    description: text("description"),
                    acceptance_criteria: text("acceptance_criteria"),
                    design: text("design"),
                    notes: text("notes"),
                    attached_formula: record.str("attached_formula").map(str::to_string),
                    attached_vars: record.get("attached_vars").cloned(),
                    convoy: record.str("convoy_id").map(str::to_string),
                    dispatched_by: record.str("dispatched_by").map(str::to_string),
                    comments: comments.into_iter().map(|(_, v)| v).collect(),
                });
                if let Some(root) = record.str("attached_molecule") {
                    let mol_beads = Beads::for_id(&store, root);
                    if let Ok(mol_snap) = mol_beads.snapshot() {
                        let index = mol_beads.index(&mol_snap)?;
                        let now = chrono::Utc::now().timestamp_millis();
                        molecule_view = molecule::progress(&index, root, now).ok();
                    }
                }
            }
        }
        let handoff = agent.handoff.clone();
        // Mail is information: a mail store that cannot be read must not keep an agent
        // from starting, so a failure here is an empty list.
        let mail = crate::mail::Mail::new(self.town)
            .fresh(&address.to_string(), false)
            .map(|fresh| {
                fresh
                    .iter()
                    .filter_map(|m| serde_json::to_value(m).ok())
                    .collect()
            })
            .unwrap_or_default();
        // The board informs too: unreadable, it is empty rather than a failed start.
        let board = crate::board::Board::new(self.town);
        let locks = board.locks_of(&address.to_string()).unwrap_or_default();
        let decisions = board.recent_decisions(RECENT_DECISIONS).unwrap_or_default();
        let next = match (&hook, &molecule_view) {
            (Some(h), Some(m)) => {
                let current = m["steps"]
                    .as_array()
                    .and_then(|steps| {
                        steps.iter().find(|s| s["state"] == "current").or_else(|| steps.iter().find(|s| s["state"] == "ready"))
                    })
                    .map(|s| format!("step {} ({})", s["id"].as_str().unwrap_or(""), s["title"].as_str().unwrap_or("")))
                    .unwrap_or_else(|| "the remaining steps".to_string());
                format!("Work on {} now: {current}. Close each step with `git bead close STEP --continue`; run `git agent done` when the work is committed.", h.id)
            }
            (Some(h), None) => format!("Work on {} now; commit on your branch, then run `git agent done`.", h.id),
            (None, _) => match address.role {
                Role::Polecat => "Your hook is empty: there is nothing to do. End your session; you will be started again when work is slung to you.".to_string(),
                Role::Crew => "Your hook is empty: pick work with `git bead ready`, claim it with `git bead update ID --claim`.".to_string(),
                _ => "Your hook is empty: follow your role's instructions.".to_string(),
            },
        };
        Ok(Primed {
            agent,
            instructions,
            instructions_from,
            hook,
            molecule: molecule_view,
            mail,
            handoff,
            locks,
            decisions,
            next,
        })
    }
}

/// How many recent decisions prime shows.
const RECENT_DECISIONS: usize = 5;

/// Prime as text: the form a person or the SessionStart hook reads.
pub fn render(primed: &Primed) -> String {
    let mut out = String::new();
    let a = &primed.agent;
    out.push_str(&format!("# You are {} ({})\n\n", a.address, a.role));
    if let Some(sandbox) = &a.sandbox {
        out.push_str(&format!("Sandbox: {}", sandbox.display()));
        if let Some(branch) = &a.branch {
            out.push_str(&format!(" (branch {branch})"));
        }
        out.push_str("\n\n");
    }
    out.push_str(primed.instructions.trim_end());
    out.push_str("\n\n");
    match &primed.hook {
        Some(h) => {
            out.push_str(&format!("## On your hook: {} — {}\n\n", h.id, h.title));
            out.push_str(&format!(
                "Priority P{} · {} · {}\n",
                h.priority, h.issue_type, h.status
            ));
            for (label, text) in [
                ("Description", &h.description),
                ("Acceptance criteria", &h.acceptance_criteria),
                ("Design", &h.design),
                ("Notes", &h.notes),
            ] {
                if !text.trim().is_empty() {
                    out.push_str(&format!("\n### {label}\n{}\n", text.trim_end()));
                }
            }
            if let Some(m) = &primed.molecule {
                out.push_str(&format!(
                    "\n### Steps ({}/{} done)\n",
                    m["progress"]["done"], m["progress"]["total"]
                ));
                for step in m["steps"].as_array().into_iter().flatten() {
                    let mark = match step["state"].as_str() {
                        Some("done") => "[x]",
                        Some("current") => "[>]",
                        _ => "[ ]",
                    };
                    out.push_str(&format!(
                        "- {mark} {} {}\n",
                        step["id"].as_str().unwrap_or(""),
                        step["title"].as_str().unwrap_or("")
                    ));
                }
            }
        }
        None => out.push_str("## Your hook is empty\n"),
    }
    if let Some(note) = &primed.handoff {
        out.push_str(&format!(
            "\n## Handoff from your previous session\n{}\n",
            note["text"].as_str().unwrap_or("").trim_end()
        ));
    }
    if !primed.mail.is_empty() {
        out.push_str(&format!("\n## Unread mail: {}\n", primed.mail.len()));
        for m in &primed.mail {
            out.push_str(&format!(
                "- {} from {}: {}\n",
                m["id"].as_str().unwrap_or(""),
                m["from"].as_str().unwrap_or(""),
                m["subject"].as_str().unwrap_or("")
            ));
        }
    }
    if !primed.locks.is_empty() {
        out.push_str(&format!(
            "\n## Your locks: {} (release with `git board unlock PATH`)\n",
            primed.locks.len()
        ));
        for l in &primed.locks {
            out.push_str(&format!(
                "- {} until {}: {}\n",
                l.path,
                l.expires,
                l.intent.lines().next().unwrap_or("")
            ));
        }
    }
    if !primed.decisions.is_empty() {
        out.push_str("\n## Recent decisions (`git board decisions`)\n");
        for d in &primed.decisions {
            out.push_str(&format!(
                "- {} {}: {}\n",
                d.id,
                d.title,
                d.decision.lines().next().unwrap_or("")
            ));
        }
    }
    out.push_str(&format!("\n**Next:** {}\n", primed.next));
    out
}

/// The SessionStart answer every hook-capable runtime reads: the context as
/// `additionalContext` (Claude Code also accepts plain text; Gemini CLI wants JSON only).
pub fn hook_answer(text: &str) -> Value {
    json!({
        "hookSpecificOutput": {
            "hookEventName": "SessionStart",
            "additionalContext": text,
        }
    })
}
