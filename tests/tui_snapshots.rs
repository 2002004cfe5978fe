//! Snapshot tests of the terminal interface: every main screen, form and dialog rendered into a
//! `TestBackend` at 80x24 and 120x40, turned into plain text (one line per row, trailing spaces
//! trimmed) and compared with the reviewed `.snap` files under `tests/snapshots/`.
//!
//! The practice shows times in UTC and the interface's clock stands still at [`TEST_NOW`], so
//! neither the machine's zone nor the time a test runs shows. What still varies per run is
//! neutralised before comparison, so the snapshots hold across runs, days and machines: the
//! store path becomes `[DATA]`, the working directory `[CWD]` and the home directory in the
//! export dialog `[HOME]`; the times the store recorded (when the demo data was made) become
//! same-width placeholders (`YYYY-MM-DD hh:mm`) so columns stay aligned, RFC 3339 instants
//! `[TIMESTAMP]`, 64-hex digests `[HASH]`, and the process origin of an audit event `[ORIGIN]`.
//!
//! `tui_snapshots/authority.rs` checks that the interface offers only what the operator's role
//! allows; `times.rs` that times are the practice's and the interface's clock is its own;
//! `keys.rs` that every key comes from the keymap and texts name the operator's keys.
//! `tui_snapshots/hostile.rs` puts hostile text (terminal escape sequences, C1 controls, bidi
//! overrides) into the store by every path that accepts it and checks that none of it reaches
//! the screen; `lock.rs` and `messages.rs` cover the lock and how messages fit the screen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
use staffctl::tui::app::{App, ManualClock, Modal, Phase, Tab};
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

/// The time of day the interface's clock stands at in every test (the export dialog names its
/// file after it).
const TEST_NOW: &str = "2026-11-25T15:00:00Z";

fn new_app(svc: Arc<Service>) -> App {
    new_app_with(svc, Keymap::default_keymap())
}

fn new_app_with(svc: Arc<Service>, keymap: Keymap) -> App {
    let mut app = App::new(svc, keymap, Theme { mono: true }).expect("app");
    let now = TEST_NOW.parse().expect("a timestamp");
    app.set_clock(Arc::new(ManualClock::at(now)));
    app
}

/// The demo practice in `svc`, showing times in `zone` (UTC in snapshots, so the machine's
/// own zone never shows in one).
fn populate(svc: &Service, zone: &str) {
    let admin = staffctl::demo::populate(svc).expect("demo data");
    svc.call(
        &admin,
        Request::PracticeEdit(vec![(
            staffctl::service::PracticeField::TimeZone,
            zone.into(),
        )]),
    )
    .expect("set the time zone");
}

/// An empty store: the first-run wizard.
fn empty() -> Ui {
    let dir = temp_dir();
    let app = new_app(open(dir.path()));
    Ui { app, dir }
}

/// The demo practice, on the login screen.
fn demo_login() -> Ui {
    demo_login_in("UTC")
}

/// The demo practice showing times in `zone`, on the login screen.
fn demo_login_in(zone: &str) -> Ui {
    let dir = temp_dir();
    let svc = open(dir.path());
    populate(&svc, zone);
    let app = new_app(svc);
    Ui { app, dir }
}

/// The demo practice on a server whose mail command (set by the server's owner) is `command`,
/// logged in as its administrator.
fn demo_with_mail(command: &str) -> Ui {
    let dir = temp_dir();
    let svc = Service::open(dir.path(), &OpenOptions::default())
        .expect("open store")
        .with_mail(staffctl::service::MailSetting {
            command: Some(command.into()),
            source: "/etc/staffctl/config.toml".into(),
            problem: None,
        });
    let svc = Arc::new(svc);
    populate(&svc, "UTC");
    let mut ui = Ui {
        app: new_app(svc),
        dir,
    };
    ui.app
        .login_now(staffctl::demo::DEMO_ADMIN, staffctl::demo::DEMO_PASSWORD)
        .expect("login");
    ui.settle();
    ui
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
            !self.app.screens.audit.verifying,
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
// Rendering and neutralising (tui_snapshots/screen_text.rs), hostile text, the lock, messages
// ---------------------------------------------------------------------------------------------

#[path = "tui_snapshots/authority.rs"]
mod authority;
#[path = "tui_snapshots/hostile.rs"]
mod hostile;
#[path = "tui_snapshots/keys.rs"]
mod keys;
#[path = "tui_snapshots/lock.rs"]
mod lock;
#[path = "tui_snapshots/messages.rs"]
mod messages;
#[path = "tui_snapshots/screen_text.rs"]
mod screen_text;
#[path = "tui_snapshots/times.rs"]
mod times;

use screen_text::{neutralise, render};

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
    assert_eq!(ui.app.screens.users.shown(), 41);
    let seats = match ui
        .svc()
        .call(&ui.session(), Request::PracticeShow)
        .expect("practice")
    {
        Response::Practice(p) => p.seats.billable(),
        other => panic!("{other:?}"),
    };
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        assert!(text.contains("41 of 41 users"), "{text}");
        // Billable seats: providers and provider assistants (technicians are free).
        assert!(text.contains(&format!("seats {seats} billable")), "{text}");
    }
    ui.snap("users");
}

