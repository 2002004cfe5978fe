//! The single-owner lock: one process owns a store at a time. The holder writes who it is into
//! the lock file, so a second process can say exactly who is in the way.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "staffctl.lock";

/// Held for as long as the store is open; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct OwnerLock {
    _file: File,
    path: PathBuf,
}

impl OwnerLock {
    /// Takes the lock or explains who holds it. A new lock file gets `mode`.
    pub fn acquire(dir: &Path, mode: u32) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(mode)
            .open(&path)
            .map_err(|e| {
                Error::Storage(format!("cannot open lock file {}: {e}", path.display()))
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // The holder may be mid-write; an empty description is still a useful error.
                let _ = file.read_to_string(&mut holder);
                return Err(Error::Busy(busy_message(dir, &holder)));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::Storage(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )));
            }
        }
        let me = crate::audit::Origin::current();
        let since = jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M:%S UTC");
        // One write, no fsync: the text only tells a second process who holds the lock, which
        // it reads through the page cache; after a crash the lock is free anyway. Written over
        // the previous holder's text before the file is cut to length, so it needs no new
        // space on a full disk; if it cannot be written the lock is held all the same.
        let text = format!("pid={}\nuser={}\nsince={since}\n", me.pid, me.os_user);
        if file.write_all_at(text.as_bytes(), 0).is_ok() {
            let _ = file.set_len(text.len() as u64);
        }
        Ok(Self { _file: file, path })
    }

    /// Path of the lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn busy_message(dir: &Path, holder: &str) -> String {
    let field = |name: &str| {
        holder
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .map(|v| crate::security::sanitize::for_terminal(v).into_owned())
            .unwrap_or_else(|| "?".into())
    };
    format!(
        "store {} is in use by pid {} (user {}, since {}); close that staffctl or wait for it to finish",
        dir.display(),
        field("pid"),
        field("user"),
        field("since"),
    )
}
