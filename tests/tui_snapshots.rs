//! Snapshot tests of the terminal interface: every main screen, form and dialog rendered into a
//! `TestBackend` at 80x24 and 120x40, turned into plain text (one line per row, trailing spaces
//! trimmed) and compared with the reviewed `.snap` files under `tests/snapshots/`.
//!
//! What varies per run is neutralised before comparison, so the snapshots hold across runs, days
//! and machines: the store path becomes `[DATA]`, the working directory `[CWD]`, dates and times
//! become same-width placeholders (`YYYY-MM-DD hh:mm`) so columns stay aligned, RFC 3339 instants
//! `[TIMESTAMP]`, 64-hex digests `[HASH]`, and the process origin of an audit event `[ORIGIN]`.
//!
//! The last tests put hostile text (terminal escape sequences, C1 controls, bidi overrides) into
//! the store by every path that accepts it and check that none of it reaches the screen.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;
use staffctl::error::Error;
use staffctl::model::User;
use staffctl::service::{
    FacilityField, OpenOptions, Request, Response, Service, Session, UserField,
};
use staffctl::store::{TreeId, codec, id_key};
use staffctl::tui::app::{App, Modal, Phase, Tab};
use staffctl::tui::keymap::Keymap;
use staffctl::tui::theme::Theme;
use tempfile::TempDir;

/// The two terminal sizes every screen is checked at.
const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

/// Generous bound for background work (argon2 login, chain verification); never asserted on.
const JOBS: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

/// An interface over a store in a temporary directory. Field order matters: the app (and the
/// service it holds) drops before the directory is removed.
struct Ui {
    app: App,
    dir: TempDir,
}

/// A fresh directory under `/tmp` (not `$TMPDIR`): the store path is shown on screen and cut by
/// dialogs drawn over it, so its length must not depend on the machine.
fn temp_dir() -> TempDir {
    let base = Path::new("/tmp");
    if base.is_dir() {
        tempfile::tempdir_in(base).expect("tempdir")
    } else {
        tempfile::tempdir().expect("tempdir")
    }
}

fn open(dir: &Path) -> Arc<Service> {
    Arc::new(Service::open(dir, &OpenOptions::default()).expect("open store"))
}

fn new_app(svc: Arc<Service>) -> App {
    App::new(svc, Keymap::default_keymap(), Theme { mono: true }).expect("app")
}

/// An empty store: the first-run wizard.
fn empty() -> Ui {
    let dir = temp_dir();
    let app = new_app(open(dir.path()));
    Ui { app, dir }
}

/// The demo practice, on the login screen.
fn demo_login() -> Ui {
    let dir = temp_dir();
    let svc = open(dir.path());
    staffctl::demo::populate(&svc).expect("demo data");
    let app = new_app(svc);
    Ui { app, dir }
}

/// The demo practice, logged in as its administrator, background verification finished.
fn demo() -> Ui {
    let mut ui = demo_login();
    ui.app
        .login_now(staffctl::demo::DEMO_ADMIN, staffctl::demo::DEMO_PASSWORD)
        .expect("login");
    ui.settle();
    ui
}

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

impl Ui {
    fn key(&mut self, code: KeyCode) -> &mut Self {
        self.app.on_key(press(code));
        // Keys may start background work (opening the Audit tab verifies the chain); let it
        // finish so no snapshot depends on this machine's speed.
        self.app.wait_jobs(JOBS);
        self
    }

    fn ctrl(&mut self, c: char) -> &mut Self {
        self.app
            .on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
        self
    }

    fn typ(&mut self, text: &str) -> &mut Self {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
        self
    }

