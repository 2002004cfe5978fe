//! How the audit log is laid out in sled: events in chunks of [`CHUNK`] consecutive sequence
//! numbers per record, read back with point lookups.
//!
//! Why chunks: sled keeps a page-table entry in memory for every leaf of 8 to 16 records, and
//! builds the table when the store opens. A million one-event records made the page table of
//! a large practice's store the biggest cost of every staffctl process (tens of megabytes, and
//! most of the open time). Four events per record cut that by four.
//!
//! Why point lookups rather than sled's range iterator: sled's cache only learns which pages
//! were used in batches per shard, so a single pass over a large tree leaves most of the pages
//! it touched in memory. Reading chunk by chunk with `get` keeps a scan of the whole log within
//! a few tens of megabytes whatever its length.
//!
//! Layout: key = chunk number (u64 BE, `(seq - 1) / CHUNK`) -> [`AuditChunk`], the chunk's
//! events in sequence order. The newest chunk may hold fewer than [`CHUNK`] events; appending
//! rewrites it (at most [`CHUNK`] - 1 events read back).

use serde::{Deserialize, Serialize};

use super::codec::{self, Record};
use super::{Store, TreeId, Tx, TxResult, id_key, key_id, meta, storage};
use crate::audit::event::{AuditEvent, EventView};
use crate::audit::{EventDraft, ZERO_HASH};
use crate::error::{Error, Result};

/// Events per record.
pub const CHUNK: u64 = 4;

/// One audit log record: up to [`CHUNK`] consecutive events, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditChunk(pub Vec<AuditEvent>);

impl Record for AuditChunk {
    const VERSION: u16 = 1;
    const KIND: &'static str = "audit chunk";
}

/// An [`AuditChunk`] decoded without copying its strings (see [`EventView`]).
#[derive(Debug, Deserialize)]
pub struct ChunkView<'a>(#[serde(borrow)] pub Vec<EventView<'a>>);

/// The chunk that holds event `seq` (sequence numbers start at 1).
pub fn chunk_number(seq: u64) -> u64 {
    seq.saturating_sub(1) / CHUNK
}

/// The key of the record that holds event `seq`.
pub fn chunk_key(seq: u64) -> [u8; 8] {
    id_key(chunk_number(seq))
}

/// The first sequence number a chunk holds.
pub fn first_seq(chunk: u64) -> u64 {
    chunk * CHUNK + 1
}

/// Decodes a chunk record as borrowed views; `None` when only [`decode`] can say what is wrong.
pub fn decode_view(bytes: &[u8]) -> Option<ChunkView<'_>> {
    codec::decode_borrowed::<AuditChunk, ChunkView<'_>>(bytes)
}

