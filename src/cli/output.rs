//! Rendering responses for people (tables, key/value blocks) and scripts (JSON). Every data
//! string shown in a table passes through the terminal sanitiser first.

use std::io::Write;

use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::error::{Error, Result};
use crate::security::sanitize::for_terminal;

/// Output format for read commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    Table,
    /// JSON for scripts.
    Json,
}

/// Cells longer than this are cut with an ellipsis in tables.
const MAX_CELL: usize = 48;

/// A sanitised, length-limited table cell.
pub fn cell(s: &str) -> String {
    let clean = for_terminal(s);
    if clean.chars().count() > MAX_CELL {
        let cut: String = clean.chars().take(MAX_CELL - 1).collect();
        format!("{cut}…")
    } else {
        clean.into_owned()
    }
}

/// Renders rows under a header, columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.width());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
        let mut parts = Vec::new();
        for (i, c) in cells.enumerate() {
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(c.width());
            parts.push(format!("{c}{}", " ".repeat(pad)));
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied(), &mut out);
    for row in rows {
        line(&mut row.iter().map(String::as_str), &mut out);
    }
    out
}

/// Renders `key: value` lines with aligned values (values sanitised).
pub fn fields(pairs: &[(&str, String)]) -> String {
    let w = pairs.iter().map(|(k, _)| k.width()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(&format!("{k:<w$}  {}\n", cell_long(v)));
    }
    out
}

/// A sanitised value without the table length limit.
pub fn cell_long(s: &str) -> String {
    for_terminal(s).into_owned()
}

/// A writer that treats a closed pipe (`staffctl audit export ... | head`) as the reader's
/// choice: the rest of the output is dropped instead of failing the command.
pub struct ClosedPipeOk<W> {
    inner: W,
    closed: bool,
}

impl<W: Write> ClosedPipeOk<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            closed: false,
        }
    }
}

impl<W: Write> Write for ClosedPipeOk<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

/// A closed pipe (`staffctl user list | head`) is the reader's choice, not an error.
fn quiet_pipe(r: std::io::Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Writes text to stdout.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    quiet_pipe(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// Writes a value as pretty JSON to stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    // Buffered: stdout alone is line-buffered, and pretty JSON of a few thousand users would
    // otherwise take tens of thousands of write calls.
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    match crate::security::json::to_writer_pretty(&mut out, value) {
        Err(e) if e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe) => return Ok(()),
        Err(e) => return Err(Error::Storage(format!("cannot write JSON: {e}"))),
        Ok(()) => {}
    }
    quiet_pipe(out.write_all(b"\n").and_then(|()| out.flush()))
}

/// "yes" or "no".
pub fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// An optional value, or "-".
pub fn or_dash(v: Option<&str>) -> String {
    v.map_or_else(|| "-".to_string(), cell)
}

/// How tables show times: the practice's zone, set once per process after login (UTC until
/// then, and in JSON always).
static LOCAL_TIME: std::sync::OnceLock<crate::service::LocalTime> = std::sync::OnceLock::new();

/// Sets the zone tables show times in (first call wins).
pub fn set_local_time(local: crate::service::LocalTime) {
    let _ = LOCAL_TIME.set(local);
}

/// The zone tables show times in.
pub fn local_time() -> crate::service::LocalTime {
    LOCAL_TIME
        .get()
        .cloned()
        .unwrap_or_else(crate::service::LocalTime::utc)
}

/// A table header for a time column: `TIME (Europe/Berlin)`.
pub fn time_header(label: &str) -> String {
    format!("{label} ({})", local_time().name())
}

/// A timestamp as `YYYY-MM-DD HH:MM` in the practice's zone, or "-".
pub fn when(t: Option<jiff::Timestamp>) -> String {
    let local = local_time();
    t.map_or_else(
        || "-".to_string(),
        |t| local.second(t).get(..16).unwrap_or_default().to_string(),
    )
}

/// A timestamp to the second in the practice's zone.
pub fn when_exact(t: jiff::Timestamp) -> String {
    local_time().second(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_closed_pipe_ends_output_quietly() {
        let mut w = ClosedPipeOk::new(Closed);
        assert_eq!(w.write(b"abc").unwrap(), 3);
        assert!(w.flush().is_ok());
        assert_eq!(w.write(b"more").unwrap(), 4);
    }

    #[test]
    fn table_aligns_and_sanitises() {
        let rows = vec![
            vec![cell("Zoë"), cell("x\u{1b}[2Jy")],
            vec![cell("Bo"), cell("z")],
        ];
        let t = table(&["NAME", "NOTE"], &rows);
        assert_eq!(t, "NAME  NOTE\nZoë   xy\nBo    z\n");
        assert!(cell(&"a".repeat(60)).ends_with('…'));
    }
}