    fn tabs(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            self.key(KeyCode::Tab);
        }
        self
    }

    /// Waits for background jobs and fails if one is still running, so no snapshot depends on
    /// how fast this machine is.
    fn settle(&mut self) {
        self.app.wait_jobs(JOBS);
        assert!(!self.app.checking(), "login check still running");
        assert!(
            !self.app.audit.verifying,
            "audit verification still running"
        );
        assert!(
            !self
                .app
                .modals
                .iter()
                .any(|m| matches!(m, Modal::Export(j) if j.done.is_none())),
            "export still running"
        );
    }

    fn session(&self) -> Session {
        self.app.session.clone().expect("logged in")
    }

    fn svc(&self) -> &Service {
        self.app.backend.local().expect("a local store")
    }

    fn render(&self, w: u16, h: u16) -> String {
        render(&self.app, w, h)
    }

    /// Snapshots the screen at both sizes under `name_WxH`.
    fn snap(&self, name: &str) {
        for (w, h) in SIZES {
            let text = neutralise(&self.render(w, h), self.dir.path());
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), text);
        }
    }

    /// The form on top of the modal stack.
    fn top_form(&self) -> &staffctl::tui::widgets::form::Form {
        match self.app.modals.last() {
            Some(Modal::Form { form, .. }) => form,
            other => panic!("expected a form on top, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering and neutralising
// ---------------------------------------------------------------------------------------------

fn render(app: &App, w: u16, h: u16) -> String {
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
fn neutralise(text: &str, data: &Path) -> String {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let data = data.display().to_string();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut l = replace_data_path(line, &data);
        l = replace_export_path(&l);
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

/// The export dialog proposes `<working dir>/staffctl-audit-<clock>.csv`; a long working
/// directory scrolls the field, so the whole visible value is replaced.
fn replace_export_path(line: &str) -> String {
    const LABEL: &str = "Save to ";
    match line.find(LABEL) {
        Some(at) if line.contains("staffctl-audit-") => {
            let start = at + LABEL.len();
            let end = line[start..]
                .find(".csv")
                .map_or(line.len(), |e| start + e + ".csv".len());
            let mut out = line[..start].to_string();
            let resume = put(
                &mut out,
                line,
                start,
                end,
                "[CWD]/staffctl-audit-YYYYMMDD-hhmmss.csv",
            );
            out.push_str(&line[resume..]);
            out
        }
        _ => line.to_string(),
    }
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
        // A long working directory scrolls the field: only its tail shows.
        format!(
            "│   Save to {:<47}│",
            "[CWD]/staffctl-audit-YYYYMMDD-hhmmss.csv"
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

// ---------------------------------------------------------------------------------------------
// Screens
// ---------------------------------------------------------------------------------------------

#[test]
fn setup_wizard() {
    let ui = empty();
    assert!(matches!(ui.app.phase, Phase::Setup(_)));
    let text = ui.render(80, 24);
    assert!(text.contains("first-run setup"), "{text}");
    assert!(text.contains("Practice name"), "{text}");
    assert!(text.contains("Repeat password"), "{text}");
    ui.snap("setup_wizard");
}

#[test]
fn setup_wizard_with_mismatched_passwords() {
    let mut ui = empty();
    ui.typ("Riverside")
        .tabs(1)
        .typ("office@riverside.example")
        .tabs(1)
        .typ("Downtown")
        .tabs(1)
        .typ("Ada")
        .tabs(1)
        .typ("Admin")
        .tabs(1)
        .typ("ada")
        .tabs(1)
        .typ("ada@riverside.example")
        .tabs(1)
        .typ("first password here")
        .tabs(1)
        .typ("second password here")
        .key(KeyCode::Enter);
    let Phase::Setup(form) = &ui.app.phase else {
        panic!("the wizard must stay open");
    };
    assert_eq!(
        form.value("practice_name"),
        "Riverside",
        "typed values kept"
    );
    assert_eq!(form.focused_key(), "password_repeat");
    assert!(
        ui.render(80, 24).contains("the two passwords differ"),
        "{}",
        ui.render(80, 24)
    );
    ui.snap("setup_wizard_mismatched_passwords");
}

#[test]
fn login_screen() {
    let ui = demo_login();
    assert!(matches!(ui.app.phase, Phase::Login { .. }));
    let text = ui.render(80, 24);
    assert!(text.contains("Username or email"), "{text}");
    ui.snap("login");
}

#[test]
fn login_failure_shows_the_reason_and_clears_the_password() {
    let mut ui = demo_login();
    ui.typ("admin")
        .tabs(1)
        .typ("not the password")
        .key(KeyCode::Enter);
    ui.settle();
    let Phase::Login { form, .. } = &ui.app.phase else {
        panic!("still on the login screen");
    };
    assert_eq!(form.value("login"), "admin", "the login name is kept");
    assert_eq!(form.value("password"), "", "the password is cleared");
    assert_eq!(form.focused_key(), "password");
    assert!(form.error.as_deref().unwrap_or("").contains("login denied"));
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        assert!(text.contains("login denied"), "{w}x{h}:\n{text}");
        assert!(!text.contains('•'), "no password dots left:\n{text}");
    }
    ui.snap("login_failed");
}

#[test]
fn users_tab() {
    let ui = demo();
    assert_eq!(ui.app.tab, Tab::Users);
    assert_eq!(ui.app.users.shown(), 41);
    let text = ui.render(120, 40);
    assert!(text.contains("41 of 41 users"), "{text}");
    ui.snap("users");
}

#[test]
fn users_tab_filtered() {
    let mut ui = demo();
    ui.typ("/smith");
    assert!(ui.app.users.filtering);
    let n = ui.app.users.shown();
    assert!(n > 0 && n < 41, "{n} users match smith");
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        assert!(text.contains(&format!("{n} of 41 users")), "{text}");
        assert!(text.contains("/smith"), "{text}");
    }
    ui.snap("users_filtered");
}

#[test]
fn user_detail() {
    let mut ui = demo();
    let name = ui.app.users.selected().expect("a user").name.clone();
    ui.key(KeyCode::Enter);
    let Some(Modal::Detail { lines, .. }) = ui.app.modals.last() else {
        panic!("the detail view is open");
    };
    // No line is wider than an 80-column detail view shows (76 columns inside its border).
    for line in lines {
        assert!(line.chars().count() <= 76, "clipped at 80x24: {line:?}");
    }
    let text = ui.render(120, 40);
    assert!(text.contains(&name), "{text}");
    assert!(text.contains("IDENTITY"), "{text}");
    assert!(text.contains("Logs in with    email"), "{text}");
    ui.snap("user_detail");
}

#[test]
fn add_user_with_an_invalid_npi_keeps_the_input() {
    let mut ui = demo();
    ui.typ("a");
    assert_eq!(ui.top_form().focused_key(), "first_name");
    // Identity: first, last, public name, email.
    ui.typ("Nora")
        .tabs(1)
        .typ("Quist")
        .tabs(2)
        .typ("nora.quist@riverside-pt.example");
    // Role: step from "(choose)" to Front Desk; then the primary facility.
    ui.tabs(3);
    assert_eq!(ui.top_form().focused_key(), "role");
    for _ in 0..12 {
        if ui.render(120, 40).contains("◀ Front Desk ▶") {
            break;
        }
        ui.key(KeyCode::Right);
    }
    assert!(ui.render(120, 40).contains("◀ Front Desk ▶"));
    ui.tabs(5).key(KeyCode::Right);
    assert_eq!(ui.top_form().focused_key(), "facility");
    ui.tabs(4).typ("1234567890");
    assert_eq!(ui.top_form().focused_key(), "npi");
    ui.key(KeyCode::Enter);
    let form = ui.top_form();
    assert!(
        form.fields
            .iter()
            .find(|f| f.key == "npi")
            .and_then(|f| f.error.as_deref())
            .is_some_and(|e| e.contains("check digit")),
        "{:?}",
        form.fields.iter().find(|f| f.key == "npi")
    );
    assert!(
        form.fields
            .iter()
            .filter(|f| f.key != "npi")
            .all(|f| f.error.is_none()),
        "only the NPI is wrong"
    );
    assert_eq!(form.focused_key(), "npi");
    for (key, value) in [
        ("first_name", "Nora"),
        ("last_name", "Quist"),
        ("email", "nora.quist@riverside-pt.example"),
        ("npi", "1234567890"),
    ] {
        assert_eq!(form.value(key), value, "{key} kept");
    }
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        assert!(text.contains("1234567890"), "{w}x{h}:\n{text}");
        assert!(text.contains("check digit"), "{w}x{h}:\n{text}");
    }
    ui.snap("add_user_invalid_npi");
}

#[test]
fn deactivate_dialog() {
    let mut ui = demo();
    let name = ui.app.users.selected().expect("a user").name.clone();
    ui.typ("d");
    assert_eq!(ui.top_form().title, format!("Deactivate {name}?"));
    assert_eq!(ui.top_form().focused_key(), "reason");
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        // What deactivation does and keeps is said in full at every size.
        assert!(text.contains(&format!("Deactivate {name}?")), "{text}");
        assert!(
            text.contains("Login is refused; the record, history and audit events are kept."),
            "{w}x{h}:\n{text}"
        );
    }
    ui.snap("deactivate");
}

#[test]
fn roles_tab() {
    let mut ui = demo();
    ui.typ("2");
    assert_eq!(ui.app.tab, Tab::Roles);
    // Every permission of the selected role (Administrator: all of them) is shown in full.
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        for p in staffctl::model::permission::CATALOGUE {
            let action = p.key.split_once('.').map_or(p.key, |(_, a)| a);
            assert!(
                text.contains(&format!("[x]{action}")),
                "{} missing at {w}x{h}:\n{text}",
                p.key
            );
        }
        for role in [
            "Administrator",
            "Provider Assistant",
            "Billing Manager",
            "Aide",
        ] {
            assert!(text.contains(role), "{role} at {w}x{h}:\n{text}");
        }
    }
    ui.snap("roles");
}

#[test]
fn permission_matrix() {
    let mut ui = demo();
    ui.typ("2").typ("e");
    assert!(ui.top_form().title.starts_with("Permissions of "));
    ui.snap("permission_matrix");
}

#[test]
fn facilities_tab() {
    let mut ui = demo();
    ui.typ("3");
    let text = ui.render(80, 24);
    for name in ["Downtown", "Uptown", "Lakeside"] {
        assert!(text.contains(name), "{text}");
    }
    ui.snap("facilities");
}

#[test]
fn facility_access_detail() {
    let mut ui = demo();
    ui.typ("3").key(KeyCode::Enter);
    assert!(
        matches!(ui.app.modals.last(), Some(Modal::Detail { title, .. }) if title.starts_with("Facility "))
    );
    ui.snap("facility_access");
}

#[test]
fn audit_tab() {
    let mut ui = demo();
    ui.typ("6");
    let text = ui.render(120, 40);
    assert!(text.contains("chain OK"), "{text}");
    ui.snap("audit");
}

#[test]
fn audit_event_detail() {
    let mut ui = demo();
    // The newest event is this test's login; the one before it, the demo's last, changed a
    // note.
    ui.typ("6").key(KeyCode::Down).key(KeyCode::Enter);
    let text = ui.render(120, 40);
    assert!(text.contains("CHANGES"), "{text}");
    assert!(text.contains("Hash"), "{text}");
    ui.snap("audit_event");
}

#[test]
fn export_dialog() {
    let mut ui = demo();
    ui.typ("6").typ("x");
    assert_eq!(ui.top_form().title, "Export the audit log");
    ui.snap("export_dialog");
}

#[test]
fn export_finished() {
    let mut ui = demo();
    let dest = ui.dir.path().join("audit.csv");
    ui.typ("6").typ("x").tabs(3);
    assert_eq!(ui.top_form().focused_key(), "path");
    ui.ctrl('u')
        .typ(&dest.display().to_string())
        .key(KeyCode::Enter);
    ui.settle();
    let Some(Modal::Export(job)) = ui.app.modals.last() else {
        panic!("export progress shown");
    };
    let written = job.done.clone().expect("done").expect("export worked");
    assert!(written > 0);
    assert!(dest.exists());
    ui.snap("export_done");
}

#[test]
fn settings_tab() {
    let mut ui = demo();
    ui.typ("7");
    let text = ui.render(80, 24);
    assert!(text.contains("Riverside Physical Therapy"), "{text}");
    ui.snap("settings");
}

#[test]
fn help_overlay() {
    let mut ui = demo();
    ui.typ("?");
    assert!(matches!(ui.app.modals.last(), Some(Modal::Help { .. })));
    ui.snap("help");
}

#[test]
fn command_palette_with_a_query() {
    let mut ui = demo();
    ui.typ(":deact");
    let text = ui.render(80, 24);
    assert!(text.contains("user.deactivate"), "{text}");
    ui.snap("palette");
}

#[test]
fn discard_changes_prompt() {
    let mut ui = demo();
    ui.typ("a").typ("Jo").key(KeyCode::Esc);
    assert!(matches!(
        ui.app.modals.last(),
        Some(Modal::Confirm { title, .. }) if title == "Discard changes?"
    ));
    // The form is still underneath, with what was typed.
    assert!(matches!(
        &ui.app.modals[ui.app.modals.len() - 2],
        Modal::Form { form, .. } if form.value("first_name") == "Jo"
    ));
    ui.snap("discard_changes");
}

/// Row index of the first line containing `needle`, and its column.
fn find(text: &str, needle: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(row, line)| {
        line.find(needle)
            .map(|byte| (row, line[..byte].chars().count()))
    })
}

#[test]
fn narrow_terminal_stacks_the_detail_pane_below_the_table() {
    let ui = demo();
    let selected = ui.app.users.selected().expect("a user").email.clone();

    let narrow = ui.render(80, 24);
    let (users_row, users_col) = find(&narrow, "┌ Users ").expect("table");
    let (pane_row, pane_col) = find(&narrow, "┌ Selected ").expect("detail pane");
    assert!(pane_row > users_row, "pane below the table:\n{narrow}");
    assert_eq!(pane_col, users_col, "pane as wide as the table:\n{narrow}");
    let (email_row, _) = find(&narrow, &selected).expect("selected user's email in the pane");
    assert!(email_row > pane_row, "{narrow}");
    // All six lines of the pane fit, down to the status and NPI lines.
    let (status_row, _) = find(&narrow, "status active").expect("status line");
    let (npi_row, _) = find(&narrow, "admin no  NPI").expect("admin/NPI line");
    assert!(pane_row < status_row && status_row < npi_row, "{narrow}");

    // At 120 columns every column of the table fits only without the pane beside it: the
    // pane goes below and Billing and Last login stay visible.
    let medium = ui.render(120, 40);
    let (users_row, _) = find(&medium, "┌ Users ").expect("table");
    let (pane_row, _) = find(&medium, "┌ Selected ").expect("detail pane");
    assert!(pane_row > users_row, "pane below the table:\n{medium}");
    assert!(
        medium.contains("Billing") && medium.contains("Last login"),
        "{medium}"
    );

    // From 128 columns the pane sits beside a table that still shows every column.
    let wide = ui.render(140, 40);
    let (users_row, _) = find(&wide, "┌ Users ").expect("table");
    let (pane_row, pane_col) = find(&wide, "┌ Selected ").expect("detail pane");
    assert_eq!(pane_row, users_row, "pane beside the table:\n{wide}");
    assert!(pane_col > 90, "{wide}");
    assert!(
        wide.contains("Billing") && wide.contains("Last login"),
        "{wide}"
    );

    let neutral = neutralise(&narrow, ui.dir.path());
    insta::assert_snapshot!("users_narrow_stacked_80x24", neutral);
}

// ---------------------------------------------------------------------------------------------
// Hostile text
// ---------------------------------------------------------------------------------------------

const OSC52: &str = "\u{1b}]52;c;QUJD\u{07}";
const CLEAR: &str = "\u{1b}[2J";
const RLO: char = '\u{202E}';
const CSI8: char = '\u{009B}';

/// A first name carrying every hostile sequence a terminal can be attacked with.
fn hostile_name() -> String {
    format!("Mal{OSC52}lory{CLEAR}{RLO}gnp.exe{CSI8}31m")
}

/// Fails with the screen if any hostile fragment reached it.
fn assert_clean(text: &str, what: &str) {
    for frag in [
        "[2J", "]52;", "QUJD", "\u{1b}", "\u{202E}", "\u{009B}", "\u{7}",
    ] {
        assert!(
            !text.contains(frag),
            "{what}: {frag:?} reached the screen:\n{text}"
        );
    }
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{what}: a control character reached the screen:\n{text:?}"
    );
}

