//! The audit head, kept a second time outside sled: `DATA/audit.head`.
//!
//! sled keeps the store in one log file and a snapshot; a damaged snapshot, or one that is
//! deleted to get a damaged store to open, can leave a store that opens with its newest events
//! missing and a chain that still verifies. The head file is the store's own memory of how far
//! its log went: it is rewritten after every commit that moves the head, once the commit is
//! durable (so it never claims more than the store holds), and it never moves backwards.
//! `audit verify` compares the log with it; a store behind its recorded head refuses changes,
//! which would otherwise overwrite the evidence.
//!
//! The file is created once, atomically (temporary file, fsync, rename, fsync of the
//! directory), with two slots. Each commit then overwrites the slot that does not hold the
//! current head; no new file, no directory change. A crash mid-write damages at most the slot
//! being written, whose checksum then fails, and the other slot still holds the previous head;
//! a reader takes the valid slot with the higher sequence number. The update is synced
//! (`fdatasync`) at once, by a thread of its own, so the commit does not wait for a second
//! device flush; closing the store waits for it. Until it lands, a power cut leaves the
//! previous head: behind the store, which is harmless, never ahead of it. (Replacing the whole
//! file by rename at each commit costs three device flushes, about 12 ms on a busy virtual
//! disk; a synchronous `fdatasync` one, about 3 ms there, more than the commit itself.)
//!
//! Each slot is one line of text, padded to [`SLOT`] bytes: `SEQ:HASH TIME CRC`, where
//! `SEQ:HASH` is what `staffctl audit head` prints, TIME (RFC 3339) is when it was recorded and
//! CRC the CRC-32 of what precedes it, in hex.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;

use super::TreeId;
use super::handle::Db;
use crate::error::{Error, Result};

/// Name of the head file inside the data directory.
pub const HEAD_FILE: &str = "audit.head";
const TEMP_FILE: &str = "audit.head.tmp";
/// Bytes per slot (a line, newline included).
pub const SLOT: usize = 128;

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
    /// The slot's bytes: the line, padded with spaces to [`SLOT`] bytes.
    fn to_slot(&self) -> [u8; SLOT] {
        let body = format!(
            "{}:{} {}",
            self.seq,
            hex::encode(self.hash),
            self.at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        );
        let line = format!("{body} {:08x}", crc32fast::hash(body.as_bytes()));
        let mut slot = [b' '; SLOT];
        slot[..line.len()].copy_from_slice(line.as_bytes());
        slot[SLOT - 1] = b'\n';
        slot
    }

    fn parse_slot(slot: &[u8]) -> std::result::Result<Self, &'static str> {
        let line = std::str::from_utf8(slot)
            .ok()
            .and_then(|t| t.strip_suffix('\n'))
            .ok_or("a slot is not a line of text")?
            .trim_end_matches(' ');
        let (body, crc) = line.rsplit_once(' ').ok_or("a slot has no checksum")?;
        if u32::from_str_radix(crc, 16).ok() != Some(crc32fast::hash(body.as_bytes())) {
            return Err("a slot fails its checksum");
        }
        let (head, at) = body.split_once(' ').ok_or("a slot has no time")?;
        let (seq, hash) = head.split_once(':').ok_or("a slot has no SEQ:HASH")?;
        let seq: u64 = seq
            .parse()
            .map_err(|_| "a sequence number is not a number")?;
        let hash: [u8; 32] = hex::decode(hash)
            .ok()
            .and_then(|h| h.try_into().ok())
            .ok_or("a hash is not 64 hex digits")?;
        let at: Timestamp = at.parse().map_err(|_| "a time is not an RFC 3339 time")?;
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

/// The newest valid slot of the file's bytes and its index, or why there is none.
fn newest_slot(bytes: &[u8]) -> std::result::Result<(RecordedHead, usize), String> {
    if bytes.len() != 2 * SLOT {
        return Err(format!(
            "it is {} bytes long, not {}",
            bytes.len(),
            2 * SLOT
        ));
    }
    let slots: Vec<_> = bytes.chunks(SLOT).map(RecordedHead::parse_slot).collect();
    match (&slots[0], &slots[1]) {
        (Ok(a), Ok(b)) if b.seq > a.seq => Ok((b.clone(), 1)),
        (Ok(a), _) => Ok((a.clone(), 0)),
        (Err(_), Ok(b)) => Ok((b.clone(), 1)),
        (Err(why), Err(_)) => Err(format!("neither slot is readable: {why}")),
    }
}

/// Reads the head file of the data directory `dir`.
pub fn read(dir: &Path) -> Recorded {
    let path = dir.join(HEAD_FILE);
    match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Recorded::Missing,
        Err(e) => Recorded::Unreadable(format!("{} cannot be read: {e}", path.display())),
        Ok(bytes) => match newest_slot(&bytes) {
            Ok((head, _)) => Recorded::Head(head),
            Err(why) => Recorded::Unreadable(format!(
                "{} is damaged ({why}); remove it and staffctl records the current head again",
                path.display()
            )),
        },
    }
}

