//! Rendering a screen to text and neutralising what differs between runs (see the crate
//! documentation).

use super::*;

pub(super) fn render(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal
        .draw(|f| staffctl::tui::ui::draw(f, app))
        .expect("draw");
    let buf = terminal.backend().buffer();
    assert_no_invisible_blocks(buf);
    buffer_text(buf)
}

/// A full-block glyph in reverse video is painted in the background colour: whatever it was meant
/// to fill (a progress bar) looks empty, with or without colours.
fn assert_no_invisible_blocks(buf: &Buffer) {
    let area = buf.area;
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &buf[(x, y)];
            assert!(
                !(cell.symbol() == "█" && cell.modifier.contains(Modifier::REVERSED)),
                "a reversed full block at ({x}, {y}) shows as empty:\n{}",
                buffer_text(buf)
            );
        }
    }
}

/// The buffer as text: one line per row, trailing spaces trimmed. A wide character occupies two
/// cells; the cell it covers is skipped so columns read as on screen.
fn buffer_text(buf: &Buffer) -> String {
    use unicode_width::UnicodeWidthStr;
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0usize;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            line.push_str(symbol);
            skip = symbol.width().saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Replaces what differs between runs, days and machines with stable placeholders, keeping the
/// columns of what follows (see [`put`]) so that borders and table columns stay aligned.
pub(super) fn neutralise(text: &str, data: &Path) -> String {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let data = data.display().to_string();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut l = replace_data_path(line, &data);
        l = replace_export_dir(&l);
        if cwd.len() > 1 {
            l = replace_literal(&l, &cwd, "[CWD]");
        }
        l = replace_rfc3339(&l);
        l = replace_cut_years(&l);
        // Same-width placeholders, longest shapes first.
        for (shape, placeholder) in [
            ("dddd-dd-dd dd:dd:dd", "YYYY-MM-DD hh:mm:ss"),
            ("dddd-dd-dd dd:dd", "YYYY-MM-DD hh:mm"),
            ("dddd-dd-dd", "YYYY-MM-DD"),
            ("dd-dd dd:dd", "MM-DD hh:mm"),
        ] {
            l = replace_shape(&l, shape, placeholder);
        }
        l = replace_hashes(&l);
        l = replace_origin(&l);
        out.push_str(l.trim_end());
        out.push('\n');
    }
    out
}

/// Writes `placeholder` in place of `line[start..end]` and returns where copying resumes. When
/// the token is followed by spaces, a box-drawing border or the end of the line, the placeholder
/// is padded (absorbing the spaces) to the token's span, so what follows keeps its column however
/// long the token was (RFC 3339 fractions and paths differ in length from run to run).
fn put(out: &mut String, line: &str, start: usize, end: usize, placeholder: &str) -> usize {
    let spaces = line[end..].bytes().take_while(|b| *b == b' ').count();
    let next = line[end + spaces..].chars().next();
    let boxed = next.is_none_or(|c| ('\u{2500}'..='\u{257f}').contains(&c));
    out.push_str(placeholder);
    if spaces == 0 && !boxed {
        return end;
    }
    let span = line[start..end].chars().count() + spaces;
    let room = placeholder.chars().count() + usize::from(spaces > 0);
    let pad = if span >= room {
        span - placeholder.chars().count()
    } else {
        usize::from(spaces > 0)
    };
    out.extend(std::iter::repeat_n(' ', pad));
    end + spaces
}

fn replace_literal(line: &str, needle: &str, placeholder: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut copied = 0;
    while let Some(at) = line[copied..].find(needle).map(|i| i + copied) {
        out.push_str(&line[copied..at]);
        copied = put(&mut out, line, at, at + needle.len(), placeholder);
    }
    out.push_str(&line[copied..]);
    out
}

/// The store path, or the part of it left visible when a dialog's border covers the rest (at
/// least `/tmp/` when not cut by a border, so short fragments elsewhere are never taken for it).
fn replace_data_path(line: &str, data: &str) -> String {
    let mut k = data.len();
    while k >= 2 {
        if data.is_char_boundary(k)
            && let Some(at) = line.find(&data[..k])
            && (k >= 5 || border_at(line, at + k))
        {
            let mut out = line[..at].to_string();
            let resume = put(&mut out, line, at, at + k, "[DATA]");
            out.push_str(&line[resume..]);
            return out;
        }
        k -= 1;
    }
    line.to_string()
}