fn user_fields(first: &str, email: &str) -> Vec<(UserField, String)> {
    vec![
        (UserField::FirstName, first.to_string()),
        (UserField::LastName, "Zed".into()),
        (UserField::Email, email.to_string()),
        (UserField::Role, "Front Desk".into()),
        (UserField::Facility, "Downtown".into()),
    ]
}

fn field_errors(e: &Error) -> Vec<(String, String)> {
    e.field_errors()
        .iter()
        .map(|f| (f.field.clone(), f.message.clone()))
        .collect()
}

/// Every screen that shows the selected user, its role or a facility, at both sizes.
fn assert_every_view_clean(ui: &mut Ui, label: &str) {
    let check = |ui: &mut Ui, what: &str| {
        for (w, h) in SIZES {
            assert_clean(&ui.render(w, h), &format!("{label}: {what} at {w}x{h}"));
        }
    };
    ui.typ("1");
    check(ui, "users tab");
    ui.key(KeyCode::Enter);
    check(ui, "user detail");
    ui.key(KeyCode::Esc);
    ui.typ("e");
    check(ui, "edit form");
    ui.key(KeyCode::Esc);
    ui.typ("d");
    check(ui, "deactivate dialog");
    ui.key(KeyCode::Esc);
    ui.typ("c");
    check(ui, "facility access form");
    ui.key(KeyCode::Esc);
    ui.typ("x");
    check(ui, "delete confirmation");
    ui.key(KeyCode::Esc);
    ui.typ("2");
    check(ui, "roles tab");
    ui.key(KeyCode::Enter);
    check(ui, "role detail");
    ui.key(KeyCode::Esc);
    ui.typ("n");
    check(ui, "role rename form");
    ui.key(KeyCode::Esc);
    ui.typ("e");
    check(ui, "permission matrix");
    ui.key(KeyCode::Esc);
    ui.typ("3");
    check(ui, "facilities tab");
    ui.key(KeyCode::Enter);
    check(ui, "facility access");
    ui.key(KeyCode::Esc);
    ui.typ("e");
    check(ui, "facility edit form");
    ui.key(KeyCode::Esc);
    ui.typ("6");
    check(ui, "audit tab");
    ui.key(KeyCode::Enter);
    check(ui, "audit event");
    ui.key(KeyCode::Esc);
    assert!(ui.app.modals.is_empty(), "every dialog closed again");
}

