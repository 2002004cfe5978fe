//! The only code that touches sled: trees and key layout, secondary indexes, multi-tree
//! transactions, the schema version and migrations, and the single-owner lock.
//!
//! Values are versioned bincode envelopes ([`codec`]); keys are big-endian ids or lowercased
//! index strings, so sled's byte order is numeric order.

pub mod audit_log;
pub mod codec;
pub mod damage;
pub mod derived;
pub mod dir;
mod durable;
mod handle;
pub mod head_file;
pub mod lock;
pub mod member_index;
pub mod migrate;
pub mod rebuild;
mod schema4;
pub mod search_index;
pub mod space;
pub mod target_index;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use crate::error::{Error, Result};
use crate::model::Id;
pub use codec::Record;
pub use rebuild::RebuildReport;

/// Every tree in the store. The discriminant is the tree's position in transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeId {
    /// Singletons: schema version, practice, id counters, audit head.
    Meta,
    /// User id -> User.
    Users,
    /// `e:<email>` / `u:<username>` (lowercase) / `n:<NPI>` -> user id ([`keys`]).
    UsersByLogin,
    /// role id ++ block of 64 user ids -> bitmap of holders ([`member_index`]).
    UsersByRole,
    /// primary facility id ++ block of 64 user ids -> bitmap ([`member_index`]).
    UsersByFacility,
    /// Block of 64 user ids -> their lowercase search texts ([`search_index`]).
    UsersSearch,
    /// User id -> Credential.
    Credentials,
    /// Role id -> Role.
    Roles,
    /// lowercase name -> role id.
    RolesByName,
    /// Facility id -> Facility.
    Facilities,
    /// lowercase name -> facility id.
    FacilitiesByName,
    /// Invite id -> Invite.
    Invites,
    /// Device id -> Device.
    Devices,
    /// Chunk number (BE) -> a chunk of consecutive audit events ([`audit_log`]).
    Audit,
    /// `kind:id` ++ block -> sequence numbers of the events about it ([`target_index`]).
    AuditByTarget,
    /// Audit bytes that could not stay in the log (damaged or out of place), kept for
    /// investigators; never read by staffctl and never deleted.
    AuditQuarantine,
}

impl TreeId {
    /// All trees, in transaction order.
    pub const ALL: [TreeId; 16] = [
        TreeId::Meta,
        TreeId::Users,
        TreeId::UsersByLogin,
        TreeId::UsersByRole,
        TreeId::UsersByFacility,
        TreeId::UsersSearch,
        TreeId::Credentials,
        TreeId::Roles,
        TreeId::RolesByName,
        TreeId::Facilities,
        TreeId::FacilitiesByName,
        TreeId::Invites,
        TreeId::Devices,
        TreeId::Audit,
        TreeId::AuditByTarget,
        TreeId::AuditQuarantine,
    ];

    /// The sled tree name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Meta => "meta",
            Self::Users => "users",
            Self::UsersByLogin => "users_by_login",
            Self::UsersByRole => "users_by_role",
            Self::UsersByFacility => "users_by_facility",
            Self::UsersSearch => "users_search",
            Self::Credentials => "credentials",
            Self::Roles => "roles",
            Self::RolesByName => "roles_by_name",
            Self::Facilities => "facilities",
            Self::FacilitiesByName => "facilities_by_name",
            Self::Invites => "invites",
            Self::Devices => "devices",
            Self::Audit => "audit_log",
            Self::AuditByTarget => "audit_by_target",
            Self::AuditQuarantine => "audit_quarantine",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Meta keys.
pub mod meta {
    /// Schema version (u16 BE).
    pub const SCHEMA: &[u8] = b"schema_version";
    /// The practice settings record.
    pub const PRACTICE: &[u8] = b"practice";
    /// Newest audit event: sequence (u64 BE) ++ hash (32 bytes).
    pub const AUDIT_HEAD: &[u8] = b"audit_head";
    /// User id of the default doctor, if any.
    pub const DEFAULT_DOCTOR: &[u8] = b"default_doctor";
    /// Prefix of per-kind id counters (`next_id:user`).
    pub const NEXT_ID: &str = "next_id:";

