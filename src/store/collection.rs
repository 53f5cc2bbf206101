//! What each collection holds and how its files join when two clones meet.
//!
//! A collection's tree is a set of top-level directories, each declared with the rule
//! its files merge by ([`Join`]). Sync dispatches on that declaration and refuses a
//! collection or a path that is not declared (docs/STORAGE.md, "Collections"), so a file
//! can never be merged by a guess that drops one side's edit. Writers are held to the same
//! declaration: [`crate::store::Store::write`] refuses a path of a declared collection
//! that no directory covers, so nothing undeclared is ever created to be refused later.
//!
//! Adding a record directory is one line in a layout below.

use crate::error::{Error, Result};

/// How the files of one directory join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// Bead records (`beads/<shard>/<id>.json`): [`crate::bead::Record`] joins, plus the
    /// id-collision rule (two clones minted one id: the smaller origin keeps it, the other
    /// is renamed and references follow; src/sync/beads.rs) and the record-count header.
    Beads,
    /// [`crate::bead::Record`] CRDTs (LWW fields, stamped sets, comments, tombstones). A
    /// path names one entity (an agent address, a rig name, a random id), so two records at
    /// one path join whatever their origins (the smaller origin is kept).
    Records,
    /// Register maps (`{"key": {"v": value, "at": [clock, actor]}}`): each key is a
    /// last-writer-wins register, joined key by key.
    Registers,
    /// git notes (`src/store/notes.rs`): text files whose lines are a set; two versions
    /// join as the sorted union of their lines.
    Notes,
}

/// One declared top-level directory of a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dir {
    pub name: &'static str,
    pub join: Join,
}

const fn dir(name: &'static str, join: Join) -> Dir {
    Dir { name, join }
}

/// A directory name standing for every two-hex-digit directory (`00` … `ff`): git's notes
/// fan-out, where a note for commit `abcd…` lives at `ab/cd…`.
pub const FANOUT: &str = "<fanout>";

/// The directories of a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub dirs: &'static [Dir],
}

impl Layout {
    /// The rule for `path` (relative to the collection root), or an error naming the path.
    pub fn join_for(&self, collection: &str, path: &str) -> Result<Join> {
        let top = path.split('/').next().unwrap_or("");
        let fanout = top.len() == 2
            && top
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        match self
            .dirs
            .iter()
            .find(|d| d.name == top || (d.name == FANOUT && fanout))
        {
            Some(d) if path.len() > top.len() => Ok(d.join),
            _ => Err(Error::invalid(format!(
                "'{path}' is not a declared path of the {collection} collection (declared: {})",
                self.dirs
                    .iter()
                    .map(|d| format!("{}/", d.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    pub fn has(&self, join: Join) -> bool {
        self.dirs.iter().any(|d| d.join == join)
    }
}

/// The work collection of a store (`refs/gastown/beads`): beads and the orchestration
/// records kept beside them, so one commit can change a bead and an agent (hook attach)
/// or an MR, a bead and an agent (`done`) atomically.
pub const WORK: Layout = Layout {
    dirs: &[
        dir("meta", Join::Registers),      // meta/config.json: store settings
        dir("beads", Join::Beads),         // beads/<shard>/<id>.json
        dir("settings", Join::Registers),  // settings/<group>.json: town/rig policy
        dir("agents", Join::Records),      // agents/<address, '/' as '-'>.json
        dir("mrs", Join::Records),         // mrs/<shard>/<id>.json: merge requests
        dir("queue", Join::Records),       // queue/<id>.json: queued dispatches
        dir("rigs", Join::Records),        // rigs/<name>.json (town store)
        dir("convoys", Join::Records),     // convoys/<id>.json (town store)
        dir("escalations", Join::Records), // escalations/<id>.json (town store)
    ],
};

/// The town's mail (`refs/gastown/mail`): its own ref, so mail volume never touches the
/// work collection's index or `ready`.
pub const MAIL: Layout = Layout {
    dirs: &[
        dir("meta", Join::Registers),
        dir("messages", Join::Records), // messages/<shard>/<id>.json
        dir("lists", Join::Records),    // lists/<group|queue|channel>/<name>.json
    ],
};

/// The town's bulletin board (`refs/gastown/board`): posts, advisory locks, decisions.
pub const BOARD: Layout = Layout {
    dirs: &[
        dir("meta", Join::Registers),
        dir("posts", Join::Records),
        dir("locks", Join::Records),
        dir("decisions", Join::Records),
    ],
};

/// Every collection gastown knows, by name (`refs/gastown/<name>`). `local/*` ones never
/// leave the clone but are declared all the same, so writes to them are checked.
pub const COLLECTIONS: &[(&str, Layout)] = &[
    ("beads", WORK),
    ("mail", MAIL),
    ("board", BOARD),
    ("local/wisps", WORK),
    (super::notes::COLLECTION, super::notes::LAYOUT),
];

/// The declared layout of `collection`, if it is one gastown knows.
pub fn layout(collection: &str) -> Option<&'static Layout> {
    COLLECTIONS
        .iter()
        .find(|(name, _)| *name == collection)
        .map(|(_, layout)| layout)
}

/// The layout of a collection that sync is asked to exchange, or an error naming it.
pub fn known(collection: &str, whose: &str) -> Result<&'static Layout> {
    layout(collection).ok_or_else(|| {
        Error::invalid(format!(
            "{whose} has a collection 'refs/gastown/{collection}' this version of gastown does not know; refusing to merge it (upgrade gastown, or remove the ref)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_dispatch_on_their_top_directory() {
        assert_eq!(
            WORK.join_for("beads", "beads/ab/gt-1.json").unwrap(),
            Join::Beads
        );
        assert_eq!(
            WORK.join_for("beads", "agents/gt-polecat-nux.json")
                .unwrap(),
            Join::Records
        );
        assert_eq!(
            WORK.join_for("beads", "settings/scheduler.json").unwrap(),
            Join::Registers
        );
        let err = WORK
            .join_for("beads", "notes/x.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'notes/x.json'") && err.contains("beads"),
            "{err}"
        );
        // A file where a directory is declared is not covered either.
        assert!(WORK.join_for("beads", "agents").is_err());
        assert!(known("mystery", "remote origin")
            .unwrap_err()
            .to_string()
            .contains("refs/gastown/mystery"));
        assert!(layout("local/wisps").is_some());
    }
}