#[test]
fn the_service_refuses_escape_sequences_and_c1_controls_in_names_and_notes() {
    let ui = demo();
    let s = ui.session();
    for (i, bad) in [OSC52.to_string(), CLEAR.to_string(), CSI8.to_string()]
        .iter()
        .enumerate()
    {
        let err = ui
            .svc()
            .call(
                &s,
                Request::UserAdd(user_fields(
                    &format!("Eve{bad}"),
                    &format!("e{i}@x.example"),
                )),
            )
            .expect_err("a control character in a name is refused");
        assert_eq!(
            field_errors(&err),
            [(
                "first_name".to_string(),
                "first name must not contain control characters".to_string()
            )],
            "{bad:?}"
        );
        let mut with_note = user_fields("Eve", &format!("n{i}@x.example"));
        with_note.push((UserField::Note, format!("note {bad}")));
        let err = ui
            .svc()
            .call(&s, Request::UserAdd(with_note))
            .expect_err("a control character in a note is refused");
        assert_eq!(field_errors(&err).len(), 1, "{err}");
        assert_eq!(field_errors(&err)[0].0, "note", "{err}");
        let err = ui
            .svc()
            .call(
                &s,
                Request::FacilityAdd(vec![(FacilityField::Name, format!("Annex{bad}"))]),
            )
            .expect_err("a control character in a facility name is refused");
        assert_eq!(field_errors(&err)[0].0, "name", "{err}");
    }
}

