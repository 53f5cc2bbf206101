//! `feed --follow`: a foreground reader that polls the collection refs and reports the
//! commits that appeared since it last looked. No daemon, no event file: reading a ref is
//! a file read, so an idle poll costs next to nothing.

use std::collections::HashMap;

use gix::ObjectId;

use super::{shared_collections, sort, tip, walk, Event, Feed, Filter};
use crate::error::Result;

/// Remembers the tips already reported, per store and collection.
pub struct Follower<'f, 't> {
    feed: &'f Feed<'t>,
    filter: Filter,
    seen: HashMap<(usize, &'static str), ObjectId>,
    primed: bool,
}

impl<'f, 't> Follower<'f, 't> {
    /// Start at the refs as they are now: the first [`Follower::poll`] reports only what
    /// was written after this.
    pub fn new(feed: &'f Feed<'t>, filter: Filter) -> Result<Self> {
        let mut follower = Follower {
            feed,
            filter,
            seen: HashMap::new(),
            primed: false,
        };
        follower.poll()?;
        follower.primed = true;
        Ok(follower)
    }

    /// Events written since the last poll, oldest first.
    pub fn poll(&mut self) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        let fresh = !self.primed;
        for (i, source) in self.feed.sources.iter().enumerate() {
            if self.filter.rig.is_some() && source.rig != self.filter.rig {
                continue;
            }
            for collection in shared_collections() {
                let Some(now) = tip(&source.store, collection)? else {
                    continue;
                };
                let before = self.seen.insert((i, collection), now);
                if fresh || before == Some(now) {
                    continue;
                }
                let hide: Vec<ObjectId> = before.into_iter().collect();
                walk(source, collection, &[now], &hide, &self.filter, &mut out)?;
            }
        }
        sort(&mut out);
        Ok(out)
    }
}
