//! The backup body: one JSON object per line, every record in a form that does not depend on
//! sled's or bincode's (JSON of the model types, audit hashes in hex), and a last line with the
//! count and the SHA-256 of every line before it.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::audit::{Actor, AuditEvent, Change, Origin, Outcome, Target};
use crate::model::{Credential, Device, Facility, Id, Invite, Practice, Role, User};

/// Version of the body's layout this build writes (and the highest it reads).
pub const FORMAT: u32 = 1;

/// An audit event with its hashes in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLine {
    /// Sequence number.
    pub seq: u64,
    /// UTC microseconds.
    pub at_micros: i64,
    /// Who.
    pub actor: Actor,
    /// From where.
    pub origin: Origin,
    /// What.
    pub action: String,
    /// On what.
    pub target: Option<Target>,
    /// Field changes.
    pub changes: Vec<Change>,
    /// Result.
    pub outcome: Outcome,
    /// Previous hash, hex.
    pub prev_hash: String,
    /// Hash, hex.
    pub hash: String,
}

impl EventLine {
    /// The line of `e`.
    pub fn of(e: &AuditEvent) -> Self {
        Self {
            seq: e.seq,
            at_micros: e.at_micros,
            actor: e.actor.clone(),
            origin: e.origin.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            changes: e.changes.clone(),
            outcome: e.outcome.clone(),
            prev_hash: hex::encode(e.prev_hash),
            hash: hex::encode(e.hash),
        }
    }

    /// The event again; `None` when a hash is not 32 bytes of hex.
    pub fn event(self) -> Option<AuditEvent> {
        let h = |s: &str| -> Option<[u8; 32]> { hex::decode(s).ok()?.try_into().ok() };
        Some(AuditEvent {
            prev_hash: h(&self.prev_hash)?,
            hash: h(&self.hash)?,
            seq: self.seq,
            at_micros: self.at_micros,
            actor: self.actor,
            origin: self.origin,
            action: self.action,
            target: self.target,
            changes: self.changes,
            outcome: self.outcome,
        })
    }
}

/// One line of the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    /// The practice settings.
    Practice(Practice),
    /// A facility.
    Facility(Facility),
    /// A role.
    Role(Role),
    /// A user.
    User(User),
    /// A user's credential (password hash and login bookkeeping).
    Credential(Credential),
    /// An invitation (its code's hash).
    Invite(Invite),
    /// A device.
    Device(Device),
    /// The id the next record of a kind gets, so that a restored store never reuses one.
    Counter {
        /// Record kind (`user`, `role`, ...).
        kind: String,
        /// The next id.
        next: Id,
    },
    /// An audit event.
    Event(EventLine),
    /// Audit bytes kept in quarantine, as found.
    Quarantined {
        /// Their key, hex.
        key: String,
        /// Their bytes, hex.
        bytes: String,
    },
    /// The last line: how many lines came before and their SHA-256.
    End {
        /// Lines before this one.
        lines: u64,
        /// SHA-256 of those lines' bytes, newlines included, hex.
        sha256: String,
    },
}

/// Writes lines and keeps their count and checksum.
pub struct BodyWriter<'a> {
    out: &'a mut dyn Write,
    hasher: sha2::Sha256,
    lines: u64,
    buf: Vec<u8>,
}

impl<'a> BodyWriter<'a> {
    /// Writes to `out`.
    pub fn new(out: &'a mut dyn Write) -> Self {
        Self {
            out,
            hasher: sha2::Sha256::new(),
            lines: 0,
            buf: Vec::with_capacity(1024),
        }
    }

    /// Writes one line.
    pub fn line(&mut self, line: &Line) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, line).map_err(io::Error::other)?;
        self.buf.push(b'\n');
        self.hasher.update(&self.buf);
        self.lines += 1;
        self.out.write_all(&self.buf)
    }

    /// Writes the last line; returns how many lines came before it.
    pub fn finish(mut self) -> io::Result<u64> {
        let lines = self.lines;
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, &Line::End { lines, sha256 })
            .map_err(io::Error::other)?;
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        Ok(lines)
    }
}

/// Reads lines back, checking the count and checksum at the end.
pub struct BodyReader<R> {
    input: R,
    hasher: sha2::Sha256,
    lines: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: io::BufRead> BodyReader<R> {
    /// Reads from `input`.
    pub fn new(input: R) -> Self {
        Self {
            input,
            hasher: sha2::Sha256::new(),
            lines: 0,
            buf: Vec::with_capacity(1024),
            done: false,
        }
    }

    /// The next record line, `Ok(None)` after a correct end line, or what is wrong.
    pub fn next_line(&mut self) -> Result<Option<Line>, String> {
        if self.done {
            return Ok(None);
        }
        self.buf.clear();
        let n = self.input.read_until(b'\n', &mut self.buf).map_err(|e| {
            format!(
                "the backup cannot be read after {} records: {e}",
                self.lines
            )
        })?;
        if n == 0 || self.buf.last() != Some(&b'\n') {
            return Err(format!(
                "the backup is cut short after {} records (no end line); it is incomplete",
                self.lines
            ));
        }
        let line: Line = serde_json::from_slice(&self.buf).map_err(|e| {
            format!(
                "record {} of the backup is damaged ({e}); the file was changed or is corrupt",
                self.lines + 1
            )
        })?;
        if let Line::End { lines, sha256 } = &line {
            let actual = hex::encode(std::mem::take(&mut self.hasher).finalize());
            if *lines != self.lines || *sha256 != actual {
                return Err(format!(
                    "the backup's checksum does not match ({} records read, {lines} recorded); the file was changed or is corrupt",
                    self.lines
                ));
            }
            self.done = true;
            let mut rest = Vec::new();
            if self.input.read_to_end(&mut rest).is_ok() && !rest.is_empty() {
                return Err("the backup has data after its end line; the file was changed".into());
            }
            return Ok(None);
        }
        self.hasher.update(&self.buf);
        self.lines += 1;
        Ok(Some(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(lines: &[Line]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = BodyWriter::new(&mut out);
        for l in lines {
            w.line(l).unwrap();
        }
        w.finish().unwrap();
        out
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<Line>, String> {
        let mut r = BodyReader::new(bytes);
        let mut out = Vec::new();
        while let Some(l) = r.next_line()? {
            out.push(l);
        }
        Ok(out)
    }

    #[test]
    fn lines_round_trip_and_any_change_is_caught() {
        let lines = vec![
            Line::Counter {
                kind: "user".into(),
                next: 41,
            },
            Line::Quarantined {
                key: "00".into(),
                bytes: "ff".into(),
            },
        ];
        let bytes = body(&lines);
        assert_eq!(read_all(&bytes).unwrap(), lines);
        // Edited, cut short, or with something appended: refused, named.
        let mut edited = bytes.clone();
        let at = edited.iter().position(|b| *b == b'4').unwrap();
        edited[at] = b'5';
        assert!(read_all(&edited).unwrap_err().contains("checksum"));
        let cut = &bytes[..bytes.len() - 10];
        assert!(read_all(cut).is_err());
        let first_line = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
        assert!(
            read_all(&bytes[..first_line])
                .unwrap_err()
                .contains("cut short")
        );
        let mut more = bytes;
        more.extend_from_slice(b"{}\n");
        assert!(read_all(&more).unwrap_err().contains("after its end"));
    }
}
