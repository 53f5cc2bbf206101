//! The activity stream (`git gastown feed`): derived from the commit logs of every
//! collection of the town and of its rigs, merged in time order. Each logical write is one
//! commit whose author is the actor and whose trailers name the operation (`Gastown-Op`),
//! the records it touched (`Gastown-Records`) and the time to the millisecond
//! (`Gastown-At`), all added by [`crate::store::Store::write`]; so there is no event file to
//! fall out of step, and no prose is parsed (commits from before the trailers fall back to
//! the subject's leading words, the same rule the store uses). docs/FEED.md.

mod cache;
mod follow;

use std::collections::HashSet;
use std::path::PathBuf;

use gix::ObjectId;
use serde::Serialize;

pub use follow::Follower;

use crate::error::{Error, Result};
use crate::store::{self, Store};
use crate::town::Town;

/// One event of the feed: one commit of one collection.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// RFC 3339, milliseconds.
    pub at: String,
    /// The kind of activity: `sling`, `queue`, `hook`, `unhook`, `done`, `merged`,
    /// `rejected`, `submitted`, `landed`, `mail`, `escalated`, `patrol`, `board`, else the op's domain
    /// (`bead`, `agent`, `rig`, ...).
    pub kind: String,
    /// The write's operation (`mq merge`, `mail send`, `board lock`).
    pub op: String,
    pub actor: String,
    /// The rig whose store holds it; none for the town's own collections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rig: Option<String>,
    pub collection: String,
    /// Ids of the records the write touched (`gt-1`, `mr-abc`), beads first.
    pub ids: Vec<String>,
    /// The commit's subject line.
    pub summary: String,
    pub commit: String,
    #[serde(skip)]
    pub at_ms: i64,
    #[serde(skip)]
    pub(crate) clock: u64,
}

/// What to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only events at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Only events of this rig.
    pub rig: Option<String>,
    /// Only these kinds (all when empty).
    pub kinds: Vec<String>,
}

impl Filter {
    fn wants(&self, e: &Event) -> bool {
        self.since_ms.is_none_or(|s| e.at_ms >= s)
            && self
                .rig
                .as_ref()
                .is_none_or(|r| e.rig.as_deref() == Some(r.as_str()))
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| *k == e.kind))
    }
}

/// The kind of an operation (see [`Event::kind`]).
pub fn kind_of(op: &str) -> String {
    let first = op.split(' ').next().unwrap_or("");
    let kind = match op {
        "sling" => "sling",
        // Queueing a dispatch, and the queue's bookkeeping when it dispatches (the
        // dispatch itself is the `sling` write beside it).
        _ if op.starts_with("sling queue") => "queue",
        "hook" => "hook",
        "unhook" => "unhook",
        "done" | "agent done" => "done",
        "mq merge" => "merged",
        "mq reject" | "mq conflict" => "rejected",
        "mq submit" => "submitted",
        "mail send" | "mail reply" => "mail",
        _ if op.starts_with("convoy land") || op == "mq integration land" => "landed",
        _ if first.starts_with("escalat") => "escalated",
        _ => first,
    };
    if kind.is_empty() {
        "other".into()
    } else {
        kind.into()
    }
}

/// A time given to `--since`: RFC 3339, a date (`2026-12-01`, midnight UTC), or an age
/// (`90s`, `30m`, `2h`, `1d`: that long ago). Milliseconds since the epoch.
pub fn parse_since(text: &str) -> Result<i64> {
    let t = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(at.timestamp_millis());
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(day
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_millis());
    }
    if let Ok(secs) = crate::board::parse_ttl(t) {
        return Ok(chrono::Utc::now().timestamp_millis() - secs * 1000);
    }
    Err(Error::invalid(format!(
        "bad time '{}': use RFC 3339 (2026-12-01T10:00:00Z), a date (2026-12-01) or an age (30m, 2h, 1d)",
        t.escape_debug()
    )))
}

/// A store the feed reads: the town's own (borrowed) or a rig's (opened for the feed).
pub(crate) enum StoreRef<'t> {
    Town(&'t Store),
    Rig(Store),
}

impl std::ops::Deref for StoreRef<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        match self {
            StoreRef::Town(s) => s,
            StoreRef::Rig(s) => s,
        }
    }
}

/// One store the feed reads, and the rig it belongs to.
pub(crate) struct Source<'t> {
    pub store: StoreRef<'t>,
    pub rig: Option<String>,
}

