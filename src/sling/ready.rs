//! The beads automatic dispatch may pick (`git sling --ready`, patrol's `dispatch.auto`):
//! ready and unassigned, most urgent first — except beads already waiting in the queue
//! (the queue run starts those, often to one agent: a rework or a retry goes back to its
//! worker), molecule steps (their molecule's agent works them), and beads a breaker
//! tripped: [`super::MAX_DISPATCH_FAILURES`] failed dispatches, or sessions that died more
//! than [`crate::patrol::MAX_RESTARTS`] times (patrol escalated and released it; picking it
//! again would only kill another session and escalate again). A person slings those by
//! name once the cause is fixed.

use serde_json::Value;

use crate::bead::id::record_path;
use crate::bead::query::{self, Filter, Sort};
use crate::bead::Beads;
use crate::error::Result;
use crate::records;
use crate::store::Store;

/// Up to `n` beads of `store` for automatic dispatch, most urgent first.
pub fn pickable(store: &Store, n: usize, now_ms: i64) -> Result<Vec<String>> {
    let beads = Beads::new(store);
    let snap = beads.snapshot()?;
    let index = beads.index(&snap)?;
    let filter = Filter {
        unassigned: true,
        ..Filter::default()
    };
    let waiting: Vec<String> = super::queue::waiting(store)?
        .into_iter()
        .map(|q| q.bead)
        .collect();
    let (rows, _) = query::ready(&snap, &index, &filter, Sort::Priority, usize::MAX, now_ms)?;
    let count = |record: &crate::bead::record::Record, key: &str| {
        record.get(key).and_then(Value::as_u64).unwrap_or(0)
    };
    let mut out = Vec::new();
    for i in rows {
        if out.len() >= n {
            break;
        }
        let id = index.id(&index.rows[i]);
        if waiting.iter().any(|w| w == id) || id.contains('.') {
            continue;
        }
        let Some(record) = records::read(&snap, &record_path(id))? else {
            continue;
        };
        if count(&record, "dispatch_failures") >= super::MAX_DISPATCH_FAILURES
            || count(&record, "session_deaths") > crate::patrol::MAX_RESTARTS
        {
            continue;
        }
        out.push(id.to_string());
    }
    Ok(out)
}