/// The strongest path the service accepts: a bidi override (not a control character) in a
/// person's, a role's and a facility's name, and tabs and newlines in free text.
#[test]
fn accepted_bidi_overrides_and_newlines_never_reach_the_screen() {
    let mut ui = demo();
    let s = ui.session();
    let first = format!("Aaron{RLO}gnp.exe");
    let mut fields = user_fields(&first, "aaron.rlo@riverside-pt.example");
    fields.push((UserField::Note, "line one\nline two\tand a tab".into()));
    fields.push((UserField::Bio, "bio\nwith\tbreaks".into()));
    let added = match ui.svc().call(&s, Request::UserAdd(fields)) {
        Ok(Response::User(d)) => d,
        other => panic!("a bidi override is not a control character: {other:?}"),
    };
    assert!(added.user.first_name.contains(RLO), "stored as typed");
    ui.svc()
        .call(
            &s,
            Request::RoleAdd {
                name: format!("Night{RLO}shift"),
                description: format!("covers{RLO} nights\nand\tweekends"),
                permissions: Vec::new(),
            },
        )
        .expect("role with a bidi override");
    ui.svc()
        .call(
            &s,
            Request::FacilityAdd(vec![
                (FacilityField::Name, format!("Annex{RLO}")),
                (FacilityField::Address, "1 Main St\nSuite\t4".into()),
            ]),
        )
        .expect("facility with a bidi override");
    ui.app.update(staffctl::tui::action::Action::Refresh);
    // Put the hostile user, role and facility under the selection.
    ui.typ("/aaron.rlo").key(KeyCode::Enter);
    assert_eq!(ui.app.users.selected().map(|u| u.id), Some(added.user.id));
    select_last(&mut ui, "2");
    select_last(&mut ui, "3");
    assert_every_view_clean(&mut ui, "bidi override");
}

