//! What the operator's role allows: a role without staffctl permissions is refused at the login
//! screen, and an office manager (admin.users only) is offered staff work and nothing else.

use super::*;

const PASSWORD: &str = "a long enough passphrase here";

/// Adds `first last` (username `login`) holding `role`, with a password: break-glass recovery
/// sets passwords of full administrators only, so they get the role once it is set.
fn staff_member(ui: &Ui, first: &str, last: &str, login: &str, role: &str) {
    let admin = ui
        .svc()
        .login(
            staffctl::demo::DEMO_ADMIN,
            staffctl::demo::DEMO_PASSWORD,
            &staffctl::service::Origin::default(),
        )
        .expect("admin login");
    let call = |r: Request| {
        let shown = format!("{r:?}");
        ui.svc()
            .call(&admin, r)
            .unwrap_or_else(|e| panic!("{shown}: {e}"))
    };
    call(Request::UserAdd(vec![
        (UserField::FirstName, first.into()),
        (UserField::LastName, last.into()),
        (UserField::Email, format!("{login}@riverside-pt.example")),
        (UserField::Username, login.into()),
        (UserField::Role, "Administrator".into()),
        (UserField::Facility, "Downtown".into()),
    ]));
    ui.svc()
        .recover(login, PASSWORD, &staffctl::service::Origin::default())
        .expect("set a password");
    call(Request::UserEdit(
        login.into(),
        vec![(UserField::Role, role.into())],
    ));
}

/// The demo practice with an "Office Manager" role (admin.users only), logged in as Olga who
/// holds it.
fn office_manager() -> Ui {
    let mut ui = demo_login();
    let admin = ui
        .svc()
        .login(
            staffctl::demo::DEMO_ADMIN,
            staffctl::demo::DEMO_PASSWORD,
            &staffctl::service::Origin::default(),
        )
        .expect("admin login");
    ui.svc()
        .call(
            &admin,
            Request::RoleAdd {
                name: "Office Manager".into(),
                description: "Runs the front office".into(),
                permissions: vec!["admin.users".into(), "calendar.view".into()],
            },
        )
        .expect("add the role");
    staff_member(&ui, "Olga", "Manager", "olga", "Office Manager");
    ui.app.login_now("olga", PASSWORD).expect("olga logs in");
    ui.settle();
    ui
}

#[test]
fn a_role_without_staffctl_permissions_is_refused_at_the_login_screen() {
    let mut ui = demo_login();
    staff_member(&ui, "Nia", "Nurse", "nia", "Provider");
    ui.typ("nia").tabs(1).typ(PASSWORD).key(KeyCode::Enter);
    ui.settle();
    assert!(
        matches!(ui.app.phase, Phase::Login { .. }),
        "the session is not entered"
    );
    assert!(ui.app.session.is_none());
    let Phase::Login { form, .. } = &ui.app.phase else {
        unreachable!()
    };
    let said = form.error.clone().unwrap_or_default();
    for part in [
        "nia's role (Provider) gives no access to staffctl",
        "ask an administrator",
    ] {
        assert!(said.contains(part), "{said}");
    }
    assert_eq!(form.value("password"), "", "the password is cleared");
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        // Said in full inside the login box.
        let words: Vec<&str> = text
            .lines()
            .flat_map(|l| l.split(['│', ' ']))
            .filter(|w| !w.is_empty())
            .collect();
        let shown = words.join(" ");
        assert!(
            shown.contains(&said.split_whitespace().collect::<Vec<_>>().join(" ")),
            "{w}x{h}:\n{text}"
        );
        assert!(!text.contains("No users yet"), "{w}x{h}:\n{text}");
    }
    // The same refusal for a programmatic login.
    let err = ui
        .app
        .login_now("nia", PASSWORD)
        .expect_err("no access to staffctl");
    assert!(
        err.to_string().contains("gives no access to staffctl"),
        "{err}"
    );
    assert!(ui.app.session.is_none());
    ui.snap("login_refused");
}

/// The hint line (last row) of a screen.
fn hints(screen: &str) -> String {
    screen.lines().last().unwrap_or("").to_string()
}

