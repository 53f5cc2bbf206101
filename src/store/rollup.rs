//! Rolling small packs into larger ones, in process.
//!
//! Every write adds one small pack (pack.rs), and every reader opens the index of every
//! pack, so packs must not pile up. `git repack --geometric` keeps them down but costs a
//! few git processes and tens of milliseconds each time, a fifth of all the CPU that 32
//! busy writers use. Our packs hold whole objects (no deltas), so merging them needs no
//! decompression: copy each entry's bytes, keep its CRC, write a new index, then delete
//! the old packs. The packs to merge are chosen as git's `--geometric=2` chooses them, so
//! every object is copied O(log n) times. Packs that are large, hold deltas, or carry
//! `.keep`, `.promisor`, `.mtimes` or `.bitmap` files are git's business (gc.rs).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use gix::ObjectId;

use super::pack::{PackBuilder, TMP_PREFIX};
use crate::error::{Error, Result};

/// Roll up once this many small packs exist.
pub const TRIGGER: usize = 8;
/// Packs larger than this are left to `git repack` (which also computes deltas).
pub const MAX_PACK_BYTES: u64 = 1 << 20;
/// Leftovers of killed writers (see [`remove_garbage`]) are removed once this old: a
/// live writer renames its temporary file and writes the index right after the pack,
/// microseconds apart, so ten minutes is far beyond anything alive.
pub const GARBAGE_AGE: Duration = Duration::from_secs(600);

/// A pack that may be rolled up.
#[derive(Debug, Clone)]
struct Candidate {
    /// `objects/pack/pack-<sum>` without extension.
    base: PathBuf,
    bytes: u64,
}

/// What a roll-up did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RollUp {
    pub packs_merged: usize,
    pub objects: usize,
}

/// Whether enough packs exist for a roll-up to be worth a look, given the names in
/// `objects/pack` (no `stat`s: [`roll_up`] looks at sizes).
pub fn due(names: &[String]) -> bool {
    names.iter().filter(|n| n.ends_with(".idx")).count() >= TRIGGER
}

/// Merge the small packs that break a geometric progression into one, once at least
/// `min_packs` small packs exist. The caller holds the gc lock, so no other roll-up or gc
/// runs at the same time.
pub fn roll_up(objects_dir: &Path, min_packs: usize) -> Result<RollUp> {
    let pack_dir = objects_dir.join("pack");
    let Some(names) = pack_dir_names(&pack_dir) else {
        return Ok(RollUp::default());
    };
    remove_garbage(&pack_dir, &names, garbage_age());
    let mut packs = candidates(objects_dir, &names);
    if packs.len() < min_packs {
        return Ok(RollUp::default());
    }
    packs.sort_by_key(|p| p.bytes);
    let chosen = geometric_split(&packs.iter().map(|p| p.bytes).collect::<Vec<_>>());
    if chosen < 2 {
        return Ok(RollUp::default());
    }
    let mut entries = Vec::new();
    let mut merged = Vec::new();
    for pack in &packs[..chosen] {
        match read_entries(&pack.base)? {
            Some(found) => {
                entries.extend(found);
                merged.push(pack);
            }
            // A pack with deltas: leave it to git.
            None => continue,
        }
    }
    if merged.len() < 2 {
        return Ok(RollUp::default());
    }
    let mut seen = HashSet::new();
    entries.retain(|e| seen.insert(e.oid));
    let bytes = entries.iter().map(|e| e.data.len()).sum();
    let mut builder = PackBuilder::new(entries.len(), bytes);
    for entry in &entries {
        builder.add(entry.oid, entry.crc, &entry.data);
    }
    let sum = builder.persist(objects_dir)?;
    let kept = pack_dir.join(format!("pack-{sum}"));
    for pack in &merged {
        if pack.base != kept {
            remove_pack(&pack.base);
        }
    }
    Ok(RollUp {
        packs_merged: merged.len(),
        objects: entries.len(),
    })
}