/// Runs `f` on the events of a chunk record as borrowed views: decoded in place when the record
/// has the current layout (nothing copied), else decoded (upgraded) into owned events first.
/// `Err` says what is wrong with a record that does not decode at all.
pub fn with_views<R>(
    bytes: &[u8],
    f: impl FnOnce(&[EventView<'_>]) -> R,
) -> std::result::Result<R, String> {
    if let Some(chunk) = decode_view(bytes) {
        return Ok(f(&chunk.0));
    }
    let events = decode(bytes)?;
    let views: Vec<EventView<'_>> = events.iter().map(AuditEvent::view).collect();
    Ok(f(&views))
}

/// Decodes a chunk record into owned events.
pub fn decode(bytes: &[u8]) -> std::result::Result<Vec<AuditEvent>, String> {
    codec::decode::<AuditChunk>(bytes).map(|c| c.0)
}

/// Encodes events (consecutive, in one chunk) as a record.
pub fn encode(events: &[AuditEvent]) -> Result<Vec<u8>> {
    codec::encode(&AuditChunk(events.to_vec())).map_err(Error::Storage)
}

/// Writes `event`, the next in the chain, inside its transaction.
///
/// Stored bytes that cannot be the chain's never block the practice's work and are never
/// lost: a damaged newest chunk, or a record already where a new chunk starts (events past the
/// recorded head), is kept byte for byte in the quarantine tree and the chunk starts again with
/// this event. `audit verify` then reports the gap.
pub fn append(tx: &Tx<'_>, event: &AuditEvent) -> TxResult<()> {
    let key = chunk_key(event.seq);
    let starts_chunk = event.seq.saturating_sub(1).is_multiple_of(CHUNK);
    let mut events = match tx.get_raw(TreeId::Audit, &key)? {
        None => Vec::with_capacity(1),
        Some(bytes) => match decode(&bytes) {
            Ok(events) if !starts_chunk => events,
            _ => {
                let mut q = if starts_chunk {
                    b"past-head:".to_vec()
                } else {
                    b"damaged:".to_vec()
                };
                q.extend_from_slice(&key);
                q.extend_from_slice(&id_key(event.seq));
                tx.put_raw(TreeId::AuditQuarantine, &q, &bytes)?;
                Vec::with_capacity(1)
            }
        },
    };
    events.push(event.clone());
    let bytes = codec::encode(&AuditChunk(events)).map_err(Error::Storage)?;
    tx.put_raw(TreeId::Audit, &key, &bytes)
}

/// Seals `draft` as the next event in the chain and writes it with its target index entry and
/// the new head, inside the caller's transaction.
pub fn append_draft(tx: &Tx<'_>, draft: &EventDraft) -> TxResult<AuditEvent> {
    let (seq, prev) = match tx.get_raw(TreeId::Meta, meta::AUDIT_HEAD)? {
        Some(raw) => decode_head(&raw)?,
        None => (0, ZERO_HASH),
    };
    let event = AuditEvent::seal(draft.clone(), seq + 1, prev);
    append(tx, &event)?;
    if let Some(target) = &event.target {
        super::target_index::append(tx, &target.kind, target.id, event.seq)?;
    }
    let mut head = Vec::with_capacity(40);
    head.extend_from_slice(&id_key(event.seq));
    head.extend_from_slice(&event.hash);
    tx.put_raw(TreeId::Meta, meta::AUDIT_HEAD, &head)?;
    Ok(event)
}

/// Seals `drafts` as the next events of the chain, in order, and writes them with their target
/// index entries and the new head, inside the caller's transaction. Each chunk of the log and
/// the head are written once, however many events there are (an import adds thousands).
pub fn append_drafts(tx: &Tx<'_>, drafts: Vec<EventDraft>) -> TxResult<Vec<AuditEvent>> {
    let (mut seq, mut prev) = match tx.get_raw(TreeId::Meta, meta::AUDIT_HEAD)? {
        Some(raw) => decode_head(&raw)?,
        None => (0, ZERO_HASH),
    };
    let mut sealed = Vec::with_capacity(drafts.len());
    for d in drafts {
        let e = AuditEvent::seal(d, seq + 1, prev);
        seq = e.seq;
        prev = e.hash;
        sealed.push(e);
    }
    // Events that complete the chunk already begun go through `append`; whole chunks after it
    // are written at once.
    let mut rest: &[AuditEvent] = &sealed;
    while let Some((first, tail)) = rest.split_first() {
        if first.seq.saturating_sub(1).is_multiple_of(CHUNK) {
            break;
        }
        append(tx, first)?;
        rest = tail;
    }
    for group in rest.chunks(CHUNK as usize) {
        let key = chunk_key(group[0].seq);
        if let Some(found) = tx.get_raw(TreeId::Audit, &key)? {
            // Something where a new chunk starts is kept, as `append` keeps it.
            let mut q = b"past-head:".to_vec();
            q.extend_from_slice(&key);
            q.extend_from_slice(&id_key(group[0].seq));
            tx.put_raw(TreeId::AuditQuarantine, &q, &found)?;
        }
        let bytes = encode(group)?;
        tx.put_raw(TreeId::Audit, &key, &bytes)?;
    }
    for e in &sealed {
        if let Some(target) = &e.target {
            super::target_index::append(tx, &target.kind, target.id, e.seq)?;
        }
    }
    if let Some(last) = sealed.last() {
        let mut head = Vec::with_capacity(40);
        head.extend_from_slice(&id_key(last.seq));
        head.extend_from_slice(&last.hash);
        tx.put_raw(TreeId::Meta, meta::AUDIT_HEAD, &head)?;
    }
    Ok(sealed)
}

/// Decodes the audit head record: sequence (u64 BE) ++ hash.
pub fn decode_head(raw: &[u8]) -> Result<(u64, [u8; 32])> {
    let seq = key_id(raw);
    let hash: Option<[u8; 32]> = raw.get(8..40).and_then(|h| h.try_into().ok());
    match (seq, hash) {
        (Some(s), Some(h)) => Ok((s, h)),
        _ => Err(Error::Integrity("meta/audit_head is unreadable".into())),
    }
}

/// The stored event `seq`, if its chunk holds it.
pub fn get(store: &Store, seq: u64) -> Result<Option<AuditEvent>> {
    let Some(bytes) = store.get_raw(TreeId::Audit, &chunk_key(seq))? else {
        return Ok(None);
    };
    let events = decode(&bytes).map_err(|problem| unreadable(chunk_number(seq), &problem))?;
    Ok(events.into_iter().find(|e| e.seq == seq))
}

/// A chunk that does not decode, as `Store::scan` reports a record.
pub fn unreadable_record(chunk: u64, problem: &str) -> super::CorruptRecord {
    super::CorruptRecord {
        tree: TreeId::Audit.name().into(),
        key: hex::encode(id_key(chunk)),
        problem: format!(
            "events #{}-#{}: {problem}",
            first_seq(chunk),
            first_seq(chunk) + CHUNK - 1
        ),
    }
}

/// The error for a chunk that does not decode.
pub fn unreadable(chunk: u64, problem: &str) -> Error {
    Error::Integrity(format!(
        "audit record {}/{} (events #{}-#{}) is unreadable: {problem}",
        TreeId::Audit.name(),
        hex::encode(id_key(chunk)),
        first_seq(chunk),
        first_seq(chunk) + CHUNK - 1
    ))
}

/// The raw chunk records of events 1..=`last_seq`, oldest first or newest first, as
/// `(chunk number, bytes)`. Missing chunks are skipped (verification notices the gap).
pub fn chunks(
    store: &Store,
    last_seq: u64,
    newest_first: bool,
) -> impl Iterator<Item = Result<(u64, super::Bytes)>> + '_ {
    let count = if last_seq == 0 {
        0
    } else {
        chunk_number(last_seq) + 1
    };
    (0..count)
        .map(move |i| if newest_first { count - 1 - i } else { i })
        .filter_map(
            move |chunk| match store.get_raw(TreeId::Audit, &id_key(chunk)) {
                Ok(Some(bytes)) => Some(Ok((chunk, bytes))),
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            },
        )
}

/// One record kept in the quarantine tree, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// Why it was set aside: `damaged` (the newest chunk did not decode), `past-head` (found
    /// where a new chunk was to start) or `legacy` (an old record the upgrade could not read).
    pub reason: String,
    /// The audit key it was stored under (chunk number, or sequence for `legacy`), hex.
    pub stored_under: String,
    /// The sequence number being appended when it was set aside (not for `legacy`).
    pub displaced_by: Option<u64>,
    /// The bytes, unchanged.
    pub bytes: Vec<u8>,
}

