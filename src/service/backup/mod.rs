//! Logical backups: every record and the whole audit chain in a versioned, checksummed file that
//! does not depend on sled's or bincode's formats, so a later staffctl reads it after either
//! changed. Taken through the service (directly or through `staffctl serve`), never by copying
//! sled's files; optionally encrypted with a passphrase (age). Restoring writes a new store in
//! an empty directory, rebuilds every derived index and proves the chain ends where the backup
//! said it did.

pub mod archive;
pub mod format;
mod restore;

use std::io::Write;

pub use archive::{ArchiveWriter, BackupCounts, BackupHeader, Passphrase};
use format::{BodyWriter, EventLine, Line};
pub use restore::{ArchiveReport, restore, verify_archive};

use super::{Service, Session};
use crate::audit::{Change, EventDraft, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::{Credential, Device, Facility, Invite, Role, User, permission};
use crate::store::{TreeId, audit_log, meta};

/// Where a backup goes: it receives the header before any of the body, and says where the
/// body goes.
pub trait BackupSink {
    /// Takes the header; returns the writer for the body.
    fn start(&mut self, header: &BackupHeader) -> Result<&mut dyn Write>;
}

fn scan<T: crate::store::Record>(
    svc: &Service,
    tree: TreeId,
) -> impl Iterator<Item = Result<T>> + '_ {
    svc.store.scan::<T>(tree).map(move |item| {
        item?.map_err(|bad| {
            Error::Integrity(format!(
                "{bad}; a backup must hold every record, so this one cannot be taken (copy the data directory as it is, and restore that record)"
            ))
        })
    })
}

impl Service {
    /// Writes a backup of the whole store into `sink`, for an operator whose role grants
    /// admin.settings (a backup holds everything, password hashes included). Writes wait
    /// until it is done, so the backup is one consistent moment; reads go on. Audited as
    /// `backup.create` with the counts and head it holds.
    pub fn backup(&self, session: &Session, sink: &mut dyn BackupSink) -> Result<BackupHeader> {
        let op = self.operator(session)?;
        if !op.permissions.contains(permission::MANAGE_SETTINGS) {
            let e = Error::Denied(format!(
                "{}'s role ({}) does not grant admin.settings, which a backup needs",
                session.label(),
                op.role
            ));
            self.record_refusal(session.actor(), session.origin(), "backup.create", None, &e)?;
            return Err(e);
        }
        let guard = self.lock_writes();
        let header = self.backup_header(session)?;
        let written = sink.start(&header).and_then(|body| self.backup_body(body));
        drop(guard);
        let lines = written?;
        let c = &header.counts;
        let draft = EventDraft {
            at: self.now(),
            actor: session.actor(),
            origin: session.origin().clone(),
            action: "backup.create".into(),
            target: Some(Target::new("practice", 0, header.practice.clone())),
            changes: vec![
                Change::new("audit_head", None, Some(header.audit_head.clone())),
                Change::new("records", None, Some(lines.to_string())),
                Change::new(
                    "counts",
                    None,
                    Some(format!(
                        "{} users, {} roles, {} facilities, {} events",
                        c.users, c.roles, c.facilities, c.events
                    )),
                ),
            ],
            outcome: Outcome::Success,
        };
        self.record(draft)?;
        Ok(header)
    }

    fn backup_header(&self, session: &Session) -> Result<BackupHeader> {
        let practice = super::practice::show(self)?;
        let (seq, hash) = match self.store.get_raw(TreeId::Meta, meta::AUDIT_HEAD)? {
            Some(raw) => super::decode_head(&raw)?,
            None => (0, crate::audit::ZERO_HASH),
        };
        let count = |t| -> Result<u64> { Ok(self.store.count(t)? as u64) };
        Ok(BackupHeader {
            format: format::FORMAT,
            staffctl: env!("CARGO_PKG_VERSION").into(),
            practice: practice.name,
            created_at: self.now(),
            created_by: format!("{} ({})", session.label(), session.origin().place()),
            audit_head: format!("{seq}:{}", hex::encode(hash)),
            counts: BackupCounts {
                users: count(TreeId::Users)?,
                roles: count(TreeId::Roles)?,
                facilities: count(TreeId::Facilities)?,
                invites: count(TreeId::Invites)?,
                devices: count(TreeId::Devices)?,
                events: seq,
                quarantined: audit_log::quarantined(&self.store)?,
            },
            encrypted: false,
        })
    }

