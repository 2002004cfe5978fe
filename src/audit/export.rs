//! Streaming exporters for auditors: CSV (RFC 4180, spreadsheet-safe) and JSON lines.
//!
//! Both write one event at a time, so memory stays constant however long the log is.

use std::io::Write;

use serde::Serialize;

use super::event::{Actor, AuditEvent, Change};
use crate::error::{Error, Result};
use crate::security::sanitize;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Format {
    /// RFC 4180 CSV with one header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// CSV header, in column order.
pub const CSV_HEADER: [&str; 17] = [
    "seq",
    "time",
    "actor",
    "actor_id",
    "os_user",
    "pid",
    "ssh_client",
    "tty",
    "action",
    "target_kind",
    "target_id",
    "target_label",
    "outcome",
    "reason",
    "changes",
    "prev_hash",
    "hash",
];

/// RFC 3339 UTC time of an event, with microseconds.
pub fn rfc3339(event: &AuditEvent) -> String {
    event.at().to_string()
}

/// `field: old -> new; ...`, with `(none)` for a missing side.
pub fn changes_text(changes: &[Change]) -> String {
    let mut s = String::new();
    for (i, c) in changes.iter().enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        s.push_str(&c.field);
        s.push_str(": ");
        s.push_str(c.old.as_deref().unwrap_or("(none)"));
        s.push_str(" -> ");
        s.push_str(c.new.as_deref().unwrap_or("(none)"));
    }
    s
}

fn actor_name(actor: &Actor) -> &str {
    match actor {
        Actor::User { label, .. } | Actor::Anonymous { label } => label,
        Actor::System => "system",
    }
}

/// Writes events as CSV.
pub struct CsvExporter<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvExporter<W> {
    /// Starts the export by writing the header row.
    pub fn new(out: W) -> Result<Self> {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        writer.write_record(CSV_HEADER).map_err(csv_err)?;
        Ok(Self { writer })
    }

    /// Writes one event as one row.
    pub fn write(&mut self, e: &AuditEvent) -> Result<()> {
        let seq = e.seq.to_string();
        let time = rfc3339(e);
        let actor_id = e.actor.user_id().map(|i| i.to_string()).unwrap_or_default();
        let pid = e.origin.pid.to_string();
        let (tkind, tid, tlabel) = match &e.target {
            Some(t) => (t.kind.as_str(), t.id.to_string(), t.label.as_str()),
            None => ("", String::new(), ""),
        };
        let changes = changes_text(&e.changes);
        let prev = hex::encode(e.prev_hash);
        let hash = hex::encode(e.hash);
        let cells: [&str; 17] = [
            &seq,
            &time,
            actor_name(&e.actor),
            &actor_id,
            &e.origin.os_user,
            &pid,
            e.origin.ssh_client.as_deref().unwrap_or(""),
            e.origin.tty.as_deref().unwrap_or(""),
            &e.action,
            tkind,
            &tid,
            tlabel,
            e.outcome.kind(),
            e.outcome.reason(),
            &changes,
            &prev,
            &hash,
        ];
        self.writer
            .write_record(
                cells
                    .iter()
                    .map(|c| sanitize::csv_cell(c))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|c| c.as_bytes()),
            )
            .map_err(csv_err)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W> {
        self.writer
            .into_inner()
            .map_err(|e| Error::Storage(format!("could not finish the CSV export: {}", e.error())))
    }
}

fn csv_err(e: csv::Error) -> Error {
    Error::Storage(format!("could not write the CSV export: {e}"))
}

/// The JSON form of one event, shared by JSON-lines exports and `--output json` listings.
#[derive(Serialize)]
pub struct JsonEvent<'a> {
    seq: u64,
    time: String,
    actor: &'a str,
    actor_id: Option<u64>,
    origin: &'a super::Origin,
    action: &'a str,
    target: &'a Option<super::Target>,
    outcome: &'static str,
    reason: &'a str,
    changes: &'a [Change],
    prev_hash: String,
    hash: String,
}

impl<'a> JsonEvent<'a> {
    /// The JSON form of `e`: RFC 3339 time, lowercase outcome, hex hashes.
    pub fn of(e: &'a AuditEvent) -> Self {
        JsonEvent {
            seq: e.seq,
            time: rfc3339(e),
            actor: actor_name(&e.actor),
            actor_id: e.actor.user_id(),
            origin: &e.origin,
            action: &e.action,
            target: &e.target,
            outcome: e.outcome.kind(),
            reason: e.outcome.reason(),
            changes: &e.changes,
            prev_hash: hex::encode(e.prev_hash),
            hash: hex::encode(e.hash),
        }
    }
}

/// Writes one event as a JSON object followed by a newline. Control characters are escaped as
/// JSON requires (`\u001b`), so the file is safe to `cat`.
pub fn write_jsonl<W: Write>(out: &mut W, e: &AuditEvent) -> Result<()> {
    let record = JsonEvent::of(e);
    serde_json::to_writer(&mut *out, &record)
        .map_err(|err| Error::Storage(format!("could not write the JSON export: {err}")))?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{EventDraft, Origin, Outcome, Target, ZERO_HASH};

    fn event(label: &str) -> AuditEvent {
        AuditEvent::seal(
            EventDraft {
                at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
                actor: Actor::User {
                    id: 1,
                    label: "admin".into(),
                },
                origin: Origin {
                    os_user: "it".into(),
                    pid: 42,
                    ssh_client: None,
                    tty: None,
                },
                action: "user.create".into(),
                target: Some(Target::new("user", 2, label)),
                changes: vec![Change::new("first_name", None, Some(label.into()))],
                outcome: Outcome::Success,
            },
            1,
            ZERO_HASH,
        )
    }

    #[test]
    fn csv_is_rfc4180_and_neutralised() {
        let mut x = CsvExporter::new(Vec::new()).unwrap();
        x.write(&event("=cmd|' /C calc'!A0")).unwrap();
        x.write(&event("a,\"b\"\u{1b}[2J")).unwrap();
        let text = String::from_utf8(x.finish().unwrap()).unwrap();
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        let recs: Vec<_> = rows.records().map(|r| r.unwrap()).collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(&recs[0][11], "'=cmd|' /C calc'!A0");
        assert_eq!(&recs[1][11], "a,\"b\"\\u{1b}[2J");
        assert_eq!(&recs[0][1], "2023-11-14T22:13:20Z");
        assert!(text.contains("\r\n"));
        assert!(!text.contains('\u{1b}'));
    }

    #[test]
    fn jsonl_escapes_controls() {
        let mut out = Vec::new();
        write_jsonl(&mut out, &event("x\u{1b}]52;c;AA\u{7}")).unwrap();
        let line = String::from_utf8(out).unwrap();
        assert!(line.ends_with('\n'));
        assert!(!line.contains('\u{1b}'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["target"]["label"], "x\u{1b}]52;c;AA\u{7}");
        assert_eq!(v["outcome"], "success");
    }
}