    /// Decodes [`AUDIT_HEAD`].
    pub fn decode_head(raw: &[u8]) -> Option<(u64, [u8; 32])> {
        let seq = super::key_id(raw)?;
        let hash = raw.get(8..40)?.try_into().ok()?;
        Some((seq, hash))
    }
    /// Prefix of every head count key.
    pub const COUNT_PREFIX: &[u8] = b"count:";

    /// Key of the number of users holding a role (`kind` = `role`) or attributed to a facility
    /// (`kind` = `facility`): `count:<kind>:` ++ id (BE) -> u64 (BE). A count of 0 is not
    /// stored.
    pub fn count_key(kind: &str, id: crate::model::Id) -> Vec<u8> {
        let mut k = format!("count:{kind}:").into_bytes();
        k.extend_from_slice(&id.to_be_bytes());
        k
    }
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Page cache size in bytes (sled's default is 1 GiB). The default, 4 MiB, suits a process
    /// that runs one command or one interface session; a long-running server that many clients
    /// read through uses [`OpenOptions::SERVER_CACHE_BYTES`].
    pub cache_bytes: u64,
    /// Create the directory and store when missing.
    pub create: bool,
}

impl OpenOptions {
    /// Page cache of `staffctl serve`.
    pub const SERVER_CACHE_BYTES: u64 = 16 << 20;
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            cache_bytes: 4 << 20,
            create: true,
        }
    }
}

/// An open store. Dropping it flushes and releases the owner lock.
pub struct Store {
    /// Declared first so the database closes before the owner lock is released.
    db: handle::Handle,
    dir: PathBuf,
    /// Shared so that a migration can hold the lock across the old and the rewritten database.
    lock: std::sync::Arc<lock::OwnerLock>,
    /// Serialises commits, so the head file is written in commit order.
    commit: std::sync::Mutex<()>,
    /// The head file; `None` for a database being written by a migration.
    head: Option<head_file::Tracker>,
    modes: dir::Modes,
}

/// A record that could not be decoded, reported instead of aborting a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CorruptRecord {
    /// Tree name.
    pub tree: String,
    /// Key, hex-encoded.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for CorruptRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "record {}/{} is unreadable: {}",
            self.tree, self.key, self.problem
        )
    }
}

/// Raw stored bytes as the store hands them out (reference-counted: cheap to clone and keep).
pub type Bytes = sled::IVec;

/// Result type inside a transaction closure.
pub type TxResult<T> = std::result::Result<T, ConflictableTransactionError<Error>>;

impl From<Error> for ConflictableTransactionError<Error> {
    fn from(e: Error) -> Self {
        ConflictableTransactionError::Abort(e)
    }
}

fn storage(e: impl std::fmt::Display) -> Error {
    Error::Storage(format!("store error: {e}"))
}

/// Big-endian bytes of an id.
pub fn id_key(id: Id) -> [u8; 8] {
    id.to_be_bytes()
}

/// Reads a big-endian id.
pub fn key_id(bytes: &[u8]) -> Option<Id> {
    bytes.get(..8)?.try_into().ok().map(u64::from_be_bytes)
}

/// A pair key: `a ++ b`, both big-endian.
pub fn pair_key(a: Id, b: Id) -> [u8; 16] {
    let mut k = [0; 16];
    k[..8].copy_from_slice(&a.to_be_bytes());
    k[8..].copy_from_slice(&b.to_be_bytes());
    k
}

/// One tree of the open database, kept open while in use (see [`handle`]).
pub(crate) struct TreeRef {
    db: Arc<handle::Db>,
    tree: TreeId,
}

impl std::ops::Deref for TreeRef {
    type Target = sled::Tree;