/// Moves the selection of tab `tab` to its last row.
fn select_last(ui: &mut Ui, tab: &str) {
    ui.typ(tab).key(KeyCode::End);
}

/// A record written by something other than this service (a legacy version, a restore of an
/// old backup, a hand edit) can hold anything. The interface must still show none of it raw.
#[test]
fn a_legacy_record_with_escape_sequences_never_reaches_the_screen() {
    let mut ui = demo();
    let s = ui.session();
    let added = match ui.svc().call(
        &s,
        Request::UserAdd(user_fields("Aaron", "aaron.legacy@riverside-pt.example")),
    ) {
        Ok(Response::User(d)) => d,
        other => panic!("{other:?}"),
    };
    let store = ui.svc().store();
    let raw = store
        .get_raw(TreeId::Users, &id_key(added.user.id))
        .expect("read")
        .expect("stored");
    let mut user: User = codec::decode(&raw).expect("decode");
    user.first_name = format!("Aaron{}", hostile_name());
    user.public_name = Some(hostile_name());
    user.note = format!("note{OSC52}{CLEAR}");
    user.provider.bio = format!("bio{RLO}{CSI8}2J");
    store
        .put_raw_unchecked(
            TreeId::Users,
            &id_key(added.user.id),
            &codec::encode(&user).expect("encode"),
        )
        .expect("write the legacy record");
    ui.app.update(staffctl::tui::action::Action::Refresh);
    ui.typ("/aaron.legacy").key(KeyCode::Enter);
    let shown = ui.app.users.selected().expect("the legacy user is listed");
    assert_eq!(shown.id, added.user.id);
    assert!(shown.name.contains(CLEAR), "the record holds the raw text");

    // The detail view, and what `for_terminal` makes of each line of it.
    let detail = match ui
        .svc()
        .call(&s, Request::UserShow(added.user.id.to_string()))
    {
        Ok(Response::User(d)) => d,
        other => panic!("{other:?}"),
    };
    let lines = staffctl::tui::screens::users::detail_lines(&detail);
    for line in &lines {
        assert_clean(line, "detail line");
        assert_eq!(
            staffctl::security::sanitize::for_terminal(line),
            line.as_str(),
            "detail lines are already sanitised"
        );
    }
    let name_line = lines
        .iter()
        .find(|l| l.trim_start().starts_with("Name "))
        .expect("name line");
    assert!(
        name_line.ends_with("AaronMallorygnp.exe Zed"),
        "escape sequences removed whole, letters kept: {name_line:?}"
    );
    ui.key(KeyCode::Enter);
    let text = ui.render(120, 40);
    assert!(text.contains("AaronMallorygnp.exe Zed"), "{text}");
    ui.key(KeyCode::Esc);

    assert_every_view_clean(&mut ui, "legacy record");
}

