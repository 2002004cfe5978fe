//! The open sled database, and replacing it after a write failure.
//!
//! When a write fails (a full disk, an I/O error), sled 0.34 keeps the error in a global
//! flag for the rest of the database's life: every later write fails with it, even once space
//! is back. Worse, what the failed transaction changed is already in sled's in-memory tree, so
//! reads would show a change that was reported as not saved and that the next process will not
//! find. After a failed commit or flush the store therefore marks its database failed, waits
//! for operations still using it to finish, closes it and opens the files again, which gives
//! back exactly what is on disk. Until that succeeds (it retries at most once a second)
//! operations fail with the reason.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::space::Space;
use super::{OpenOptions, TreeId, damage, durable};
use crate::error::{Error, Result};

/// How long a failed commit waits for other operations to let go of the database.
const DRAIN: Duration = Duration::from_secs(5);
/// Least time between two attempts to reopen a failed database.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// One open sled database with its trees.
pub struct Db {
    sled: sled::Db,
    trees: Vec<sled::Tree>,
    data: durable::DataFile,
}

impl Db {
    fn open(db_path: &Path, opts: &OpenOptions) -> std::result::Result<Self, sled::Error> {
        let sled = sled::Config::new()
            .path(db_path)
            .cache_capacity(opts.cache_bytes)
            .mode(sled::Mode::HighThroughput)
            .open()?;
        let trees = TreeId::ALL
            .iter()
            .map(|t| sled.open_tree(t.name()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let data = durable::DataFile::open(db_path)?;
        Ok(Self { sled, trees, data })
    }

    /// One tree.
    pub fn tree(&self, t: TreeId) -> &sled::Tree {
        &self.trees[t.index()]
    }

    /// Every tree, in [`TreeId::ALL`] order.
    pub fn trees(&self) -> &[sled::Tree] {
        &self.trees
    }

    /// A tree outside [`TreeId::ALL`] (a migration's old layout).
    pub fn open_tree(&self, name: &str) -> std::result::Result<sled::Tree, sled::Error> {
        self.sled.open_tree(name)
    }

    /// Writes everything so far and makes it durable (see `durable`).
    pub fn flush(&self) -> std::result::Result<(), sled::Error> {
        self.sled.flush()?;
        self.data.sync()?;
        Ok(())
    }
}

enum Current {
    Open(Arc<Db>),
    Failed {
        /// The failed database, until everyone has let go of it.
        old: Option<Arc<Db>>,
        problem: Error,
        tried: Option<Instant>,
    },
}

/// The database in `db_path` of the data directory `dir`: opened (on a full disk, with the
/// reserve's space), and reopened after a failure.
pub struct Handle {
    dir: PathBuf,
    db_path: PathBuf,
    opts: OpenOptions,
    space: Space,
    current: Mutex<Current>,
}

impl Handle {
    /// Opens the database.
    pub fn open(dir: &Path, db_path: &Path, opts: &OpenOptions, space: Space) -> Result<Self> {
        let db = open_db(dir, db_path, opts, &space)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            db_path: db_path.to_path_buf(),
            opts: opts.clone(),
            space,
            current: Mutex::new(Current::Open(Arc::new(db))),
        })
    }

    /// The data directory's reserve and free-space check.
    pub fn space(&self) -> &Space {
        &self.space
    }

    /// Path of the sled database.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    fn lock(&self) -> MutexGuard<'_, Current> {
        // The state is replaced whole; a panic elsewhere cannot leave it half-changed.
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The open database, reopening a failed one when it is time to try again.
    pub fn get(&self) -> Result<Arc<Db>> {
        let due = match &*self.lock() {
            Current::Open(db) => return Ok(Arc::clone(db)),
            Current::Failed { tried, .. } => tried.is_none_or(|t| t.elapsed() >= RETRY_EVERY),
        };
        if due {
            self.try_reopen();
        }
        match &*self.lock() {
            Current::Open(db) => Ok(Arc::clone(db)),
            Current::Failed { problem, .. } => Err(problem.clone()),
        }
    }