#[test]
fn users_tab_filtered() {
    let mut ui = demo();
    ui.typ("/smith");
    assert!(ui.app.screens.users.filtering());
    let n = ui.app.screens.users.shown();
    assert!(n > 0 && n < 41, "{n} users match smith");
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        assert!(text.contains(&format!("{n} of 41 users")), "{text}");
        assert!(text.contains("/smith"), "{text}");
    }
    ui.snap("users_filtered");
}

#[test]
fn the_users_filter_searches_what_user_list_search_searches() {
    let mut ui = demo();
    let admin = ui.session();
    let target = ui.app.screens.users.selected().expect("a user").id;
    ui.svc()
        .call(
            &admin,
            Request::UserEdit(
                target.to_string(),
                vec![(UserField::PublicName, "Dr. Quillon".into())],
            ),
        )
        .expect("set a public name");
    ui.app.refresh_all();
    ui.settle();
    // The same needles give the same users in the `/` filter as in `user list --search`.
    for needle in [
        "quillon",
        "Dr. Q",
        "smith",
        "riverside-pt",
        "1480158389",
        "zz-none",
    ] {
        ui.typ("/")
            .typ(needle)
            .key(KeyCode::Enter)
            .key(KeyCode::Home);
        let mut shown: Vec<u64> = (0..ui.app.screens.users.shown())
            .map(|_| {
                let id = ui.app.screens.users.selected().expect("a row").id;
                ui.key(KeyCode::Down);
                id
            })
            .collect();
        shown.sort_unstable();
        shown.dedup();
        let searched = match ui.svc().call(
            &admin,
            Request::UserList(staffctl::service::UserFilter {
                search: Some(needle.into()),
                ..Default::default()
            }),
        ) {
            Ok(Response::Users(l)) => l.items.iter().map(|u| u.id).collect::<Vec<_>>(),
            other => panic!("a user list, got {other:?}"),
        };
        assert_eq!(shown, searched, "/{needle}");
        ui.key(KeyCode::Esc);
    }
    ui.typ("/quillon");
    assert_eq!(ui.app.screens.users.shown(), 1, "found by the public name");
}

#[test]
fn user_detail() {
    let mut ui = demo();
    let name = ui
        .app
        .screens
        .users
        .selected()
        .expect("a user")
        .name
        .clone();
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
    // Every field of the table, in its words, one per row.
    assert!(text.contains("Logs in with         email"), "{text}");
    assert!(text.contains("Contact email        -"), "{text}");
    assert!(text.contains("Chat user            no"), "{text}");
    ui.snap("user_detail");
}

#[test]
fn the_user_form_has_every_field_of_the_table_with_its_value() {
    use staffctl::service::user_field::{FIELDS, FieldKind, Section};
    let mut ui = demo();
    // The fields of a form in order, headings as `# title`.
    let layout = |form: &staffctl::tui::widgets::form::Form| -> Vec<String> {
        form.fields
            .iter()
            .map(|f| {
                if f.key.is_empty() {
                    format!("# {}", f.label)
                } else {
                    format!("{} {}", f.key, f.label)
                }
            })
            .collect()
    };
    let mut expected = Vec::new();
    for section in Section::ALL {
        expected.push(format!("# {}", section.title()));
        for f in FIELDS.iter().filter(|f| f.section == section) {
            expected.push(format!("{} {}", f.name, f.label));
        }
    }
    // A new user: the table's defaults, and no role or facility until one is chosen.
    ui.typ("a");
    assert_eq!(layout(ui.top_form()), expected);
    for f in FIELDS {
        let want = match f.kind {
            FieldKind::Role | FieldKind::Facility => "",
            // The first option is what a choice without a default starts on.
            FieldKind::Choice(options) if f.default.is_empty() => options[0].0,
            _ => f.default,
        };
        assert_eq!(ui.top_form().value(f.name), want, "{}", f.name);
    }
    ui.key(KeyCode::Esc);
    // An existing user: every field holds their value, the contact email and chat user too.
    let admin = ui.session();
    let target = ui.app.screens.users.selected().expect("a user").id;
    ui.svc()
        .call(
            &admin,
            Request::UserEdit(
                target.to_string(),
                vec![
                    (UserField::ContactEmail, "chloe.home@example.org".into()),
                    (UserField::ChatUser, "yes".into()),
                ],
            ),
        )
        .expect("edit");
    ui.app.refresh_all();
    ui.settle();
    let user = match ui.svc().call(&admin, Request::UserShow(target.to_string())) {
        Ok(Response::User(d)) => d.user,
        other => panic!("{other:?}"),
    };
    ui.typ("e");
    assert_eq!(layout(ui.top_form()), expected);
    for f in FIELDS {
        assert_eq!(ui.top_form().value(f.name), (f.value)(&user), "{}", f.name);
    }
    assert_eq!(
        ui.top_form().value("contact_email"),
        "chloe.home@example.org"
    );
    assert_eq!(ui.top_form().value("chat_user"), "yes");
    assert!(!ui.top_form().is_dirty(), "opening changes nothing");
}

