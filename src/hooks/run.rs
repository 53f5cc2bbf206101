//! What the installed hooks do when git runs them (`git gastown hooks run HOOK`). Each
//! returns what it did; only a guard's refusal (`refused`) may stop the user's git command,
//! and the CLI turns every error into a warning, so a broken store, a busy lock or a bug
//! of ours never fails a commit, a fetch or a push.

use std::path::Path;

use gix::ObjectId;
use serde::Serialize;

use crate::agent::{sandbox, Address, Agents, Role};
use crate::bead::Beads;
use crate::error::{Error, Result};
use crate::gitcmd;
use crate::mq::{self, record::MergeRequest};
use crate::records;
use crate::store::notes::NoteWrite;
use crate::store::{collection, remote, Actor, Store};
use crate::town::{settings, Town};

/// What a hook run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ran {
    pub hook: String,
    /// What was done, one line each.
    pub did: Vec<String>,
    /// What went wrong without stopping anything.
    pub warnings: Vec<String>,
    /// Set when a guard refuses: why, and how to push anyway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl Ran {
    fn new(hook: &str) -> Ran {
        Ran {
            hook: hook.to_string(),
            ..Ran::default()
        }
    }
}

/// Directory (in the common git dir's gastown state) of notes a busy store kept from
/// being written; the next `post-commit` writes them with its own.
fn pending_dir(store: &Store) -> std::path::PathBuf {
    store.state_dir().join("hooks").join("pending-notes")
}

/// The agent working in the repository at `store`: the sandbox's owner, else `GT_AGENT`.
fn agent_here(store: &Store, town: &Town) -> Option<Address> {
    if let Some(owner) = sandbox::owner_of_git_dir(store.repo().git_dir()) {
        return Address::parse(&owner).ok();
    }
    let env = std::env::var("GT_AGENT")
        .ok()
        .filter(|s| !s.trim().is_empty())?;
    Agents::new(town).resolve(&env).ok()
}

/// `post-commit`: note the new commit's bead, agent and session
/// (`refs/gastown/notes/work`) and move the agent's activity time. Outside any agent's
/// sandbox and without `GT_AGENT`, nothing is noted.
pub fn post_commit(store: &Store, actor: &Actor, dir: &Path) -> Result<Ran> {
    let mut ran = Ran::new("post-commit");
    let commit = store
        .repo()
        .head_id()
        .map_err(|e| Error::Git(format!("reading HEAD: {e}")))?
        .detach();
    let town = Town::discover(dir)?;
    let Some(address) = agent_here(store, &town) else {
        ran.did.push("no agent works here: nothing noted".into());
        return Ok(ran);
    };
    let agents = Agents::new(&town);
    let agent = agents.get(&address).ok();
    match agents.record_commit(&address) {
        Ok(_) => ran.did.push(format!("activity of {address} recorded")),
        Err(e) => ran.warnings.push(format!("activity of {address}: {e}")),
    }
    let bead = agent.as_ref().and_then(|a| a.hook.clone());
    let session = std::env::var("GT_SESSION")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| address.session_name());
    let mut text = format!("agent: {address}\n");
    if let Some(b) = &bead {
        text.push_str(&format!("bead: {b}\n"));
    }
    if let Some(rig) = &address.rig {
        text.push_str(&format!("rig: {rig}\n"));
    }
    if let Some(id) = agent.as_ref().and_then(|a| a.runtime_session_id.as_deref()) {
        text.push_str(&format!("runtime-session: {id}\n"));
    }
    text.push_str(&format!("session: {session}\n"));
    let note = NoteWrite {
        commit,
        text,
        trail: bead.iter().cloned().collect(),
    };
    let mut notes = pending(store);
    let pending_count = notes.len();
    notes.push(note.clone());
    match store.add_notes(actor, &notes) {
        Ok(_) => {
            clear_pending(store, &notes[..pending_count]);
            ran.did.push(format!(
                "noted {} by {address}{}",
                commit.to_hex_with_len(10),
                bead.map(|b| format!(" for {b}")).unwrap_or_default()
            ));
            if pending_count > 0 {
                ran.did
                    .push(format!("{pending_count} note(s) kept while busy written"));
            }
        }
        Err(Error::Busy { .. }) => {
            keep_pending(store, &note)?;
            ran.warnings.push(format!(
                "the store is busy: the note on {} is kept and written by the next commit",
                commit.to_hex_with_len(10)
            ));
        }
        Err(e) => return Err(e),
    }
    Ok(ran)
}

fn keep_pending(store: &Store, note: &NoteWrite) -> Result<()> {
    let dir = pending_dir(store);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let body = serde_json::json!({ "text": note.text, "trail": note.trail }).to_string();
    crate::mq::journal::write_atomically(&dir.join(note.commit.to_string()), body.as_bytes())
}