/// How many of the smallest packs (sorted ascending by size) to merge: git's geometric
/// rule with factor 2. The packs above the split must each be at least twice the one
/// below; then the merged pack must not break that, so heavier packs join while they
/// weigh less than twice what is merged so far.
fn geometric_split(sizes: &[u64]) -> usize {
    if sizes.len() < 2 {
        return 0;
    }
    let mut split = sizes.len() - 1;
    while split > 0 && sizes[split] >= 2 * sizes[split - 1] {
        split -= 1;
    }
    if split == 0 {
        return 0;
    }
    split += 1;
    let mut total: u64 = sizes[..split].iter().sum();
    while split < sizes.len() && sizes[split] < 2 * total {
        total += sizes[split];
        split += 1;
    }
    split
}

pub fn pack_dir_names(pack_dir: &Path) -> Option<Vec<String>> {
    let dir = std::fs::read_dir(pack_dir).ok()?;
    Some(
        dir.filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
    )
}

/// Packs with an index, no marker file that tells git to treat them specially, and a
/// size under [`MAX_PACK_BYTES`].
fn candidates(objects_dir: &Path, names: &[String]) -> Vec<Candidate> {
    let pack_dir = objects_dir.join("pack");
    let present: HashSet<&str> = names.iter().map(String::as_str).collect();
    names
        .iter()
        .filter_map(|name| name.strip_suffix(".idx"))
        .filter(|stem| stem.starts_with("pack-"))
        .filter(|stem| {
            ["keep", "promisor", "mtimes", "bitmap"]
                .iter()
                .all(|ext| !present.contains(format!("{stem}.{ext}").as_str()))
        })
        .filter_map(|stem| {
            let base = pack_dir.join(stem);
            let bytes = std::fs::metadata(base.with_extension("pack")).ok()?.len();
            (bytes <= MAX_PACK_BYTES).then_some(Candidate { base, bytes })
        })
        .collect()
}

/// One object of a pack, as stored: entry header and compressed data.
struct RawEntry {
    oid: ObjectId,
    crc: u32,
    data: Vec<u8>,
}

/// The entries of `pack-<sum>.{idx,pack}`, or `None` when it holds deltas (their bases
/// would need rewriting). Each entry's CRC is checked against the index, so a damaged
/// pack fails the roll-up and nothing is deleted.
fn read_entries(base: &Path) -> Result<Option<Vec<RawEntry>>> {
    let idx_path = base.with_extension("idx");
    let pack_path = base.with_extension("pack");
    let read =
        |p: &Path| std::fs::read(p).map_err(|e| Error::io(format!("reading {}", p.display()), e));
    let idx = read(&idx_path)?;
    let pack = read(&pack_path)?;
    let bad = |what: &str| Error::Git(format!("cannot roll up {}: {what}", pack_path.display()));
    let be32 = |bytes: &[u8], at: usize| -> Option<u32> {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    if !idx.starts_with(b"\xfftOc") || be32(&idx, 4) != Some(2) {
        return Ok(None);
    }
    if !pack.starts_with(b"PACK") || pack.len() < 32 {
        return Err(bad("not a pack"));
    }
    let count = be32(&idx, 8 + 255 * 4).ok_or_else(|| bad("short index"))? as usize;
    if be32(&pack, 8) != Some(count as u32) {
        return Err(bad("index and pack disagree on the object count"));
    }
    let oids_at = 8 + 256 * 4;
    let crcs_at = oids_at + count * 20;
    let offsets_at = crcs_at + count * 4;
    let large_at = offsets_at + count * 4;
    if idx.len() < large_at + 40 {
        return Err(bad("short index"));
    }
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let oid = ObjectId::from_bytes_or_panic(&idx[oids_at + i * 20..oids_at + i * 20 + 20]);
        let crc = be32(&idx, crcs_at + i * 4).ok_or_else(|| bad("short index"))?;
        let small = be32(&idx, offsets_at + i * 4).ok_or_else(|| bad("short index"))?;
        let offset = if small & 0x8000_0000 == 0 {
            u64::from(small)
        } else {
            let at = large_at + (small & 0x7fff_ffff) as usize * 8;
            let b = idx.get(at..at + 8).ok_or_else(|| bad("short index"))?;
            u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        };
        entries.push((offset as usize, oid, crc));
    }
    entries.sort_by_key(|e| e.0);
    let data_end = pack.len() - 20;
    let mut out = Vec::with_capacity(count);
    for (n, (offset, oid, crc)) in entries.iter().enumerate() {
        let end = entries.get(n + 1).map_or(data_end, |next| next.0);
        if *offset < 12 || end > data_end || *offset >= end {
            return Err(bad("entry offsets out of range"));
        }
        let data = &pack[*offset..end];
        // Types 6 and 7 are deltas.
        if matches!((data[0] >> 4) & 7, 6 | 7) {
            return Ok(None);
        }
        if crc32fast::hash(data) != *crc {
            return Err(bad(&format!("object {oid} fails its CRC")));
        }
        out.push(RawEntry {
            oid: *oid,
            crc: *crc,
            data: data.to_vec(),
        });
    }
    Ok(Some(out))
}