    /// The open database, if it is open (no reopening).
    pub fn if_open(&self) -> Option<Arc<Db>> {
        match &*self.lock() {
            Current::Open(db) => Some(Arc::clone(db)),
            Current::Failed { .. } => None,
        }
    }

    /// Marks `db` failed after a write failed with `problem`, and reopens the files once
    /// every operation still using it has finished (waiting up to a few seconds; later calls
    /// to [`Handle::get`] finish the job otherwise).
    pub fn failed(&self, db: Arc<Db>, problem: &Error) {
        {
            let mut current = self.lock();
            if matches!(&*current, Current::Open(open) if Arc::ptr_eq(open, &db)) {
                *current = Current::Failed {
                    old: Some(Arc::clone(&db)),
                    problem: Error::Storage(format!(
                        "the store in {} stopped after a failed write ({problem}) and could not be reopened yet; staffctl keeps trying",
                        self.dir.display()
                    )),
                    tried: None,
                };
            }
        }
        drop(db);
        let deadline = Instant::now() + DRAIN;
        while !self.try_reopen() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Reopens a failed database if nothing uses the old one any more. Returns false only
    /// when something still does.
    fn try_reopen(&self) -> bool {
        let mut current = self.lock();
        let Current::Failed {
            old,
            problem,
            tried,
        } = &mut *current
        else {
            return true;
        };
        if old.as_ref().is_some_and(|db| Arc::strong_count(db) > 1) {
            return false;
        }
        // Closes the failed database (sled does no more I/O once it has failed).
        *old = None;
        *tried = Some(Instant::now());
        match reopen_db(&self.dir, &self.db_path, &self.opts, &self.space) {
            Ok(db) => {
                crate::notice::emit(&format!(
                    "the store in {} was reopened after a failed write; changes that were refused were not saved",
                    self.dir.display()
                ));
                *current = Current::Open(Arc::new(db));
            }
            Err(e) => {
                *problem = Error::Storage(format!(
                    "the store in {} stopped after a failed write and cannot be reopened yet ({e}); staffctl tries again on the next request",
                    self.dir.display()
                ));
            }
        }
        true
    }
}

/// Opens the database; when sled cannot for lack of space, empties the reserve and tries
/// again.
fn open_db(dir: &Path, db_path: &Path, opts: &OpenOptions, space: &Space) -> Result<Db> {
    let doing = format!("cannot open the store in {}", dir.display());
    let prepare = || {
        damage::remove_unfinished_snapshots(db_path)
            .map_err(|e| Error::Storage(format!("{doing}: {e}")))
    };
    prepare()?;
    let db = match Db::open(db_path, opts) {
        Err(e) if damage::sled_out_of_space(&e) => {
            let freed = space
                .release()
                .map_err(|r| Error::Storage(format!("{doing}: {e}; emptying the reserve: {r}")))?;
            if freed == 0 {
                return Err(damage::sled_error(dir, db_path, &doing, &e));
            }
            crate::notice::emit(&format!(
                "the disk holding {} is full: {} KiB of staffctl's reserve were freed to open the store; changes are refused until space is freed",
                dir.display(),
                freed / 1024
            ));
            prepare()?;
            Db::open(db_path, opts)
        }
        other => other,
    }
    .map_err(|e| damage::sled_error(dir, db_path, &doing, &e))?;
    space.size_for(db_path);
    Ok(db)
}

/// [`open_db`] right after the failed database was closed: sled's worker threads may hold
/// its file (and so its lock) for a moment longer.
fn reopen_db(dir: &Path, db_path: &Path, opts: &OpenOptions, space: &Space) -> Result<Db> {
    let mut attempts = 0;
    loop {
        match open_db(dir, db_path, opts, space) {
            Err(Error::Storage(m)) if m.contains("could not acquire lock") && attempts < 50 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}
