//! One model of authority: what a user may do in staffctl comes from their role's permissions
//! (`admin.users`, `admin.settings`, `audit.export`), and the rules the reference articles name
//! are enforced with field-level messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use staffctl::audit::Origin;
use staffctl::error::Error;
use staffctl::model::UserStatus;
use staffctl::service::{Request, Response, Session, UserField};

const MANAGER_PW: &str = "a manager's long passphrase";

/// An "Office Manager" role (staff, but not settings) and a user holding it, logged in.
fn office_manager(c: &Clinic) -> Session {
    c.ok(Request::RoleAdd {
        name: "Office Manager".into(),
        description: "Runs the front office".into(),
        permissions: vec!["admin.users".into(), "calendar.view".into()],
    });
    // Break-glass recovery sets passwords of full administrators only: give Olga the role
    // once her password is set.
    c.add(
        "Olga",
        "Manager",
        "olga@riverside.example",
        &[
            (UserField::Username, "olga"),
            (UserField::Role, "Administrator"),
        ],
    );
    c.svc
        .recover("olga", MANAGER_PW, &Origin::default())
        .expect("recover olga");
    c.ok(Request::UserEdit(
        "olga".into(),
        fields(&[(UserField::Role, "Office Manager")]),
    ));
    c.svc
        .login("olga", MANAGER_PW, &Origin::default())
        .expect("olga logs in")
}

#[test]
fn the_administrator_role_alone_lets_a_user_operate() {
    let c = clinic();
    let (_, bob) = c.bob();
    // Bob holds the Administrator role and no flag: he manages users and settings.
    assert!(
        c.svc
            .call(&bob, staff("Ann", "Lee", "ann@riverside.example", &[]))
            .is_ok()
    );
    let me = match c.svc.call(&bob, Request::WhoAmI).unwrap() {
        Response::Operator(o) => o,
        other => panic!("{other:?}"),
    };
    assert_eq!(me.role, "Administrator");
    assert!(me.may("admin.users") && me.may("admin.settings") && me.may("audit.export"));
    // The old flag is not a field any more.
    assert_eq!(UserField::parse("admin"), None);
}

