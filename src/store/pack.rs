//! Writing the objects of one logical write as a single small pack.
//!
//! Loose objects cost one new file each (five for a typical bead write); creating a file
//! is the dominant cost of a write on many filesystems. A pack holds them all in two files
//! (`.pack`, then `.idx`, which is what makes git and gix see it). Packs are consolidated
//! by `git gastown gc`, triggered automatically when they pile up (see gc.rs).

use std::io::Write as _;
use std::path::Path;

use gix::objs::Kind;
use gix::ObjectId;

use crate::error::{Error, Result};

/// Write `objects` as `objects/pack/pack-<checksum>.{pack,idx}` (version 2, no deltas).
/// Readers never see a pack without its index, nor an index without its pack.
pub fn write_pack(objects_dir: &Path, mut objects: Vec<(ObjectId, Kind, Vec<u8>)>) -> Result<()> {
    if objects.is_empty() {
        return Ok(());
    }
    objects.sort_by_key(|o| o.0);
    // One compressor for every blob, made only when there is one: setting one up, and each
    // restart, zeroes hundreds of kilobytes (a quarter of a bead write's instructions).
    let mut compressor = None;
    let capacity = objects.iter().map(|o| o.2.len() / 2 + 32).sum::<usize>();
    let mut pack = PackBuilder::new(objects.len(), capacity);
    let mut entry = Vec::new();
    for (oid, kind, data) in &objects {
        entry.clear();
        let code: u8 = match kind {
            Kind::Commit => 1,
            Kind::Tree => 2,
            Kind::Blob => 3,
            Kind::Tag => 4,
        };
        // Type and size: 3 bits of type, then the size 4 + 7n bits at a time.
        let mut size = data.len() as u64;
        let mut byte = (code << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            entry.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        entry.push(byte);
        if *kind == Kind::Blob {
            let compressor = compressor.get_or_insert_with(|| {
                gix_zlib::stream::deflate::Compress::new(gix_zlib::Compression::DEFAULT)
            });
            deflate_into(compressor, data, &mut entry)?;
        } else {
            // Trees are mostly object ids and commits are a few hundred bytes: deflate saves
            // little on them and costs most of a write's compression time, so they are stored
            // (a zlib stream of uncompressed blocks, which every reader accepts). Measured on
            // a 10k-bead `create`: docs/BENCHMARKS.md, "Issue 8".
            stored_zlib_into(data, &mut entry);
        }
        pack.add(*oid, crc32fast::hash(&entry), &entry);
    }
    pack.persist(objects_dir).map(|_| ())
}

/// A version 2 pack being assembled in memory from whole entries (header and compressed
/// data), with what its index needs.
pub(super) struct PackBuilder {
    pack: Vec<u8>,
    /// Object id, CRC-32 of the entry, offset in the pack.
    entries: Vec<(ObjectId, u32, u64)>,
}

impl PackBuilder {
    pub(super) fn new(count: usize, capacity: usize) -> PackBuilder {
        let mut pack = Vec::with_capacity(capacity + 32);
        pack.extend_from_slice(b"PACK");
        pack.extend_from_slice(&2u32.to_be_bytes());
        pack.extend_from_slice(&(count as u32).to_be_bytes());
        PackBuilder {
            pack,
            entries: Vec::with_capacity(count),
        }
    }

    /// Append one entry; `crc` is the CRC-32 of `entry`, as the index records it.
    pub(super) fn add(&mut self, oid: ObjectId, crc: u32, entry: &[u8]) {
        self.entries.push((oid, crc, self.pack.len() as u64));
        self.pack.extend_from_slice(entry);
    }

    /// Write the pack, then its index; returns the pack's checksum (its name).
    pub(super) fn persist(mut self, objects_dir: &Path) -> Result<ObjectId> {
        let io = |what: &str, e: std::io::Error| Error::io(format!("writing a pack: {what}"), e);
        let count = self.entries.len() as u32;
        self.pack[8..12].copy_from_slice(&count.to_be_bytes());
        let pack_sum = sha1(&self.pack)?;
        self.pack.extend_from_slice(pack_sum.as_bytes());

        let entries = &mut self.entries;
        entries.sort_by_key(|e| e.0);
        let mut idx = Vec::with_capacity(8 + 1024 + entries.len() * 28 + 40);
        idx.extend_from_slice(b"\xfftOc");
        idx.extend_from_slice(&2u32.to_be_bytes());
        let mut fanout = [0u32; 256];
        for (oid, _, _) in entries.iter() {
            fanout[oid.as_bytes()[0] as usize] += 1;
        }
        let mut running = 0;
        for count in fanout {
            running += count;
            idx.extend_from_slice(&running.to_be_bytes());
        }
        for (oid, _, _) in entries.iter() {
            idx.extend_from_slice(oid.as_bytes());
        }
        for (_, crc, _) in entries.iter() {
            idx.extend_from_slice(&crc.to_be_bytes());
        }
        let mut large = Vec::new();
        for (_, _, offset) in entries.iter() {
            if *offset < 0x8000_0000 {
                idx.extend_from_slice(&(*offset as u32).to_be_bytes());
            } else {
                idx.extend_from_slice(&(0x8000_0000 | large.len() as u32).to_be_bytes());
                large.push(*offset);
            }
        }
        for offset in large {
            idx.extend_from_slice(&offset.to_be_bytes());
        }
        idx.extend_from_slice(pack_sum.as_bytes());
        let idx_sum = sha1(&idx)?;
        idx.extend_from_slice(idx_sum.as_bytes());

        let dir = objects_dir.join("pack");
        std::fs::create_dir_all(&dir).map_err(|e| io("creating objects/pack", e))?;
        let base = dir.join(format!("pack-{pack_sum}"));
        persist(&dir, &base.with_extension("pack"), &self.pack)?;
        persist(&dir, &base.with_extension("idx"), &idx)?;
        Ok(pack_sum)
    }
}

/// Append the zlib stream of `input` to `out`, restarting `compressor` first.
fn deflate_into(
    compressor: &mut gix_zlib::stream::deflate::Compress,
    mut input: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    use gix_zlib::stream::deflate::FlushCompress;
    compressor.reset();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let (read_before, written_before) = (compressor.total_in(), compressor.total_out());
        let status = compressor
            .compress(input, &mut chunk, FlushCompress::Finish)
            .map_err(|e| Error::Git(format!("compressing an object: {e}")))?;
        out.extend_from_slice(&chunk[..(compressor.total_out() - written_before) as usize]);
        input = &input[(compressor.total_in() - read_before) as usize..];
        if status == gix_zlib::Status::StreamEnd {
            return Ok(());
        }
    }
}

