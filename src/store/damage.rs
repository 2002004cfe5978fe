//! What a sled failure means for the person at the keyboard: which file of the store is
//! damaged, whether the disk is full, and what to do next. Every message that tells the
//! practice to restore its store takes the advice from [`RESTORE_ADVICE`], so it reads the
//! same everywhere and can name a restore command once there is one.

use std::path::Path;

use crate::error::Error;

/// What to do about a store that lost or garbled data.
pub const RESTORE_ADVICE: &str = "stop staffctl and restore the data directory from your latest backup (README, Backups), then check it with `staffctl audit verify --expect` against the head you kept";

/// Whether an I/O error means the disk (or the user's quota) is full.
pub fn is_out_of_space(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(
        e.raw_os_error(),
        Some(code) if code == nix::libc::ENOSPC || code == nix::libc::EDQUOT
    )
}

/// Whether a sled error means the disk is full.
pub fn sled_out_of_space(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if is_out_of_space(io))
}

/// The message for a full disk under the data directory `dir`.
pub fn disk_full(dir: &Path, detail: &str) -> Error {
    Error::Storage(format!(
        "the disk holding {} is full ({detail}): changes are refused until space is freed there; reading, exports and logins keep working",
        dir.display()
    ))
}

/// The error for a sled failure in the store in `dir` (its database in `db_path`), with
/// `doing` saying what failed ("cannot open the store in ...").
pub fn sled_error(dir: &Path, db_path: &Path, doing: &str, e: &sled::Error) -> Error {
    match e {
        sled::Error::Corruption { at, .. } => {
            let (file, detail) = match at {
                Some(sled::DiskPtr::Inline(offset)) => {
                    (db_path.join("db"), format!(" at offset {offset}"))
                }
                Some(sled::DiskPtr::Blob(_, blob)) => {
                    (db_path.join("blobs").join(blob.to_string()), String::new())
                }
                None => match damaged_snapshot(db_path) {
                    Some(snapshot) => (snapshot, String::new()),
                    None => (db_path.join("db"), String::new()),
                },
            };
            Error::Integrity(format!(
                "{doing}: {} is damaged (it does not read back as written{detail}); {RESTORE_ADVICE}",
                file.display()
            ))
        }
        sled::Error::Io(io) if is_out_of_space(io) => Error::Storage(format!(
            "{doing}: the disk holding {} is full ({io}); free space there",
            dir.display()
        )),
        other => Error::Storage(format!("{doing}: {other}")),
    }
}

/// Snapshot files of the database in `db_path` (sled names them `snap.` ++ 16 hex digits).
pub fn snapshots(db_path: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(db_path) else {
        return Vec::new();
    };
    let mut found: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("snap."))
        })
        .collect();
    found.sort();
    found
}

/// The snapshot sled reads (the last by name), if it fails its checksum: the snapshot is its
/// bytes, their length (u64) and a CRC-32 of the bytes (u32, little-endian).
fn damaged_snapshot(db_path: &Path) -> Option<std::path::PathBuf> {
    let newest = snapshots(db_path).pop()?;
    let bytes = std::fs::read(&newest).ok()?;
    let intact = bytes.len() > 12 && {
        let (body, tail) = bytes.split_at(bytes.len() - 12);
        let stored = u32::from_le_bytes([tail[8], tail[9], tail[10], tail[11]]);
        crc32fast::hash(body) == stored
    };
    (!intact).then_some(newest)
}

/// Removes snapshots sled began but did not finish (`snap.*.generating`). sled renames a
/// snapshot into place only once it is complete and synced, but it also reads an unfinished
/// one left by a crash or a full disk, as the newest, and then refuses to open. The finished
/// snapshot and the log it was made from are still there, so nothing is lost.
pub fn remove_unfinished_snapshots(db_path: &Path) -> std::io::Result<()> {
    for path in snapshots(db_path) {
        if path.extension().is_some_and(|e| e == "generating") {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}
