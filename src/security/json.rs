//! JSON that is safe to print. `serde_json` escapes only C0 controls; C1 controls, bidi
//! overrides and zero-width characters would pass through raw and act on a terminal (or disguise
//! a name) when the output is `cat`ed. These writers escape them as `\uXXXX`, which every JSON
//! reader turns back into the same string.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use super::sanitize::is_invisible_or_bidi;

/// Wraps a formatter, escaping every character that could act on a terminal.
struct Escaping<F>(F);

fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_or_bidi(c)
}

impl<F: Formatter> Formatter for Escaping<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|(_, c)| needs_escape(*c)) {
            writer.write_all(&rest.as_bytes()[..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = &rest[i + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    // Everything else is the wrapped formatter's (pretty indentation or compact).
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Writes `value` as indented JSON with terminal-active characters escaped.
pub fn to_writer_pretty<W: Write, T: Serialize + ?Sized>(
    out: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Escaping(PrettyFormatter::new()));
    value.serialize(&mut ser)
}

/// Writes `value` as one-line JSON with terminal-active characters escaped.
pub fn to_writer<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Escaping(CompactFormatter));
    value.serialize(&mut ser)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compact(s: &str) -> String {
        let mut out = Vec::new();
        to_writer(&mut out, &serde_json::json!({ "reason": s })).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn c1_bidi_and_zero_width_are_escaped_and_round_trip() {
        let hostile = "a\u{9b}31m\u{202e}b\u{200b}c\u{1b}[2J\u{feff}é😀";
        let json = compact(hostile);
        assert_eq!(
            json,
            r#"{"reason":"a\u009b31m\u202eb\u200bc\u001b[2J\ufeffé😀"}"#
        );
        assert!(json.chars().all(|c| !needs_escape(c)));
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["reason"], hostile);
    }

    #[test]
    fn plain_text_and_pretty_layout_are_unchanged() {
        let v = serde_json::json!({ "name": "Zoë \"Z\" O'Brien\\", "n": [1, 2] });
        let mut ours = Vec::new();
        to_writer_pretty(&mut ours, &v).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string_pretty(&v).unwrap()
        );
        assert_eq!(compact("plain"), r#"{"reason":"plain"}"#);
    }
}
