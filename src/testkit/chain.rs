//! The writers of a generated practice: the audit chain, sealed in memory and written in
//! chunks, and two writer threads that insert the records (one for the audit log, one for
//! everything else), so generation and sled's inserts use both cores.

use std::sync::mpsc;

use crate::audit::{AuditEvent, EventDraft};
use crate::error::{Error, Result};
use crate::store::audit_log::AuditChunk;
use crate::store::{Store, TreeId, audit_log, codec};

/// Events per chunk, as a capacity.
const CHUNK: usize = audit_log::CHUNK as usize;

/// A raw key and value.
pub(super) type Entry = (Vec<u8>, Vec<u8>);

/// Records for one tree, on their way to a writer thread.
pub(super) type Job = (TreeId, Vec<Entry>);

pub(super) fn write_jobs(store: &Store, jobs: mpsc::Receiver<Job>) -> Result<()> {
    for (tree, items) in jobs {
        store.bulk_insert(tree, items)?;
    }
    Ok(())
}

/// The writer threads' queues.
pub(super) struct Sink {
    pub(super) audit: mpsc::SyncSender<Job>,
    pub(super) other: mpsc::SyncSender<Job>,
}

impl Sink {
    /// Queues records on the audit writer whatever their tree.
    pub(super) fn audit_queue_send(&self, tree: TreeId, items: Vec<Entry>) -> Result<()> {
        self.audit
            .send((tree, items))
            .map_err(|_| Error::Storage("a bulk writer thread stopped".into()))
    }

    pub(super) fn send(&self, tree: TreeId, items: Vec<Entry>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let queue = if tree == TreeId::Audit {
            &self.audit
        } else {
            &self.other
        };
        queue
            .send((tree, items))
            .map_err(|_| Error::Storage("a bulk writer thread stopped".into()))
    }
}

/// The audit chain, continued from the head the store had, sealed as `append_event` seals.
pub(super) struct Chain {
    pub(super) sink: Sink,
    pub(super) seq: u64,
    pub(super) prev: [u8; 32],
    /// Events of the newest chunk, not yet complete (`store::audit_log`).
    pub(super) open: Vec<AuditEvent>,
    /// Complete chunks on their way to the writer.
    pub(super) audit: Vec<Entry>,
    pub(super) batch: usize,
    pub(super) appended: u64,
}

impl Chain {
    /// Seals `draft` as the next event, as `append_event` does.
    pub(super) fn push(&mut self, draft: EventDraft) -> Result<()> {
        let event = AuditEvent::seal(draft, self.seq + 1, self.prev);
        self.seq = event.seq;
        self.prev = event.hash;
        self.appended += 1;
        self.open.push(event);
        if self.seq.is_multiple_of(audit_log::CHUNK) {
            // The chunk is complete: encoded as the record `audit_log` writes, without a copy.
            let events = std::mem::replace(&mut self.open, Vec::with_capacity(CHUNK));
            let record = codec::encode(&AuditChunk(events)).map_err(Error::Storage)?;
            self.audit
                .push((audit_log::chunk_key(self.seq).to_vec(), record));
            if self.audit.len() as u64 * audit_log::CHUNK >= self.batch as u64 {
                self.sink
                    .send(TreeId::Audit, std::mem::take(&mut self.audit))?;
            }
        }
        Ok(())
    }

    /// Queues every complete chunk and the newest, incomplete one (which a later flush or
    /// the service may rewrite).
    pub(super) fn flush(&mut self) -> Result<()> {
        if !self.open.is_empty() {
            self.audit.push((
                audit_log::chunk_key(self.seq).to_vec(),
                audit_log::encode(&self.open)?,
            ));
        }
        self.sink
            .send(TreeId::Audit, std::mem::take(&mut self.audit))
    }
}
