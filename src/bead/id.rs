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

/// An id taken apart: `<prefix>-<hash>[.<child>]*`. Prefixes may hold dots (`haxe.ocaml`)
/// and hyphens (`hq-cv`), and children are dot-separated, so the split is only certain when
/// the store's prefix is known; without it the hash is taken to follow the last hyphen
/// before the first child dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdParts<'a> {
    pub prefix: &'a str,
    pub hash: &'a str,
    /// `1` and `2` for `bd-abc.1.2`; molecule steps give names (`bd-mol-x.review`).
    pub children: Vec<&'a str>,
}

pub fn parse_id<'a>(id: &'a str, known_prefix: &str) -> Option<IdParts<'a>> {
    let (prefix, rest) = match id
        .strip_prefix(known_prefix)
        .and_then(|r| r.strip_prefix('-'))
    {
        Some(rest) if !known_prefix.is_empty() => (&id[..known_prefix.len()], rest),
        _ => {
            let first_hyphen = id.find('-')?;
            let child_dot = id[first_hyphen..]
                .find('.')
                .map_or(id.len(), |d| first_hyphen + d);
            let split = id[..child_dot].rfind('-')?;
            (&id[..split], &id[split + 1..])
        }
    };
    let mut segments = rest.split('.');
    let hash = segments.next().filter(|h| !h.is_empty())?;
    let children: Vec<&str> = segments.collect();
    if prefix.is_empty() || children.iter().any(|c| c.is_empty()) {
        return None;
    }
    Some(IdParts {
        prefix,
        hash,
        children,
    })
}

/// The parent a hierarchical child id names (`P-abc.2` → `P-abc`): only numbered children,
/// as bd mints them; molecule step ids (`<root>.<step>`) name no parent this way.
pub fn numbered_parent<'a>(id: &'a str, known_prefix: &str) -> Option<&'a str> {
    let parts = parse_id(id, known_prefix)?;
    let last = parts.children.last()?;
    if !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(&id[..id.len() - last.len() - 1])
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

    #[test]
    fn ids_parse_with_dotted_and_hyphenated_prefixes() {
        let parts = parse_id("haxe.ocaml-a1b.3", "haxe.ocaml").unwrap();
        assert_eq!((parts.prefix, parts.hash), ("haxe.ocaml", "a1b"));
        assert_eq!(parts.children, vec!["3"]);
        // Without the known prefix: the last hyphen before the first child dot.
        let parts = parse_id("haxe.ocaml-a1b.3", "").unwrap();
        assert_eq!((parts.prefix, parts.hash), ("haxe.ocaml", "a1b"));
        let parts = parse_id("hq-cv-x9z", "hq").unwrap();
        assert_eq!((parts.prefix, parts.hash), ("hq", "cv-x9z"));
        let parts = parse_id("hq-cv-x9z", "other").unwrap();
        assert_eq!((parts.prefix, parts.hash), ("hq-cv", "x9z"));
        let parts = parse_id("gt-mol-abc.review-code", "gt").unwrap();
        assert_eq!(parts.children, vec!["review-code"]);
        assert_eq!(
            numbered_parent("haxe.ocaml-a1b.3", "haxe.ocaml"),
            Some("haxe.ocaml-a1b")
        );
        assert_eq!(numbered_parent("P-abc.1.2", "P"), Some("P-abc.1"));
        assert_eq!(numbered_parent("haxe.ocaml-a1b", "haxe.ocaml"), None);
        assert_eq!(numbered_parent("v1.2-abc", "v1.2"), None);
        assert_eq!(numbered_parent("gt-mol-abc.review", "gt"), None);
        assert_eq!(parse_id("nohyphen", "x"), None);
        assert_eq!(parse_id("P-abc..1", "P"), None);
    }
}
