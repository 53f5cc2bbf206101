//! The storage layer: every piece of gastown state lives in a *collection*, one ref
//! `refs/gastown/<name>` whose commits hold a snapshot tree of small JSON files.
//!
//! Readers resolve the ref once and read from that commit only (lock-free, one consistent
//! snapshot, cost independent of history depth). Writers take the collection's flock, build
//! the new tree from the tip, write one commit authored by the actor and move the ref with a
//! compare-and-swap. This is the only module that writes refs or objects.

pub mod branch;
pub mod cache;
pub mod collection;
pub mod gc;
mod lock;
mod pack;
pub mod remote;
mod rollup;
mod snapshot;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use gix::ObjectId;

pub use lock::{lock_timeout, WriteLock};
pub use snapshot::{Entry, Snapshot};

use crate::error::{Error, Result};

/// Commit header carrying the collection's logical (Lamport) clock.
pub const CLOCK_HEADER: &str = "gastown-clock";

/// Who performs a write: the commit's author and committer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub email: String,
}

/// An opened repository and the paths gastown keeps beside it.
pub struct Store {
    repo: gix::Repository,
    common_dir: PathBuf,
}

/// The changes one logical write makes to a collection.
pub struct WriteBatch {
    /// The clock value this write stamps its changes with (tip clock + 1, or more after
    /// [`WriteBatch::raise_clock`]).
    pub clock: u64,
    upserts: Vec<(String, Content)>,
    headers: Vec<(String, String)>,
    /// Parents besides the tip (a merge commit's other side).
    extra_parents: Vec<ObjectId>,
    /// The operation this write is, for the feed's `Gastown-Op` trailer ([`WriteBatch::op`]).
    op: Option<String>,
    /// Ids the write is about beyond the records it touches (`Gastown-Ids`).
    ids: Vec<String>,
}

/// What a path of a batch becomes: new bytes, or a blob that already exists (a merge
/// taking the other side's version).
enum Content {
    Bytes(Vec<u8>),
    Blob(ObjectId),
}

impl WriteBatch {
    /// Write `bytes` at `path` (relative to the collection root).
    pub fn put(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.upserts.push((path.into(), Content::Bytes(bytes)));
    }

    /// Point `path` at a blob the repository already holds (e.g. a fetched one).
    pub fn put_blob(&mut self, path: impl Into<String>, blob: ObjectId) {
        self.upserts.push((path.into(), Content::Blob(blob)));
    }

    /// Record an extra commit header (e.g. a record count); the clock header is added for you.
    pub fn header(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.headers.retain(|(k, _)| *k != key);
        self.headers.push((key, value.into()));
    }

