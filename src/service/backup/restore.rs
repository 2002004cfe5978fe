//! Reading a backup back: checking it (structure, checksum, the audit chain inside) without a
//! store, and restoring it into a new store in an empty directory.

use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::archive::{self, BackupHeader, Passphrase};
use super::format::{BodyReader, Line};
use crate::audit::AuditEvent;
use crate::audit::event::ChainVerifier;
use crate::error::{Error, Result};
use crate::store::{OpenOptions, Store, TreeId, audit_log, codec, id_key, meta};

/// What reading a whole backup found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveReport {
    /// The header as written.
    pub header: BackupHeader,
    /// Record lines read (checksum verified).
    pub records: u64,
    /// Audit events read; the chain verified from the first to the last.
    pub events: u64,
    /// The chain's last event, `SEQ:HASH`; equal to the header's head.
    pub audit_head: String,
}

/// Records to write, in batches (a restore of a large practice never holds it all in memory).
struct Batches<'a> {
    store: Option<&'a Store>,
    pending: Vec<(TreeId, Vec<u8>, Vec<u8>)>,
    chunk: Vec<AuditEvent>,
}

impl<'a> Batches<'a> {
    const SIZE: usize = 16_384;

    fn put(&mut self, tree: TreeId, key: Vec<u8>, value: Vec<u8>) -> Result<()> {
        if self.store.is_some() {
            self.pending.push((tree, key, value));
            if self.pending.len() >= Self::SIZE {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn record<T: codec::Record>(&mut self, tree: TreeId, key: Vec<u8>, value: &T) -> Result<()> {
        if self.store.is_none() {
            return Ok(());
        }
        let bytes = codec::encode(value).map_err(Error::Integrity)?;
        self.put(tree, key, bytes)
    }

    fn event(&mut self, e: AuditEvent) -> Result<()> {
        if self.store.is_none() {
            return Ok(());
        }
        let full = audit_log::first_seq(audit_log::chunk_number(e.seq)) + 3 == e.seq;
        self.chunk.push(e);
        if full {
            self.end_chunk()?;
        }
        Ok(())
    }

    fn end_chunk(&mut self) -> Result<()> {
        if let Some(first) = self.chunk.first() {
            let key = audit_log::chunk_key(first.seq).to_vec();
            let bytes = audit_log::encode(&self.chunk)?;
            self.chunk.clear();
            self.put(TreeId::Audit, key, bytes)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let Some(store) = self.store else {
            return Ok(());
        };
        self.pending.sort_by_key(|(t, _, _)| *t as usize);
        let pending = std::mem::take(&mut self.pending);
        let mut start = 0;
        while start < pending.len() {
            let tree = pending[start].0;
            let end = pending[start..]
                .iter()
                .position(|(t, _, _)| *t != tree)
                .map_or(pending.len(), |n| start + n);
            store.batch_put(
                tree,
                pending[start..end]
                    .iter()
                    .map(|(_, k, v)| (k.clone(), v.clone())),
            )?;
            start = end;
        }
        Ok(())
    }
}

/// Reads and checks the whole backup; writes its records into `store` when given.
fn read_all(
    input: impl BufRead,
    passphrase: Option<&Passphrase>,
    store: Option<&Store>,
) -> Result<ArchiveReport> {
    let mut input = input;
    let header = archive::read_header(&mut input)?;
    let body = archive::body_reader(input, &header, passphrase)?;
    let mut reader = BodyReader::new(body);
    let mut chain = ChainVerifier::new();
    let mut last: Option<(u64, [u8; 32])> = None;
    let mut batches = Batches {
        store,
        pending: Vec::new(),
        chunk: Vec::with_capacity(4),
    };
    let mut records = 0u64;
    let mut practice_seen = false;
    let damaged = |m: String| Error::Integrity(m);
    while let Some(line) = reader.next_line().map_err(damaged)? {
        records += 1;
        match line {
            Line::Practice(p) => {
                practice_seen = true;
                batches.record(TreeId::Meta, meta::PRACTICE.to_vec(), &p)?;
            }
            Line::Facility(f) => batches.record(TreeId::Facilities, id_key(f.id).to_vec(), &f)?,
            Line::Role(r) => batches.record(TreeId::Roles, id_key(r.id).to_vec(), &r)?,
            Line::User(u) => batches.record(TreeId::Users, id_key(u.id).to_vec(), &u)?,
            Line::Credential(c) => {
                batches.record(TreeId::Credentials, id_key(c.user_id).to_vec(), &c)?;
            }
            Line::Invite(i) => batches.record(TreeId::Invites, id_key(i.id).to_vec(), &i)?,
            Line::Device(d) => batches.record(TreeId::Devices, id_key(d.id).to_vec(), &d)?,
            Line::Counter { kind, next } => batches.put(
                TreeId::Meta,
                format!("{}{kind}", meta::NEXT_ID).into_bytes(),
                id_key(next).to_vec(),
            )?,
            Line::Event(line) => {
                let seq = line.seq;
                let e = line.event().ok_or_else(|| {
                    Error::Integrity(format!(
                        "audit event #{seq} in the backup has a damaged hash"
                    ))
                })?;
                chain.check(&e).map_err(|why| {
                    Error::Integrity(format!(
                        "the audit chain inside the backup is broken: {why}"
                    ))
                })?;
                last = Some((e.seq, e.hash));
                batches.event(e)?;
            }
            Line::Quarantined { key, bytes } => {
                let (Ok(k), Ok(v)) = (hex::decode(&key), hex::decode(&bytes)) else {
                    return Err(Error::Integrity(
                        "a quarantined audit record in the backup is damaged".into(),
                    ));
                };
                batches.put(TreeId::AuditQuarantine, k, v)?;
            }
            Line::End { .. } => {}
        }
    }
    batches.end_chunk()?;
    if !practice_seen {
        return Err(Error::Integrity("the backup holds no practice".into()));
    }
    let head = last.map_or_else(
        || format!("0:{}", hex::encode(crate::audit::ZERO_HASH)),
        |(seq, hash)| format!("{seq}:{}", hex::encode(hash)),
    );
    if head != header.audit_head {
        return Err(Error::Integrity(format!(
            "the backup's audit chain ends at {head}, but its header says {}; the file was changed",
            header.audit_head
        )));
    }
    if let Some((seq, hash)) = last {
        let mut raw = id_key(seq).to_vec();
        raw.extend_from_slice(&hash);
        batches.put(TreeId::Meta, meta::AUDIT_HEAD.to_vec(), raw)?;
    }
    batches.flush()?;
    Ok(ArchiveReport {
        events: chain.checked,
        header,
        records,
        audit_head: head,
    })
}

/// Checks a backup completely (structure, checksum, the audit chain and its head) without
/// writing anything.
pub fn verify_archive(
    input: impl BufRead,
    passphrase: Option<&Passphrase>,
) -> Result<ArchiveReport> {
    read_all(input, passphrase, None)
}

/// Restores a backup into a new store in `dir`, which must be empty (or not exist yet). The
/// derived indexes are rebuilt from the restored records, and the store's audit chain is
/// verified against the backup's head before this returns.
pub fn restore(
    dir: &Path,
    input: impl BufRead,
    passphrase: Option<&Passphrase>,
) -> Result<ArchiveReport> {
    if dir.exists() {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::Storage(format!("cannot read {}: {e}", dir.display())))?
            .count();
        if entries > 0 {
            return Err(Error::Conflict(format!(
                "{} is not empty ({entries} entries); restore into an empty directory (or a new one), never over a store",
                dir.display()
            )));
        }
    }
    let created = !dir.exists();
    let result = (|| {
        let store = Store::open(
            dir,
            &OpenOptions {
                create: true,
                ..OpenOptions::default()
            },
        )?;
        let report = read_all(input, passphrase, Some(&store))?;
        store.rebuild_indexes()?;
        store.flush()?;
        Ok(report)
    })();
    if result.is_err() {
        // A half-restored store must never be mistaken for a good one.
        if created {
            let _ = std::fs::remove_dir_all(dir);
        } else if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
    result
}
