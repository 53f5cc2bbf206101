//! Beads: the issue records every other domain builds on, with bd's schema and semantics.
//!
//! Storage: the collection `refs/gastown/beads`, whose tree holds `meta/config.json` and
//! one record per bead at `beads/<shard>/<id>.json` (see `record` for the merge-friendly
//! format and `index` for the derived cache that makes listing fast).

pub mod details;
pub mod graph;
pub mod id;
pub mod import;
pub mod index;
pub mod jsonl;
pub mod molecule;
pub mod ops;
pub mod query;
pub mod record;
pub mod rules;
pub mod schema;
pub mod service;

pub use index::Index;
pub use ops::{Beads, Config, Edit, Modified, NewBead};
pub use record::{Record, Stamp};
pub use rules::{CloseSpec, Comment, UpdateSpec};
pub use service::{DepAdded, DepRemoved};

/// Version of the bead store's on-disk format (recorded in `meta/config.json`).
pub const FORMAT_VERSION: u32 = 1;

/// The collection (ref `refs/gastown/beads`) holding beads.
pub const COLLECTION: &str = "beads";

/// The clone-local collection holding wisps (ephemeral molecules): `refs/gastown/local/*`
/// is never fetched, merged or pushed by sync.
pub const WISP_COLLECTION: &str = "local/wisps";