/// The feed of a town.
pub struct Feed<'t> {
    pub(crate) sources: Vec<Source<'t>>,
}

/// Collections whose history is activity (clone-local ones are not shared activity).
fn shared_collections() -> impl Iterator<Item = &'static str> {
    store::collection::COLLECTIONS
        .iter()
        .map(|(name, _)| *name)
        .filter(|n| !n.starts_with("local/"))
}

impl<'t> Feed<'t> {
    /// The town's store and every rig's (a rig whose repository is missing is skipped: the
    /// feed shows what it can read; `git gastown rig list` reports the missing rig).
    pub fn new(town: &'t Town) -> Result<Feed<'t>> {
        let mut sources = Vec::new();
        let mut seen: HashSet<PathBuf> = HashSet::new();
        let town_dir = canonical(town.store.common_dir());
        seen.insert(town_dir);
        sources.push(Source {
            store: StoreRef::Town(&town.store),
            rig: town.lone_rig.clone(),
        });
        if town.lone_rig.is_none() {
            for rig in town.rigs().list()? {
                let Ok(store) = rig.open_store() else {
                    continue;
                };
                if seen.insert(canonical(store.common_dir())) {
                    sources.push(Source {
                        store: StoreRef::Rig(store),
                        rig: Some(rig.name.clone()),
                    });
                }
            }
        }
        Ok(Feed { sources })
    }

    /// Every event that `filter` wants, oldest first.
    pub fn events(&self, filter: &Filter) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        for source in &self.sources {
            if filter.rig.is_some() && source.rig != filter.rig {
                continue;
            }
            for collection in shared_collections() {
                let Some(tip) = tip(&source.store, collection)? else {
                    continue;
                };
                out.extend(
                    cache::events(source, collection, tip)?
                        .into_iter()
                        .filter(|e| filter.wants(e)),
                );
            }
        }
        sort(&mut out);
        Ok(out)
    }
}