/// Every record kept in the quarantine tree, in key order.
pub fn quarantine(store: &Store) -> Result<Vec<Quarantined>> {
    let mut out = Vec::new();
    for item in store.scan_raw(TreeId::AuditQuarantine) {
        let (key, bytes) = item?;
        let colon = key.iter().position(|b| *b == b':').unwrap_or(key.len());
        let reason = String::from_utf8_lossy(&key[..colon]).into_owned();
        let rest = key.get(colon + 1..).unwrap_or_default();
        let (stored_under, displaced_by) = if rest.len() == 16 {
            (hex::encode(&rest[..8]), key_id(&rest[8..]))
        } else {
            (hex::encode(rest), None)
        };
        out.push(Quarantined {
            reason,
            stored_under,
            displaced_by,
            bytes: bytes.to_vec(),
        });
    }
    Ok(out)
}

/// Number of records kept in the quarantine tree.
pub fn quarantined(store: &Store) -> Result<u64> {
    Ok(store.count(TreeId::AuditQuarantine)? as u64)
}

/// The highest chunk number stored, if any (verification checks nothing lies past the head).
pub fn last_chunk(store: &Store) -> Result<Option<u64>> {
    let last = store.tree(TreeId::Audit)?.last().map_err(storage)?;
    Ok(last.and_then(|(k, _)| key_id(&k)))
}

