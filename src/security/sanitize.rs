//! Making untrusted text safe to show. Data strings (names, notes, CSV cells) may carry terminal
//! escape sequences, C0/C1 controls, bidi overrides or invisible characters; none may reach a
//! terminal, and CSV cells must not be read as formulas by a spreadsheet.

use std::borrow::Cow;

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';
const C1_ST: char = '\u{9c}';

/// Characters that change text direction or are invisible, which can disguise what a name says.
pub fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{2028}' | '\u{2029}' // line and paragraph separators
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{FEFF}' // zero-width no-break space
        | '\u{061C}' // Arabic letter mark
    )
}

fn needs_work(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || is_invisible_or_bidi(c))
}

/// Removes escape sequences (CSI, OSC, DCS, APC, PM, SOS, and two-byte escapes) whole, and
/// drops every other control, bidi and invisible character. Tabs and newlines become spaces, so
/// the result always stays on one line.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if !needs_work(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']') => skip_string(&mut chars),
                Some('P' | '_' | '^' | 'X') => skip_string(&mut chars),
                Some(c2) if ('\u{20}'..='\u{2f}').contains(&c2) => {
                    // nF escape: intermediates then one final byte.
                    while chars
                        .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                        .is_some()
                    {}
                    chars.next();
                }
                _ => {} // two-byte escape (ESC c, ESC 7, ...): both gone
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' => skip_string(&mut chars),
            '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => skip_string(&mut chars),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() || is_invisible_or_bidi(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    // Parameter and intermediate bytes, then one final byte in 0x40..=0x7E.
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) || !('\u{20}'..='\u{3f}').contains(&c) {
            break;
        }
    }
}

/// Skips the body of an OSC, DCS, APC, PM or SOS string up to its terminator (BEL or ST; BEL is
/// accepted for all of them, as terminals do).
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            BEL | C1_ST => return,
            ESC => {
                // ESC \ is ST; any other ESC also ends the string (terminals abort it).
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

/// Rewrites control, bidi and invisible characters as visible `\u{..}` escapes (tab, newline and
/// carriage return as `\t`, `\n`, `\r`), keeping everything else. Used for CSV cells, where the
/// auditor must see exactly what was stored without the terminal or spreadsheet acting on it.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !needs_work(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || is_invisible_or_bidi(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A CSV cell that a spreadsheet shows as text: cells starting with `=`, `+`, `-`, `@`, tab, CR or
/// LF get a leading `'` (OWASP CSV injection), and controls become visible escapes.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    let risky = matches!(
        s.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n')
    );
    let escaped = escape_controls(s);
    if risky {
        Cow::Owned(format!("'{escaped}"))
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(for_terminal("Zoë O'Brien"), Cow::Borrowed(_)));
    }

    #[test]
    fn hostile_name_leaves_no_fragment() {
        let name = "Eve\u{1b}]52;c;ZWNobyBoaQ==\u{7}\u{1b}[2J\u{202e}gnp.exe\u{9b}31mX\u{1b}P1$r\u{1b}\\\u{1b}_apc\u{1b}\\\u{1b}^pm\u{9c}!";
        let out = for_terminal(name);
        assert_eq!(out, "Evegnp.exeX!");
        for frag in ["[2J", "]52;", "31m", "1$r", "apc", "pm"] {
            assert!(!out.contains(frag), "{frag} leaked: {out}");
        }
    }

    #[test]
    fn osc_terminated_by_st_and_unterminated_sequences() {
        assert_eq!(for_terminal("a\u{1b}]0;title\u{1b}\\b"), "ab");
        assert_eq!(for_terminal("a\u{1b}]0;never ends"), "a");
        assert_eq!(for_terminal("a\u{1b}["), "a");
        assert_eq!(for_terminal("a\u{1b}(Bb"), "ab");
        assert_eq!(for_terminal("a\u{1b}cb"), "ab");
    }

    #[test]
    fn controls_invisibles_and_newlines() {
        assert_eq!(for_terminal("a\u{0}b\u{7f}c\u{85}d"), "abcd");
        assert_eq!(for_terminal("a\u{200b}b\u{2066}c\u{2028}d\u{feff}"), "abcd");
        assert_eq!(for_terminal("line1\nline2\tx"), "line1 line2 x");
    }

    #[test]
    fn csv_cells_are_neutralised() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for p in ["+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx"] {
            assert!(csv_cell(p).starts_with('\''), "{p:?}");
        }
        assert_eq!(csv_cell("\nx"), "'\\nx");
        assert_eq!(csv_cell("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(csv_cell("safe"), "safe");
        assert_eq!(csv_cell("x\u{202e}y"), "x\\u{202e}y");
    }
}
