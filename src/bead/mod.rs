//! Beads: the issue records every other domain builds on.

/// Version of the bead store's on-disk format (recorded in the tree as `meta/format`).
pub const FORMAT_VERSION: u32 = 1;