/// Remove a pack the way git does: the index first, so that no reader that lists the
/// directory finds an index whose pack is gone.
fn remove_pack(base: &Path) {
    for ext in ["idx", "pack", "rev"] {
        let _ = std::fs::remove_file(base.with_extension(ext));
    }
}

/// How old a leftover must be before it is removed: `GT_GARBAGE_AGE_S` seconds (tests set
/// 0 once no writer runs), else [`GARBAGE_AGE`].
pub fn garbage_age() -> Duration {
    std::env::var("GT_GARBAGE_AGE_S")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(GARBAGE_AGE, Duration::from_secs)
}

/// Remove what killed writers leave in `objects/pack` and `git count-objects` reports as
/// garbage, once older than `min_age`: our temporary files (killed before the rename),
/// packs whose index was never written (killed between the two renames), and the index or
/// reverse index of a pack that is gone (a roll-up killed while deleting, index first).
/// git's own `tmp_*` files are left alone: a long fetch may still be writing one.
/// Returns how many files were removed.
pub fn remove_garbage(pack_dir: &Path, names: &[String], min_age: Duration) -> usize {
    let present: HashSet<&str> = names.iter().map(String::as_str).collect();
    let orphan = |name: &str| -> bool {
        let Some((stem, ext)) = name.rsplit_once('.') else {
            return false;
        };
        if !stem.starts_with("pack-") {
            return false;
        }
        match ext {
            "pack" => !present.contains(format!("{stem}.idx").as_str()),
            "idx" | "rev" => !present.contains(format!("{stem}.pack").as_str()),
            _ => false,
        }
    };
    let mut removed = 0;
    for name in names {
        if !(name.starts_with(TMP_PREFIX) || orphan(name)) {
            continue;
        }
        let path = pack_dir.join(name);
        let old = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age >= min_age);
        if old && std::fs::remove_file(path).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use gix::objs::Kind;

    fn git(dir: &Path, args: &[&str], stdin: &str) -> String {
        use std::io::Write as _;
        let mut child = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("git runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn blob(text: &str) -> (ObjectId, Kind, Vec<u8>) {
        let data = text.as_bytes().to_vec();
        let oid = gix::objs::compute_hash(gix::hash::Kind::Sha1, Kind::Blob, &data).unwrap();
        (oid, Kind::Blob, data)
    }

    fn packs(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = pack_dir_names(&dir.join("objects/pack"))
            .unwrap()
            .into_iter()
            .filter(|n| n.ends_with(".pack"))
            .collect();
        names.sort();
        names
    }

    fn bare_repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "--bare", "."], "");
        dir
    }

    #[test]
    fn small_packs_become_one_that_git_reads() {
        let dir = bare_repo();
        let objects = dir.path().join("objects");
        let mut written = Vec::new();
        for i in 0..10 {
            // One object repeats in every pack: the merged pack holds it once.
            let own = blob(&format!("object {i}\n"));
            written.push(own.clone());
            super::super::pack::write_pack(&objects, vec![own, blob("shared\n")]).unwrap();
        }
        written.push(blob("shared\n"));
        assert_eq!(packs(dir.path()).len(), 10);
        assert!(due(&pack_dir_names(&objects.join("pack")).unwrap()));
        let report = roll_up(&objects, TRIGGER).unwrap();
        assert_eq!(
            report,
            RollUp {
                packs_merged: 10,
                objects: 11
            }
        );
        let left = packs(dir.path());
        assert_eq!(left.len(), 1, "{left:?}");
        let idx = objects.join("pack").join(left[0].replace(".pack", ".idx"));
        git(dir.path(), &["verify-pack", idx.to_str().unwrap()], "");
        for (oid, _, data) in &written {
            let out = git(dir.path(), &["cat-file", "blob", &oid.to_string()], "");
            assert_eq!(out.as_bytes(), data.as_slice());
        }
        // Nothing more to do now.
        assert_eq!(roll_up(&objects, 2).unwrap(), RollUp::default());
    }

    #[test]
    fn packs_with_deltas_or_keep_files_are_left_to_git() {
        let dir = bare_repo();
        let objects = dir.path().join("objects");
        // Two similar blobs, packed by git with one as a delta of the other.
        let base: String = (0..400).map(|i| format!("line {i}\n")).collect();
        let a = git(dir.path(), &["hash-object", "-w", "--stdin"], &base);
        let b = git(
            dir.path(),
            &["hash-object", "-w", "--stdin"],
            &format!("{base}more\n"),
        );
        git(
            dir.path(),
            &["pack-objects", "-q", "objects/pack/pack"],
            &format!("{a}{b}"),
        );
        git(dir.path(), &["prune-packed"], "");
        let verbose = git(
            dir.path(),
            &[
                "verify-pack",
                "-v",
                &format!(
                    "objects/pack/{}",
                    packs(dir.path())[0].replace(".pack", ".idx")
                ),
            ],
            "",
        );
        assert!(
            verbose.contains("chain length = 1"),
            "git made a delta: {verbose}"
        );
        let delta_pack = packs(dir.path());
        // A kept pack of our own kind.
        super::super::pack::write_pack(&objects, vec![blob("kept\n")]).unwrap();
        let kept = packs(dir.path())
            .into_iter()
            .find(|p| !delta_pack.contains(p))
            .unwrap();
        std::fs::write(
            objects.join("pack").join(kept.replace(".pack", ".keep")),
            b"",
        )
        .unwrap();
        for i in 0..3 {
            super::super::pack::write_pack(&objects, vec![blob(&format!("mine {i}\n"))]).unwrap();
        }
        let report = roll_up(&objects, 2).unwrap();
        assert_eq!(report.packs_merged, 3, "{report:?}");
        let left = packs(dir.path());
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(left.contains(&delta_pack[0]) && left.contains(&kept));
        git(dir.path(), &["fsck", "--strict"], "");
        git(dir.path(), &["cat-file", "-e", a.trim()], "");
    }

    #[test]
    fn killed_writers_leftovers_go_once_old_and_live_packs_stay() {
        let dir = tempfile::tempdir().unwrap();
        let pack_dir = dir.path();
        let a = "pack-1111111111111111111111111111111111111111";
        let b = "pack-2222222222222222222222222222222222222222";
        let c = "pack-3333333333333333333333333333333333333333";
        for name in [
            format!("{a}.pack"),
            format!("{a}.idx"),
            format!("{b}.pack"),
            format!("{c}.rev"),
            format!("{TMP_PREFIX}77-0"),
            "tmp_pack_XYZ".to_string(),
            format!("{a}.keep"),
        ] {
            std::fs::write(pack_dir.join(name), b"x").unwrap();
        }
        let names = pack_dir_names(pack_dir).unwrap();
        assert_eq!(
            remove_garbage(pack_dir, &names, Duration::from_secs(3600)),
            0,
            "young files may belong to a live writer"
        );
        assert_eq!(remove_garbage(pack_dir, &names, Duration::ZERO), 3);
        let mut left = pack_dir_names(pack_dir).unwrap();
        left.sort();
        assert_eq!(
            left,
            vec![
                format!("{a}.idx"),
                format!("{a}.keep"),
                format!("{a}.pack"),
                "tmp_pack_XYZ".to_string()
            ]
        );
    }

    #[test]
    fn geometric_split_merges_what_breaks_the_progression() {
        assert_eq!(geometric_split(&[]), 0);
        assert_eq!(geometric_split(&[5]), 0);
        // Already a progression: nothing to do.
        assert_eq!(geometric_split(&[1, 2, 4, 8]), 0);
        // Equal small packs merge.
        assert_eq!(geometric_split(&[3, 3, 3, 3]), 4);
        // The small ones merge; the big one stays.
        assert_eq!(geometric_split(&[3, 3, 3, 100]), 3);
        // Merging the small ones (9) would break the progression with 12: it joins too.
        assert_eq!(geometric_split(&[3, 3, 3, 12, 1000]), 4);
    }
}
