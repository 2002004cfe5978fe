//! The lock (idle timeout and `app.lock`): nothing of the session stays on screen, and only
//! the same operator gets its windows back.

use super::*;

/// A name typed into the add-user form: it must vanish from the screen while locked.
const TYPED: &str = "Quentin Lockwood";

/// Opens one kind of window over the Users tab (or the Facilities tab) and returns what it
/// shows, which must not stay on a locked screen.
fn open_window(ui: &mut Ui, kind: &str) -> Vec<String> {
    let selected = ui
        .app
        .screens
        .users
        .selected()
        .expect("a user")
        .name
        .clone();
    match kind {
        "form" => {
            ui.typ("a").typ(TYPED);
            vec![TYPED.into(), "Add user".into()]
        }
        "detail" => {
            ui.key(KeyCode::Enter);
            vec!["IDENTITY".into(), "Permissions".into()]
        }
        "facility" => {
            ui.typ("3").key(KeyCode::Enter);
            vec!["Facility ".into(), "Downtown".into()]
        }
        "help" => {
            ui.typ("?");
            vec!["Keys of this screen".into()]
        }
        "palette" => {
            ui.typ(":deact");
            vec!["Command palette".into(), "user.deactivate".into()]
        }
        "confirm" => {
            ui.typ("x");
            vec![format!("Delete {selected}?")]
        }
        other => panic!("no window kind {other}"),
    }
}

#[test]
fn locking_hides_every_window_and_brings_it_back_after_login() {
    for kind in ["form", "detail", "facility", "help", "palette", "confirm"] {
        let mut ui = demo();
        // The session's data under the window: the selected user, the tabs.
        let under = [
            ui.app
                .screens
                .users
                .selected()
                .expect("a user")
                .name
                .clone(),
            "1 Users".to_string(),
        ];
        let window = open_window(&mut ui, kind);
        let before = ui.render(80, 24);
        assert!(
            window.iter().all(|s| before.contains(s.as_str())),
            "{kind}: shown before locking:\n{before}"
        );
        let secret: Vec<&String> = window.iter().chain(&under).collect();
        let top = format!("{:?}", ui.app.modals.last().map(std::mem::discriminant));
        ui.ctrl('l');
        for (w, h) in SIZES {
            let text = ui.render(w, h);
            for s in &secret {
                assert!(
                    !text.contains(s.as_str()),
                    "{kind}: {s:?} stays on the locked screen at {w}x{h}:\n{text}"
                );
            }
            assert!(
                text.contains("Password") && text.contains("locked"),
                "{kind}: the login box shows at {w}x{h}:\n{text}"
            );
        }
        if kind == "form" {
            ui.snap("locked");
        }
        // The login box takes keys: the same user logs in and finds the window as it was.
        ui.typ(staffctl::demo::DEMO_PASSWORD).key(KeyCode::Enter);
        ui.settle();
        assert!(matches!(ui.app.phase, Phase::Main), "{kind}: logged in");
        assert_eq!(
            format!("{:?}", ui.app.modals.last().map(std::mem::discriminant)),
            top,
            "{kind}: the same window is back on top"
        );
        let after = ui.render(80, 24);
        for s in &window {
            assert!(
                after.contains(s.as_str()),
                "{kind}: {s:?} is back:\n{after}"
            );
        }
        if kind == "form" {
            assert_eq!(ui.top_form().value("first_name"), TYPED, "typed text kept");
        }
    }
}

/// Adds a second administrator, activated with a password, and returns their username.
fn second_admin(ui: &Ui) -> &'static str {
    let s = ui.session();
    let added = match ui.svc().call(
        &s,
        Request::UserAdd(vec![
            (UserField::FirstName, "Olga".into()),
            (UserField::LastName, "Other".into()),
            (UserField::Email, "olga@riverside-pt.example".into()),
            (UserField::Username, "olga".into()),
            (UserField::Role, "Administrator".into()),
            (UserField::Facility, "Downtown".into()),
        ]),
    ) {
        Ok(Response::User(d)) => d,
        other => panic!("{other:?}"),
    };
    let code = added.invitation.expect("an invitation").code.0;
    ui.svc()
        .activate(
            "olga",
            &code,
            OLGA_PASSWORD,
            &staffctl::service::Origin::default(),
        )
        .expect("activate");
    "olga"
}

const OLGA_PASSWORD: &str = "another quite long passphrase";

