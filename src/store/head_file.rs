//! The audit head, kept a second time outside sled: `DATA/audit.head`.
//!
//! sled keeps the store in one log file and a snapshot; a damaged snapshot, or one that is
//! deleted to get a damaged store to open, can leave a store that opens with its newest events
//! missing and a chain that still verifies. The head file is the store's own memory of how far
//! its log went: it is rewritten after every commit that moves the head (after the commit is
//! durable, so it never claims more than the store holds), atomically (temporary file, fsync,
//! rename, fsync of the directory), and never moves backwards. `audit verify` compares the log
//! with it; a store behind its recorded head refuses changes, which would otherwise overwrite
//! the evidence.
//!
//! The file is one line, `SEQ:HASH TIME`, where `SEQ:HASH` is what `staffctl audit head`
//! prints and TIME (RFC 3339) is when that head was recorded.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;

use super::TreeId;
use super::handle::Db;
use crate::error::{Error, Result};

/// Name of the head file inside the data directory.
pub const HEAD_FILE: &str = "audit.head";
const TEMP_FILE: &str = "audit.head.tmp";

/// A head as recorded in the head file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedHead {
    /// Sequence number of the newest event.
    pub seq: u64,
    /// Its hash.
    pub hash: [u8; 32],
    /// When it was recorded.
    pub at: Timestamp,
}

/// What the head file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// No head file (a store without events, or one written before head files existed).
    Missing,
    /// The recorded head.
    Head(RecordedHead),
    /// The file exists but cannot be read as a head: why, already phrased for a message.
    Unreadable(String),
}

impl RecordedHead {
    fn to_line(&self) -> String {
        format!(
            "{}:{} {}\n",
            self.seq,
            hex::encode(self.hash),
            self.at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        )
    }

    fn parse(text: &str) -> std::result::Result<Self, String> {
        let line = text
            .strip_suffix('\n')
            .filter(|l| !l.contains('\n'))
            .ok_or("it is not one line")?;
        let (head, at) = line.split_once(' ').ok_or("it has no time")?;
        let (seq, hash) = head.split_once(':').ok_or("it has no SEQ:HASH")?;
        let seq: u64 = seq
            .parse()
            .map_err(|_| "its sequence number is not a number")?;
        let hash: [u8; 32] = hex::decode(hash)
            .ok()
            .and_then(|h| h.try_into().ok())
            .ok_or("its hash is not 64 hex digits")?;
        let at: Timestamp = at.parse().map_err(|_| "its time is not an RFC 3339 time")?;
        Ok(Self { seq, hash, at })
    }

    /// `SEQ:HASH`, as `staffctl audit head` prints it.
    pub fn seq_hash(&self) -> String {
        format!("{}:{}", self.seq, hex::encode(self.hash))
    }

    /// The time it was recorded, for messages.
    pub fn recorded_on(&self) -> String {
        self.at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

/// Reads the head file of the data directory `dir`.
pub fn read(dir: &Path) -> Recorded {
    let path = dir.join(HEAD_FILE);
    match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Recorded::Missing,
        Err(e) => Recorded::Unreadable(format!("{} cannot be read: {e}", path.display())),
        Ok(bytes) => match std::str::from_utf8(&bytes)
            .map_err(|_| "it is not text".to_string())
            .and_then(RecordedHead::parse)
        {
            Ok(head) => Recorded::Head(head),
            Err(why) => Recorded::Unreadable(format!(
                "{} is damaged ({why}); remove it and staffctl records the current head again",
                path.display()
            )),
        },
    }
}

/// Replaces the head file atomically and durably: a temporary file is written and synced,
/// renamed over the old one, and the directory synced, so after a crash the file holds
/// either the old head or the new one.
pub fn write(dir: &Path, head: &RecordedHead, mode: u32) -> std::io::Result<()> {
    let temp = dir.join(TEMP_FILE);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temp)?;
    f.write_all(head.to_line().as_bytes())?;
    f.sync_data()?;
    drop(f);
    std::fs::rename(&temp, dir.join(HEAD_FILE))?;
    std::fs::File::open(dir)?.sync_all()
}

/// Keeps the head file in step with the store's audit head.
#[derive(Debug)]
pub struct Tracker {
    dir: PathBuf,
    mode: u32,
    recorded: Mutex<Recorded>,
}

