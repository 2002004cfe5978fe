//! Free space: the store refuses a change before sled would meet a full disk, and keeps a
//! reserve so that it can still open on one.
//!
//! sled 0.34 cannot open a database without writing: it writes a new snapshot whenever its
//! log moved since the last one, and fills the rest of the current log segment. On a full disk
//! every staffctl process would then fail to start, reads and login checks included. And a
//! write that does meet a full disk leaves sled in a failed state for the rest of the process
//! (see `handle`). So:
//!
//! - `space.reserve` in the data directory holds a few megabytes (twice the snapshot, at least
//!   4 MiB). When sled cannot open for lack of space, the reserve is emptied and the open
//!   retried; the freed space takes sled's snapshot.
//! - Before each change, [`Space::check_for_write`] makes sure the reserve is whole and that
//!   the disk has [`DEFAULT_MIN_FREE`] free besides; otherwise the change is refused with a
//!   message, before anything is written. Once space returns, the next change refills the
//!   reserve and goes through.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Result;

/// Name of the reserve file inside the data directory.
pub const RESERVE_FILE: &str = "space.reserve";
/// Smallest reserve.
const MIN_RESERVE: u64 = 4 << 20;
/// Largest reserve, whatever the snapshot's size.
const MAX_RESERVE: u64 = 256 << 20;
/// Free space, besides the reserve, a change needs.
pub const DEFAULT_MIN_FREE: u64 = 4 << 20;

/// The reserve and the free-space check for one data directory.
#[derive(Debug)]
pub struct Space {
    dir: PathBuf,
    reserve: PathBuf,
    mode: u32,
    reserve_bytes: AtomicU64,
    min_free: AtomicU64,
}

impl Space {
    /// The reserve of the data directory `dir`, whose files get `mode`.
    pub fn new(dir: &Path, mode: u32) -> Self {
        Self {
            dir: dir.to_path_buf(),
            reserve: dir.join(RESERVE_FILE),
            mode,
            reserve_bytes: AtomicU64::new(MIN_RESERVE),
            min_free: AtomicU64::new(DEFAULT_MIN_FREE),
        }
    }

    /// Sizes the reserve for the database in `db_path`: twice its snapshot and a megabyte for
    /// the log segment sled completes on open, within [4 MiB, 256 MiB].
    pub fn size_for(&self, db_path: &Path) {
        let snapshot = super::damage::snapshots(db_path)
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .max()
            .unwrap_or(0);
        let want = (2 * snapshot + (1 << 20)).div_ceil(1 << 20) << 20;
        self.reserve_bytes
            .store(want.clamp(MIN_RESERVE, MAX_RESERVE), Ordering::Relaxed);
    }

    /// Sets the free space a change needs besides the reserve (tests set 0 to let sled meet a
    /// full disk).
    pub fn set_min_free(&self, bytes: u64) {
        self.min_free.store(bytes, Ordering::Relaxed);
    }

    /// Refuses a change, before anything is written, when the disk cannot take it: refills
    /// the reserve first if it was used.
    pub fn check_for_write(&self) -> Result<()> {
        let Some(mut free) = self.free() else {
            // A file system that cannot say: sled will report a full disk itself.
            return Ok(());
        };
        let min_free = self.min_free.load(Ordering::Relaxed);
        let want = self.reserve_bytes.load(Ordering::Relaxed);
        let have = std::fs::metadata(&self.reserve).map_or(0, |m| m.len());
        if have < want {
            let missing = want - have;
            if free < missing + min_free {
                return Err(self.full(free, missing + min_free));
            }
            if let Err(e) = self.fill(want) {
                return Err(super::damage::disk_full(
                    &self.dir,
                    &format!("cannot refill {}: {e}", self.reserve.display()),
                ));
            }
            free -= missing;
        }
        if free < min_free {
            return Err(self.full(free, min_free));
        }
        Ok(())
    }

    fn full(&self, free: u64, needed: u64) -> crate::error::Error {
        super::damage::disk_full(
            &self.dir,
            &format!(
                "{} free; a change needs {}",
                human(free),
                human(needed.max(free + 1))
            ),
        )
    }

    /// Bytes available to this user on the data directory's file system.
    fn free(&self) -> Option<u64> {
        let st = nix::sys::statvfs::statvfs(&self.dir).ok()?;
        // fsblkcnt_t and c_ulong are 64 bits on Linux.
        Some(
            st.blocks_available()
                .saturating_mul(st.fragment_size())
                .min(u64::MAX / 2),
        )
    }

    /// Grows the reserve to `len` bytes of allocated space.
    fn fill(&self, len: u64) -> std::io::Result<()> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(self.mode)
            .open(&self.reserve)?;
        let size = i64::try_from(len).unwrap_or(i64::MAX);
        match nix::fcntl::fallocate(&f, nix::fcntl::FallocateFlags::empty(), 0, size) {
            Ok(()) => {}
            Err(nix::errno::Errno::EOPNOTSUPP) => {
                // No fallocate here: write zeros (what is allocated is what was written).
                use std::io::{Seek, Write};
                let mut f = &f;
                let from = f.metadata()?.len();
                f.seek(std::io::SeekFrom::Start(from))?;
                let zeros = vec![0u8; 64 << 10];
                let mut left = len.saturating_sub(from);
                while left > 0 {
                    let n = left.min(zeros.len() as u64) as usize;
                    f.write_all(&zeros[..n])?;
                    left -= n as u64;
                }
            }
            Err(e) => {
                // Leave no half-grown reserve that would look whole later.
                let _ = f.set_len(0);
                return Err(e.into());
            }
        }
        f.sync_all()
    }

    /// Empties the reserve so sled can open on a full disk; returns the bytes freed.
    pub fn release(&self) -> std::io::Result<u64> {
        let f = match std::fs::OpenOptions::new().write(true).open(&self.reserve) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let had = f.metadata()?.len();
        if had > 0 {
            f.set_len(0)?;
            // Commits the truncation, so the freed blocks can be allocated at once.
            f.sync_all()?;
        }
        Ok(had)
    }
}

/// `1.5 MiB`, `640 KiB`.
fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_refills_the_reserve_and_an_open_can_empty_it() {
        let tmp = tempfile::tempdir().unwrap();
        let space = Space::new(tmp.path(), 0o600);
        let reserve = tmp.path().join(RESERVE_FILE);
        assert!(!reserve.exists());
        space.check_for_write().unwrap();
        assert_eq!(std::fs::metadata(&reserve).unwrap().len(), MIN_RESERVE);
        assert_eq!(space.release().unwrap(), MIN_RESERVE);
        assert_eq!(std::fs::metadata(&reserve).unwrap().len(), 0);
        assert_eq!(space.release().unwrap(), 0);
        space.check_for_write().unwrap();
        assert_eq!(std::fs::metadata(&reserve).unwrap().len(), MIN_RESERVE);
    }

    #[test]
    fn the_reserve_follows_the_snapshot_size() {
        let tmp = tempfile::tempdir().unwrap();
        let space = Space::new(tmp.path(), 0o600);
        let db = tmp.path().join("db");
        std::fs::create_dir(&db).unwrap();
        space.size_for(&db);
        assert_eq!(space.reserve_bytes.load(Ordering::Relaxed), MIN_RESERVE);
        std::fs::write(db.join("snap.0000000000001000"), vec![0u8; 5 << 20]).unwrap();
        space.size_for(&db);
        assert_eq!(space.reserve_bytes.load(Ordering::Relaxed), 11 << 20);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(640 * 1024), "640 KiB");
        assert_eq!(human(3 << 19), "1.5 MiB");
    }
}