    fn deref(&self) -> &sled::Tree {
        self.db.tree(self.tree)
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`, taking the owner lock first.
    pub fn open(dir: &Path, opts: &OpenOptions) -> Result<Self> {
        let modes = dir::prepare(dir, opts.create)?;
        let lock = Arc::new(lock::OwnerLock::acquire(dir, modes.file)?);
        migrate::finish_interrupted_rewrite(dir)?;
        let store = Self::open_db(dir, &dir.join("db"), opts, lock, modes)?;
        let mut store = migrate::run(store, opts)?;
        dir::tighten(dir, modes);
        let head = store.audit_head()?;
        store.head = Some(head_file::Tracker::load(dir, modes.file, head));
        Ok(store)
    }

    /// Opens the sled database at `db_path` for the data directory `dir`, whose owner lock the
    /// caller holds. The store does not keep the head file (a migration's new database).
    fn open_db(
        dir: &Path,
        db_path: &Path,
        opts: &OpenOptions,
        lock: Arc<lock::OwnerLock>,
        modes: dir::Modes,
    ) -> Result<Self> {
        let space = space::Space::new(dir, modes.file);
        Ok(Self {
            db: handle::Handle::open(dir, db_path, opts, space)?,
            dir: dir.to_path_buf(),
            lock,
            commit: std::sync::Mutex::new(()),
            head: None,
            modes,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The error for a sled failure while `doing` something.
    fn sled_error(&self, doing: &str, e: &sled::Error) -> Error {
        damage::sled_error(&self.dir, self.db.db_path(), doing, e)
    }

    fn read_error(&self, e: &sled::Error) -> Error {
        self.sled_error(
            &format!("cannot read the store in {}", self.dir.display()),
            e,
        )
    }

    /// One tree of the current database.
    pub(crate) fn tree(&self, t: TreeId) -> Result<TreeRef> {
        Ok(TreeRef {
            db: self.db.get()?,
            tree: t,
        })
    }

    /// A tree outside [`TreeId::ALL`] (the old layout a migration reads).
    pub(crate) fn raw_tree(&self, name: &str) -> Result<sled::Tree> {
        self.db
            .get()?
            .open_tree(name)
            .map_err(|e| self.read_error(&e))
    }

    /// Whether the store has been initialised (has a practice record). A store without one
    /// whose head file records events is not new but lost everything: that is an error, so
    /// nobody is told to initialise it again.
    pub fn is_initialised(&self) -> Result<bool> {
        let found = self
            .tree(TreeId::Meta)?
            .contains_key(meta::PRACTICE)
            .map_err(|e| self.read_error(&e))?;
        if let (false, head_file::Recorded::Head(recorded)) = (found, self.recorded_head())
            && recorded.seq > 0
        {
            let seq = self.audit_head()?.map_or(0, |(seq, _)| seq);
            return Err(Error::Integrity(head_file::lost_events(seq, &recorded)));
        }
        Ok(found)
    }

    /// Reads a raw value.
    pub fn get_raw(&self, t: TreeId, key: &[u8]) -> Result<Option<Bytes>> {
        self.tree(t)?.get(key).map_err(|e| self.read_error(&e))
    }

    /// Reads and decodes one record.
    pub fn get<T: Record>(&self, t: TreeId, key: &[u8]) -> Result<Option<T>> {
        match self.get_raw(t, key)? {
            None => Ok(None),
            Some(bytes) => codec::decode(&bytes).map(Some).map_err(|problem| {
                Error::Integrity(
                    CorruptRecord {
                        tree: t.name().into(),
                        key: hex::encode(key),
                        problem,
                    }
                    .to_string(),
                )
            }),
        }
    }

    /// Reads an id stored under an index key.
    pub fn get_id(&self, t: TreeId, key: &[u8]) -> Result<Option<Id>> {
        Ok(self.get_raw(t, key)?.as_deref().and_then(key_id))
    }

    /// The store's audit head (`meta/audit_head`): sequence and hash of the newest event.
    pub fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>> {
        match self.get_raw(TreeId::Meta, meta::AUDIT_HEAD)? {
            None => Ok(None),
            Some(raw) => meta::decode_head(&raw)
                .map(Some)
                .ok_or_else(|| Error::Integrity("meta/audit_head is unreadable".into())),
        }
    }

    /// What the head file outside sled says (see [`head_file`]).
    pub fn recorded_head(&self) -> head_file::Recorded {
        self.head
            .as_ref()
            .map_or(head_file::Recorded::Missing, head_file::Tracker::recorded)
    }

    /// Iterates the decoded records of a tree in key order. Undecodable records come back as
    /// `Err(CorruptRecord)` so a listing can report them and go on.
    pub fn scan<T: Record>(
        &self,
        t: TreeId,
    ) -> impl Iterator<Item = Result<std::result::Result<T, CorruptRecord>>> + '_ {
        self.scan_from(t, &[])
    }

    /// Like [`Store::scan`], starting at `start` (inclusive).
    pub fn scan_from<T: Record>(
        &self,
        t: TreeId,
        start: &[u8],
    ) -> impl Iterator<Item = Result<std::result::Result<T, CorruptRecord>>> + '_ {
        Reseek::new(self, t, start).map(move |item| {
            let (k, v) = item?;
            Ok(codec::decode::<T>(&v).map_err(|problem| CorruptRecord {
                tree: t.name().into(),
                key: hex::encode(&k),
                problem,
            }))
        })
    }

    /// Raw key/value pairs under a prefix (for short runs of keys: one target's index).
    pub fn scan_prefix_raw(
        &self,
        t: TreeId,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Bytes, Bytes)>> + '_ {
        let (held, failed) = match self.tree(t) {
            Ok(tree) => (
                Some(Held {
                    iter: tree.scan_prefix(prefix),
                    _tree: tree,
                }),
                None,
            ),
            Err(e) => (None, Some(Err(e))),
        };
        failed.into_iter().chain(
            held.into_iter()
                .flatten()
                .map(|r| r.map_err(|e| self.read_error(&e))),
        )
    }

    /// Raw key/value pairs of a whole tree, in key order.
    pub fn scan_raw(&self, t: TreeId) -> impl Iterator<Item = Result<(Bytes, Bytes)>> + '_ {
        Reseek::new(self, t, &[])
    }

    /// Number of entries in a tree (a full scan: use on small trees).
    pub fn count(&self, t: TreeId) -> Result<usize> {
        Ok(self.tree(t)?.len())
    }

    /// Runs `f` as one atomic transaction over every tree and makes it durable (sled's flush,
    /// then an fsync of its files: see [`durable`]) before returning `Ok`; then records the
    /// new audit head outside sled. sled may re-run `f` on a conflict, so it must have no side
    /// effects outside the transaction.
    ///
    /// Refused before anything is written: a store behind its recorded head (it lost events),
    /// and a disk without room for the change (see [`space`]). A commit or flush that fails
    /// leaves sled unusable; the store then reopens its files (see [`handle`]).
    pub fn transact<T>(&self, f: impl Fn(&Tx<'_>) -> TxResult<T>) -> Result<T> {
        let _commit = self
            .commit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let db = self.db.get()?;
        if let Some(head) = &self.head {
            head.check_writable(&db)?;
        }
        self.db.space().check_for_write()?;
        let out = db
            .trees()
            .transaction(|trees| f(&Tx { trees }))
            .map_err(|e| match e {
                TransactionError::Abort(e) => Ok(e),
                TransactionError::Storage(e) => Err(e),
            });
        let out = match out {
            Ok(out) => out,
            Err(Ok(refused)) => return Err(refused),
            Err(Err(e)) => return Err(self.write_failed(db, &e)),
        };
        if let Err(e) = db.flush() {
            return Err(self.write_failed(db, &e));
        }
        if let Some(head) = &self.head {
            head.after_commit(&db);
        }
        Ok(out)
    }

    /// The error for a failed commit, after which `db` is replaced (see [`handle`]).
    fn write_failed(&self, db: Arc<handle::Db>, e: &sled::Error) -> Error {
        let err = self.sled_error(
            &format!(
                "the change was not saved: writing to the store in {} failed",
                self.dir.display()
            ),
            e,
        );
        self.db.failed(db, &err);
        err
    }

    /// Forces everything written so far to disk (sled's flush and an fsync, and the head
    /// file).
    pub fn flush(&self) -> Result<()> {
        let db = self.db.get()?;
        if let Err(e) = db.flush() {
            return Err(self.write_failed(db, &e));
        }
        if let Some(head) = &self.head {
            head.sync().map_err(|e| {
                Error::Storage(format!(
                    "cannot sync {}: {e}",
                    self.dir.join(head_file::HEAD_FILE).display()
                ))
            })?;
        }
        Ok(())
    }

    /// Free space, besides the reserve, that a change needs (tests set 0 to let sled meet a
    /// full disk).
    #[doc(hidden)]
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.db.space().set_min_free(bytes);
    }

    /// Writes a raw value outside a transaction. Only for tests and fixtures that must create
    /// damaged or legacy records; the service never calls it.
    #[doc(hidden)]
    pub fn put_raw_unchecked(&self, t: TreeId, key: &[u8], value: &[u8]) -> Result<()> {
        self.tree(t)?
            .insert(key, value)
            .map_err(|e| self.read_error(&e))?;
        self.flush()
    }

    /// Bulk-loads records outside the service (benchmark and demo generators). Not audited.
    #[doc(hidden)]
    pub fn batch_put(
        &self,
        t: TreeId,
        items: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
    ) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (k, v) in items {
            batch.insert(k, v);
        }
        self.tree(t)?.apply_batch(batch).map_err(storage)
    }

    /// Like [`Store::batch_put`] but one insert at a time, so not atomic: after a crash any
    /// prefix of `items` may be stored. For loads of millions of records (the bulk generator),
    /// where sled's atomic batches cost about 2.5x the time and several times the memory (they
    /// pin the log until the whole batch is written). Safe to call from several threads at once
    /// on different trees. Not audited; nothing is flushed.
    #[doc(hidden)]
    pub fn bulk_insert(
        &self,
        t: TreeId,
        items: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
    ) -> Result<()> {
        let tree = self.tree(t)?;
        for (k, v) in items {
            tree.insert(k, v).map_err(storage)?;
        }
        Ok(())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Best effort: every mutation already flushed before reporting success.
        if let Some(db) = self.db.if_open() {
            let _ = db.flush();
        }
    }
}

/// An iterator over a tree that keeps the database open while it lives (see [`handle`]).
struct Held<I> {
    iter: I,
    _tree: TreeRef,
}

impl<I: Iterator> Iterator for Held<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        self.iter.next()
    }
}

/// Walks a tree in key order by looking each record up afresh from the one before, rather than
/// with sled's iterator.
///
/// sled's cache learns which pages were used in batches of 64 accesses per shard (of 256), and
/// its iterator touches each leaf once. A single pass over a large tree therefore leaves nearly
/// every leaf it read in memory (tens of megabytes for 100,000 users). A lookup per record
/// touches each leaf once per record in it, so the cache sees the pass and evicts as it goes,
/// for about a fifth more time.
struct Reseek<'a> {
    store: &'a Store,
    tree: std::result::Result<TreeRef, Option<Error>>,
    from: std::ops::Bound<Vec<u8>>,
    done: bool,
}

impl<'a> Reseek<'a> {
    fn new(store: &'a Store, t: TreeId, start: &[u8]) -> Self {
        Self {
            store,
            tree: store.tree(t).map_err(Some),
            from: std::ops::Bound::Included(start.to_vec()),
            done: false,
        }
    }
}

impl Iterator for Reseek<'_> {
    type Item = Result<(Bytes, Bytes)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let tree = match &mut self.tree {
            Ok(tree) => tree,
            Err(e) => {
                self.done = true;
                return e.take().map(Err);
            }
        };
        let found = tree
            .range((self.from.clone(), std::ops::Bound::Unbounded))
            .next();
        match found {
            Some(Ok((k, v))) => {
                self.from = std::ops::Bound::Excluded(k.to_vec());
                Some(Ok((k, v)))
            }
            Some(Err(e)) => {
                self.done = true;
                Some(Err(self.store.read_error(&e)))
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}

/// A transaction over every tree, with typed helpers.
pub struct Tx<'a> {
    trees: &'a [TransactionalTree],
}

impl Tx<'_> {
    fn tree(&self, t: TreeId) -> &TransactionalTree {
        &self.trees[t.index()]
    }

    /// Reads and decodes a record.
    pub fn get<T: Record>(&self, t: TreeId, key: &[u8]) -> TxResult<Option<T>> {
        match self.tree(t).get(key)? {
            None => Ok(None),
            Some(bytes) => codec::decode(&bytes).map(Some).map_err(|problem| {
                Error::Integrity(
                    CorruptRecord {
                        tree: t.name().into(),
                        key: hex::encode(key),
                        problem,
                    }
                    .to_string(),
                )
                .into()
            }),
        }
    }

    /// Encodes and writes a record.
    pub fn put<T: Record>(&self, t: TreeId, key: &[u8], value: &T) -> TxResult<()> {
        let bytes = codec::encode(value).map_err(Error::Storage)?;
        self.tree(t).insert(key, bytes)?;
        Ok(())
    }

    /// Reads a raw value.
    pub fn get_raw(&self, t: TreeId, key: &[u8]) -> TxResult<Option<Bytes>> {
        Ok(self.tree(t).get(key)?)
    }

    /// Writes a raw value.
    pub fn put_raw(&self, t: TreeId, key: &[u8], value: &[u8]) -> TxResult<()> {
        self.tree(t).insert(key, value)?;
        Ok(())
    }

    /// Removes a key.
    pub fn remove(&self, t: TreeId, key: &[u8]) -> TxResult<()> {
        self.tree(t).remove(key)?;
        Ok(())
    }

    /// Reads an id stored under an index key.
    pub fn get_id(&self, t: TreeId, key: &[u8]) -> TxResult<Option<Id>> {
        Ok(self.tree(t).get(key)?.as_deref().and_then(key_id))
    }

    /// Adds `delta` to a counter in `meta` (missing counters start at 0, never go below 0). A
    /// counter that reaches 0 is removed, so the counters are what a count from scratch
    /// ([`Store::rebuild_indexes`]) writes.
    pub fn bump(&self, key: &[u8], delta: i64) -> TxResult<()> {
        let current = self.get_id(TreeId::Meta, key)?.unwrap_or(0);
        match current.saturating_add_signed(delta) {
            0 => self.remove(TreeId::Meta, key),
            next => self.put_raw(TreeId::Meta, key, &id_key(next)),
        }
    }

    /// Allocates the next id of a kind (never reused, even after deletes).
    pub fn next_id(&self, kind: &str) -> TxResult<Id> {
        let key = format!("{}{kind}", meta::NEXT_ID);
        let next = self.get_id(TreeId::Meta, key.as_bytes())?.unwrap_or(1);
        self.put_raw(TreeId::Meta, key.as_bytes(), &id_key(next + 1))?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Facility;

    #[test]
    fn scans_walk_every_record_in_key_order_from_the_start_key() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        assert_eq!(store.scan_raw(TreeId::Facilities).count(), 0);
        let ids = [300u64, 2, 70, 1, 65_536];
        store
            .batch_put(
                TreeId::Facilities,
                ids.iter().map(|id| {
                    let f = Facility {
                        id: *id,
                        name: format!("F{id}"),
                        code: None,
                        address: None,
                        phone: None,
                        archived: false,
                        created_at: jiff::Timestamp::UNIX_EPOCH,
                        updated_at: jiff::Timestamp::UNIX_EPOCH,
                        revision: 1,
                    };
                    (id_key(*id).to_vec(), codec::encode(&f).unwrap())
                }),
            )
            .unwrap();
        store
            .put_raw_unchecked(TreeId::Facilities, &id_key(71), b"\x00\x01junk")
            .unwrap();
        let keys: Vec<u64> = store
            .scan_raw(TreeId::Facilities)
            .map(|r| key_id(&r.unwrap().0).unwrap())
            .collect();
        assert_eq!(keys, [1, 2, 70, 71, 300, 65_536]);
        let from_70: Vec<std::result::Result<u64, String>> = store
            .scan_from::<Facility>(TreeId::Facilities, &id_key(70))
            .map(|r| r.unwrap().map(|f| f.id).map_err(|bad| bad.key))
            .collect();
        assert_eq!(
            from_70,
            [Ok(70), Err(hex::encode(id_key(71))), Ok(300), Ok(65_536)]
        );
    }
}