#[test]
fn after_the_lock_another_user_does_not_get_the_open_form() {
    let mut ui = demo();
    let olga = second_admin(&ui);
    ui.app.refresh_all();
    ui.settle();
    ui.typ("3").typ("a").typ("Annex of Ira");
    ui.ctrl('l');
    // Someone else walks up: they clear the login name and log in as themselves.
    ui.key(KeyCode::BackTab).ctrl('u').typ(olga).tabs(1);
    ui.typ(OLGA_PASSWORD).key(KeyCode::Enter);
    ui.settle();
    assert!(matches!(ui.app.phase, Phase::Main));
    assert_eq!(ui.session().label(), olga);
    assert!(ui.app.modals.is_empty(), "{:?}", ui.app.modals);
    assert_eq!(ui.app.tab, Tab::Users, "they start on the first tab");
    let text = ui.render(80, 24);
    assert!(!text.contains("Annex of Ira"), "{text}");
    // Locking again and coming back as Ira finds nothing of the discarded form either.
    ui.ctrl('l');
    ui.key(KeyCode::BackTab)
        .ctrl('u')
        .typ(staffctl::demo::DEMO_ADMIN)
        .tabs(1)
        .typ(staffctl::demo::DEMO_PASSWORD)
        .key(KeyCode::Enter);
    ui.settle();
    assert!(ui.app.modals.is_empty(), "{:?}", ui.app.modals);
}

#[test]
fn the_idle_timer_locks_an_open_form_and_keys_reset_it() {
    let mut ui = demo();
    let clock = Arc::new(ManualClock::new());
    ui.app.set_clock(clock.clone());
    assert_eq!(
        ui.app.idle_timeout(),
        Duration::from_secs(15 * 60),
        "the practice's default"
    );
    ui.typ("a").typ(TYPED);
    clock.advance(Duration::from_secs(14 * 60));
    assert!(!ui.app.check_idle(), "not idle long enough");
    ui.key(KeyCode::Tab);
    clock.advance(Duration::from_secs(14 * 60));
    assert!(!ui.app.check_idle(), "a key starts the idle time again");
    clock.advance(Duration::from_secs(60));
    assert!(ui.app.check_idle(), "locked after 15 idle minutes");
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        assert!(!text.contains(TYPED), "{w}x{h}:\n{text}");
        assert!(!text.contains("Add user"), "{w}x{h}:\n{text}");
        assert!(text.contains("Locked after inactivity"), "{w}x{h}:\n{text}");
    }
    assert!(!ui.app.check_idle(), "a locked screen does not lock again");
    ui.typ(staffctl::demo::DEMO_PASSWORD).key(KeyCode::Enter);
    ui.settle();
    assert_eq!(ui.top_form().value("first_name"), TYPED);
    assert_eq!(ui.top_form().focused_key(), "last_name", "focus kept too");

    // A practice that locks after one minute: the next login reads it.
    let s = ui.session();
    ui.svc()
        .call(
            &s,
            Request::PracticeEdit(vec![(
                staffctl::service::PracticeField::IdleTimeoutMinutes,
                "1".into(),
            )]),
        )
        .expect("set the idle timeout");
    ui.ctrl('l')
        .typ(staffctl::demo::DEMO_PASSWORD)
        .key(KeyCode::Enter);
    ui.settle();
    assert_eq!(ui.app.idle_timeout(), Duration::from_secs(60));
    clock.advance(Duration::from_secs(59));
    assert!(!ui.app.check_idle());
    clock.advance(Duration::from_secs(1));
    assert!(ui.app.check_idle());
    assert!(!ui.render(80, 24).contains(TYPED));
}

#[test]
fn an_export_finishing_under_the_lock_waits_for_its_operator() {
    let mut ui = demo();
    let dest = ui.dir.path().join("locked-audit.csv");
    ui.typ("6").typ("x").tabs(3);
    ui.ctrl('u').typ(&dest.display().to_string());
    // Enter starts the export; its result is applied only when jobs are polled, which is after
    // the lock here.
    ui.app.on_key(press(KeyCode::Enter));
    assert!(ui.app.export_running());
    ui.ctrl('l');
    ui.app.wait_jobs(JOBS);
    assert!(!ui.app.export_running(), "the export finished");
    assert!(dest.exists());
    let text = ui.render(80, 24);
    assert!(
        !text.contains("Exported") && !text.contains("locked-audit"),
        "nothing about it on the locked screen:\n{text}"
    );
    assert!(text.contains("Locked. Log in again"), "{text}");
    ui.typ(staffctl::demo::DEMO_PASSWORD).key(KeyCode::Enter);
    ui.settle();
    let Some(Modal::Export(job)) = ui.app.modals.last() else {
        panic!("the export window is back: {:?}", ui.app.modals.last());
    };
    assert!(matches!(job.done, Some(Ok(n)) if n > 0), "{:?}", job.done);
    assert!(ui.render(80, 24).contains("Done:"));
}