#[test]
fn an_invited_user_activates_from_the_login_screen() {
    let mut ui = demo_login();
    // An administrator invites someone (the code is what they would hand over).
    let admin = ui
        .svc()
        .login(
            staffctl::demo::DEMO_ADMIN,
            staffctl::demo::DEMO_PASSWORD,
            &staffctl::service::Origin::default(),
        )
        .expect("admin login");
    let added = ui
        .svc()
        .call(
            &admin,
            staffctl::service::Request::UserAdd(vec![
                (staffctl::service::UserField::FirstName, "Nora".into()),
                (staffctl::service::UserField::LastName, "New".into()),
                (
                    staffctl::service::UserField::Email,
                    "nora@riverside-pt.example".into(),
                ),
                (staffctl::service::UserField::Role, "Front Desk".into()),
                (staffctl::service::UserField::Facility, "Downtown".into()),
            ]),
        )
        .expect("add");
    let staffctl::service::Response::User(d) = added else {
        panic!("a user")
    };
    let code = d.invitation.as_ref().expect("an invitation").code.0.clone();

    ui.key(KeyCode::F(2));
    assert!(matches!(ui.app.phase, Phase::Activate(_)));
    ui.snap("activate");
    ui.typ("nora@riverside-pt.example")
        .tabs(1)
        .typ(&code)
        .tabs(1);
    // A common password is refused beside the field; nothing typed is lost.
    ui.typ("password")
        .tabs(1)
        .typ("password")
        .key(KeyCode::Enter);
    let Phase::Activate(form) = &ui.app.phase else {
        panic!("still activating")
    };
    assert!(form.fields.iter().any(|f| {
        f.error
            .as_deref()
            .is_some_and(|e| e.contains("at least 15"))
    }));
    assert_eq!(form.value("code"), code);
    // Fix the password and activate; then log in with it.
    // The first field with a message has the focus: the password.
    assert_eq!(form.focused_key(), "password");
    let pw = "nine quiet lanterns glowing";
    for _ in 0.."password".len() {
        ui.key(KeyCode::Backspace);
    }
    ui.typ(pw).tabs(1);
    for _ in 0.."password".len() {
        ui.key(KeyCode::Backspace);
    }
    ui.typ(pw).key(KeyCode::Enter);
    assert!(
        matches!(ui.app.phase, Phase::Login { .. }),
        "back to the login screen"
    );
    assert!(ui.render(80, 24).contains("Your account is active"));
    ui.typ(pw).key(KeyCode::Enter);
    ui.settle();
    assert!(
        matches!(ui.app.phase, Phase::Main),
        "logged in with the new password"
    );
}

