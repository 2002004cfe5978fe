//! Times on screen are the practice's, with its zone named once per screen; the interface's
//! own "now" (the export file name, the check for others' changes) comes from its clock.

use super::*;

const BERLIN: &str = "Europe/Berlin";

fn in_berlin(t: jiff::Timestamp, pattern: &str) -> String {
    let zone = jiff::tz::TimeZone::get(BERLIN).expect("the zone database knows Berlin");
    t.to_zoned_datetime(zone).strftime(pattern).to_string()
}

/// Tabs forward until `key` has the focus in the form on top.
fn focus(ui: &mut Ui, key: &str) {
    for _ in 0..60 {
        if ui.top_form().focused_key() == key {
            return;
        }
        ui.key(KeyCode::Tab);
    }
    panic!("no field {key} in the form");
}

/// Steps the focused choice right until it shows `label`.
fn pick(ui: &mut Ui, label: &str) {
    for _ in 0..20 {
        if ui.render(120, 40).contains(&format!("◀ {label} ▶")) {
            return;
        }
        ui.key(KeyCode::Right);
    }
    panic!("no option {label}");
}

#[test]
fn the_audit_log_shows_the_practice_s_time_and_names_its_zone() {
    let mut ui = demo_login_in(BERLIN);
    ui.app
        .login_now(staffctl::demo::DEMO_ADMIN, staffctl::demo::DEMO_PASSWORD)
        .expect("login");
    ui.settle();
    ui.typ("6");
    let admin = ui.session();
    let newest = match ui.svc().call(
        &admin,
        Request::AuditList(staffctl::service::AuditQuery {
            limit: Some(1),
            ..Default::default()
        }),
    ) {
        Ok(Response::Audit(l)) => l.items[0].at(),
        other => panic!("the audit log, got {other:?}"),
    };
    let wide = ui.render(120, 40);
    assert!(wide.contains("times in Europe/Berlin"), "{wide}");
    assert!(
        wide.contains(&in_berlin(newest, "%Y-%m-%d %H:%M:%S")),
        "{wide}"
    );
    assert!(
        !wide.contains(&newest.strftime("%Y-%m-%d %H:%M:%S").to_string()),
        "no UTC time:\n{wide}"
    );
    let narrow = ui.render(80, 24);
    assert!(
        narrow.contains(&in_berlin(newest, "%m-%d %H:%M")),
        "{narrow}"
    );
    assert!(narrow.contains("times in Europe/Berlin"), "{narrow}");
    // An event's window gives the local time with the zone, then the exact UTC instant.
    ui.key(KeyCode::Enter);
    let detail = ui.render(120, 40);
    assert!(
        detail.contains(&format!(
            "Time      {} Europe/Berlin",
            in_berlin(newest, "%Y-%m-%d %H:%M:%S")
        )),
        "{detail}"
    );
    assert!(detail.contains(&newest.to_string()), "{detail}");
}

#[test]
fn the_invitation_window_gives_its_expiry_in_the_practice_s_time() {
    let mut ui = demo_login_in(BERLIN);
    ui.app
        .login_now(staffctl::demo::DEMO_ADMIN, staffctl::demo::DEMO_PASSWORD)
        .expect("login");
    ui.settle();
    ui.typ("a").typ("Nora");
    focus(&mut ui, "last_name");
    ui.typ("Quist");
    focus(&mut ui, "email");
    ui.typ("nora.quist@riverside-pt.example");
    focus(&mut ui, "role");
    pick(&mut ui, "Front Desk");
    focus(&mut ui, "facility");
    pick(&mut ui, "Downtown");
    ui.key(KeyCode::Enter);
    let Some(Modal::Detail { title, .. }) = ui.app.modals.last() else {
        panic!("the invitation is shown: {:?}", ui.app.modals.last());
    };
    assert!(title.starts_with("Invitation for Nora Quist"), "{title}");
    let admin = ui.session();
    let expires = match ui.svc().call(&admin, Request::InviteList) {
        Ok(Response::Invites(l)) => {
            l.items
                .iter()
                .find(|i| i.email == "nora.quist@riverside-pt.example")
                .expect("her invitation")
                .expires_at
        }
        other => panic!("invitations, got {other:?}"),
    };
    let text = ui.render(120, 40);
    let local = in_berlin(expires, "%Y-%m-%d %H:%M %Z");
    assert!(local.ends_with("CET") || local.ends_with("CEST"), "{local}");
    assert!(
        text.contains(&format!("Valid until:      {local}")),
        "{text}"
    );
}

#[test]
fn the_export_file_is_named_after_the_interface_s_clock_in_the_practice_s_time() {
    let mut ui = demo_login_in(BERLIN);
    ui.app
        .login_now(staffctl::demo::DEMO_ADMIN, staffctl::demo::DEMO_PASSWORD)
        .expect("login");
    ui.settle();
    ui.typ("6").typ("x");
    // The clock stands at 15:00 UTC, 16:00 in Berlin in November.
    let path = ui.top_form().value("path");
    assert!(
        path.ends_with("/staffctl-audit-20261125-160000.csv"),
        "{path}"
    );
}

#[test]
fn others_changes_are_looked_for_when_the_interface_s_clock_says_a_second_passed() {
    let mut ui = demo();
    let clock = Arc::new(ManualClock::new());
    ui.app.set_clock(clock.clone());
    let admin = ui
        .svc()
        .login(
            staffctl::demo::DEMO_ADMIN,
            staffctl::demo::DEMO_PASSWORD,
            &staffctl::service::Origin::default(),
        )
        .expect("a second session");
    ui.svc()
        .call(
            &admin,
            Request::FacilityAdd(vec![(FacilityField::Name, "Seaside".into())]),
        )
        .expect("another administrator adds a facility");
    assert!(!ui.app.check_live(), "no second has passed on the clock");
    clock.advance(Duration::from_millis(999));
    assert!(!ui.app.check_live());
    clock.advance(Duration::from_millis(1));
    assert!(ui.app.check_live(), "a second later the change is seen");
    ui.settle();
    ui.typ("3");
    assert!(ui.render(80, 24).contains("Seaside"));
    // Nothing new: nothing reloads.
    clock.advance(Duration::from_secs(1));
    assert!(!ui.app.check_live());
}

#[test]
fn a_time_zone_chosen_in_the_settings_applies_at_once() {
    let mut ui = demo();
    ui.typ("7").typ("e");
    focus(&mut ui, "time_zone");
    assert_eq!(ui.top_form().value("time_zone"), "UTC");
    ui.ctrl('u').typ("America/Chicago").key(KeyCode::Enter);
    assert!(ui.app.modals.is_empty(), "saved: {:?}", ui.app.modals);
    ui.typ("6");
    assert!(ui.render(80, 24).contains("times in America/Chicago"));
    // A zone the server does not know is refused beside the field, with an example.
    ui.typ("7").typ("e");
    focus(&mut ui, "time_zone");
    ui.ctrl('u').typ("Mars/Olympus").key(KeyCode::Enter);
    let form = ui.top_form();
    let message = form
        .fields
        .iter()
        .find(|f| f.key == "time_zone")
        .and_then(|f| f.error.clone())
        .unwrap_or_default();
    assert!(message.contains("America/Chicago"), "{message}");
}