fn canonical(p: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

pub(crate) fn sort(events: &mut [Event]) {
    events.sort_by(|a, b| {
        (a.at_ms, &a.collection, a.clock, &a.commit).cmp(&(
            b.at_ms,
            &b.collection,
            b.clock,
            &b.commit,
        ))
    });
}

/// The tip of `refs/gastown/<collection>`, read fresh from the refs.
pub(crate) fn tip(store: &Store, collection: &str) -> Result<Option<ObjectId>> {
    let name = Store::ref_name(collection);
    Ok(store
        .repo()
        .try_find_reference(name.as_str())?
        .and_then(|r| r.try_id().map(|id| id.detach())))
}

/// Append the events of the commits reachable from `tips` but not from `hide`, stopping
/// at commits older than the filter's `since` (a commit's time never runs more than a
/// clock skew ahead of its parents' in one collection, so the cutoff is safe with a margin).
/// Returns the parents of the commits walked: a hidden commit among them is an ancestor of
/// `tips` (the feed's cache extends itself only then).
pub(crate) fn walk(
    source: &Source<'_>,
    collection: &str,
    tips: &[ObjectId],
    hide: &[ObjectId],
    filter: &Filter,
    out: &mut Vec<Event>,
) -> Result<HashSet<ObjectId>> {
    let mut parents = HashSet::new();
    let repo = source.store.repo();
    let git = |e: &dyn std::fmt::Display| Error::Git(e.to_string());
    let mut walk = repo
        .rev_walk(tips.iter().copied())
        .with_hidden(hide.iter().copied());
    if let Some(since) = filter.since_ms {
        // A minute of margin: commit times have second resolution and clocks skew.
        walk = walk.sorting(gix::revision::walk::Sorting::ByCommitTimeCutoff {
            order: gix::traverse::commit::simple::CommitTimeOrder::NewestFirst,
            seconds: since / 1000 - 60,
        });
    }
    for info in walk.all().map_err(|e| git(&e))? {
        let info = info.map_err(|e| git(&e))?;
        let commit = repo.find_commit(info.id)?;
        let decoded = commit.decode()?;
        parents.extend(decoded.parents());
        let author = decoded.author().map_err(|e| git(&e))?;
        let message = decoded.message.to_string();
        let Some(event) = event_of(
            source,
            collection,
            info.id,
            &author.name.to_string(),
            author.time().map(|t| t.seconds).unwrap_or(0),
            &message,
            decoded
                .extra_headers()
                .find(store::CLOCK_HEADER)
                .and_then(|v| v.to_string().parse().ok())
                .unwrap_or(0),
        ) else {
            continue;
        };
        if filter.wants(&event) {
            out.push(event);
        }
    }
    Ok(parents)
}

/// RFC 3339 with milliseconds, UTC.
fn rfc3339(at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The event a commit is; none for commits that are no activity (a merge of two clones'
/// histories by sync is bookkeeping, its sides' commits are the events).
fn event_of(
    source: &Source<'_>,
    collection: &str,
    commit: ObjectId,
    actor: &str,
    seconds: i64,
    message: &str,
    clock: u64,
) -> Option<Event> {
    let subject = message.lines().next().unwrap_or("").trim().to_string();
    let trailer = |key: &str| {
        let prefix = format!("{key}: ");
        message
            .lines()
            .rev()
            .take_while(|l| !l.trim().is_empty())
            .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().to_string()))
    };
    let op = trailer(store::OP_TRAILER).unwrap_or_else(|| store::op_of_subject(&subject));
    if op.starts_with("sync") {
        return None;
    }
    let at_ms = trailer(store::AT_TRAILER)
        .and_then(|v| v.parse().ok())
        .unwrap_or(seconds * 1000);
    let mut ids: Vec<(u8, String)> = trailer(store::RECORDS_TRAILER)
        .unwrap_or_default()
        .split_whitespace()
        .filter(|w| !w.starts_with('('))
        .filter_map(|name| {
            let (dir, id) = name.split_once('/')?;
            let rank = match dir {
                "beads" => 0,
                "mrs" | "convoys" | "escalations" | "messages" | "decisions" | "posts" => 1,
                "agents" | "rigs" | "queue" => 2,
                _ => return None, // meta, settings, locks (named by hash): no id worth showing
            };
            Some((rank, id.to_string()))
        })
        .collect();
    ids.sort();
    let mut all: Vec<String> = trailer(store::IDS_TRAILER)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    for (_, id) in ids {
        if !all.contains(&id) {
            all.push(id);
        }
    }
    Some(Event {
        at: rfc3339(at_ms),
        kind: kind_of(&op),
        op,
        actor: actor.to_string(),
        rig: source.rig.clone(),
        collection: collection.to_string(),
        ids: all,
        summary: subject,
        commit: commit.to_string(),
        at_ms,
        clock,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_have_kinds() {
        assert_eq!(kind_of("sling"), "sling");
        assert_eq!(kind_of("sling queue dispatched"), "queue");
        assert_eq!(kind_of("mq merge"), "merged");
        assert_eq!(kind_of("mq reject"), "rejected");
        assert_eq!(kind_of("convoy land"), "landed");
        assert_eq!(kind_of("escalate"), "escalated");
        assert_eq!(kind_of("mail send"), "mail");
        assert_eq!(kind_of("patrol restart"), "patrol");
        assert_eq!(kind_of("bead create"), "bead");
        assert_eq!(kind_of(""), "other");
    }

    #[test]
    fn subjects_name_their_op_by_their_leading_words() {
        for (subject, op) in [
            ("hook gt-1 -> repo/polecats/nux: title", "hook"),
            ("mq merge gt-mr-1, gt-mr-2 into main", "mq merge"),
            ("agent done repo/polecats/nux: gt-1 completed", "agent done"),
            ("sling queue dispatched gt-1", "sling queue dispatched"),
            ("mail send m-abc: hello -> mayor", "mail send"),
            ("town init: hq", "town init"),
            (
                "mq integration land feature/x -> main",
                "mq integration land",
            ),
            ("Merge remote state", ""),
        ] {
            assert_eq!(store::op_of_subject(subject), op, "{subject}");
        }
        assert_eq!(
            store::without_trailers(
                "bead close gt-1: a\n\nGastown-Op: bead close\nGastown-At: 1\n"
            ),
            "bead close gt-1: a"
        );
        assert_eq!(
            store::without_trailers("x\n\nSigned-off-by: me"),
            "x\n\nSigned-off-by: me"
        );
    }

    #[test]
    fn since_takes_times_dates_and_ages() {
        assert_eq!(
            parse_since("2026-12-01T00:00:00Z").unwrap(),
            parse_since("2026-12-01").unwrap()
        );
        let ago = parse_since("1h").unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        assert!((now - ago - 3_600_000).abs() < 5_000);
        assert!(parse_since("yesterday").is_err());
    }
}
