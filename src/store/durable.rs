//! Making a flushed sled commit durable.
//!
//! sled 0.34's `flush` writes its log buffers with `pwrite` and waits for them with
//! `sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER)`. That puts the bytes on the device, but
//! it neither flushes the device's write cache nor writes the file's metadata (its size, when
//! the log grew, or the extents of newly allocated blocks): after a power cut the commit can
//! be gone, or the file can end before it. sled calls `fsync` only from its background thread
//! (every 500 ms) and when the database closes. Large values go to files in `blobs/`, which
//! sled never syncs at all.
//!
//! [`DataFile::sync`] closes those gaps after each flush: `fdatasync` of the log (`db/db`),
//! and of every blob file not synced yet, plus their directory when one appeared.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The files of one sled database that a commit must sync.
#[derive(Debug)]
pub struct DataFile {
    log: File,
    blobs: PathBuf,
    synced_blobs: Mutex<HashSet<OsString>>,
}

impl DataFile {
    /// Opens the log of the database in `db_path` (sled has created it) for syncing, and syncs
    /// what sled wrote while opening: its blob files and its directory, where a new snapshot
    /// was renamed into place.
    pub fn open(db_path: &Path) -> std::io::Result<Self> {
        let log = File::open(db_path.join("db"))?;
        let data = Self {
            log,
            blobs: db_path.join("blobs"),
            synced_blobs: Mutex::new(HashSet::new()),
        };
        data.sync_blobs()?;
        File::open(db_path)?.sync_all()?;
        Ok(data)
    }

    /// Makes everything sled has written so far durable. Call after `sled::Db::flush`.
    pub fn sync(&self) -> std::io::Result<()> {
        self.log.sync_data()?;
        self.sync_blobs()
    }

    fn sync_blobs(&self) -> std::io::Result<()> {
        let entries = match std::fs::read_dir(&self.blobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut synced = self
            .synced_blobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut new = false;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            if synced.contains(&name) {
                continue;
            }
            match File::open(entry.path()) {
                Ok(f) => f.sync_data()?,
                // sled removed it (garbage collection) since the directory was read.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
            synced.insert(name);
            new = true;
        }
        if new {
            File::open(&self.blobs)?.sync_all()?;
        }
        Ok(())
    }
}
