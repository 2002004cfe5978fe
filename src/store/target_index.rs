//! The per-target audit index: for each record an event was about (`user:12`), the sequence
//! numbers of its events, oldest first.
//!
//! Sequence numbers are kept in blocks of [`BLOCK`] per sled record rather than one record
//! each: sled holds a page-table entry in memory for every leaf of 8 to 16 records, so a
//! million one-entry records cost tens of megabytes and a noticeable share of open time in
//! every process. Layout, for the prefix `kind ++ ':' ++ id (BE)`:
//!
//! * `prefix ++ first seq (BE)` -> a full block: [`BLOCK`] sequence numbers, 8 bytes BE each;
//! * `prefix ++ [0xFF; 8]` -> the open block (fewer than [`BLOCK`]), which sorts last.
//!
//! Appending rewrites the open block (at most 504 bytes) and seals it once full.

use std::collections::BTreeMap;

use super::{Store, TreeId, Tx, TxResult, audit_log, storage};
use crate::error::{Error, Result};
use crate::model::Id;

/// Sequence numbers per sealed block.
pub const BLOCK: usize = 64;

/// Block key suffix of the open block.
const OPEN: [u8; 8] = [0xFF; 8];

/// The key prefix shared by one target's blocks.
fn prefix(kind: &str, id: Id) -> Vec<u8> {
    let mut k = Vec::with_capacity(kind.len() + 17);
    k.extend_from_slice(kind.as_bytes());
    k.push(b':');
    k.extend_from_slice(&id.to_be_bytes());
    k
}

fn block_key(prefix: &[u8], suffix: [u8; 8]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(&suffix);
    k
}

fn damaged(key: &[u8]) -> Error {
    Error::Integrity(format!(
        "audit index record {}/{} is damaged (its length is not a whole number of sequence \
         numbers); the audit log itself is intact: `staffctl audit verify` checks it",
        TreeId::AuditByTarget.name(),
        hex::encode(key)
    ))
}

/// Adds event `seq` to the index of target `kind:id`, inside the event's transaction.
pub fn append(tx: &Tx<'_>, kind: &str, id: Id, seq: u64) -> TxResult<()> {
    let prefix = prefix(kind, id);
    let open_key = block_key(&prefix, OPEN);
    let mut block = match tx.get_raw(TreeId::AuditByTarget, &open_key)? {
        Some(v) if v.len() % 8 == 0 => v.to_vec(),
        Some(_) => return Err(damaged(&open_key).into()),
        None => Vec::with_capacity(8),
    };
    block.extend_from_slice(&seq.to_be_bytes());
    if block.len() / 8 >= BLOCK {
        let mut first = [0; 8];
        first.copy_from_slice(&block[..8]);
        tx.put_raw(TreeId::AuditByTarget, &block_key(&prefix, first), &block)?;
        tx.remove(TreeId::AuditByTarget, &open_key)
    } else {
        tx.put_raw(TreeId::AuditByTarget, &open_key, &block)
    }
}

/// The sequence numbers of every event about `kind:id`, oldest first.
pub fn seqs(store: &Store, kind: &str, id: Id) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for item in store.scan_prefix_raw(TreeId::AuditByTarget, &prefix(kind, id)) {
        let (key, block) = item?;
        if block.len() % 8 != 0 {
            return Err(damaged(&key));
        }
        out.extend(
            block
                .chunks_exact(8)
                .filter_map(|c| c.try_into().ok().map(u64::from_be_bytes)),
        );
    }
    Ok(out)
}

