//! Hostile text (terminal escape sequences, C1 controls, bidi overrides) put into the store by
//! every path that accepts it never reaches the screen.

use super::*;

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
    assert_eq!(
        ui.app.screens.users.selected().map(|u| u.id),
        Some(added.user.id)
    );
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
    let shown = ui
        .app
        .screens
        .users
        .selected()
        .expect("the legacy user is listed");
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
    let lines = staffctl::tui::screens::user_detail::window_lines(
        &detail,
        &staffctl::service::LocalTime::utc(),
    );
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
        .find(|l| l.trim_start().starts_with("First name "))
        .expect("first name line");
    assert!(
        name_line.ends_with(" AaronMallorygnp.exe"),
        "escape sequences removed whole, letters kept: {name_line:?}"
    );
    ui.key(KeyCode::Enter);
    let text = ui.render(120, 40);
    assert!(text.contains("AaronMallorygnp.exe Zed"), "{text}");
    ui.key(KeyCode::Esc);

    assert_every_view_clean(&mut ui, "legacy record");
}