/// Append `input` to `out` as a zlib stream of stored (uncompressed) deflate blocks
/// (RFC 1950 header and Adler-32 trailer around RFC 1951 blocks of at most 65,535 bytes).
fn stored_zlib_into(input: &[u8], out: &mut Vec<u8>) {
    // CMF 0x78 (deflate, 32K window), FLG 0x01 (fastest; 0x7801 is a multiple of 31).
    out.extend_from_slice(&[0x78, 0x01]);
    let mut blocks = input.chunks(0xffff).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        let len = block.len() as u16;
        out.push(u8::from(last));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(input).to_be_bytes());
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5,552 bytes is the most that can be summed before `b` could overflow a u32.
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

pub(super) fn sha1(bytes: &[u8]) -> Result<ObjectId> {
    let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
    hasher.update(bytes);
    hasher
        .try_finalize()
        .map_err(|e| Error::Git(format!("hashing a pack: {e}")))
}

/// Names of files being written in `objects/pack` (left behind only by killed writers).
pub(super) const TMP_PREFIX: &str = ".tmp-gastown-";

/// Write a file under a temporary name in `dir` and rename it into place (read-only, as git
/// keeps pack files).
pub(super) fn persist(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!("{TMP_PREFIX}{}-{n}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o444)
            .open(&tmp)?;
        file.write_all(bytes)?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> std::process::Output {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git runs")
    }

    #[test]
    fn adler32_matches_known_values() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        let long = vec![0xffu8; 100_000];
        // Reference value from zlib's adler32() on the same bytes.
        let mut a = 1u64;
        let mut b = 0u64;
        for &x in &long {
            a = (a + u64::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        assert_eq!(adler32(&long), ((b << 16) | a) as u32);
    }

    #[test]
    fn git_reads_the_packs_we_write() {
        let dir = tempfile::tempdir().unwrap();
        assert!(git(dir.path(), &["init", "-q", "--bare", "."])
            .status
            .success());
        // A large object exercises multi-byte sizes and several compressor rounds.
        let big: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut objects: Vec<(ObjectId, Kind, Vec<u8>)> =
            [b"small blob\n".to_vec(), big.clone(), Vec::new()]
                .into_iter()
                .map(|data| {
                    let oid =
                        gix::objs::compute_hash(gix::hash::Kind::Sha1, Kind::Blob, &data).unwrap();
                    (oid, Kind::Blob, data)
                })
                .collect();
        // Trees and commits are stored uncompressed: an empty one, a small one, and one
        // of several 64 KiB blocks (a tree's bytes need not parse for the pack to verify).
        let tree = |data: Vec<u8>| {
            let oid = gix::objs::compute_hash(gix::hash::Kind::Sha1, Kind::Tree, &data).unwrap();
            (oid, Kind::Tree, data)
        };
        let small_tree = {
            let mut t = b"100644 a\0".to_vec();
            t.extend_from_slice(objects[0].0.as_bytes());
            t
        };
        objects.push(tree(Vec::new()));
        objects.push(tree(small_tree));
        let mut big_tree = Vec::new();
        for i in 0..9000u32 {
            big_tree.extend_from_slice(format!("100644 f{i:05}\0").as_bytes());
            big_tree.extend_from_slice(objects[0].0.as_bytes());
        }
        assert!(big_tree.len() > 3 * 65_535);
        objects.push(tree(big_tree));
        write_pack(&dir.path().join("objects"), objects.clone()).unwrap();
        let packs: Vec<_> = std::fs::read_dir(dir.path().join("objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "idx"))
            .collect();
        assert_eq!(packs.len(), 1);
        let verify = git(
            dir.path(),
            &["verify-pack", "-v", packs[0].to_str().unwrap()],
        );
        assert!(
            verify.status.success(),
            "{}",
            String::from_utf8_lossy(&verify.stderr)
        );
        let fsck = git(dir.path(), &["fsck", "--no-dangling"]);
        assert!(
            fsck.status.success(),
            "{}",
            String::from_utf8_lossy(&fsck.stderr)
        );
        for (oid, kind, data) in &objects {
            let out = git(
                dir.path(),
                &["cat-file", &kind.to_string(), &oid.to_string()],
            );
            assert!(out.status.success());
            assert_eq!(&out.stdout, data);
        }
    }
}
