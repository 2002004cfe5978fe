//! Streaming exporters for auditors: CSV (RFC 4180, spreadsheet-safe) and JSON lines.
//!
//! Both write one event at a time, so memory stays constant however long the log is.

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

use super::event::{ActorView, AuditEvent, Change, ChangeView, EventView, OriginView, TargetView};
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
    push_changes(
        &mut s,
        changes
            .iter()
            .map(|c| (c.field.as_str(), c.old.as_deref(), c.new.as_deref())),
    );
    s
}

/// Appends the [`changes_text`] of `changes` (field, old, new) to `s`.
fn push_changes<'c>(
    s: &mut String,
    changes: impl Iterator<Item = (&'c str, Option<&'c str>, Option<&'c str>)>,
) {
    for (i, (field, old, new)) in changes.enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        s.push_str(field);
        s.push_str(": ");
        s.push_str(old.unwrap_or("(none)"));
        s.push_str(" -> ");
        s.push_str(new.unwrap_or("(none)"));
    }
}

fn actor_name<'a>(actor: ActorView<'a>) -> &'a str {
    match actor {
        ActorView::User { label, .. } | ActorView::Anonymous { label } => label,
        ActorView::System => "system",
    }
}

/// Writes events as CSV.
pub struct CsvExporter<W: Write> {
    writer: csv::Writer<W>,
    /// Reused for the cells that must be formatted (numbers, time, changes).
    scratch: String,
}

impl<W: Write> CsvExporter<W> {
    /// Starts the export by writing the header row.
    pub fn new(out: W) -> Result<Self> {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .buffer_capacity(64 << 10)
            .from_writer(out);
        writer.write_record(CSV_HEADER).map_err(csv_err)?;
        Ok(Self {
            writer,
            scratch: String::with_capacity(1024),
        })
    }

    /// Writes one event as one row.
    pub fn write(&mut self, e: &AuditEvent) -> Result<()> {
        self.write_view(&e.view())
    }

    /// Writes one event as one row, from a borrowed view. Cells go to the CSV writer one at a
    /// time, so a row allocates nothing. Numbers and hashes are digits and hex, which
    /// `csv_cell` would leave as they are, so they are written directly.
    pub fn write_view(&mut self, e: &EventView<'_>) -> Result<()> {
        use std::fmt::Write as _;
        let w = &mut self.writer;
        let s = &mut self.scratch;
        let mut num = [0u8; 20];
        w.write_field(decimal(e.seq, &mut num)).map_err(csv_err)?;
        s.clear();
        // Formatting into a String cannot fail.
        let _ = write!(s, "{}", e.at());
        cell(w, s)?;
        cell(w, actor_name(e.actor))?;
        match e.actor.user_id() {
            Some(id) => w.write_field(decimal(id, &mut num)),
            None => w.write_field(b""),
        }
        .map_err(csv_err)?;
        cell(w, e.origin.os_user)?;
        w.write_field(decimal(u64::from(e.origin.pid), &mut num))
            .map_err(csv_err)?;
        cell(w, e.origin.ssh_client.unwrap_or(""))?;
        cell(w, e.origin.tty.unwrap_or(""))?;
        cell(w, e.action)?;
        match &e.target {
            Some(t) => {
                cell(w, t.kind)?;
                w.write_field(decimal(t.id, &mut num)).map_err(csv_err)?;
                cell(w, t.label)?;
            }
            None => {
                cell(w, "")?;
                cell(w, "")?;
                cell(w, "")?;
            }
        }
        cell(w, e.outcome.kind())?;
        cell(w, e.outcome.reason())?;
        s.clear();
        push_changes(s, e.changes.iter().map(|c| (c.field, c.old, c.new)));
        cell(w, s)?;
        let mut hex_buf = [0u8; 64];
        for hash in [&e.prev_hash, &e.hash] {
            // 32 bytes always fit in 64 hex digits.
            if hex::encode_to_slice(hash, &mut hex_buf).is_ok() {
                w.write_field(hex_buf).map_err(csv_err)?;
            }
        }
        w.write_record(None::<&[u8]>).map_err(csv_err)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W> {
        self.writer
            .into_inner()
            .map_err(|e| Error::Storage(format!("could not finish the CSV export: {}", e.error())))
    }
}

/// Writes one cell through [`sanitize::csv_cell`]. Printable ASCII that does not start like a
/// formula comes out of `csv_cell` unchanged, so it skips the character scan: nearly every cell.
fn cell<W: Write>(w: &mut csv::Writer<W>, text: &str) -> Result<()> {
    let bytes = text.as_bytes();
    let plain = !matches!(
        bytes.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n')
    ) && printable_ascii(bytes);
    let written = if plain {
        w.write_field(bytes)
    } else {
        w.write_field(sanitize::csv_cell(text).as_bytes())
    };
    written.map_err(csv_err)
}

/// The decimal digits of `n`, formatted in `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// Whether every byte is printable ASCII (space to `~`). Branch-free, so it vectorises.
fn printable_ascii(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(true, |ok, b| ok & (b.wrapping_sub(0x20) < 0x5f))
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
    origin: OriginView<'a>,
    action: &'a str,
    target: Option<TargetView<'a>>,
    outcome: &'static str,
    reason: &'a str,
    changes: Cow<'a, [ChangeView<'a>]>,
    prev_hash: String,
    hash: String,
}