/// Rebuilds the whole index from the audit log ([`Store::rebuild_indexes`]) and returns the
/// number of events read. A chunk that does not decode has no targets to index: it is named in
/// `problems` (and by `audit verify`).
pub(super) fn rebuild(store: &Store, problems: &mut Vec<String>) -> Result<u64> {
    let mut by_target: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
    let mut events = 0;
    for item in store.scan_raw(TreeId::Audit) {
        let (key, bytes) = item?;
        let indexed = audit_log::with_views(&bytes, |chunk| {
            for e in chunk {
                events += 1;
                if let Some(t) = &e.target {
                    by_target
                        .entry(prefix(t.kind, t.id))
                        .or_default()
                        .push(e.seq);
                }
            }
        });
        if let Err(problem) = indexed {
            let chunk = super::key_id(&key).unwrap_or(0);
            problems.push(audit_log::unreadable_record(chunk, &problem).to_string());
        }
    }
    let tree = store.tree(TreeId::AuditByTarget)?;
    tree.clear().map_err(storage)?;
    for (prefix, seqs) in by_target {
        let mut blocks = seqs.chunks(BLOCK).peekable();
        while let Some(block) = blocks.next() {
            let suffix = match (blocks.peek(), block.len() == BLOCK) {
                // A full last block is sealed too, as `append` would have left it.
                (None, false) => OPEN,
                _ => block[0].to_be_bytes(),
            };
            let value: Vec<u8> = block.iter().flat_map(|s| s.to_be_bytes()).collect();
            tree.insert(block_key(&prefix, suffix), value)
                .map_err(storage)?;
        }
    }
    Ok(events)
}

/// Number of index records (for tests and reports).
pub fn records(store: &Store) -> Result<usize> {
    store.count(TreeId::AuditByTarget)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::{Actor, AuditEvent, EventDraft, Origin, Outcome, Target, ZERO_HASH};
    use crate::store::OpenOptions;

    fn event(seq: u64, target: Option<(&str, Id)>) -> AuditEvent {
        AuditEvent::seal(
            EventDraft {
                at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
                actor: Actor::System,
                origin: Origin::default(),
                action: "user.update".into(),
                target: target.map(|(k, id)| Target::new(k, id, "x")),
                changes: Vec::new(),
                outcome: Outcome::Success,
            },
            seq,
            ZERO_HASH,
        )
    }

    fn raw(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
        store
            .scan_raw(TreeId::AuditByTarget)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect()
    }

    #[test]
    fn appends_seal_blocks_and_a_rebuild_writes_the_same_records() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        // user:1 gets two full blocks and a bit, user:2 one and a bit, role:1 a few, and
        // some events have no target.
        let mut expected: BTreeMap<(&str, Id), Vec<u64>> = BTreeMap::new();
        for seq in 1..=(5 * BLOCK as u64 + 9) {
            let target = match seq % 5 {
                0 | 1 => Some(("user", 1)),
                2 => Some(("user", 2)),
                3 if seq < 40 => Some(("role", 1)),
                _ => None,
            };
            let e = event(seq, target);
            store
                .transact(|tx| {
                    audit_log::append(tx, &e)?;
                    if let Some((kind, id)) = target {
                        append(tx, kind, id, seq)?;
                    }
                    Ok(())
                })
                .unwrap();
            if let Some(t) = target {
                expected.entry(t).or_default().push(seq);
            }
        }
        for ((kind, id), want) in &expected {
            assert_eq!(&seqs(&store, kind, *id).unwrap(), want, "{kind}:{id}");
        }
        assert!(seqs(&store, "user", 3).unwrap().is_empty());
        // Blocks, not one record per event: 2 sealed + 1 open for user:1 (131 events), 1 + 1
        // for user:2 (66), one open block for role:1 (8).
        assert_eq!(records(&store).unwrap(), 3 + 2 + 1);

        let appended = raw(&store);
        let mut problems = Vec::new();
        assert_eq!(
            rebuild(&store, &mut problems).unwrap(),
            5 * BLOCK as u64 + 9
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(raw(&store), appended);
    }

    #[test]
    fn a_damaged_block_is_named_not_misread() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        store
            .transact(|tx| append(tx, "user", 7, 1).and_then(|_| append(tx, "user", 7, 2)))
            .unwrap();
        let key = block_key(&prefix("user", 7), OPEN);
        store
            .put_raw_unchecked(TreeId::AuditByTarget, &key, &[0, 1, 2])
            .unwrap();
        let err = seqs(&store, "user", 7).unwrap_err().to_string();
        assert!(err.contains(&hex::encode(&key)), "{err}");
        let err = store
            .transact(|tx| append(tx, "user", 7, 3))
            .unwrap_err()
            .to_string();
        assert!(err.contains("damaged"), "{err}");
    }
}