/// Whether `text[i..]` starts with `shape`, where `d` is any ASCII digit and every other byte
/// stands for itself.
fn shape_at(text: &[u8], i: usize, shape: &[u8]) -> bool {
    text.len() >= i + shape.len()
        && shape.iter().zip(&text[i..]).all(|(p, c)| match p {
            b'd' => c.is_ascii_digit(),
            p => p == c,
        })
}

/// Whether `line[at..]` starts with a box-drawing character (a pane's border).
fn border_at(line: &str, at: usize) -> bool {
    line[at..]
        .chars()
        .next()
        .is_some_and(|c| ('\u{2500}'..='\u{257f}').contains(&c))
}

/// The visible end of a year that a dialog's border covers the start of (`│026-11-29` ->
/// `│YYY-11-29`), so the date shapes below finish it.
fn replace_cut_years(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some((at, c)) = rest
        .char_indices()
        .find(|(_, c)| ('\u{2500}'..='\u{257f}').contains(c))
    {
        let after = at + c.len_utf8();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if (1..4).contains(&digits) && shape_at(rest.as_bytes(), digits, b"-dd-dd") {
            out.push_str(&"Y".repeat(digits));
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// Replaces every occurrence of a digit shape not glued to further digits, and also the first
/// four or more characters of one cut short by a dialog's border drawn over it
/// (`2025-03-01 15┌` -> `YYYY-MM-DD hh┌`).
fn replace_shape(line: &str, shape: &str, placeholder: &str) -> String {
    let (bytes, shape_b) = (line.as_bytes(), shape.as_bytes());
    let mut out = String::with_capacity(line.len());
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        let clean_before = i == 0 || !bytes[i - 1].is_ascii_digit();
        let end = i + shape_b.len();
        let len = if !clean_before {
            None
        } else if shape_at(bytes, i, shape_b) && bytes.get(end).is_none_or(|c| !c.is_ascii_digit())
        {
            Some(shape_b.len())
        } else {
            (4..shape_b.len())
                .rev()
                .find(|&k| shape_at(bytes, i, &shape_b[..k]) && border_at(line, i + k))
        };
        match len {
            Some(k) => {
                out.push_str(&line[copied..i]);
                out.push_str(&placeholder[..k]);
                i += k;
                copied = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&line[copied..]);
    out
}

/// `2025-03-01T09:30:00.123456789Z` -> `[TIMESTAMP]`, including a fraction or offset of any
/// length and an instant cut short by the edge of a pane.
fn replace_rfc3339(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        if (i == 0 || !bytes[i - 1].is_ascii_digit()) && shape_at(bytes, i, b"dddd-dd-ddT") {
            let mut end = i + 11;
            while bytes
                .get(end)
                .is_some_and(|c| c.is_ascii_digit() || b":.+-Z".contains(c))
            {
                end += 1;
            }
            out.push_str(&line[copied..i]);
            copied = put(&mut out, line, i, end, "[TIMESTAMP]");
            i = copied;
        } else {
            i += 1;
        }
    }
    out.push_str(&line[copied..]);
    out
}

/// Runs of exactly 64 lowercase hex digits -> `[HASH]`.
fn replace_hashes(line: &str) -> String {
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        if hex(&bytes[i]) && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let mut end = i;
            while end < bytes.len() && hex(&bytes[end]) {
                end += 1;
            }
            if end - i == 64 && bytes.get(end).is_none_or(|c| !c.is_ascii_alphanumeric()) {
                out.push_str(&line[copied..i]);
                copied = put(&mut out, line, i, end, "[HASH]");
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out.push_str(&line[copied..]);
    out
}

/// The process an audit event came from (`root pid=4242 tty=/dev/pts/3`, up to the pane's edge)
/// -> `[ORIGIN]`.
fn replace_origin(line: &str) -> String {
    const LABEL: &str = "Origin    ";
    let Some(at) = line.find(LABEL) else {
        return line.to_string();
    };
    let start = at + LABEL.len();
    if !line[start..].contains("pid=") {
        return line.to_string();
    }
    let rest = &line[start..];
    let value_len = rest
        .find('│')
        .map_or(rest.trim_end().len(), |b| rest[..b].trim_end().len());
    let mut out = line[..start].to_string();
    let resume = put(&mut out, line, start, start + value_len, "[ORIGIN]");
    out.push_str(&line[resume..]);
    out
}

/// The export dialog proposes `<home>/staffctl-audit-<clock>.csv`; the clock is the test's
/// (deterministic) but the home directory is the machine's, and a long one scrolls the field,
/// so whatever of it shows becomes `[HOME]/`. The border after it keeps its column.
fn replace_export_dir(line: &str) -> String {
    const LABEL: &str = "Save to ";
    const NAME: &str = "staffctl-audit-";
    let Some(at) = line.find(LABEL) else {
        return line.to_string();
    };
    let start = at + LABEL.len();
    let Some(name) = line[start..].find(NAME).map(|i| start + i) else {
        return line.to_string();
    };
    let cut = line[start..name].chars().count();
    let placeholder = "[HOME]/";
    let rest = &line[name..];
    // Spaces between the value and the border absorb the change of width.
    let (value, tail) = match rest.find('│') {
        Some(b) => (rest[..b].trim_end(), &rest[b..]),
        None => (rest.trim_end(), ""),
    };
    let spaces = rest.len() - value.len() - tail.len();
    let pad = (spaces + cut)
        .saturating_sub(placeholder.len())
        .max(usize::from(!tail.is_empty()));
    format!(
        "{}{placeholder}{value}{}{tail}",
        &line[..start],
        " ".repeat(if tail.is_empty() { 0 } else { pad })
    )
}

#[test]
fn neutralising_keeps_columns_and_catches_every_shape() {
    let data = Path::new("/tmp/.tmpAbC123");
    let text = "store /tmp/.tmpAbC123\n\
                1  2025-03-01 09:30:00  x\n\
                2  03-01 09:30  y\n\
                Created 2025-03-01 09:30 by z\n\
                │Time      2025-03-01T09:30:00.1234Z      │\n\
                │Time      2025-03-01T09:30:00.12345678Z  │\n\
                │Hash      00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff  │\n\
                │Origin    root pid=4242 tty=/dev/pts/3          │\n\
                │to /tmp/.tmpAbC123/audit.csv   │\n\
                ─ store /tmp/.t└───\n\
                 store /t└───\n\
                │  57      2025-03-01 15┌───┐.tan\n\
                │  57      03-0┌───┐.tan\n\
                │   Save to e/clone/staffctl-audit-20261125-150000.csv     │\n\
                │  Bruno H│  u   unlock   │026-11-29│\n\
                NPI 1234567890 phone +1 555 010 2000 date 2025-03-01\n";
    let out = neutralise(text, data);
    let expected = [
        "store [DATA]".to_string(),
        "1  YYYY-MM-DD hh:mm:ss  x".into(),
        "2  MM-DD hh:mm  y".into(),
        "Created YYYY-MM-DD hh:mm by z".into(),
        // Both instants and their padding span 31 columns; so do the placeholders.
        format!("│Time      {:<31}│", "[TIMESTAMP]"),
        format!("│Time      {:<31}│", "[TIMESTAMP]"),
        format!("│Hash      {:<66}│", "[HASH]"),
        format!("│Origin    {:<38}│", "[ORIGIN]"),
        "│to [DATA]/audit.csv   │".into(),
        "─ store [DATA] └───".into(),
        "store [DATA]└───".into(),
        "│  57      YYYY-MM-DD hh┌───┐.tan".into(),
        "│  57      MM-D┌───┐.tan".into(),
        // A long home directory scrolls the field: only its tail shows; the name stays.
        format!(
            "│   Save to {:<47}│",
            "[HOME]/staffctl-audit-20261125-150000.csv"
        ),
        // A date whose start a dialog covers.
        "│  Bruno H│  u   unlock   │YYY-MM-DD│".into(),
        "NPI 1234567890 phone +1 555 010 2000 date YYYY-MM-DD".into(),
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    // A 63- or 65-digit hex run is not a hash; 2025-03-011 is not a date.
    let near = format!("{} {} 2025-03-011", "a".repeat(63), "b".repeat(65));
    assert_eq!(neutralise(&near, data), format!("{near}\n"));
}