impl<'a> JsonEvent<'a> {
    /// The JSON form of `e`: RFC 3339 time, lowercase outcome, hex hashes.
    pub fn of(e: &'a AuditEvent) -> Self {
        let view = e.view();
        Self::build(&view, Cow::Owned(view.changes.clone()))
    }

    /// [`JsonEvent::of`] for a borrowed view (the same JSON).
    pub fn of_view(e: &'a EventView<'a>) -> Self {
        Self::build(e, Cow::Borrowed(&e.changes))
    }

    fn build(e: &EventView<'a>, changes: Cow<'a, [ChangeView<'a>]>) -> Self {
        JsonEvent {
            seq: e.seq,
            time: e.at().to_string(),
            actor: actor_name(e.actor),
            actor_id: e.actor.user_id(),
            origin: e.origin,
            action: e.action,
            target: e.target,
            outcome: e.outcome.kind(),
            reason: e.outcome.reason(),
            changes,
            prev_hash: hex::encode(e.prev_hash),
            hash: hex::encode(e.hash),
        }
    }
}

/// Writes one event as a JSON object followed by a newline. Control, bidi and zero-width
/// characters are escaped (`\u001b`, `\u202e`), so the file is safe to `cat`.
pub fn write_jsonl<W: Write>(out: &mut W, e: &AuditEvent) -> Result<()> {
    write_json_record(out, &JsonEvent::of(e))
}

/// [`write_jsonl`] for a borrowed view.
pub fn write_jsonl_view<W: Write>(out: &mut W, e: &EventView<'_>) -> Result<()> {
    write_json_record(out, &JsonEvent::of_view(e))
}

fn write_json_record<W: Write>(out: &mut W, record: &JsonEvent<'_>) -> Result<()> {
    crate::security::json::to_writer(&mut *out, record)
        .map_err(|err| Error::Storage(format!("could not write the JSON export: {err}")))?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, EventDraft, Origin, Outcome, Target, ZERO_HASH};

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

    /// The row writer before views: every cell formatted into its own String, sanitised with
    /// `csv_cell`, collected and written as one record.
    fn reference_csv(events: &[AuditEvent]) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        w.write_record(CSV_HEADER).unwrap();
        for e in events {
            let actor = match &e.actor {
                Actor::User { label, .. } | Actor::Anonymous { label } => label.as_str(),
                Actor::System => "system",
            };
            let (tkind, tid, tlabel) = match &e.target {
                Some(t) => (t.kind.as_str(), t.id.to_string(), t.label.as_str()),
                None => ("", String::new(), ""),
            };
            let cells: [String; 17] = [
                e.seq.to_string(),
                rfc3339(e),
                actor.into(),
                e.actor.user_id().map(|i| i.to_string()).unwrap_or_default(),
                e.origin.os_user.clone(),
                e.origin.pid.to_string(),
                e.origin.ssh_client.clone().unwrap_or_default(),
                e.origin.tty.clone().unwrap_or_default(),
                e.action.clone(),
                tkind.into(),
                tid,
                tlabel.into(),
                e.outcome.kind().into(),
                e.outcome.reason().into(),
                changes_text(&e.changes),
                hex::encode(e.prev_hash),
                hex::encode(e.hash),
            ];
            w.write_record(cells.iter().map(|c| sanitize::csv_cell(c).into_owned()))
                .unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn rows_are_byte_identical_to_the_reference_writer() {
        let mut events = crate::audit::event::tests::varied_events();
        events.push(event("=cmd|' /C calc'!A0"));
        events.push(event("a,\"b\"\u{1b}[2J"));
        events.push(event("+1 555"));
        events.push(event("plain label"));
        let mut x = CsvExporter::new(Vec::new()).unwrap();
        for e in &events {
            x.write(e).unwrap();
        }
        let ours = String::from_utf8(x.finish().unwrap()).unwrap();
        assert_eq!(ours, reference_csv(&events));

        for e in &events {
            let mut line = Vec::new();
            write_jsonl(&mut line, e).unwrap();
            let mut from_view = Vec::new();
            write_jsonl_view(&mut from_view, &e.view()).unwrap();
            assert_eq!(line, from_view);
            let expected = serde_json::json!({
                "seq": e.seq,
                "time": rfc3339(e),
                "actor": match &e.actor {
                    Actor::User { label, .. } | Actor::Anonymous { label } => label.as_str(),
                    Actor::System => "system",
                },
                "actor_id": e.actor.user_id(),
                "origin": &e.origin,
                "action": &e.action,
                "target": &e.target,
                "outcome": e.outcome.kind(),
                "reason": e.outcome.reason(),
                "changes": &e.changes,
                "prev_hash": hex::encode(e.prev_hash),
                "hash": hex::encode(e.hash),
            });
            let got: serde_json::Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(got, expected);
        }
    }
}