#[test]
fn an_office_manager_is_offered_staff_work_only() {
    let mut ui = office_manager();
    // Users: every staff action is offered.
    let users = ui.render(120, 40);
    for hint in ["a add", "e edit", "d deactivate"] {
        assert!(hints(&users).contains(hint), "{hint}:\n{users}");
    }
    // Roles: looking is fine, changing is not offered, and its keys say why.
    ui.typ("2");
    let roles = ui.render(120, 40);
    for hint in ["a add", "e permissions", "n rename", "x delete"] {
        assert!(!hints(&roles).contains(hint), "{hint} offered:\n{roles}");
    }
    assert!(hints(&roles).contains("Enter open"), "{roles}");
    assert!(!roles.contains("e edits"), "{roles}");
    ui.snap("office_manager_roles");
    for key in ["e", "a", "n", "x"] {
        ui.typ(key);
        assert!(ui.app.modals.is_empty(), "{key} opened {:?}", ui.app.modals);
        let text = ui.render(80, 24);
        assert!(
            text.contains(
                "your role (Office Manager) does not allow this: it needs admin.settings"
            ),
            "{key}:\n{text}"
        );
    }
    // Facilities and Settings need admin.settings too; the audit export needs audit.export.
    ui.typ("3").typ("e");
    assert!(ui.app.modals.is_empty());
    ui.typ("7").typ("e");
    assert!(ui.app.modals.is_empty());
    ui.key(KeyCode::Enter);
    assert!(ui.app.modals.is_empty());
    assert!(!ui.render(80, 24).contains("e edits"));
    ui.typ("6").typ("x");
    assert!(ui.app.modals.is_empty());
    assert!(
        ui.render(80, 24)
            .contains("your role (Office Manager) does not allow this: it needs audit.export")
    );
    // The palette does not offer them; help marks them.
    ui.typ(":role");
    let palette = ui.render(120, 40);
    assert!(!palette.contains("role.add"), "{palette}");
    ui.key(KeyCode::Esc).typ(":user.add");
    let palette = ui.render(120, 40);
    assert!(palette.contains("Add a user"), "{palette}");
    ui.key(KeyCode::Esc).typ("2").typ("?");
    let Some(Modal::Help { .. }) = ui.app.modals.last() else {
        panic!("help is open");
    };
    let help = ui.render(120, 40);
    assert!(
        help.lines()
            .any(|l| l.contains("role.edit") && l.contains("[your role lacks admin.settings]")),
        "{help}"
    );
    ui.key(KeyCode::Esc);
    // Staff work still happens: the add form opens on the Users tab.
    ui.typ("1").typ("a");
    assert!(matches!(ui.app.modals.last(), Some(Modal::Form { .. })));
}

#[test]
fn a_role_changed_meanwhile_changes_what_is_offered_and_losing_access_ends_the_session() {
    let mut ui = office_manager();
    let admin = ui
        .svc()
        .login(
            staffctl::demo::DEMO_ADMIN,
            staffctl::demo::DEMO_PASSWORD,
            &staffctl::service::Origin::default(),
        )
        .expect("admin login");
    let set_role = |ui: &Ui, role: &str| {
        ui.svc()
            .call(
                &admin,
                Request::UserEdit("olga".into(), vec![(UserField::Role, role.into())]),
            )
            .expect("change olga's role");
    };
    ui.typ("2");
    assert!(!hints(&ui.render(120, 40)).contains("e permissions"));
    set_role(&ui, "Administrator");
    // What another administrator saved reaches the interface with the next reload.
    ui.app.refresh_all();
    ui.settle();
    assert!(hints(&ui.render(120, 40)).contains("e permissions"));
    set_role(&ui, "Front Desk");
    ui.app.refresh_all();
    ui.settle();
    assert!(
        matches!(ui.app.phase, Phase::Login { .. }),
        "the session ended"
    );
    assert!(ui.app.session.is_none());
    let text = ui.render(120, 40);
    assert!(text.contains("gives no access to staffctl"), "{text}");
    assert!(
        !text.contains("Office Manager"),
        "nothing of the session shows:\n{text}"
    );
}