/// Creates the head file holding `head` in both slots, atomically: a temporary file is written
/// and synced, renamed into place, and the directory synced.
pub fn create(dir: &Path, head: &RecordedHead, mode: u32) -> std::io::Result<()> {
    let temp = dir.join(TEMP_FILE);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temp)?;
    let slot = head.to_slot();
    f.write_all(&slot)?;
    f.write_all(&slot)?;
    f.sync_data()?;
    drop(f);
    std::fs::rename(&temp, dir.join(HEAD_FILE))?;
    File::open(dir)?.sync_all()
}

/// The head file, open for updates.
#[derive(Debug)]
struct Writer {
    file: File,
    /// The slot the next head goes to: the one not holding the current head.
    next: usize,
    /// Syncs the file after each update; `None` where no thread could be started (then each
    /// update is synced before it returns).
    syncer: Option<Syncer>,
}

impl Writer {
    /// Opens the file to update after the head it holds in slot `slot`.
    fn open(dir: &Path, slot: usize) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(HEAD_FILE))?;
        let syncer = Syncer::start(file.try_clone()?, dir.join(HEAD_FILE));
        Ok(Self {
            file,
            next: 1 - slot,
            syncer,
        })
    }

    /// Writes `head` over the older slot and has it synced.
    fn write(&mut self, head: &RecordedHead) -> std::io::Result<()> {
        self.file
            .write_all_at(&head.to_slot(), (self.next * SLOT) as u64)?;
        self.next = 1 - self.next;
        match &self.syncer {
            Some(syncer) => syncer.request(),
            None => self.file.sync_data()?,
        }
        Ok(())
    }
}