#[test]
fn invites_tab_lists_invitations_and_sends_one_again() {
    let mut ui = demo();
    ui.typ("4");
    let text = ui.render(120, 40);
    assert!(text.contains("Invitations ("), "{text}");
    ui.snap("invites");
    // The newest invitations, at the end: pending, one expired.
    ui.key(KeyCode::End);
    let text = ui.render(120, 40);
    assert!(
        text.contains("pending") && text.contains("expired"),
        "{text}"
    );
    // Sending again within the cool-down is refused with the time left: the last invitation
    // went out minutes ago.
    ui.typ("r");
    let text = ui.render(120, 40);
    assert!(text.contains("can be sent again in"), "{text}");
}

#[test]
fn devices_tab_approves_a_waiting_device() {
    let mut ui = demo();
    let admin = ui.session();
    ui.svc()
        .call(
            &admin,
            staffctl::service::Request::PracticeEdit(vec![(
                staffctl::service::PracticeField::DeviceApproval,
                "yes".into(),
            )]),
        )
        .expect("turn approval on");
    let refused = ui.svc().verify_login(
        staffctl::demo::DEMO_ADMIN,
        staffctl::demo::DEMO_PASSWORD,
        None,
        Some("front-desk-pc"),
        &staffctl::service::Origin::default(),
    );
    assert!(refused.is_err(), "an unseen device waits");
    ui.app.refresh_all();
    ui.settle();
    ui.typ("5");
    let text = ui.render(120, 40);
    assert!(
        text.contains("front-desk-pc") && text.contains("pending"),
        "{text}"
    );
    ui.snap("devices");
    // The new device is the last one listed (the demo's own come first).
    ui.key(KeyCode::End).typ("a").typ("y");
    ui.settle();
    assert!(ui.render(120, 40).contains("approved"));
    assert!(
        ui.svc()
            .verify_login(
                staffctl::demo::DEMO_ADMIN,
                staffctl::demo::DEMO_PASSWORD,
                None,
                Some("front-desk-pc"),
                &staffctl::service::Origin::default(),
            )
            .is_ok()
    );
}