    /// A header this batch already sets.
    pub fn header_value(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Make the commit a merge: `commit` becomes a second parent.
    pub fn add_parent(&mut self, commit: ObjectId) {
        self.extra_parents.push(commit);
    }

    /// Stamp this write after everything `clock` covers (a merge orders after both sides).
    pub fn raise_clock(&mut self, clock: u64) -> Result<()> {
        self.clock = self.clock.max(next_clock(clock)?);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty()
    }

    /// Name the operation this write is (`sling`, `done`, `mq merge`), when the first words
    /// of its message would not say it: the commit's `Gastown-Op` trailer, which the feed
    /// reads (src/feed).
    pub fn op(&mut self, op: impl Into<String>) {
        self.op = Some(op.into());
    }

    /// Name ids this write is about that are not among the records it touches (a landing
    /// post names its convoy): the `Gastown-Ids` trailer, which the feed shows first.
    pub fn about(&mut self, ids: impl IntoIterator<Item = String>) {
        self.ids.extend(ids);
    }
}

/// Trailer naming a write's operation (see [`op_of_subject`]).
pub const OP_TRAILER: &str = "Gastown-Op";
/// Trailer naming the records a write touched, `dir/name` each (`beads/gt-1`).
pub const RECORDS_TRAILER: &str = "Gastown-Records";
/// Trailer naming ids a write is about beyond its records ([`WriteBatch::about`]).
pub const IDS_TRAILER: &str = "Gastown-Ids";
/// Trailer with the write's time in milliseconds since the epoch (commit times have
/// seconds only, and the feed orders writes of different collections by time).
pub const AT_TRAILER: &str = "Gastown-At";
/// At most this many records are named in one commit; the rest are counted.
const MAX_TRAILER_RECORDS: usize = 24;

/// The operation a commit subject names by the suite's convention `<domain> <verb> <ids>...`
/// (`mq merge mr-1 into main` -> `mq merge`, `hook gt-1 -> ...` -> `hook`): its leading
/// words made of lower-case letters only, at most three, up to a colon. Used for the trailer when a
/// write names no op, and by the feed for commits written before the trailer existed.
pub fn op_of_subject(subject: &str) -> String {
    subject
        .split_whitespace()
        .take(3)
        .scan(true, |open, word| {
            // A word ending in ':' ends the op (`town init: NAME`).
            if !*open {
                return None;
            }
            let bare = word.strip_suffix(':').unwrap_or(word);
            *open = bare.len() == word.len();
            // Ids are `prefix-rest` (gt-1, m-abc): a word with a hyphen is no verb.
            let verb = !bare.is_empty() && bare.chars().all(|c| c.is_ascii_lowercase());
            verb.then_some(bare)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A commit message without the trailers [`Store::write`] adds (what a person wrote, for
/// views such as `git bead log`).
pub fn without_trailers(message: &str) -> &str {
    let body = message.trim_end();
    let Some((head, block)) = body.rsplit_once("\n\n") else {
        return body;
    };
    let ours = |l: &str| {
        [OP_TRAILER, IDS_TRAILER, RECORDS_TRAILER, AT_TRAILER]
            .iter()
            .any(|t| l.starts_with(&format!("{t}: ")))
    };
    if block.lines().all(ours) {
        head.trim_end()
    } else {
        body
    }
}

/// `dir/name` of a record path (`beads/ab/gt-1.json` -> `beads/gt-1`).
fn record_name(path: &str) -> String {
    let dir = path.split('/').next().unwrap_or("");
    let file = path.rsplit('/').next().unwrap_or("");
    let stem = file.strip_suffix(".json").unwrap_or(file);
    if dir == stem {
        dir.to_string()
    } else {
        format!("{dir}/{stem}")
    }
}

/// The message with the feed's structured trailers appended: what the write was and which
/// records it touched, so the feed never has to read prose or diff trees.
fn with_trailers(
    message: &str,
    op: Option<&str>,
    about: &[String],
    upserts: &[(String, Content)],
) -> String {
    let message = message.trim_end();
    let subject = message.lines().next().unwrap_or("");
    let op = op
        .map(str::to_string)
        .unwrap_or_else(|| op_of_subject(subject));
    let mut names: Vec<String> = upserts.iter().map(|(p, _)| record_name(p)).collect();
    names.sort();
    names.dedup();
    let total = names.len();
    names.truncate(MAX_TRAILER_RECORDS);
    let mut records = names.join(" ");
    if total > MAX_TRAILER_RECORDS {
        records.push_str(&format!(" (+{} more)", total - MAX_TRAILER_RECORDS));
    }
    let mut out = format!("{message}\n\n");
    if !op.is_empty() {
        out.push_str(&format!("{OP_TRAILER}: {op}\n"));
    }
    let about: Vec<String> = about
        .iter()
        .filter(|id| !id.is_empty() && !id.contains(char::is_whitespace))
        .take(MAX_TRAILER_RECORDS)
        .cloned()
        .collect();
    if !about.is_empty() {
        out.push_str(&format!("{IDS_TRAILER}: {}\n", about.join(" ")));
    }
    if !records.is_empty() {
        out.push_str(&format!("{RECORDS_TRAILER}: {records}\n"));
    }
    out.push_str(&format!(
        "{AT_TRAILER}: {}\n",
        chrono::Utc::now().timestamp_millis()
    ));
    out
}

/// Clocks beyond this are refused wherever they come from: a Lamport clock grows by one
/// per write, so 2^48 is millions of years of writes, while a clock near u64::MAX (a
/// malformed or hostile remote state) would wrap on the next write and make later edits
/// lose to earlier ones on every clone.
pub const MAX_CLOCK: u64 = 1 << 48;

/// The clock after `clock`, refused past [`MAX_CLOCK`] (never wrapped).
pub fn next_clock(clock: u64) -> Result<u64> {
    match clock.checked_add(1) {
        Some(next) if next <= MAX_CLOCK => Ok(next),
        _ => Err(Error::Corrupt(format!(
            "logical clock {clock} is beyond the sane bound 2^48; refusing to write after it"
        ))),
    }
}

/// What a write closure asks for: commit with this message, leave the store untouched, or
/// move the collection to an existing commit that contains its tip (a fast-forward).
pub enum Outcome<T> {
    Commit { message: String, value: T },
    Unchanged(T),
    FastForward { to: ObjectId, value: T },
}

impl Store {
    /// Open the repository that contains `dir` (honouring GIT_DIR), refusing reftable.
    pub fn open(dir: &Path) -> Result<Store> {
        // Every write adds a small pack and concurrent writers add many while one waits for
        // the lock; gix sizes its pack-index slots when the repository is opened (at least
        // 32 by default), and a pack beyond them is not found. Leave ample room.
        let slots = gix::odb::store::init::Slots::AsNeededByDiskState {
            multiplier: 2.0,
            minimum: 1024,
        };
        let mut trust = gix::sec::trust::Mapping::<gix::open::Options>::default();
        trust.full = trust.full.object_store_slots(slots);
        trust.reduced = trust.reduced.object_store_slots(slots);
        let discovered = gix::ThreadSafeRepository::discover_with_environment_overrides_opts(
            dir,
            Default::default(),
            trust,
        );
        let repo = match discovered.map(gix::Repository::from) {
            Ok(repo) => repo,
            Err(err) => {
                if let Some(git_dir) = find_git_dir(dir) {
                    if uses_reftable(&git_dir) {
                        return Err(Error::Reftable(git_dir));
                    }
                    if uses_sha256(&git_dir) {
                        return Err(Error::Sha256(git_dir));
                    }
                    // A `.git` that is no repository (empty, half-deleted) is reported the
                    // way no `.git` at all is, with the same exit status.
                    if !common_of(&git_dir).join("HEAD").is_file() {
                        return Err(Error::NotARepository(dir.to_path_buf()));
                    }
                    return Err(Error::Git(crate::error::one_line(&err.to_string())));
                }
                return Err(Error::NotARepository(dir.to_path_buf()));
            }
        };
        let common_dir = repo.common_dir().to_path_buf();
        if uses_reftable(&common_dir) {
            return Err(Error::Reftable(common_dir));
        }
        if repo.object_hash() != gix::hash::Kind::Sha1 {
            return Err(Error::Sha256(common_dir));
        }
        let mut repo = repo;
        repo.object_cache_size_if_unset(8 * 1024 * 1024);
        // New objects stay in memory until a ref is about to point at them; then they are
        // written together as one pack (see pack.rs).
        repo.objects.enable_object_memory();
        // gix's default delta-base cache may grow to 96 MB when many objects are read (an
        // index rebuild); 16 MB keeps most of the speed at a sixth of the memory.
        repo.objects.set_pack_cache(|| {
            Box::new(gix::odb::pack::cache::lru::StaticLinkedList::<64>::new(
                16 * 1024 * 1024,
            ))
        });
        Ok(Store { repo, common_dir })
    }

    /// The repository, for reading (history walks, config) inside the crate. Nothing
    /// outside `src/store` writes through it (checked by `tests::only_the_store_writes`).
    pub(crate) fn repo(&self) -> &gix::Repository {
        &self.repo
    }

    /// A git config value of the repository (all scopes, as read when it was opened).
    pub fn config_string(&self, key: &str) -> Option<String> {
        self.repo
            .config_snapshot()
            .string(key)
            .map(|s| s.to_string())
            .filter(|s| !s.trim().is_empty())
    }

    /// The repository's configuration (read-only).
    pub fn config(&self) -> gix::config::Snapshot<'_> {
        self.repo.config_snapshot()
    }

    /// The clock and parents of a commit (history walks).
    pub fn commit_info(&self, commit: ObjectId) -> Result<(u64, Vec<ObjectId>)> {
        snapshot::commit_info(&self.repo, commit)
    }

    /// Whether the object database holds `oid`.
    pub fn has_object(&self, oid: ObjectId) -> bool {
        self.repo.has_object(oid)
    }

    /// `<common git dir>/gastown`: locks, caches and other clone-local files, shared by all
    /// worktrees of the repository.
    pub fn state_dir(&self) -> PathBuf {
        self.common_dir.join("gastown")
    }

    pub fn common_dir(&self) -> &Path {
        &self.common_dir
    }

    pub fn ref_name(collection: &str) -> String {
        format!("refs/gastown/{collection}")
    }

    /// The current state of `collection`, read without any lock.
    pub fn snapshot(&self, collection: &str) -> Result<Snapshot<'_>> {
        Snapshot::at_ref(&self.repo, &Self::ref_name(collection))
    }

    /// The state of `collection` at a given commit (e.g. a fetched remote tip).
    pub fn snapshot_at(&self, commit: ObjectId) -> Result<Snapshot<'_>> {
        Snapshot::at_commit(&self.repo, Some(commit))
    }

    /// Read-only access to any tree of the repository (history, fetched states).
    pub(crate) fn tree_view(repo: &gix::Repository, tree: ObjectId) -> Snapshot<'_> {
        Snapshot::at_tree(repo, tree)
    }

    /// Read-only access to any tree of the repository.
    pub fn tree(&self, tree: ObjectId) -> Snapshot<'_> {
        Snapshot::at_tree(&self.repo, tree)
    }

