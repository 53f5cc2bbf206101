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
    let io = |what: &str, e: std::io::Error| Error::io(format!("writing a pack: {what}"), e);

    let mut pack =
        Vec::with_capacity(objects.iter().map(|o| o.2.len() / 2 + 32).sum::<usize>() + 32);
    pack.extend_from_slice(b"PACK");
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&(objects.len() as u32).to_be_bytes());
    let mut entries = Vec::with_capacity(objects.len());
    for (oid, kind, data) in &objects {
        let start = pack.len();
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
            pack.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        pack.push(byte);
        let mut deflate =
            gix_zlib::stream::deflate::Write::new(&mut pack, gix_zlib::Compression::DEFAULT);
        deflate.write_all(data).map_err(|e| io("compressing", e))?;
        deflate.flush().map_err(|e| io("compressing", e))?;
        drop(deflate);
        let crc = crc32fast::hash(&pack[start..]);
        entries.push((*oid, crc, start as u64));
    }
    let pack_sum = sha1(&pack)?;
    pack.extend_from_slice(pack_sum.as_bytes());

    let mut idx = Vec::with_capacity(8 + 1024 + entries.len() * 28 + 40);
    idx.extend_from_slice(b"\xfftOc");
    idx.extend_from_slice(&2u32.to_be_bytes());
    let mut fanout = [0u32; 256];
    for (oid, _, _) in &entries {
        fanout[oid.as_bytes()[0] as usize] += 1;
    }
    let mut running = 0;
    for count in fanout {
        running += count;
        idx.extend_from_slice(&running.to_be_bytes());
    }
    for (oid, _, _) in &entries {
        idx.extend_from_slice(oid.as_bytes());
    }
    for (_, crc, _) in &entries {
        idx.extend_from_slice(&crc.to_be_bytes());
    }
    let mut large = Vec::new();
    for (_, _, offset) in &entries {
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
    persist(&dir, &base.with_extension("pack"), &pack)?;
    persist(&dir, &base.with_extension("idx"), &idx)
}

fn sha1(bytes: &[u8]) -> Result<ObjectId> {
    let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
    hasher.update(bytes);
    hasher
        .try_finalize()
        .map_err(|e| Error::Git(format!("hashing a pack: {e}")))
}

/// Write a file under a temporary name in `dir` and rename it into place (read-only, as git
/// keeps pack files).
fn persist(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".tmp-gastown-{}-{n}", std::process::id()));
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
