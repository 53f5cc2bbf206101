//! Bead ids: `<prefix>-<base36 hash>` with bd's adaptive length, and hierarchical children
//! `<parent>.N`.

use sha2::{Digest, Sha256};

/// Shortest hash length ever used, and the longest before giving up.
pub const MIN_HASH_LEN: usize = 4;
pub const MAX_HASH_LEN: usize = 8;
/// Largest acceptable birthday-collision probability for the current bead count.
const MAX_COLLISION_PROBABILITY: f64 = 0.25;

/// The hash length bd would pick for a store of `count` beads.
pub fn adaptive_length(count: usize) -> usize {
    let n = count as f64;
    for len in MIN_HASH_LEN..=MAX_HASH_LEN {
        let space = 36f64.powi(len as i32);
        let p = 1.0 - (-(n * n) / (2.0 * space)).exp();
        if p <= MAX_COLLISION_PROBABILITY {
            return len;
        }
    }
    MAX_HASH_LEN
}

/// The base36 hash of a new bead's identity, `len` characters long.
pub fn hash_id(prefix: &str, seed: &str, nonce: u32, len: usize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(seed.as_bytes());
    hasher.update(b"|");
    hasher.update(nonce.to_le_bytes());
    let digest = hasher.finalize();
    let mut value = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let mut digits = [b'0'; 13];
    for slot in digits.iter_mut().rev() {
        *slot = b"0123456789abcdefghijklmnopqrstuvwxyz"[(value % 36) as usize];
        value /= 36;
    }
    let text = std::str::from_utf8(&digits).expect("ascii");
    format!("{prefix}-{}", &text[13 - len.min(13)..])
}

/// Where a bead's record lives in the store tree: 256 shards by a stable hash of the id.
pub fn record_path(id: &str) -> String {
    format!("beads/{:02x}/{id}.json", shard(id))
}

pub fn shard(id: &str) -> u8 {
    // FNV-1a: stable across platforms and versions, unlike std's hasher.
    let mut hash: u32 = 0x811c9dc5;
    for byte in id.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x01000193);
    }
    (hash ^ (hash >> 8) ^ (hash >> 16) ^ (hash >> 24)) as u8
}

/// The id a record path names (`beads/ab/gt-x.json` → `gt-x`).
pub fn id_from_path(path: &str) -> Option<&str> {
    path.rsplit('/').next()?.strip_suffix(".json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_bd_thresholds() {
        assert_eq!(adaptive_length(0), 4);
        assert_eq!(adaptive_length(900), 4);
        assert_eq!(adaptive_length(5000), 5);
        assert_eq!(adaptive_length(30_000), 6);
        assert_eq!(adaptive_length(200_000), 7);
    }

    #[test]
    fn ids_are_base36_of_requested_length() {
        let id = hash_id("gt", "seed", 0, 5);
        assert!(id.starts_with("gt-"));
        assert_eq!(id.len(), 8);
        assert!(id[3..]
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        assert_ne!(hash_id("gt", "seed", 1, 5), id);
        assert_eq!(id_from_path(&record_path("gt-x.1")), Some("gt-x.1"));
    }
}