#[test]
fn the_detail_pane_pages_through_every_field() {
    let mut ui = demo();
    let pages_of = |text: &str| -> Option<(usize, usize)> {
        let line = text.lines().find(|l| l.contains("┌ Selected "))?;
        let (page, rest) = line.split_once("Selected ")?.1.split_once('/')?;
        let total: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some((page.parse().ok()?, total.parse().ok()?))
    };
    let first = ui.render(80, 24);
    let (page, total) = pages_of(&first).expect("a paged pane");
    assert_eq!(page, 1);
    assert!(first.contains("(] next)"), "{first}");
    let mut seen = first.clone();
    for n in 2..=total {
        ui.typ("]");
        let text = ui.render(80, 24);
        assert_eq!(pages_of(&text), Some((n, total)), "{text}");
        seen.push_str(&text);
    }
    for f in staffctl::service::user_field::FIELDS {
        assert!(
            seen.contains(&format!("{}:", f.label)),
            "{} never shown",
            f.label
        );
    }
    for label in [
        "Permissions:",
        "Can access:",
        "Last login:",
        "Failed logins:",
    ] {
        assert!(seen.contains(label), "{label} never shown");
    }
    // After the last page comes the first again; another user starts on their first.
    ui.typ("]");
    assert_eq!(pages_of(&ui.render(80, 24)), Some((1, total)));
    ui.typ("]").key(KeyCode::Down);
    assert_eq!(pages_of(&ui.render(80, 24)).map(|p| p.0), Some(1));
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
    // Role (past the contact email, username and login method): step from "(choose)" to
    // Front Desk; then the primary facility.
    ui.tabs(4);
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
    let name = ui
        .app
        .screens
        .users
        .selected()
        .expect("a user")
        .name
        .clone();
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
    // The newest event is this test's login; the one before it set the practice's time zone.
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
        Some(Modal::Confirm { question, .. }) if question.title == "Discard changes?"
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
    let selected = ui
        .app
        .screens
        .users
        .selected()
        .expect("a user")
        .email
        .clone();

    let narrow = ui.render(80, 24);
    let (users_row, users_col) = find(&narrow, "┌ Users ").expect("table");
    let (pane_row, pane_col) = find(&narrow, "┌ Selected ").expect("detail pane");
    assert!(pane_row > users_row, "pane below the table:\n{narrow}");
    assert_eq!(pane_col, users_col, "pane as wide as the table:\n{narrow}");
    let (email_row, _) = find(&narrow, &selected).expect("selected user's email in the pane");
    assert!(email_row > pane_row, "{narrow}");
    // The pane's first page reaches from the status to the role and seat.
    let (status_row, _) = find(&narrow, "Status: active").expect("status");
    let (role_row, _) = find(&narrow, "Role: ").expect("role");
    let (seat_row, _) = find(&narrow, "Billing seat: ").expect("seat");
    assert!(
        pane_row < status_row && status_row < role_row && role_row <= seat_row,
        "{narrow}"
    );

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
    // The new password is accepted; a Front Desk role gives no access to staffctl itself, so
    // the login screen says so instead of opening the interface.
    let Phase::Login { form, .. } = &ui.app.phase else {
        panic!("a front desk login stays on the login screen")
    };
    let said = form.error.clone().unwrap_or_default();
    assert!(said.contains("gives no access to staffctl"), "{said}");
    assert!(!said.contains("denied"), "the password worked: {said}");
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
    let waiting_before = match ui
        .svc()
        .call(&ui.session(), Request::DeviceList)
        .expect("devices")
    {
        Response::Devices(l) => l
            .items
            .iter()
            .filter(|d| d.device.status == staffctl::model::DeviceStatus::Pending)
            .count(),
        other => panic!("{other:?}"),
    };
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
    // Every tab's header says a device waits: in words where there is room, on the tab at 80.
    let wide = ui.render(120, 40);
    assert!(
        wide.lines()
            .next()
            .unwrap_or("")
            .contains(&format!("{} device", waiting_before + 1)),
        "{wide}"
    );
    let narrow = ui.render(80, 24);
    let head = narrow.lines().next().unwrap_or("");
    assert!(
        head.contains(&format!("5 Devices ({})", waiting_before + 1)),
        "{narrow}"
    );
    assert!(
        head.contains("admin"),
        "who is logged in still shows:\n{narrow}"
    );
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
    let after = ui.render(120, 40);
    // The badge counts what still waits: the demo's own pending device, if any.
    let badge = if waiting_before == 0 {
        String::new()
    } else {
        format!("{waiting_before} device")
    };
    let top = after.lines().next().unwrap_or("");
    assert!(
        if badge.is_empty() {
            !top.contains("waiting")
        } else {
            top.contains(&badge)
        },
        "the badge follows:\n{after}"
    );
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