    pub fn lock_path(&self, collection: &str) -> PathBuf {
        self.state_dir()
            .join("locks")
            .join(format!("{collection}.lock"))
    }

    /// Take the collection's writer lock, waiting at most the configured timeout.
    pub fn lock(&self, collection: &str) -> Result<WriteLock> {
        WriteLock::acquire(&self.lock_path(collection), collection, lock_timeout()?)
    }

    /// One logical write: under the collection lock, `change` sees the tip snapshot and fills
    /// a batch; the batch becomes one commit by `actor` and the ref moves by compare-and-swap.
    /// `change` may run again if a writer that bypassed the lock moved the ref meanwhile.
    pub fn write<T>(
        &self,
        collection: &str,
        actor: &Actor,
        mut change: impl FnMut(&Snapshot<'_>, &mut WriteBatch) -> Result<Outcome<T>>,
    ) -> Result<T> {
        let lock = self.lock(collection)?;
        let (value, committed) = self.write_locked(collection, actor, &mut change)?;
        // Housekeeping runs after the lock is released: other writers need not wait for it.
        drop(lock);
        if committed {
            gc::after_write(self);
        }
        Ok(value)
    }

    /// The body of [`Store::write`], with the collection lock held: the value, and whether a
    /// commit was made. This is the one place a collection ref moves.
    fn write_locked<T>(
        &self,
        collection: &str,
        actor: &Actor,
        change: &mut dyn FnMut(&Snapshot<'_>, &mut WriteBatch) -> Result<Outcome<T>>,
    ) -> Result<(T, bool)> {
        let ref_name = Self::ref_name(collection);
        let layout = collection::layout(collection);
        for _attempt in 0..16 {
            let snap = Snapshot::at_ref(&self.repo, &ref_name)?;
            let mut batch = WriteBatch {
                clock: next_clock(snap.clock)?,
                upserts: Vec::new(),
                headers: Vec::new(),
                extra_parents: Vec::new(),
                op: None,
                ids: Vec::new(),
            };
            let (value, new_tip) = match change(&snap, &mut batch)? {
                Outcome::Unchanged(value) => return Ok((value, false)),
                Outcome::FastForward { to, value } => {
                    if Some(to) == snap.tip {
                        return Ok((value, false));
                    }
                    (value, to)
                }
                Outcome::Commit { message, value } => {
                    if let Some(layout) = layout {
                        for (path, _) in &batch.upserts {
                            layout.join_for(collection, path)?;
                        }
                    }
                    // Objects go to memory here; move_ref writes them as one pack.
                    let tree = self.write_tree(snap.tree, &batch.upserts)?;
                    let mut parents: Vec<ObjectId> = snap.tip.into_iter().collect();
                    parents.extend(batch.extra_parents.iter().copied());
                    let mut headers = vec![(CLOCK_HEADER.to_string(), batch.clock.to_string())];
                    headers.extend(batch.headers);
                    let message =
                        with_trailers(&message, batch.op.as_deref(), &batch.ids, &batch.upserts);
                    let commit = self.write_commit(tree, &parents, actor, &message, &headers)?;
                    (value, commit)
                }
            };
            let inflight = gc::InflightRefUpdate::begin(&self.common_dir, &ref_name, new_tip);
            let moved = self.move_ref(&ref_name, new_tip, snap.tip);
            drop(inflight);
            match moved {
                Ok(()) => return Ok((value, true)),
                Err(RefMove::Moved) => {
                    gc::clear_stale_ref_lock(&self.common_dir, &ref_name);
                    continue;
                }
                Err(RefMove::Failed(err)) => {
                    // A ref lock file left by a killed process must not block writers.
                    if gc::clear_stale_ref_lock(&self.common_dir, &ref_name) {
                        continue;
                    }
                    return Err(err);
                }
            }
        }
        Err(Error::Busy {
            what: collection.to_string(),
            waited_ms: 0,
        })
    }

    /// Write the tree that results from `upserts` on top of `base`, writing only changed
    /// subtrees.
    fn write_tree(&self, base: ObjectId, upserts: &[(String, Content)]) -> Result<ObjectId> {
        let mut editor = self.repo.edit_tree(base)?;
        for (path, content) in upserts {
            let blob = match content {
                Content::Bytes(bytes) => self.repo.write_blob(bytes)?.detach(),
                Content::Blob(oid) => *oid,
            };
            editor.upsert(path.as_str(), gix::object::tree::EntryKind::Blob, blob)?;
        }
        Ok(editor.write()?.detach())
    }

    fn write_commit(
        &self,
        tree: ObjectId,
        parents: &[ObjectId],
        actor: &Actor,
        message: &str,
        headers: &[(String, String)],
    ) -> Result<ObjectId> {
        let signature = gix::actor::Signature {
            name: actor.name.as_str().into(),
            email: actor.email.as_str().into(),
            time: now(),
        };
        let commit = gix::objs::Commit {
            tree,
            parents: parents.iter().copied().collect(),
            author: signature.clone(),
            committer: signature,
            encoding: None,
            message: format!("{}\n", message.trim_end()).into(),
            extra_headers: headers
                .iter()
                .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
                .collect(),
        };
        Ok(self.repo.write_object(&commit)?.detach())
    }

    /// Point `ref_name` at `new` if it still points at `expected` (absent when `None`).
    fn move_ref(
        &self,
        ref_name: &str,
        new: ObjectId,
        expected: Option<ObjectId>,
    ) -> std::result::Result<(), RefMove> {
        // git's own protocol for a loose ref: create `<ref>.lock` exclusively, check the
        // current value under it, write, rename into place. (gix's transaction would also lock
        // packed-refs on every update once that file exists, serialising every writer of the
        // repository on one more file.) refs/gastown is not reflogged by default, so no log.
        let bad = |what: String| RefMove::Failed(Error::Git(what));
        self.persist_objects().map_err(RefMove::Failed)?;
        let valid = ref_name.starts_with("refs/")
            && ref_name
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != ".." && !c.ends_with(".lock"));
        if !valid {
            return Err(RefMove::Failed(Error::invalid(format!(
                "bad ref name '{ref_name}'"
            ))));
        }
        let path = self.common_dir.join(ref_name);
        let lock = self.common_dir.join(format!("{ref_name}.lock"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| bad(format!("creating {}: {e}", dir.display())))?;
        }
        // A git process (`git pack-refs` from a gc, a user's update-ref) may hold the ref's
        // lock for a moment: wait for it a while, as git does (core.filesRefLockTimeout).
        let started = std::time::Instant::now();
        let mut file = loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
            {
                Ok(file) => break file,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if started.elapsed() >= std::time::Duration::from_secs(1) {
                        return Err(RefMove::Failed(Error::Busy {
                            what: ref_name.to_string(),
                            waited_ms: started.elapsed().as_millis(),
                        }));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                Err(e) => return Err(bad(format!("locking {}: {e}", lock.display()))),
            }
        };
        let result = (|| {
            let current = match std::fs::read_to_string(&path) {
                Ok(text) => match ObjectId::from_hex(text.trim().as_bytes()) {
                    Ok(oid) => Some(oid),
                    Err(_) => {
                        return Err(bad(format!(
                            "{ref_name} is not a plain ref: '{}'",
                            text.trim()
                        )))
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // Not loose: maybe packed. `git pack-refs` cannot prune it while we hold
                    // its lock, so this read is current.
                    match self
                        .repo
                        .try_find_reference(ref_name)
                        .map_err(|e| RefMove::Failed(e.into()))?
                    {
                        Some(reference) => reference.try_id().map(|id| id.detach()),
                        None => None,
                    }
                }
                Err(e) => return Err(bad(format!("reading {}: {e}", path.display()))),
            };
            if current != expected {
                return Err(RefMove::Moved);
            }
            use std::io::Write as _;
            file.write_all(format!("{new}\n").as_bytes())
                .map_err(|e| bad(format!("writing {}: {e}", lock.display())))?;
            drop(file);
            std::fs::rename(&lock, &path)
                .map_err(|e| bad(format!("renaming {}: {e}", lock.display())))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&lock);
        }
        result
    }

    /// Write the objects created since the last call (held in memory) as one pack.
    fn persist_objects(&self) -> Result<()> {
        let Some(storage) = self.repo.objects.reset_object_memory() else {
            return Ok(());
        };
        let mut storage = storage;
        let objects: Vec<(ObjectId, gix::objs::Kind, Vec<u8>)> = std::mem::take(&mut *storage)
            .into_iter()
            .map(|(oid, (kind, data))| (oid, kind, data))
            .collect();
        pack::write_pack(&self.common_dir.join("objects"), objects)
    }

    /// Point `refs/gastown/local/work/<name>` at `commit`, so a branch's work stays reachable
    /// after its sandbox and branch are gone (clone-local: sync never touches it).
    pub fn pin_work(&self, name: &str, commit: &str) -> Result<String> {
        let oid = ObjectId::from_hex(commit.as_bytes())
            .map_err(|_| Error::invalid(format!("bad commit id '{commit}'")))?;
        if !self.repo.has_object(oid) {
            return Err(Error::invalid(format!(
                "no commit {commit} in this repository"
            )));
        }
        let ref_name = format!("refs/gastown/local/work/{name}");
        // Pinning writers take turns, so a ref lock file none of them holds was left by a
        // killed one (`done` is killed at any moment and re-run) and may be cleared.
        let _turn = self.lock("local-work")?;
        for _ in 0..16 {
            let current = self
                .repo
                .try_find_reference(ref_name.as_str())?
                .and_then(|r| r.try_id().map(|id| id.detach()));
            if current == Some(oid) {
                return Ok(ref_name);
            }
            match self.move_ref(&ref_name, oid, current) {
                Ok(()) => return Ok(ref_name),
                Err(RefMove::Moved) => continue,
                Err(RefMove::Failed(err)) => {
                    if gc::clear_stale_ref_lock(&self.common_dir, &ref_name) {
                        continue;
                    }
                    return Err(err);
                }
            }
        }
        Err(Error::Busy {
            what: ref_name,
            waited_ms: 0,
        })
    }

    /// Tips of every ref under `prefix` (e.g. `refs/gastown/`), for sync and diagnostics.
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, ObjectId)>> {
        let mut out = Vec::new();
        let platform = self.repo.references()?;
        for reference in platform.prefixed(prefix)? {
            let reference = reference.map_err(|e| Error::Git(e.to_string()))?;
            if let Some(id) = reference.try_id() {
                out.push((reference.name().as_bstr().to_string(), id.detach()));
            }
        }
        Ok(out)
    }
}

/// The current time with the local UTC offset. (gix's own `now_local_or_utc` scans the whole
/// zoneinfo tree, which costs milliseconds per write.)
fn now() -> gix::date::Time {
    let local = chrono::Local::now();
    gix::date::Time {
        seconds: local.timestamp(),
        offset: local.offset().local_minus_utc(),
    }
}

/// Why a compare-and-swap ref update did not happen.
enum RefMove {
    /// The ref no longer points where the caller expected.
    Moved,
    Failed(Error),
}

/// Walk up from `dir` to the git dir a repository there would use, without gix.
fn find_git_dir(dir: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for candidate in start.ancestors() {
        let dot_git = candidate.join(".git");
        if dot_git.is_dir() {
            return Some(dot_git);
        }
        if dot_git.is_file() {
            let text = std::fs::read_to_string(&dot_git).ok()?;
            let target = text.strip_prefix("gitdir:")?.trim();
            return Some(candidate.join(target));
        }
        if candidate.join("HEAD").is_file() && candidate.join("objects").is_dir() {
            return Some(candidate.to_path_buf());
        }
    }
    None
}

/// The common dir a git dir points to (itself unless it is a worktree's).
fn common_of(git_dir: &Path) -> PathBuf {
    std::fs::read_to_string(git_dir.join("commondir"))
        .map(|rel| git_dir.join(rel.trim()))
        .unwrap_or_else(|_| git_dir.to_path_buf())
}

/// Whether the repository's config has `setting` (lower case, no spaces), e.g.
/// `refstorage=reftable`. Read by hand: gix cannot load the config of such repositories.
fn config_has(git_dir: &Path, setting: &str) -> bool {
    std::fs::read_to_string(common_of(git_dir).join("config"))
        .map(|cfg| {
            cfg.lines().any(|line| {
                let line = line.trim().to_ascii_lowercase().replace([' ', '\t'], "");
                line == setting
            })
        })
        .unwrap_or(false)
}

/// Whether the git dir (or the common dir it points to) stores refs in reftable format.
fn uses_reftable(git_dir: &Path) -> bool {
    common_of(git_dir).join("reftable").is_dir() || config_has(git_dir, "refstorage=reftable")
}

/// Whether the repository uses SHA-256 object ids (`extensions.objectFormat = sha256`).
fn uses_sha256(git_dir: &Path) -> bool {
    config_has(git_dir, "objectformat=sha256")
}