impl Tracker {
    /// A tracker for the store in `dir` whose log currently ends at `store_head` (seq, hash).
    /// Records the head when there is no file yet (best effort: a full disk leaves it for the
    /// next commit).
    pub fn load(dir: &Path, mode: u32, store_head: Option<(u64, [u8; 32])>) -> Self {
        let mut recorded = read(dir);
        if let (Recorded::Missing, Some((seq, hash))) = (&recorded, store_head) {
            let head = RecordedHead {
                seq,
                hash,
                at: Timestamp::now(),
            };
            match write(dir, &head, mode) {
                Ok(()) => recorded = Recorded::Head(head),
                Err(e) => crate::notice::emit(&format!(
                    "cannot record the audit head in {}: {e}",
                    dir.join(HEAD_FILE).display()
                )),
            }
        }
        Self {
            dir: dir.to_path_buf(),
            mode,
            recorded: Mutex::new(recorded),
        }
    }

    /// What the head file says.
    pub fn recorded(&self) -> Recorded {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Refuses changes to a store whose log ends before its recorded head: appending would
    /// reuse the lost sequence numbers and hide the loss.
    pub fn check_writable(&self, db: &Db) -> Result<()> {
        let Recorded::Head(recorded) = &*self.lock() else {
            return Ok(());
        };
        let seq = store_head(db)?.map_or(0, |(s, _)| s);
        if seq < recorded.seq {
            return Err(Error::Integrity(format!(
                "{}; changes are refused until then (if this older copy is the one to keep, remove {} to accept it)",
                lost_events(seq, recorded),
                self.dir.join(HEAD_FILE).display()
            )));
        }
        Ok(())
    }

    /// After a durable commit: records the store's head if it moved past the recorded one.
    /// A failure to write is reported as a notice; the commit stands, and the file stays
    /// behind, which only weakens the check until the next commit.
    pub fn after_commit(&self, db: &Db) {
        let mut recorded = self.lock();
        let Ok(Some((seq, hash))) = store_head(db) else {
            return;
        };
        let behind = match &*recorded {
            Recorded::Missing => true,
            Recorded::Head(h) => h.seq < seq,
            Recorded::Unreadable(_) => false,
        };
        if !behind {
            return;
        }
        let head = RecordedHead {
            seq,
            hash,
            at: Timestamp::now(),
        };
        match write(&self.dir, &head, self.mode) {
            Ok(()) => *recorded = Recorded::Head(head),
            Err(e) => crate::notice::emit(&format!(
                "the change is saved, but the audit head could not be recorded in {}: {e}",
                self.dir.join(HEAD_FILE).display()
            )),
        }
    }
}

/// "The store ends at event N but event M was recorded on DATE; the store lost events; ...".
pub fn lost_events(store_seq: u64, recorded: &RecordedHead) -> String {
    format!(
        "the store ends at event #{store_seq} but event #{} was recorded on {}: the store lost events; {}",
        recorded.seq,
        recorded.recorded_on(),
        super::damage::RESTORE_ADVICE
    )
}

/// The store's audit head (`meta/audit_head`), if it has one.
fn store_head(db: &Db) -> Result<Option<(u64, [u8; 32])>> {
    let raw = db
        .tree(TreeId::Meta)
        .get(super::meta::AUDIT_HEAD)
        .map_err(super::storage)?;
    Ok(raw.as_deref().and_then(super::meta::decode_head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(seq: u64) -> RecordedHead {
        RecordedHead {
            seq,
            hash: [seq as u8; 32],
            at: Timestamp::from_second(1_780_000_000).unwrap(),
        }
    }

    #[test]
    fn a_written_head_reads_back_and_replaces_the_previous_one() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(read(tmp.path()), Recorded::Missing);
        write(tmp.path(), &head(7), 0o600).unwrap();
        write(tmp.path(), &head(9), 0o600).unwrap();
        assert_eq!(read(tmp.path()), Recorded::Head(head(9)));
        assert!(!tmp.path().join(TEMP_FILE).exists());
        let text = std::fs::read_to_string(tmp.path().join(HEAD_FILE)).unwrap();
        assert_eq!(
            text,
            format!("9:{} 2026-05-28T20:26:40.000000Z\n", hex::encode([9u8; 32]))
        );
    }

    #[test]
    fn a_damaged_head_file_is_reported_not_guessed() {
        let tmp = tempfile::tempdir().unwrap();
        let good = head(3).to_line();
        let bad = [
            String::new(),
            "garbage".to_string(),
            good.replace("3:", "x:"),
            good.replace(' ', ""),
            good.replacen('0', "", 1),
            format!("{good}{good}"),
            good.replace("2026", "20x6"),
        ];
        for text in bad {
            std::fs::write(tmp.path().join(HEAD_FILE), &text).unwrap();
            match read(tmp.path()) {
                Recorded::Unreadable(why) => {
                    assert!(why.contains("audit.head is damaged"), "{why}")
                }
                other => panic!("{text:?} read as {other:?}"),
            }
        }
    }
}