fn pending(store: &Store) -> Vec<NoteWrite> {
    let Ok(entries) = std::fs::read_dir(pending_dir(store)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(commit) = ObjectId::from_hex(name.as_bytes()) else {
            continue;
        };
        let Ok(value) = std::fs::read(entry.path())
            .map_err(|_| ())
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).map_err(|_| ()))
        else {
            continue;
        };
        let trail = value["trail"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(text) = value["text"].as_str() {
            out.push(NoteWrite {
                commit,
                text: text.to_string(),
                trail,
            });
        }
    }
    out
}

fn clear_pending(store: &Store, written: &[NoteWrite]) {
    for note in written {
        let _ = std::fs::remove_file(pending_dir(store).join(note.commit.to_string()));
    }
}

/// One line of a reference-transaction or pre-push input.
fn oid(text: &str) -> Option<ObjectId> {
    ObjectId::from_hex(text.as_bytes())
        .ok()
        .filter(|o| !o.is_null())
}

/// `reference-transaction committed`: merge collections fetched into
/// `refs/gastown-remotes/<remote>/` (as `git gastown sync` would, without its push), and
/// close the open merge requests whose commits a branch that moved now contains.
pub fn reference_transaction(
    store: &Store,
    actor: &Actor,
    state: &str,
    input: &str,
) -> Result<Ran> {
    let mut ran = Ran::new("reference-transaction");
    if state != "committed" {
        return Ok(ran);
    }
    for line in input.lines() {
        let mut parts = line.split_whitespace();
        let (Some(old), Some(new), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Some(new) = oid(new) else {
            continue; // a deletion
        };
        if let Some(rest) = name.strip_prefix(remote::REMOTES_NAMESPACE) {
            let Some((remote, collection)) = rest.split_once('/') else {
                continue;
            };
            if remote::is_local_only(collection) {
                continue;
            }
            if collection::layout(collection).is_none() {
                ran.warnings.push(format!(
                    "{name}: a collection this gastown does not know; not merged"
                ));
                continue;
            }
            let from = format!("{remote} (fetched)");
            match crate::sync::merge_tip(store, collection, new, actor, &from) {
                Ok(report) if report.changed_local() => ran
                    .did
                    .push(format!("{collection}: {} from {remote}", report.action)),
                Ok(_) => {}
                Err(e) => ran.warnings.push(format!("merging {name}: {e}")),
            }
        } else if let Some(branch) = name.strip_prefix("refs/heads/") {
            let Some(old) = oid(old) else {
                continue; // a new branch contains no one's merge yet
            };
            match close_merged_by_hand(store, actor, branch, old, new) {
                Ok(closed) => ran.did.extend(closed),
                Err(e) => ran.warnings.push(format!("{name}: {e}")),
            }
        }
    }
    Ok(ran)
}

/// The commits `new` has that `old` has not (most recent first); an ordinary commit on top
/// of `old` is answered without a git process.
fn new_commits(store: &Store, dir: &Path, old: ObjectId, new: ObjectId) -> Result<Vec<ObjectId>> {
    if let Ok(commit) = store.repo().find_commit(new) {
        let parents: Vec<ObjectId> = commit.parent_ids().map(|p| p.detach()).collect();
        if parents == [old] {
            return Ok(vec![new]);
        }
    }
    let out = gitcmd::run(
        dir,
        [
            "rev-list".to_string(),
            "--max-count=10000".into(),
            new.to_string(),
            format!("^{old}"),
        ],
    )?;
    Ok(out.lines().filter_map(oid).collect())
}

/// Close (as merged, in one write) the open requests targeting `branch` whose commit is
/// among the commits the move from `old` to `new` brought.
fn close_merged_by_hand(
    store: &Store,
    actor: &Actor,
    branch: &str,
    old: ObjectId,
    new: ObjectId,
) -> Result<Vec<String>> {
    let snap = store.snapshot(crate::bead::COLLECTION)?;
    if !snap.exists() || snap.resolve("mrs")?.is_none() {
        return Ok(Vec::new());
    }
    let prefix = Beads::new(store).config(&snap)?.prefix;
    let dir = store
        .repo()
        .workdir()
        .unwrap_or_else(|| store.common_dir())
        .to_path_buf();
    let mut found = Vec::new();
    for commit in new_commits(store, &dir, old, new)? {
        let hex = commit.to_string();
        let id = mq::id_for(&prefix, &hex);
        let Some(record) = records::read(&snap, &mq::record::path_of(&id))? else {
            continue;
        };
        let mr = MergeRequest::from_record(&record);
        if mr.is_open() && mr.target == branch && mr.commit == hex {
            found.push((mr.id, new.to_string()));
        }
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = found.iter().map(|(id, _)| id.clone()).collect();
    let written = mq::writes::record_merged_outside(store, actor, branch, &found)?;
    let mut did = vec![format!(
        "{branch} moved outside the queue and contains {}: merged",
        ids.join(", ")
    )];
    if !written.beads_closed.is_empty() {
        did.push(format!("closed {}", written.beads_closed.join(", ")));
    }
    Ok(did)
}

/// `pre-push REMOTE URL`: refuse a polecat's work pushed straight onto the rig's target
/// branch (it lands through the merge queue); warn, or with `hooks.locked_paths = refuse`
/// refuse, when a pushed commit touches a path another agent holds an advisory lock on
/// (`git board lock`).
pub fn pre_push(
    store: &Store,
    actor: &Actor,
    dir: &Path,
    remote: &str,
    input: &str,
) -> Result<Ran> {
    let mut ran = Ran::new("pre-push");
    let town = Town::discover(dir)?;
    // A repository that is no rig of its town (the town itself) has no target to guard.
    let Ok(rig) = town.rigs().containing(dir) else {
        return Ok(ran);
    };
    let rig_store = rig.open_store()?;
    let configured = settings::effective(Some(&rig_store), &town.store, "merge_queue.target")?;
    let target = sandbox::target_branch(&rig.path, configured.value.as_str());
    let target_ref = format!("refs/heads/{target}");
    let pusher =
        sandbox::owner_of_git_dir(store.repo().git_dir()).and_then(|o| Address::parse(&o).ok());
    let polecat_tips: Vec<(String, ObjectId)> = store.refs_under("refs/heads/polecat/")?;
    for line in input.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [local_ref, local_oid, remote_ref, _remote_oid] = parts[..] else {
            continue;
        };
        let Some(local) = oid(local_oid) else {
            continue; // a deletion
        };
        if remote_ref != target_ref {
            continue;
        }
        let what = if let Some(branch) = local_ref.strip_prefix("refs/heads/polecat/") {
            Some(format!("polecat/{branch}"))
        } else if let Some(p) = pusher.as_ref().filter(|p| p.role == Role::Polecat) {
            Some(format!("{p}'s work"))
        } else {
            polecat_tips
                .iter()
                .find(|(_, tip)| *tip == local)
                .map(|(name, _)| name.trim_start_matches("refs/heads/").to_string())
        };
        if let Some(what) = what {
            ran.refused = Some(format!(
                "refusing to push {what} onto {target}: polecat work lands through the merge queue (`git agent done`, `git mq submit`); to push anyway: git push --no-verify"
            ));
            return Ok(ran);
        }
    }
    locked_paths(&mut ran, &town, &rig_store, actor, dir, remote, input)?;
    Ok(ran)
}

/// The advisory-lock guard of `pre-push`: live locks of other agents on paths the pushed
/// commits touch. No git process runs when no one else holds a lock.
fn locked_paths(
    ran: &mut Ran,
    town: &Town,
    rig_store: &Store,
    actor: &Actor,
    dir: &Path,
    remote: &str,
    input: &str,
) -> Result<()> {
    let others: Vec<crate::board::Lock> = crate::board::Board::new(town)
        .locks()?
        .into_iter()
        .filter(|l| l.holder != actor.name)
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    let mut paths: Vec<String> = Vec::new();
    for line in input.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_, local_oid, _, remote_oid] = parts[..] else {
            continue;
        };
        let Some(local) = oid(local_oid) else {
            continue;
        };
        let mut args = vec![
            "log".to_string(),
            "--format=".into(),
            "--name-only".into(),
            "--no-renames".into(),
            local.to_string(),
        ];
        match oid(remote_oid) {
            Some(theirs) if store_has(rig_store, theirs) => args.push(format!("^{theirs}")),
            _ => {
                args.push("--not".into());
                args.push(format!("--remotes={remote}"));
            }
        }
        for path in gitcmd::run(dir, &args)?.lines().filter(|l| !l.is_empty()) {
            if !paths.iter().any(|p| p == path) {
                paths.push(path.to_string());
            }
        }
    }
    let mut held: Vec<String> = Vec::new();
    for lock in &others {
        if let Some(path) = paths.iter().find(|p| lock.overlaps(p)) {
            held.push(format!(
                "{path} (locked by {}: {}, until {})",
                lock.holder, lock.intent, lock.expires
            ));
        }
    }
    if held.is_empty() {
        return Ok(());
    }
    let mode = settings::effective(Some(rig_store), &town.store, "hooks.locked_paths")?;
    let refuse = match mode.value.as_str() {
        Some("refuse") => true,
        Some("warn") | None => false,
        Some(other) => {
            ran.warnings.push(format!(
                "hooks.locked_paths is '{other}', not warn or refuse: warning only"
            ));
            false
        }
    };
    let touched = held.join("; ");
    if refuse {
        ran.refused = Some(format!(
            "refusing to push: pushed commits touch paths another agent has locked: {touched}; wait for the lock to go (git board locks), or push anyway with git push --no-verify"
        ));
    } else {
        ran.warnings.push(format!(
            "pushed commits touch paths another agent has locked: {touched} (set hooks.locked_paths = refuse to refuse such pushes)"
        ));
    }
    Ok(())
}

fn store_has(store: &Store, commit: ObjectId) -> bool {
    store.has_object(commit)
}