/// Syncs the head file right after each update, on a thread of its own, so a commit does not
/// wait for a second device flush (the head only has to be written after the commit is
/// durable, which it is; until the sync lands, a power cut leaves the previous head, which is
/// behind the store, never ahead of it). Dropping it waits for the last sync.
#[derive(Debug)]
struct Syncer {
    shared: std::sync::Arc<SyncShared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct SyncShared {
    /// (an update is waiting to be synced, the syncer should stop)
    state: Mutex<(bool, bool)>,
    wake: std::sync::Condvar,
}

impl SyncShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, (bool, bool)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Syncer {
    fn start(file: File, path: PathBuf) -> Option<Self> {
        let shared = std::sync::Arc::new(SyncShared::default());
        let theirs = std::sync::Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("staffctl-head-sync".into())
            .spawn(move || {
                loop {
                    let mut state = theirs.lock();
                    while !state.0 && !state.1 {
                        state = theirs
                            .wake
                            .wait(state)
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                    let (pending, stop) = *state;
                    state.0 = false;
                    drop(state);
                    if pending && let Err(e) = file.sync_data() {
                        crate::notice::emit(&format!(
                            "the audit head could not be synced to {}: {e}",
                            path.display()
                        ));
                    }
                    if stop && !pending {
                        return;
                    }
                }
            })
            .ok()?;
        Some(Self {
            shared,
            thread: Some(thread),
        })
    }

    fn request(&self) {
        self.shared.lock().0 = true;
        self.shared.wake.notify_one();
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.shared.lock().1 = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // A panic on the thread has already lost its sync; nothing more to do here.
            let _ = thread.join();
        }
    }
}

/// Keeps the head file in step with the store's audit head.
#[derive(Debug)]
pub struct Tracker {
    dir: PathBuf,
    mode: u32,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    recorded: Recorded,
    /// Open once the file exists and is readable.
    writer: Option<Writer>,
}

impl Tracker {
    /// A tracker for the store in `dir` whose log currently ends at `store_head` (seq, hash).
    /// Records the head when there is no file yet (best effort: a full disk leaves it for the
    /// next commit).
    pub fn load(dir: &Path, mode: u32, store_head: Option<(u64, [u8; 32])>) -> Self {
        let tracker = Self {
            dir: dir.to_path_buf(),
            mode,
            state: Mutex::new(State {
                recorded: Recorded::Missing,
                writer: None,
            }),
        };
        let path = dir.join(HEAD_FILE);
        let mut state = tracker.lock();
        match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some((seq, hash)) = store_head {
                    tracker.record(&mut state, seq, hash);
                }
            }
            _ => {
                state.recorded = read(dir);
                if let Recorded::Head(head) = &state.recorded {
                    let slot = std::fs::read(&path)
                        .ok()
                        .and_then(|b| newest_slot(&b).ok())
                        .filter(|(h, _)| h == head)
                        .map_or(0, |(_, slot)| slot);
                    state.writer = Writer::open(dir, slot)
                        .map_err(|e| tracker.cannot_record(&e))
                        .ok();
                }
            }
        }
        drop(state);
        tracker
    }

    /// What the head file says.
    pub fn recorded(&self) -> Recorded {
        self.lock().recorded.clone()
    }

    /// Syncs the head file now.
    pub fn sync(&self) -> std::io::Result<()> {
        match &self.lock().writer {
            Some(writer) => writer.file.sync_data(),
            None => Ok(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn cannot_record(&self, e: &std::io::Error) {
        crate::notice::emit(&format!(
            "the audit head could not be recorded in {} (changes are saved; the file catches up with the next one): {e}",
            self.dir.join(HEAD_FILE).display()
        ));
    }

    /// Refuses changes to a store whose log ends before its recorded head: appending would
    /// reuse the lost sequence numbers and hide the loss.
    pub fn check_writable(&self, db: &Db) -> Result<()> {
        let Recorded::Head(recorded) = &self.lock().recorded else {
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
        let Ok(Some((seq, hash))) = store_head(db) else {
            return;
        };
        let mut state = self.lock();
        let behind = match &state.recorded {
            Recorded::Missing => true,
            Recorded::Head(h) => h.seq < seq,
            // Kept as found: it is evidence until someone removes it.
            Recorded::Unreadable(_) => false,
        };
        if behind {
            self.record(&mut state, seq, hash);
        }
    }

    fn record(&self, state: &mut State, seq: u64, hash: [u8; 32]) {
        let head = RecordedHead {
            seq,
            hash,
            at: Timestamp::now(),
        };
        let written = match &mut state.writer {
            Some(writer) => writer.write(&head),
            None => create(&self.dir, &head, self.mode)
                .and_then(|()| Writer::open(&self.dir, 0))
                .map(|writer| state.writer = Some(writer)),
        };
        match written {
            Ok(()) => state.recorded = Recorded::Head(head),
            Err(e) => self.cannot_record(&e),
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

    fn bytes(dir: &Path) -> Vec<u8> {
        std::fs::read(dir.join(HEAD_FILE)).unwrap()
    }

    #[test]
    fn heads_alternate_between_the_slots_and_the_newest_is_read() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(read(tmp.path()), Recorded::Missing);
        create(tmp.path(), &head(7), 0o600).unwrap();
        assert!(!tmp.path().join(TEMP_FILE).exists());
        assert_eq!(read(tmp.path()), Recorded::Head(head(7)));
        let mut w = Writer::open(tmp.path(), 0).unwrap();
        for seq in 8..12 {
            w.write(&head(seq)).unwrap();
            assert_eq!(read(tmp.path()), Recorded::Head(head(seq)));
        }
        let text = String::from_utf8(bytes(tmp.path())).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        // Slot 0 held 7, so 8 went to slot 1, 9 to slot 0, and so on.
        let body = format!("10:{} 2026-05-28T20:26:40.000000Z", hex::encode([10u8; 32]));
        assert_eq!(
            lines[1],
            format!("{body} {:08x}", crc32fast::hash(body.as_bytes()))
        );
        assert!(lines[0].starts_with("11:"));
    }

    #[test]
    fn a_torn_slot_leaves_the_previous_head() {
        let tmp = tempfile::tempdir().unwrap();
        create(tmp.path(), &head(7), 0o600).unwrap();
        Writer::open(tmp.path(), 0)
            .unwrap()
            .write(&head(8))
            .unwrap();
        // A crash while slot 0 was being overwritten with head 9.
        let mut b = bytes(tmp.path());
        b[..20].copy_from_slice(&head(9).to_slot()[..20]);
        std::fs::write(tmp.path().join(HEAD_FILE), &b).unwrap();
        assert_eq!(read(tmp.path()), Recorded::Head(head(8)));
    }

    #[test]
    fn a_damaged_head_file_is_reported_not_guessed() {
        let tmp = tempfile::tempdir().unwrap();
        let good = head(3).to_slot().to_vec();
        let one_flip = |at: usize| {
            let mut b = [good.clone(), good.clone()].concat();
            b[at] ^= 1;
            b[SLOT + at] ^= 1;
            b
        };
        let bad = [
            Vec::new(),
            b"garbage".to_vec(),
            good.clone(),
            [good.clone(), good.clone(), good.clone()].concat(),
            one_flip(0),
            one_flip(40),
            one_flip(100),
            one_flip(SLOT - 1),
        ];
        for b in bad {
            std::fs::write(tmp.path().join(HEAD_FILE), &b).unwrap();
            match read(tmp.path()) {
                Recorded::Unreadable(why) => {
                    assert!(why.contains("audit.head is damaged"), "{why}")
                }
                other => panic!("{:?} read as {other:?}", String::from_utf8_lossy(&b)),
            }
        }
    }
}