#[test]
fn an_office_manager_manages_staff_but_not_settings_roles_or_administrators() {
    let c = clinic();
    let olga = office_manager(&c);
    let added = c
        .svc
        .call(&olga, staff("Ann", "Lee", "ann@riverside.example", &[]))
        .expect("an office manager adds staff");
    let Response::User(ann) = added else { panic!() };
    assert!(
        c.svc
            .call(
                &olga,
                Request::UserDeactivate {
                    user: "ann@riverside.example".into(),
                    reason: "left".into()
                }
            )
            .is_ok()
    );
    let err = c
        .svc
        .call(
            &olga,
            Request::PracticeEdit(vec![(
                staffctl::service::PracticeField::Name,
                "Mine".into(),
            )]),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    assert!(err.to_string().contains("admin.settings"), "{err}");
    let err = c
        .svc
        .call(
            &olga,
            Request::RoleEdit {
                role: "Office Manager".into(),
                rename: None,
                description: None,
                grant: vec!["admin.settings".into()],
                revoke: vec![],
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    // She cannot make anyone (herself included) an administrator.
    for who in ["olga", "bob"] {
        if who == "bob" {
            c.add(
                "Bob",
                "Ray",
                "bob@riverside.example",
                &[(UserField::Username, "bob")],
            );
        }
        let err = c
            .svc
            .call(
                &olga,
                Request::UserEdit(who.into(), fields(&[(UserField::Role, "Administrator")])),
            )
            .unwrap_err();
        assert_eq!(field_names(&err), ["role"], "{err:?}");
        assert!(message_of(&err, "role").contains("admin.settings"), "{err}");
    }
    let err = c
        .svc
        .call(
            &olga,
            staff(
                "Eve",
                "Up",
                "eve@riverside.example",
                &[(UserField::Role, "Administrator")],
            ),
        )
        .unwrap_err();
    assert_eq!(field_names(&err), ["role"]);
    // Nor export the audit log.
    let mut sink = Vec::new();
    let err = c
        .svc
        .audit_export(
            &olga,
            &Default::default(),
            staffctl::service::ExportFormat::Csv,
            &mut sink,
        )
        .unwrap_err();
    assert!(err.to_string().contains("audit.export"), "{err}");
    assert!(sink.is_empty());
    // The refusals are audited.
    assert!(c.events("user.update").iter().any(|e| matches!(
        e.outcome,
        staffctl::audit::Outcome::Denied(_) | staffctl::audit::Outcome::Rejected(_)
    )));
    drop(ann);
}

#[test]
fn a_clinical_role_cannot_operate_staffctl() {
    let c = clinic();
    let olga = office_manager(&c);
    c.ok(Request::UserEdit(
        "olga".into(),
        fields(&[(UserField::Role, "Provider")]),
    ));
    let err = c
        .svc
        .call(&olga, Request::UserList(Default::default()))
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    assert!(
        err.to_string().contains("gives no access to staffctl"),
        "{err}"
    );
}

#[test]
fn the_last_administrators_role_keeps_its_authority() {
    let c = clinic();
    let err = c
        .call(Request::RoleEdit {
            role: "Administrator".into(),
            rename: None,
            description: None,
            grant: vec![],
            revoke: vec!["admin.users".into()],
        })
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(
        err.to_string().contains("only active administrators"),
        "{err}"
    );
    // With an administrator in another administrative role, the change is allowed.
    c.ok(Request::RoleAdd {
        name: "IT".into(),
        description: String::new(),
        permissions: vec!["admin.users".into(), "admin.settings".into()],
    });
    c.add(
        "Ivo",
        "Tech",
        "ivo@riverside.example",
        &[(UserField::Role, "IT")],
    );
    c.svc
        .recover("ivo@riverside.example", BOB_PW, &Origin::default())
        .unwrap();
    c.ok(Request::RoleEdit {
        role: "Administrator".into(),
        rename: None,
        description: None,
        grant: vec![],
        revoke: vec!["audit.export".into()],
    });
}

// ---------------------------------------------------------------------------------------------
// Rules from the reference articles
// ---------------------------------------------------------------------------------------------

#[test]
fn a_second_user_with_the_same_npi_is_refused_naming_the_holder() {
    let c = clinic();
    let first = c.add(
        "Pat",
        "Doc",
        "pat@riverside.example",
        &[
            (UserField::Role, "Provider"),
            (UserField::Npi, "1234567893"),
        ],
    );
    let err = c
        .call(staff(
            "Sam",
            "Doc",
            "sam@riverside.example",
            &[
                (UserField::Role, "Provider"),
                (UserField::Npi, "1234567893"),
            ],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["npi"]);
    let m = message_of(&err, "npi");
    assert!(
        m.contains(&format!("#{}", first.user.id)) && m.contains("Pat Doc"),
        "{m}"
    );
    // Freed when Pat's NPI is cleared.
    c.ok(Request::UserEdit(
        first.user.id.to_string(),
        fields(&[(UserField::Npi, "")]),
    ));
    c.add(
        "Sam",
        "Doc",
        "sam@riverside.example",
        &[
            (UserField::Role, "Provider"),
            (UserField::Npi, "1234567893"),
        ],
    );
}

#[test]
fn an_aide_is_refused_messaging_an_npi_signing_and_chat() {
    let c = clinic();
    let err = c
        .call(staff(
            "Al",
            "Aide",
            "al@riverside.example",
            &[
                (UserField::Role, "Aide"),
                (UserField::Aide, "yes"),
                (UserField::SecureMessaging, "yes"),
                (UserField::Npi, "1234567893"),
                (UserField::CanSignForms, "yes"),
                (UserField::ChatUser, "yes"),
            ],
        ))
        .unwrap_err();
    let mut names = field_names(&err);
    names.sort_unstable();
    assert_eq!(
        names,
        ["can_sign_forms", "chat_user", "npi", "secure_messaging"],
        "{err:?}"
    );
}

#[test]
fn a_technician_seat_never_holds_the_rtm_timer() {
    let c = clinic();
    let err = c
        .call(staff(
            "Tia",
            "Tech",
            "tia@riverside.example",
            &[
                (UserField::Role, "Provider"),
                (UserField::Billing, "technician"),
            ],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["billing"]);
    assert!(message_of(&err, "billing").contains("rtm.timer"), "{err}");
    let tia = c.add(
        "Tia",
        "Tech",
        "tia@riverside.example",
        &[
            (UserField::Role, "Technician"),
            (UserField::Billing, "technician"),
        ],
    );
    assert!(!tia.permissions.iter().any(|p| p == "rtm.timer"));
    // Nor can the Technician role be given the timer while she holds it.
    let err = c
        .call(Request::RoleEdit {
            role: "Technician".into(),
            rename: None,
            description: None,
            grant: vec!["rtm.timer".into()],
            revoke: vec![],
        })
        .unwrap_err();
    assert!(err.to_string().contains("Tia Tech"), "{err}");
}

#[test]
fn signing_forms_needs_the_roles_forms_sign() {
    let c = clinic();
    let err = c
        .call(staff(
            "Fay",
            "Desk",
            "fay@riverside.example",
            &[(UserField::CanSignForms, "yes")],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["can_sign_forms"]);
    assert!(message_of(&err, "can_sign_forms").contains("forms.sign"));
    c.add(
        "Pat",
        "Doc",
        "pat@riverside.example",
        &[
            (UserField::Role, "Provider"),
            (UserField::CanSignForms, "yes"),
        ],
    );
    let err = c
        .call(Request::RoleEdit {
            role: "Provider".into(),
            rename: None,
            description: None,
            grant: vec![],
            revoke: vec!["forms.sign".into()],
        })
        .unwrap_err();
    assert!(err.to_string().contains("Pat Doc"), "{err}");
}

#[test]
fn a_default_location_the_user_cannot_access_is_refused() {
    let c = clinic();
    c.ok(Request::FacilityAdd(vec![(
        staffctl::service::FacilityField::Name,
        "Uptown".into(),
    )]));
    let err = c
        .call(staff(
            "Lu",
            "Desk",
            "lu@riverside.example",
            &[(UserField::DefaultLocation, "Uptown")],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["default_location"]);
    c.add(
        "Lu",
        "Desk",
        "lu@riverside.example",
        &[(UserField::DefaultLocation, "Downtown")],
    );
}

#[test]
fn billable_seats_are_counted_and_follow_every_change() {
    let c = clinic();
    let seats = |c: &Clinic| match c.ok(Request::PracticeShow) {
        Response::Practice(v) => v.seats,
        other => panic!("{other:?}"),
    };
    assert_eq!(seats(&c).billable(), 0);
    let pat = c.add(
        "Pat",
        "Doc",
        "pat@riverside.example",
        &[
            (UserField::Role, "Provider"),
            (UserField::Billing, "provider"),
        ],
    );
    c.add(
        "Ann",
        "Pta",
        "ann@riverside.example",
        &[
            (UserField::Role, "Provider Assistant"),
            (UserField::Billing, "assistant"),
        ],
    );
    c.add(
        "Tia",
        "Tech",
        "tia@riverside.example",
        &[
            (UserField::Role, "Technician"),
            (UserField::Billing, "technician"),
        ],
    );
    let s = seats(&c);
    assert_eq!(
        (s.provider, s.assistant, s.technician, s.billable()),
        (1, 1, 1, 2)
    );
    c.ok(Request::UserDeactivate {
        user: pat.user.id.to_string(),
        reason: "left".into(),
    });
    assert_eq!(seats(&c).billable(), 1);
    c.ok(Request::UserReactivate(pat.user.id.to_string()));
    c.ok(Request::UserEdit(
        "ann@riverside.example".into(),
        fields(&[(UserField::Billing, "none")]),
    ));
    let s = seats(&c);
    assert_eq!((s.provider, s.assistant, s.billable()), (1, 0, 1));
}

#[test]
fn a_contact_email_is_kept_apart_from_the_login_email() {
    let c = clinic();
    let ann = c.add(
        "Ann",
        "Lee",
        "ann@riverside.example",
        &[(UserField::ContactEmail, "ann.home@mail.example")],
    );
    assert_eq!(
        ann.user.contact_email.as_deref(),
        Some("ann.home@mail.example")
    );
    assert_eq!(ann.user.mail_address(), "ann.home@mail.example");
    // The contact email is not a login.
    assert!(
        c.svc
            .login(
                "ann.home@mail.example",
                "whatever it is",
                &Origin::default()
            )
            .is_err()
    );
    let err = c
        .call(Request::UserEdit(
            "ann@riverside.example".into(),
            fields(&[(UserField::ContactEmail, "not an email")]),
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["contact_email"]);
    assert_eq!(c.show("ann@riverside.example").status, UserStatus::Invited);
}
