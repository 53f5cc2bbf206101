//! The feed's cache: every event of one collection's history up to a tip, in
//! `<state dir>/cache/feed-<collection>.idx`, so that a feed reads the commits written
//! since it last looked instead of the whole history (10,000 commits cost ~0.1–0.3 s to
//! inflate and parse; their cached events ~2 ms to read). History only grows — every
//! write and every sync merge descends from the tip before it — so a cache for an older
//! tip is extended by walking the new commits alone; a tip that does not descend from the
//! cached one (a ref reset by hand) rebuilds it. Like every derived cache it is
//! clone-local, checksummed, replaced by rename and always safe to delete
//! ([`crate::store::cache`]).

use gix::ObjectId;

use super::{walk, Event, Filter, Source};
use crate::error::Result;
use crate::store::cache::{self, put_str, put_u32, Reader};

/// Names the format; a file with another magic is rebuilt.
const MAGIC: &[u8; 8] = b"gtfeed01";

/// Every event of `collection` in `source` up to `tip`, in no particular order.
pub(crate) fn events(source: &Source<'_>, collection: &str, tip: ObjectId) -> Result<Vec<Event>> {
    let path = source
        .store
        .state_dir()
        .join("cache")
        .join(format!("feed-{}.idx", collection.replace('/', "-")));
    let cached = cache::load(&path, MAGIC).and_then(|c| {
        let events = decode(&c.buf, source, collection).ok()?;
        Some((c.tip, events))
    });
    let mut events = match cached {
        Some((cached_tip, events)) if cached_tip == tip => return Ok(events),
        Some((cached_tip, mut events)) => {
            let mut newer = Vec::new();
            let parents = walk(
                source,
                collection,
                &[tip],
                &[cached_tip],
                &Filter::default(),
                &mut newer,
            )?;
            if parents.contains(&cached_tip) {
                events.append(&mut newer);
                events
            } else {
                everything(source, collection, tip)?
            }
        }
        None => everything(source, collection, tip)?,
    };
    // Best effort: a reader that cannot write the cache (a read-only clone) still answers.
    let null = ObjectId::null(gix::hash::Kind::Sha1);
    let file = cache::assemble(MAGIC, tip, null, &encode(&events));
    let _ = cache::write_atomically(&path, &file.buf);
    events.shrink_to_fit();
    Ok(events)
}

fn everything(source: &Source<'_>, collection: &str, tip: ObjectId) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    walk(
        source,
        collection,
        &[tip],
        &[],
        &Filter::default(),
        &mut out,
    )?;
    Ok(out)
}

/// Payload: the count, then per event its time (ms), clock, commit id, op, actor, summary
/// and ids. Kind, rig, collection and the RFC 3339 time are derived again when read.
fn encode(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 128);
    put_u32(&mut out, events.len() as u32);
    for e in events {
        out.extend_from_slice(&e.at_ms.to_le_bytes());
        out.extend_from_slice(&e.clock.to_le_bytes());
        let commit = ObjectId::from_hex(e.commit.as_bytes()).unwrap_or_else(|_| {
            // Events are only made from commits we read, whose ids are hex.
            ObjectId::null(gix::hash::Kind::Sha1)
        });
        out.extend_from_slice(commit.as_bytes());
        put_str(&mut out, &e.op);
        put_str(&mut out, &e.actor);
        put_str(&mut out, &e.summary);
        put_u32(&mut out, e.ids.len() as u32);
        for id in &e.ids {
            put_str(&mut out, id);
        }
    }
    out
}

fn decode(buf: &[u8], source: &Source<'_>, collection: &str) -> Result<Vec<Event>> {
    let mut r = Reader::new(buf, "feed");
    let count = r.u32()? as usize;
    // A count the file cannot hold is corruption, not a reason to allocate gigabytes.
    if count > buf.len() / 44 {
        return Err(r.corrupt());
    }
    let mut events = Vec::with_capacity(count);
    let text = |r: &mut Reader<'_>| -> Result<String> {
        let len = r.u32()? as usize;
        let bytes = r.bytes(len)?;
        std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| r.corrupt())
    };
    for _ in 0..count {
        let at_ms = r.i64()?;
        let clock = r.i64()? as u64;
        let commit = r.oid()?;
        let op = text(&mut r)?;
        let actor = text(&mut r)?;
        let summary = text(&mut r)?;
        let n = r.u32()? as usize;
        if n > buf.len() {
            return Err(r.corrupt());
        }
        let ids = (0..n).map(|_| text(&mut r)).collect::<Result<Vec<_>>>()?;
        events.push(Event {
            at: super::rfc3339(at_ms),
            kind: super::kind_of(&op),
            op,
            actor,
            rig: source.rig.clone(),
            collection: collection.to_string(),
            ids,
            summary,
            commit: commit.to_string(),
            at_ms,
            clock,
        });
    }
    Ok(events)
}
