//! The seed's post-convoy consolidation: when a convoy lands, its summary — the beads done,
//! their merges, and the decisions recorded while it was open — goes to the bulletin, and
//! those decisions note the post in `propagated_to`. So what the workers decided reaches
//! the people and agents who were not watching.
//!
//! One post per landing, under an id derived from the convoy and the landing's number: the
//! landing path calls this before it records its message sent, so a process killed between
//! the two re-runs it and finds the post already there.

use serde::Serialize;

use super::decisions;
use super::posts::{self, Post};
use super::{Board, COLLECTION};
use crate::bead::record::Stamp;
use crate::convoy::LandedConvoy;
use crate::error::Result;
use crate::store::{Actor, Outcome};

/// What posting a landing did.
#[derive(Debug, Clone, Serialize)]
pub struct LandingPosted {
    pub post: Post,
    /// Merge requests merged for the convoy's beads while it was open.
    pub merges: Vec<String>,
    /// Decisions recorded while it was open (now propagated to the post).
    pub decisions: Vec<String>,
    /// False when this landing had been posted already.
    pub fresh: bool,
}

/// The post id of a convoy's landing (stable across retries).
pub fn landing_post_id(landed: &LandedConvoy) -> String {
    let seed = format!("convoy-landed|{}|{}", landed.id, landed.landing);
    crate::bead::id::hash_id("p", &seed, 0, 10)
}

fn ms_of(rfc3339: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.timestamp_millis())
}

impl Board<'_> {
    /// Post `landed`'s summary to the bulletin (once per landing).
    pub fn convoy_landed(&self, actor: &Actor, landed: &LandedConvoy) -> Result<LandingPosted> {
        let id = landing_post_id(landed);
        let since = ms_of(&landed.created);
        let until = ms_of(&landed.landed).unwrap_or_else(super::now_ms);
        // Merges of its beads, from the feed (the one derivation of what happened).
        let filter = crate::feed::Filter {
            since_ms: since,
            rig: None,
            kinds: vec!["merged".into()],
        };
        let mut merges: Vec<String> = Vec::new();
        for e in crate::feed::Feed::new(self.town)?.events(&filter)? {
            if e.at_ms > until + 60_000 || !e.ids.iter().any(|i| landed.beads.contains(i)) {
                continue;
            }
            for mr in e.ids.iter().filter(|i| i.contains("-mr-")) {
                if !merges.contains(mr) {
                    merges.push(mr.clone());
                }
            }
        }
        self.store.write(COLLECTION, actor, |snap, batch| {
            let meanwhile: Vec<decisions::Decision> = decisions::list(snap)?
                .into_iter()
                .filter(|d| {
                    ms_of(&d.date)
                        .is_some_and(|t| since.is_none_or(|s| t >= s) && t <= until + 60_000)
                })
                .collect();
            let decided: Vec<String> = meanwhile.iter().map(|d| d.id.clone()).collect();
            if let Some(existing) = posts::read(snap, &id)? {
                return Ok(Outcome::Unchanged(LandingPosted {
                    post: existing,
                    merges: merges.clone(),
                    decisions: decided,
                    fresh: false,
                }));
            }
            let mut text = format!(
                "Convoy {} \"{}\" landed: {} beads done",
                landed.id,
                landed.name,
                landed.beads.len()
            );
            if let Some(epic) = &landed.epic {
                text.push_str(&format!(" (epic {epic})"));
            }
            text.push_str(&format!(
                ", {} merged, {} decisions recorded meanwhile.\n",
                merges.len(),
                meanwhile.len()
            ));
            text.push_str(&format!("Beads: {}\n", landed.beads.join(", ")));
            if !merges.is_empty() {
                text.push_str(&format!("Merges: {}\n", merges.join(", ")));
            }
            for d in &meanwhile {
                text.push_str(&format!(
                    "{} {}: {} (by {})\n",
                    d.id,
                    d.title,
                    d.decision.lines().next().unwrap_or(""),
                    d.source
                ));
            }
            let mut ids = vec![landed.id.clone()];
            ids.extend(landed.beads.iter().cloned());
            let post = posts::put_post_as(
                snap,
                batch,
                actor,
                &id,
                "convoy-landed",
                text.trim_end(),
                &ids,
            )?;
            let stamp = Stamp(batch.clock, actor.name.clone());
            for d in &meanwhile {
                decisions::mark_propagated(snap, batch, d, &post.id, &stamp)?;
            }
            // The feed's one `landed` event per landing, however the landing was written
            // (a convoy of a lone repository lands inside the closing `bead close`).
            batch.op("convoy landed");
            batch.about(ids.iter().cloned());
            Ok(Outcome::Commit {
                message: format!("board post {}: convoy {} landed", post.id, landed.id),
                value: LandingPosted {
                    post,
                    merges: merges.clone(),
                    decisions: decided,
                    fresh: true,
                },
            })
        })
    }
}