/// Name of the tree that held one record per event (schema 2 and earlier).
pub(crate) const LEGACY_TREE: &str = "audit";

/// Writes a schema-2 log (`legacy`, one record per event) into `target` as chunks (the schema
/// 3 migration, which writes a fresh database). The chunk follows where an event was stored,
/// not what it says, so a tampered sequence number stays where it was and verification still
/// finds it. An old record that does not decode is kept, byte for byte, in the quarantine
/// tree; verification then reports the gap it leaves.
pub fn convert_legacy(legacy: &sled::Tree, target: &Store) -> Result<()> {
    let chunks = target.tree(TreeId::Audit)?;
    chunks.clear().map_err(storage)?;
    let quarantine = target.tree(TreeId::AuditQuarantine)?;
    let mut open: Vec<AuditEvent> = Vec::with_capacity(CHUNK as usize);
    let mut open_chunk = 0;
    let write = |events: &mut Vec<AuditEvent>, chunk: u64| -> Result<()> {
        if !events.is_empty() {
            chunks
                .insert(id_key(chunk), encode(events)?)
                .map_err(storage)?;
            events.clear();
        }
        Ok(())
    };
    // Record by record from the previous key, as `Store::scan_raw` walks (see `Reseek`).
    let mut from = std::ops::Bound::Unbounded;
    while let Some(item) = legacy
        .range((from.clone(), std::ops::Bound::Unbounded))
        .next()
    {
        let (key, bytes) = item.map_err(storage)?;
        from = std::ops::Bound::Excluded(key.to_vec());
        let stored_at = key_id(&key).filter(|_| key.len() == 8);
        match (stored_at, codec::decode::<AuditEvent>(&bytes)) {
            (Some(seq), Ok(event)) => {
                let chunk = chunk_number(seq);
                if chunk != open_chunk {
                    write(&mut open, open_chunk)?;
                    open_chunk = chunk;
                }
                open.push(event);
            }
            _ => {
                let mut q = b"legacy:".to_vec();
                q.extend_from_slice(&key);
                quarantine.insert(q, bytes).map_err(storage)?;
            }
        }
    }
    write(&mut open, open_chunk)?;
    target.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::{Actor, EventDraft, Origin, Outcome, ZERO_HASH};
    use crate::store::OpenOptions;

    /// A chain of `n` sealed events.
    fn chain(n: u64) -> Vec<AuditEvent> {
        let mut prev = ZERO_HASH;
        (1..=n)
            .map(|seq| {
                let e = AuditEvent::seal(
                    EventDraft {
                        at: jiff::Timestamp::from_second(1_700_000_000 + seq as i64).unwrap(),
                        actor: Actor::System,
                        origin: Origin::default(),
                        action: format!("test.{seq}"),
                        target: None,
                        changes: Vec::new(),
                        outcome: Outcome::Success,
                    },
                    seq,
                    prev,
                );
                prev = e.hash;
                e
            })
            .collect()
    }

    fn stored(store: &Store, last: u64, newest_first: bool) -> Vec<u64> {
        chunks(store, last, newest_first)
            .flat_map(|c| decode(&c.unwrap().1).unwrap())
            .map(|e| e.seq)
            .collect()
    }

    #[test]
    fn appends_fill_chunks_and_read_back_both_ways() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        let events = chain(2 * CHUNK + 1);
        for e in &events {
            store.transact(|tx| append(tx, e)).unwrap();
        }
        assert_eq!(store.count(TreeId::Audit).unwrap(), 3);
        assert_eq!(
            stored(&store, 2 * CHUNK + 1, false),
            (1..=2 * CHUNK + 1).collect::<Vec<_>>()
        );
        let mut newest_chunks_first: Vec<u64> = stored(&store, 2 * CHUNK + 1, true);
        newest_chunks_first.truncate(1);
        assert_eq!(newest_chunks_first, [2 * CHUNK + 1]);
        for e in &events {
            assert_eq!(get(&store, e.seq).unwrap().as_ref(), Some(e));
        }
        assert_eq!(get(&store, 99).unwrap(), None);
        assert_eq!(last_chunk(&store).unwrap(), Some(2));
        // Only events up to the given head are read.
        assert_eq!(stored(&store, CHUNK, false).len() as u64, CHUNK);
    }

    #[test]
    fn damaged_or_out_of_place_bytes_are_quarantined_not_lost() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        let events = chain(CHUNK + 2);
        for e in &events[..2] {
            store.transact(|tx| append(tx, e)).unwrap();
        }
        // The newest chunk is damaged: the next append keeps the bytes aside and goes on.
        store
            .put_raw_unchecked(TreeId::Audit, &chunk_key(2), b"\x00\x01junk")
            .unwrap();
        store.transact(|tx| append(tx, &events[2])).unwrap();
        assert_eq!(stored(&store, 3, false), [3]);
        // Bytes already where the next chunk starts (past the head) are kept aside too.
        let stray = encode(&events[CHUNK as usize..]).unwrap();
        store
            .put_raw_unchecked(TreeId::Audit, &chunk_key(CHUNK + 1), &stray)
            .unwrap();
        store
            .transact(|tx| append(tx, &events[CHUNK as usize]))
            .unwrap();
        let kept: Vec<(Vec<u8>, Vec<u8>)> = store
            .scan_raw(TreeId::AuditQuarantine)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        assert_eq!(kept.len(), 2);
        assert!(
            kept.iter()
                .any(|(k, v)| k.starts_with(b"damaged:") && v == b"\x00\x01junk")
        );
        assert!(
            kept.iter()
                .any(|(k, v)| k.starts_with(b"past-head:") && *v == stray)
        );

        // The listing names why, where and when each was set aside.
        let listed = quarantine(&store).unwrap();
        assert_eq!(listed.len(), 2);
        let damaged = listed.iter().find(|q| q.reason == "damaged").unwrap();
        assert_eq!(damaged.stored_under, hex::encode(chunk_key(2)));
        assert_eq!(damaged.displaced_by, Some(3));
        assert_eq!(damaged.bytes, b"\x00\x01junk");
        let past = listed.iter().find(|q| q.reason == "past-head").unwrap();
        assert_eq!(past.displaced_by, Some(CHUNK + 1));
        assert_eq!(decode(&past.bytes).unwrap(), events[CHUNK as usize..]);
    }

    #[test]
    fn a_one_record_per_event_log_converts_to_chunks_keeping_bad_records() {
        // The old tree and the new chunks live in one database here; the migration reads the
        // old database and writes a fresh one.
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        let events = chain(3 * CHUNK);
        let legacy = store.raw_tree(LEGACY_TREE).unwrap();
        for e in &events {
            legacy
                .insert(id_key(e.seq), codec::encode(e).unwrap())
                .unwrap();
        }
        // One record is damaged; another claims a sequence number it was not stored under.
        legacy
            .insert(id_key(5), b"\x00\x01junk".as_slice())
            .unwrap();
        let mut moved = events[6].clone();
        moved.seq = 2;
        legacy
            .insert(id_key(7), codec::encode(&moved).unwrap())
            .unwrap();
        // Whatever the target held before is replaced.
        store
            .put_raw_unchecked(TreeId::Audit, &id_key(9), b"partial")
            .unwrap();

        convert_legacy(&legacy, &store).unwrap();
        assert_eq!(last_chunk(&store).unwrap(), Some(2));
        let seqs = stored(&store, 3 * CHUNK, false);
        // Event 5 is missing (quarantined); the moved event stays in 7's place.
        let mut want: Vec<u64> = (1..=3 * CHUNK).filter(|s| *s != 5).collect();
        want[5] = 2;
        assert_eq!(seqs, want);
        let kept: Vec<_> = store
            .scan_raw(TreeId::AuditQuarantine)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(
            kept[0].0.as_ref(),
            [b"legacy:".as_slice(), &id_key(5)].concat()
        );

        // Running it again (as after an interruption) gives the same log.
        convert_legacy(&legacy, &store).unwrap();
        assert_eq!(stored(&store, 3 * CHUNK, false), want);
    }
}