    /// Writes every record and event; returns the number of lines.
    fn backup_body(&self, out: &mut dyn Write) -> Result<u64> {
        let mut w = BodyWriter::new(out);
        let io = |e: std::io::Error| Error::Storage(format!("cannot write the backup: {e}"));
        w.line(&Line::Practice(super::practice::show(self)?))
            .map_err(io)?;
        for f in scan::<Facility>(self, TreeId::Facilities) {
            w.line(&Line::Facility(f?)).map_err(io)?;
        }
        for r in scan::<Role>(self, TreeId::Roles) {
            w.line(&Line::Role(r?)).map_err(io)?;
        }
        for u in scan::<User>(self, TreeId::Users) {
            w.line(&Line::User(u?)).map_err(io)?;
        }
        for c in scan::<Credential>(self, TreeId::Credentials) {
            w.line(&Line::Credential(c?)).map_err(io)?;
        }
        for i in scan::<Invite>(self, TreeId::Invites) {
            w.line(&Line::Invite(i?)).map_err(io)?;
        }
        for d in scan::<Device>(self, TreeId::Devices) {
            w.line(&Line::Device(d?)).map_err(io)?;
        }
        for item in self
            .store
            .scan_prefix_raw(TreeId::Meta, meta::NEXT_ID.as_bytes())
        {
            let (k, v) = item?;
            let kind = String::from_utf8_lossy(&k[meta::NEXT_ID.len()..]).into_owned();
            let next = crate::store::key_id(&v).ok_or_else(|| {
                Error::Integrity(format!("the id counter of {kind} is unreadable"))
            })?;
            w.line(&Line::Counter { kind, next }).map_err(io)?;
        }
        let head = match self.store.get_raw(TreeId::Meta, meta::AUDIT_HEAD)? {
            Some(raw) => super::decode_head(&raw)?.0,
            None => 0,
        };
        for item in audit_log::chunks(&self.store, head, false) {
            let (chunk, bytes) = item?;
            let events = audit_log::decode(&bytes).map_err(|problem| {
                Error::Integrity(format!(
                    "audit chunk {chunk} is unreadable ({problem}); `staffctl audit verify` shows the damage. Keep a copy of the data directory as it is"
                ))
            })?;
            for e in events.iter().filter(|e| e.seq <= head) {
                w.line(&Line::Event(EventLine::of(e))).map_err(io)?;
            }
        }
        for item in self.store.scan_raw(TreeId::AuditQuarantine) {
            let (k, v) = item?;
            w.line(&Line::Quarantined {
                key: hex::encode(&k),
                bytes: hex::encode(&v),
            })
            .map_err(io)?;
        }
        w.finish().map_err(io)
    }
}

/// A backup written to a file (or anything else): the archive format around the body.
pub struct FileSink<W: Write> {
    out: Option<W>,
    passphrase: Option<Passphrase>,
    writer: Option<ArchiveWriter<W>>,
}

impl<W: Write> FileSink<W> {
    /// A sink writing to `out`, encrypting with `passphrase` when given.
    pub fn new(out: W, passphrase: Option<Passphrase>) -> Self {
        Self {
            out: Some(out),
            passphrase,
            writer: None,
        }
    }

    /// Finishes the file; returns it.
    pub fn finish(self) -> Result<W> {
        match self.writer {
            Some(w) => w.finish(),
            None => Err(Error::Internal(
                "internal error: the backup never started".into(),
            )),
        }
    }
}

impl<W: Write> BackupSink for FileSink<W> {
    fn start(&mut self, header: &BackupHeader) -> Result<&mut dyn Write> {
        let Some(out) = self.out.take() else {
            return Err(Error::Internal(
                "internal error: the backup started twice".into(),
            ));
        };
        let mut header = header.clone();
        header.encrypted = self.passphrase.is_some();
        let writer = self.writer.insert(ArchiveWriter::start(
            out,
            &header,
            self.passphrase.as_ref(),
        )?);
        Ok(writer.body())
    }
}
