//! Scenario tests of the service layer: one test per operation and per refusal, driven through
//! the same `Service::call` API every front end uses. Only the tamper and corruption tests touch
//! the store directly, and only to damage it on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use staffctl::audit::export::{CSV_HEADER, Format};
use staffctl::audit::{Actor, AuditEvent, Origin, Outcome};
use staffctl::error::Error;
use staffctl::model::{Credential, FacilityAccess, Id, LoginMethod, UserStatus};
use staffctl::service::{
    AccessView, AuditQuery, FacilityField, Request, Response, Service, UserDetail, UserField,
    UserFilter,
};
use staffctl::store::audit_log::{self, AuditChunk};
use staffctl::store::{OpenOptions, TreeId, codec, id_key};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Initialisation
// ---------------------------------------------------------------------------------------------

#[test]
fn init_creates_an_active_admin_and_a_verifiable_log() {
    let c = clinic();
    let admin = c.show("admin");
    assert_eq!(admin.status, UserStatus::Active);
    assert!(admin.permissions.iter().any(|p| p == "admin.users"));
    assert!(admin.user.activated_at.is_some());
    assert_eq!(admin.role, "Administrator");
    assert_eq!(admin.facility, "Downtown");
    assert!(has_action(&admin, "user.create"));

    let report = c.verify();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, report.head_seq);
    assert!(report.checked > 0);

    let again = c.svc.init(&init_request(), &Origin::default()).unwrap_err();
    assert!(matches!(again, Error::Conflict(_)), "{again:?}");
}

#[test]
fn init_refuses_a_short_password() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::open(dir.path(), &OpenOptions::default()).unwrap();
    let mut req = init_request();
    req.admin_password = "short pass 14c".into();
    let err = svc.init(&req, &Origin::default()).unwrap_err();
    assert_eq!(field_names(&err), ["password"]);
    assert!(!svc.is_initialised().unwrap());
}

// ---------------------------------------------------------------------------------------------
// Users: add and its refusals
// ---------------------------------------------------------------------------------------------

#[test]
fn add_user_is_invited_and_audited() {
    let c = clinic();
    let before = c.user_ids().len();
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    assert_eq!(ann.status, UserStatus::Invited);
    assert_eq!(ann.user.status, UserStatus::Invited);
    assert_eq!(ann.user.activated_at, None);
    assert_eq!(ann.user.login_method, LoginMethod::Email);
    assert_eq!(ann.role, "Front Desk");
    assert_eq!(ann.facility, "Downtown");
    assert!(has_action(&ann, "user.create"), "{:?}", ann.history);
    assert_eq!(c.user_ids().len(), before + 1);

    // Found again by id, login email (any case) and full name.
    assert_eq!(c.show(&ann.user.id.to_string()).user.id, ann.user.id);
    assert_eq!(c.show("ANN@Riverside.example").user.id, ann.user.id);
    assert_eq!(c.show("Ann Lee").user.id, ann.user.id);

    // The newest events: the user, then their invitation, in the same transaction.
    assert_eq!(c.newest_event().action, "invite.create");
    let ev = c.events("user.create").remove(0);
    assert_eq!(ev.outcome, Outcome::Success);
    assert_eq!(ev.target.as_ref().map(|t| t.id), Some(ann.user.id));
    assert_eq!(ev.actor.user_id(), Some(c.admin.user_id()));
}

#[test]
fn a_full_name_shared_by_two_users_is_refused_naming_both() {
    let c = clinic();
    let one = c.add("Bo", "Chan", "bo1@riverside.example", &[]);
    let two = c.add("Bo", "Chan", "bo2@riverside.example", &[]);
    let err = c
        .call(Request::UserShow("bo chan".into()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("matches several users"), "{err}");
    assert!(err.contains(&format!("#{} Bo Chan", one.user.id)), "{err}");
    assert!(err.contains(&format!("#{} Bo Chan", two.user.id)), "{err}");
    // Part of a name is not a name.
    assert!(matches!(
        c.call(Request::UserShow("Bo Cha".into())),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn duplicate_login_email_is_refused_naming_the_holder() {
    let c = clinic();
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let before = c.user_list();

    let err = c
        .call(staff("Annie", "Other", "Ann@Riverside.Example", &[]))
        .unwrap_err();
    assert_eq!(field_names(&err), ["email"]);
    let msg = message_of(&err, "email");
    assert!(
        msg.contains(&format!("already used by user #{}", ann.user.id)),
        "{msg}"
    );

    assert_eq!(c.user_list(), before, "the store must be unchanged");
    let refused = c.events("user.create");
    assert_rejected(
        &refused[0],
        "user.create",
        &format!("already used by user #{}", ann.user.id),
    );
    assert_eq!(
        refused
            .iter()
            .filter(|e| e.outcome == Outcome::Success)
            .count(),
        2,
        "admin and Ann only"
    );
    assert!(c.verify().ok);
}

#[test]
fn duplicate_username_is_refused() {
    let c = clinic();
    let ann = c.add(
        "Ann",
        "Lee",
        "ann@riverside.example",
        &[(UserField::Username, "ann")],
    );
    assert_eq!(ann.user.login_method, LoginMethod::Username);
    let before = c.user_list();

    let err = c
        .call(staff(
            "Ann",
            "Other",
            "ann.other@riverside.example",
            &[(UserField::Username, "ANN")],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["username"]);
    assert!(
        message_of(&err, "username").contains(&format!("already used by user #{}", ann.user.id))
    );
    assert_eq!(c.user_list(), before);
    assert_rejected(&c.newest_event(), "user.create", "already used");
}

#[test]
fn invalid_fields_are_all_reported_at_once() {
    let c = clinic();
    let before = c.user_list();
    let err = c
        .call(staff(
            "Ann",
            "Lee",
            "not-an-email",
            &[
                (UserField::Npi, "1234567890"),
                (UserField::Taxonomy, "bad"),
                (UserField::Role, "Provider"),
                (UserField::Billing, "provider"),
            ],
        ))
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let mut names = field_names(&err);
    names.sort_unstable();
    assert_eq!(names, ["email", "npi", "taxonomy"]);
    assert!(message_of(&err, "npi").contains("1234567890"));
    assert!(message_of(&err, "taxonomy").contains("'BAD'"));
    assert_eq!(c.user_list(), before);

    // The same person with valid values is accepted.
    let ok = c.add(
        "Ann",
        "Lee",
        "ann@riverside.example",
        &[
            (UserField::Npi, "1234567893"),
            (UserField::Taxonomy, "225100000x"),
            (UserField::Role, "Provider"),
            (UserField::Billing, "provider"),
        ],
    );
    assert_eq!(ok.user.provider.npi.as_deref(), Some("1234567893"));
    assert_eq!(ok.user.provider.taxonomy.as_deref(), Some("225100000X"));
}

#[test]
fn missing_role_and_facility_are_reported_with_other_errors() {
    let c = clinic();
    let err = c
        .call(Request::UserAdd(fields(&[
            (UserField::FirstName, "Ann"),
            (UserField::LastName, "Lee"),
            (UserField::Email, "bad"),
        ])))
        .unwrap_err();
    let mut names = field_names(&err);
    names.sort_unstable();
    assert_eq!(names, ["email", "facility", "role"]);
}

#[test]
fn practice_email_is_not_a_login_but_may_be_a_contact_email() {
    let c = clinic();
    let err = c
        .call(staff("Fran", "Desk", "Office@Riverside.example", &[]))
        .unwrap_err();
    assert_eq!(field_names(&err), ["email"]);
    assert!(message_of(&err, "email").contains("practice"));

    let fran = c.add(
        "Fran",
        "Desk",
        PRACTICE_EMAIL,
        &[(UserField::Username, "fran")],
    );
    assert_eq!(fran.user.login_method, LoginMethod::Username);
    assert_eq!(fran.user.email, PRACTICE_EMAIL);

    // Switching Fran to email login is refused for the same reason.
    let err = c
        .call(Request::UserEdit(
            "fran".into(),
            fields(&[(UserField::LoginMethod, "email")]),
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["email"]);
    assert_eq!(c.show("fran").user.login_method, LoginMethod::Username);
}

#[test]
fn second_default_doctor_is_refused() {
    let c = clinic();
    let doc = c.add(
        "Dora",
        "Doc",
        "dora@riverside.example",
        &[
            (UserField::Role, "Provider"),
            (UserField::DefaultDoctor, "yes"),
        ],
    );
    assert!(doc.user.provider.default_doctor);
    let before = c.user_list();

    let err = c
        .call(staff(
            "Dan",
            "Doc",
            "dan@riverside.example",
            &[
                (UserField::Role, "Provider"),
                (UserField::DefaultDoctor, "yes"),
            ],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["default_doctor"]);
    assert!(
        message_of(&err, "default_doctor").contains(&format!("#{}", doc.user.id)),
        "{err}"
    );
    assert_eq!(c.user_list(), before);

    // Once Dora gives it up, Dan may take it.
    c.ok(Request::UserEdit(
        "Dora Doc".into(),
        fields(&[(UserField::DefaultDoctor, "no")]),
    ));
    let dan = c.add(
        "Dan",
        "Doc",
        "dan@riverside.example",
        &[
            (UserField::Role, "Provider"),
            (UserField::DefaultDoctor, "yes"),
        ],
    );
    assert!(dan.user.provider.default_doctor);
}

#[test]
fn aide_cannot_take_a_role_that_grants_patient_assignment() {
    let c = clinic();
    let before = c.user_list();
    let err = c
        .call(staff(
            "Al",
            "Aide",
            "al@riverside.example",
            &[(UserField::Aide, "yes"), (UserField::Role, "Provider")],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["aide"]);
    assert!(message_of(&err, "aide").contains("patients.assignable"));
    assert_eq!(c.user_list(), before);

    let al = c.add(
        "Al",
        "Aide",
        "al@riverside.example",
        &[(UserField::Aide, "yes"), (UserField::Role, "Aide")],
    );
    assert!(al.user.aide);
    assert!(!al.permissions.iter().any(|p| p == "patients.assignable"));
}

#[test]
fn granting_patient_messaging_to_a_role_held_by_an_aide_is_refused() {
    let c = clinic();
    let al = c.add(
        "Al",
        "Aide",
        "al@riverside.example",
        &[(UserField::Aide, "yes"), (UserField::Role, "Aide")],
    );
    let err = c
        .call(Request::RoleEdit {
            role: "Aide".into(),
            rename: None,
            description: None,
            grant: vec!["messaging.patients".into()],
            revoke: vec![],
        })
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&format!("#{} Al Aide", al.user.id)), "{msg}");
    assert!(msg.contains("messaging.patients"), "{msg}");

    let aide = role(c.ok(Request::RoleShow("Aide".into())));
    assert!(!aide.role.permissions.contains("messaging.patients"));
    assert_rejected(&c.newest_event(), "role.update", "Al Aide");

    // A harmless grant to the same role goes through.
    let aide = role(c.ok(Request::RoleEdit {
        role: "Aide".into(),
        rename: None,
        description: None,
        grant: vec!["calendar.create".into()],
        revoke: vec![],
    }));
    assert!(aide.role.permissions.contains("calendar.create"));
}

#[test]
fn unknown_references_are_not_found() {
    let c = clinic();
    for req in [
        Request::UserShow("nobody".into()),
        Request::UserShow("#999".into()),
        Request::UserShow("ghost@riverside.example".into()),
        Request::RoleShow("Wizard".into()),
        Request::FacilityShow("Uptown".into()),
        Request::AccessShow("nobody".into()),
    ] {
        let shown = format!("{req:?}");
        let err = c.call(req).unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{shown}: {err:?}");
    }
    // Mutations aimed at nothing are refused the same way, and audited.
    let err = c
        .call(Request::UserDeactivate {
            user: "nobody".into(),
            reason: "left".into(),
        })
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_rejected(&c.newest_event(), "user.deactivate", "nobody");
    let err = c.call(Request::RoleDelete("Wizard".into())).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let err = c
        .call(Request::FacilityArchive("Uptown".into()))
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Facilities
// ---------------------------------------------------------------------------------------------

#[test]
fn facility_add_edit_and_duplicate_name() {
    let c = clinic();
    let up = facility(c.ok(Request::FacilityAdd(vec![
        (FacilityField::Name, "Uptown".into()),
        (FacilityField::Code, "UP".into()),
        (FacilityField::Phone, "+1 555 010 2000".into()),
    ])));
    assert_eq!(up.facility.name, "Uptown");
    assert!(!up.facility.archived);
    assert_eq!(c.newest_event().action, "facility.create");

    let err = c
        .call(Request::FacilityAdd(vec![(
            FacilityField::Name,
            "  uptown ".into(),
        )]))
        .unwrap_err();
    assert_eq!(field_names(&err), ["name"]);
    assert!(message_of(&err, "name").contains(&format!("#{}", up.facility.id)));

    let edited = facility(c.ok(Request::FacilityEdit(
        "UP".into(),
        vec![(FacilityField::Name, "Uptown Clinic".into())],
    )));
    assert_eq!(edited.facility.id, up.facility.id);
    assert_eq!(edited.facility.name, "Uptown Clinic");
    assert_eq!(
        facility(c.ok(Request::FacilityShow("uptown clinic".into())))
            .facility
            .id,
        up.facility.id
    );
    let err = c.call(Request::FacilityShow("Uptown".into())).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "old name must be freed");

    let err = c
        .call(Request::FacilityEdit(
            "Uptown Clinic".into(),
            vec![(FacilityField::Name, "DOWNTOWN".into())],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["name"]);

    let err = c
        .call(Request::FacilityEdit(
            "Uptown Clinic".into(),
            vec![(FacilityField::Phone, "call me".into())],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["phone"]);
}

#[test]
fn facility_archive_is_refused_while_it_is_someones_primary_facility() {
    let c = clinic();
    facility(c.ok(Request::FacilityAdd(vec![(
        FacilityField::Name,
        "Uptown".into(),
    )])));
    let ann = c.add(
        "Ann",
        "Lee",
        "ann@riverside.example",
        &[(UserField::Facility, "Uptown")],
    );
    let err = c
        .call(Request::FacilityArchive("Uptown".into()))
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&format!("#{} Ann Lee", ann.user.id)), "{msg}");
    assert!(
        !facility(c.ok(Request::FacilityShow("Uptown".into())))
            .facility
            .archived
    );

    // Move Ann, then archiving works; archived facilities take no new staff.
    c.ok(Request::UserEdit(
        "ann@riverside.example".into(),
        fields(&[(UserField::Facility, "Downtown")]),
    ));
    let archived = facility(c.ok(Request::FacilityArchive("Uptown".into())));
    assert!(archived.facility.archived);
    let err = c
        .call(staff(
            "Bo",
            "Chan",
            "bo@riverside.example",
            &[(UserField::Facility, "Uptown")],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["facility"]);

    let restored = facility(c.ok(Request::FacilityRestore("Uptown".into())));
    assert!(!restored.facility.archived);
}

#[test]
fn archiving_the_only_active_facility_is_refused() {
    let c = clinic();
    let err = c
        .call(Request::FacilityArchive("Downtown".into()))
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("Downtown"));
    match c.ok(Request::FacilityList {
        include_archived: false,
    }) {
        Response::Facilities(l) => assert_eq!(l.items.len(), 1),
        other => panic!("{other:?}"),
    }
    assert_rejected(&c.newest_event(), "facility.archive", "Downtown");
}

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

#[test]
fn role_add_grant_revoke_and_rename() {
    let c = clinic();
    let r = role(c.ok(Request::RoleAdd {
        name: "Scheduler".into(),
        description: "Books appointments".into(),
        permissions: vec!["calendar.view".into(), "calendar.create".into()],
    }));
    assert!(!r.role.builtin);
    assert_eq!(r.role.permissions.len(), 2);
    assert!(r.users.is_empty());

    let err = c
        .call(Request::RoleAdd {
            name: "scheduler".into(),
            description: String::new(),
            permissions: vec![],
        })
        .unwrap_err();
    assert_eq!(field_names(&err), ["name"]);

    let ann = c.add(
        "Ann",
        "Lee",
        "ann@riverside.example",
        &[(UserField::Role, "Scheduler")],
    );
    let r = role(c.ok(Request::RoleEdit {
        role: "Scheduler".into(),
        rename: Some("Front Scheduler".into()),
        description: None,
        grant: vec!["calendar.delete".into()],
        revoke: vec!["calendar.create".into()],
    }));
    assert_eq!(r.role.name, "Front Scheduler");
    let keys: Vec<&str> = r.role.permissions.iter().map(String::as_str).collect();
    assert_eq!(keys, ["calendar.delete", "calendar.view"]);
    assert_eq!(
        r.users,
        vec![staffctl::service::Person {
            id: ann.user.id,
            name: "Ann Lee".to_string()
        }]
    );

    // The change reaches the user at once.
    let ann = c.show("ann@riverside.example");
    assert_eq!(ann.role, "Front Scheduler");
    assert!(ann.permissions.contains(&"calendar.delete".to_string()));
    assert!(!ann.permissions.contains(&"calendar.create".to_string()));

    let ev = c.newest_event();
    assert_eq!(ev.action, "role.update");
    let changed: Vec<&str> = ev.changes.iter().map(|ch| ch.field.as_str()).collect();
    assert!(
        changed.contains(&"permission calendar.delete"),
        "{changed:?}"
    );
    assert!(
        changed.contains(&"permission calendar.create"),
        "{changed:?}"
    );
    assert!(changed.contains(&"users_affected"), "{changed:?}");

    let err = c.call(Request::RoleShow("Scheduler".into())).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "old name must be freed");
}

#[test]
fn unknown_permission_keys_are_refused() {
    let c = clinic();
    let err = c
        .call(Request::RoleAdd {
            name: "Odd".into(),
            description: String::new(),
            permissions: vec!["calendar.view".into(), "calendar.teleport".into()],
        })
        .unwrap_err();
    assert_eq!(field_names(&err), ["permissions"]);
    assert!(err.to_string().contains("calendar.teleport"));
    assert!(matches!(
        c.call(Request::RoleShow("Odd".into())),
        Err(Error::NotFound(_))
    ));

    let before = role(c.ok(Request::RoleShow("Front Desk".into())));
    let err = c
        .call(Request::RoleEdit {
            role: "Front Desk".into(),
            rename: None,
            description: None,
            grant: vec!["billing.print_money".into()],
            revoke: vec![],
        })
        .unwrap_err();
    assert_eq!(field_names(&err), ["permissions"]);
    assert_eq!(role(c.ok(Request::RoleShow("Front Desk".into()))), before);
}

#[test]
fn role_delete_is_refused_while_assigned_or_built_in() {
    let c = clinic();
    role(c.ok(Request::RoleAdd {
        name: "Temp".into(),
        description: String::new(),
        permissions: vec!["calendar.view".into()],
    }));
    let ann = c.add(
        "Ann",
        "Lee",
        "ann@riverside.example",
        &[(UserField::Role, "Temp")],
    );
    let err = c.call(Request::RoleDelete("Temp".into())).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("#{} Ann Lee", ann.user.id)),
        "{err}"
    );
    role(c.ok(Request::RoleShow("Temp".into())));

    let err = c
        .call(Request::RoleDelete("Front Desk".into()))
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("built in"), "{err}");

    c.ok(Request::UserEdit(
        "Ann Lee".into(),
        fields(&[(UserField::Role, "Front Desk")]),
    ));
    match c.ok(Request::RoleDelete("temp".into())) {
        Response::Deleted(_, name) => assert_eq!(name, "Temp"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.call(Request::RoleShow("Temp".into())),
        Err(Error::NotFound(_))
    ));
    assert_eq!(c.newest_event().action, "role.delete");
}

// ---------------------------------------------------------------------------------------------
// Users: edit, deactivate, reactivate, delete
// ---------------------------------------------------------------------------------------------

#[test]
fn user_edit_changes_fields_and_records_history() {
    let c = clinic();
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let edited = user(c.ok(Request::UserEdit(
        ann.user.id.to_string(),
        fields(&[
            (UserField::LastName, "Lee-Park"),
            (UserField::Email, "ann.park@riverside.example"),
            (UserField::PartTime, "yes"),
            (UserField::Note, "covers Fridays"),
        ]),
    )));
    assert_eq!(edited.user.last_name, "Lee-Park");
    assert_eq!(edited.user.email, "ann.park@riverside.example");
    assert!(edited.user.part_time);
    assert_eq!(edited.user.revision, ann.user.revision + 1);
    let update = edited
        .history
        .iter()
        .find(|h| h.action == "user.update")
        .expect("history has the update");
    assert!(
        update
            .changes
            .iter()
            .any(|ch| ch.contains("last_name") && ch.contains("Lee-Park")),
        "{:?}",
        update.changes
    );

    // The old login email is free again; the new one is taken.
    assert!(matches!(
        c.call(Request::UserShow("ann@riverside.example".into())),
        Err(Error::NotFound(_))
    ));
    assert_eq!(c.show("ann.park@riverside.example").user.id, ann.user.id);
    c.add("Other", "Ann", "ann@riverside.example", &[]);

    // A bad value changes nothing.
    let err = c
        .call(Request::UserEdit(
            ann.user.id.to_string(),
            fields(&[(UserField::SchedulingStep, "7"), (UserField::Capacity, "0")]),
        ))
        .unwrap_err();
    let mut names = field_names(&err);
    names.sort_unstable();
    assert_eq!(names, ["capacity", "scheduling_step"]);
    assert_eq!(c.show(&ann.user.id.to_string()).user, edited.user);
}

#[test]
fn deactivation_needs_a_reason_keeps_the_user_and_refuses_login() {
    let c = clinic();
    let (bob_id, bob_session) = c.bob();

    let err = c
        .call(Request::UserDeactivate {
            user: "bob".into(),
            reason: "   ".into(),
        })
        .unwrap_err();
    assert_eq!(field_names(&err), ["reason"]);
    assert_eq!(c.show("bob").status, UserStatus::Active);

    let bob = user(c.ok(Request::UserDeactivate {
        user: "bob".into(),
        reason: "left the practice 2026-11-30".into(),
    }));
    assert_eq!(bob.status, UserStatus::Deactivated);
    assert_eq!(
        bob.user.deactivation_reason.as_deref(),
        Some("left the practice 2026-11-30")
    );
    assert!(bob.user.deactivated_at.is_some());
    assert!(has_action(&bob, "user.create"));
    assert!(has_action(&bob, "auth.recover"));
    assert!(has_action(&bob, "user.deactivate"));
    assert!(c.user_ids().contains(&bob_id));

    let err = c.svc.login("bob", BOB_PW, &Origin::default()).unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    let failed = &c.events("auth.login_failed")[0];
    assert_eq!(
        failed.outcome,
        Outcome::Denied("account is deactivated".into())
    );
    assert_eq!(failed.actor.user_id(), Some(bob_id));

    // A session obtained before deactivation no longer works.
    let err = c
        .svc
        .call(&bob_session, Request::UserList(UserFilter::default()))
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");

    let err = c
        .call(Request::UserDeactivate {
            user: "bob".into(),
            reason: "again".into(),
        })
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
}

#[test]
fn the_last_administrator_cannot_deactivate_or_demote_themselves() {
    let c = clinic();
    let err = c
        .call(Request::UserDeactivate {
            user: "admin".into(),
            reason: "testing".into(),
        })
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("your own account"), "{err}");

    let err = c
        .call(Request::UserEdit(
            "admin".into(),
            fields(&[(UserField::Role, "Front Desk")]),
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["role"]);
    assert!(message_of(&err, "role").contains("last active administrator"));
    let admin = c.show("admin");
    assert_eq!(admin.role, "Administrator");
    assert_eq!(admin.status, UserStatus::Active);

    // Bob cannot deactivate himself either, but with two administrators he can deactivate Ada,
    // and then Ada is no longer able to operate.
    let (_, bob) = c.bob();
    let err = c
        .svc
        .call(
            &bob,
            Request::UserDeactivate {
                user: "bob".into(),
                reason: "x".into(),
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let ada = user(
        c.svc
            .call(
                &bob,
                Request::UserDeactivate {
                    user: "admin".into(),
                    reason: "handed over".into(),
                },
            )
            .unwrap(),
    );
    assert_eq!(ada.status, UserStatus::Deactivated);
    let err = c
        .call(Request::UserList(UserFilter::default()))
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    // Bob is now the last administrator and cannot demote himself.
    let err = c
        .svc
        .call(
            &bob,
            Request::UserEdit("bob".into(), fields(&[(UserField::Role, "Provider")])),
        )
        .unwrap_err();
    assert_eq!(field_names(&err), ["role"]);
}

#[test]
fn reactivation_restores_the_previous_status() {
    let c = clinic();
    let (bob_id, _) = c.bob();
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);

    let err = c.call(Request::UserReactivate("bob".into())).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");

    for who in ["bob", "Ann Lee"] {
        c.ok(Request::UserDeactivate {
            user: who.into(),
            reason: "on leave".into(),
        });
    }
    let bob = user(c.ok(Request::UserReactivate("bob".into())));
    assert_eq!(bob.status, UserStatus::Active);
    assert_eq!(bob.user.deactivation_reason, None);
    assert!(has_action(&bob, "user.reactivate"));
    let ann = user(c.ok(Request::UserReactivate(ann.user.id.to_string())));
    assert_eq!(ann.status, UserStatus::Invited);

    let session = c.svc.login("bob", BOB_PW, &Origin::default()).unwrap();
    assert_eq!(session.user_id(), bob_id);
}

#[test]
fn only_never_activated_users_can_be_deleted() {
    let c = clinic();
    let err = c.call(Request::UserDelete("admin".into())).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("deactivate"), "{err}");
    let (bob_id, _) = c.bob();
    let err = c.call(Request::UserDelete("bob".into())).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(c.user_ids().contains(&bob_id));

    let ann = c.add(
        "Ann",
        "Lee",
        "ann@riverside.example",
        &[
            (UserField::Username, "ann"),
            (UserField::LoginMethod, "email"),
        ],
    );
    match c.ok(Request::UserDelete("ann".into())) {
        Response::Deleted(id, name) => {
            assert_eq!(id, ann.user.id);
            assert_eq!(name, "Ann Lee");
        }
        other => panic!("{other:?}"),
    }
    assert!(!c.user_ids().contains(&ann.user.id));
    assert!(matches!(
        c.call(Request::UserShow("ann".into())),
        Err(Error::NotFound(_))
    ));
    // The audit trail keeps the record, and the login names are free again.
    let deleted = &c.events("user.delete")[0];
    assert_eq!(deleted.target.as_ref().map(|t| t.id), Some(ann.user.id));
    let again = c.add(
        "Ann",
        "Lee",
        "ann@riverside.example",
        &[
            (UserField::Username, "ann"),
            (UserField::LoginMethod, "email"),
        ],
    );
    assert_ne!(again.user.id, ann.user.id, "ids are never reused");

    // Deactivation never deletes: a deactivated user (even one who never activated) stays.
    c.ok(Request::UserDeactivate {
        user: "ann".into(),
        reason: "never started".into(),
    });
    let err = c.call(Request::UserDelete("ann".into())).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let kept = c.show("ann");
    assert_eq!(kept.status, UserStatus::Deactivated);
    assert!(has_action(&kept, "user.deactivate"));
}

// ---------------------------------------------------------------------------------------------
// Facility access
// ---------------------------------------------------------------------------------------------

#[test]
fn access_grant_revoke_all_and_only() {
    let c = clinic();
    for name in ["Uptown", "Lakeside"] {
        facility(c.ok(Request::FacilityAdd(vec![(
            FacilityField::Name,
            name.into(),
        )])));
    }
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let can = |a: &AccessView, name: &str| {
        a.facilities
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.can_access)
            .unwrap_or_else(|| panic!("{name} not listed in {a:?}"))
    };
    let a = access(c.ok(Request::AccessShow("Ann Lee".into())));
    assert_eq!(a.user_id, ann.user.id);
    assert!(!a.all);
    assert!(can(&a, "Downtown") && !can(&a, "Uptown") && !can(&a, "Lakeside"));

    let a = access(c.ok(Request::AccessGrant {
        user: "Ann Lee".into(),
        facilities: vec!["Uptown".into()],
    }));
    assert!(can(&a, "Downtown") && can(&a, "Uptown") && !can(&a, "Lakeside"));
    assert_eq!(c.newest_event().action, "access.grant");

    let err = c
        .call(Request::AccessRevoke {
            user: "Ann Lee".into(),
            facilities: vec!["Downtown".into()],
        })
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("primary facility"), "{err}");
    assert_rejected(&c.newest_event(), "access.revoke", "primary facility");
    assert!(can(
        &access(c.ok(Request::AccessShow("Ann Lee".into()))),
        "Uptown"
    ));

    let a = access(c.ok(Request::AccessRevoke {
        user: "Ann Lee".into(),
        facilities: vec!["Uptown".into()],
    }));
    assert!(!can(&a, "Uptown"));

    let a = access(c.ok(Request::AccessAll("Ann Lee".into())));
    assert!(a.all);
    assert!(a.facilities.iter().all(|f| f.can_access));
    assert_eq!(c.show("Ann Lee").access, ["all"]);

    // Revoking from "all" leaves every other facility.
    let a = access(c.ok(Request::AccessRevoke {
        user: "Ann Lee".into(),
        facilities: vec!["Lakeside".into()],
    }));
    assert!(!a.all);
    assert!(can(&a, "Downtown") && can(&a, "Uptown") && !can(&a, "Lakeside"));

    let a = access(c.ok(Request::AccessOnly {
        user: "Ann Lee".into(),
        facilities: vec!["Lakeside".into()],
    }));
    assert!(can(&a, "Downtown") && !can(&a, "Uptown") && can(&a, "Lakeside"));
    let shown = c.show("Ann Lee");
    let mut names = shown.access.clone();
    names.sort();
    assert_eq!(names, ["Downtown", "Lakeside"]);
    assert!(
        matches!(&shown.user.access, FacilityAccess::Only(set) if !set.contains(&shown.user.primary_facility)),
        "the primary facility is implied, not stored: {:?}",
        shown.user.access
    );
    assert!(has_action(&shown, "access.set"));
    assert!(has_action(&shown, "access.all"));
    assert!(has_action(&shown, "access.revoke"));

    let err = c
        .call(Request::AccessGrant {
            user: "Ann Lee".into(),
            facilities: vec!["Nowhere".into()],
        })
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Authentication and authorisation
// ---------------------------------------------------------------------------------------------

#[test]
fn a_non_admin_operator_is_denied_and_the_refusal_is_audited() {
    let c = clinic();
    let (bob_id, bob) = c.bob();
    c.ok(Request::UserEdit(
        "bob".into(),
        fields(&[(UserField::Role, "Front Desk")]),
    ));
    assert_eq!(c.show("bob").role, "Front Desk");
    let before = c.user_list();

    let err = c
        .svc
        .call(&bob, staff("Eve", "Sneak", "eve@riverside.example", &[]))
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    assert!(
        err.to_string().contains("gives no access to staffctl"),
        "{err}"
    );
    assert_eq!(c.user_list(), before);

    let ev = c.newest_event();
    assert_eq!(ev.action, "user.create");
    assert!(matches!(ev.outcome, Outcome::Denied(_)), "{:?}", ev.outcome);
    assert_eq!(ev.actor.user_id(), Some(bob_id));

    // Reads are refused too, and so is exporting the log (which is audited).
    let err = c
        .svc
        .call(&bob, Request::UserList(UserFilter::default()))
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    let mut out = Vec::new();
    let err = c
        .svc
        .audit_export(&bob, &AuditQuery::default(), Format::Csv, &mut out)
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    assert!(
        out.is_empty(),
        "nothing may be written for a refused export"
    );
    let ev = c.newest_event();
    assert_eq!(ev.action, "audit.export");
    assert!(matches!(ev.outcome, Outcome::Denied(_)), "{:?}", ev.outcome);
    assert!(c.verify().ok);
}

#[test]
fn wrong_password_is_denied_and_audited() {
    let c = clinic();
    let err = c
        .svc
        .login("admin", "not the right password at all", &Origin::default())
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    let failed = c.events("auth.login_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].outcome, Outcome::Denied("wrong password".into()));
    assert_eq!(failed[0].actor.user_id(), Some(c.admin.user_id()));

    let err = c
        .svc
        .login("mallory", ADMIN_PW, &Origin::default())
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    let failed = c.events("auth.login_failed");
    assert_eq!(failed.len(), 2);
    assert_eq!(
        failed[0].actor,
        Actor::Anonymous {
            label: "mallory".into()
        }
    );

    let s = c.svc.login("ADMIN", ADMIN_PW, &Origin::default()).unwrap();
    assert_eq!(s.user_id(), c.admin.user_id());
    assert_eq!(c.events("auth.login").len(), 3, "login + 2 failures");
    assert_eq!(
        c.events("auth.login")
            .iter()
            .filter(|e| e.action == "auth.login")
            .count(),
        1
    );
    assert!(c.show("admin").login.last_login_at.is_some());
}

// ---------------------------------------------------------------------------------------------
// Audit log integrity
// ---------------------------------------------------------------------------------------------

#[test]
fn a_tampered_event_breaks_the_chain_at_its_sequence_number() {
    let c = clinic();
    c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let target = c.newest_event();
    c.add("Bo", "Chan", "bo@riverside.example", &[]);
    assert!(c.verify().ok);
    let store = c.svc.store();
    let key = audit_log::chunk_key(target.seq);
    let raw = store
        .get_raw(TreeId::Audit, &key)
        .unwrap()
        .expect("chunk exists");
    let chunk: AuditChunk = codec::decode(&raw).unwrap();
    let at = chunk
        .0
        .iter()
        .position(|e| e.seq == target.seq)
        .expect("the chunk holds the event");
    assert_eq!(chunk.0[at], target);
    let rewrite = |event: AuditEvent| {
        let mut forged = chunk.clone();
        forged.0[at] = event;
        store
            .put_raw_unchecked(TreeId::Audit, &key, &codec::encode(&forged).unwrap())
            .unwrap();
    };

    // Rewrite who did it, leaving the hash alone.
    let mut forged = target.clone();
    forged.actor = Actor::System;
    rewrite(forged.clone());
    let report = c.verify();
    assert!(!report.ok);
    let (seq, why) = report.broken.clone().expect("broken");
    assert_eq!(seq, target.seq, "{why}");
    assert!(why.contains("altered"), "{why}");
    assert_eq!(report.checked, target.seq - 1);

    // Re-sealing the forgery moves the break to the next event, which no longer links.
    rewrite(AuditEvent {
        hash: forged.compute_hash(),
        ..forged
    });
    let report = c.verify();
    assert!(!report.ok);
    let (seq, why) = report.broken.expect("broken");
    assert_eq!(seq, target.seq + 1, "{why}");
    assert!(why.contains("does not link"), "{why}");

    // Restoring the original bytes heals it.
    store.put_raw_unchecked(TreeId::Audit, &key, &raw).unwrap();
    assert!(c.verify().ok);

    // A whole chunk removed is a gap; bytes that no longer decode are named.
    store
        .put_raw_unchecked(TreeId::Audit, &key, b"\0\x01junk")
        .unwrap();
    let report = c.verify();
    let (seq, why) = report.broken.expect("broken");
    assert_eq!(
        seq,
        audit_log::first_seq(audit_log::chunk_number(target.seq)),
        "{why}"
    );
    assert!(why.contains("unreadable"), "{why}");
    store.put_raw_unchecked(TreeId::Audit, &key, &raw).unwrap();
    assert!(c.verify().ok);
}

#[test]
fn a_damaged_newest_chunk_is_quarantined_and_work_goes_on() {
    let c = clinic();
    assert_eq!(c.verify().quarantined, 0);
    let head = || match c.ok(Request::AuditHead) {
        Response::Head(h) => h.seq,
        other => panic!("{other:?}"),
    };
    // Until the newest chunk is part-filled, so that the next event is appended to it.
    let mut n = 0;
    while head() % audit_log::CHUNK == 0 {
        n += 1;
        c.add("Ann", "Lee", &format!("ann{n}@riverside.example"), &[]);
    }
    let store = c.svc.store();
    let key = audit_log::chunk_key(head());
    store
        .put_raw_unchecked(TreeId::Audit, &key, b"\x00\x01damaged")
        .unwrap();

    // The next change is still accepted and audited; the damaged bytes are kept aside.
    let bo = c.add("Bo", "Chan", "bo@riverside.example", &[]);
    assert!(bo.history.iter().any(|h| h.action == "user.create"));
    let report = c.verify();
    assert!(!report.ok);
    assert_eq!(report.quarantined, 1);
    let (_, why) = report.broken.expect("the lost events leave a gap");
    assert!(why.contains("was expected"), "{why}");

    // The bytes can be taken out for investigation, as they were.
    let kept = match c.ok(Request::AuditQuarantine) {
        Response::Quarantine(q) => q,
        other => panic!("{other:?}"),
    };
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].reason, "damaged");
    assert_eq!(kept[0].stored_under, hex::encode(key));
    assert_eq!(kept[0].data_hex, hex::encode(b"\x00\x01damaged"));
    assert!(kept[0].readable_events.is_empty());
}

#[test]
fn verify_against_a_recorded_head() {
    let c = clinic();
    let head = match c.ok(Request::AuditHead) {
        Response::Head(h) => h,
        other => panic!("{other:?}"),
    };
    assert_eq!(head.seq, c.verify().head_seq);
    c.add("Ann", "Lee", "ann@riverside.example", &[]);

    let report = verify_report(c.ok(Request::AuditVerify {
        expect: Some(head.to_string()),
    }));
    assert!(report.ok, "{report:?}");
    assert!(report.head_seq > head.seq);
    assert!(
        report
            .expectation
            .as_deref()
            .is_some_and(|e| e.contains("expected hash")),
        "{report:?}"
    );

    let mut wrong = head.hash.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = format!("{}:{}", head.seq, String::from_utf8(wrong).unwrap());
    let report = verify_report(c.ok(Request::AuditVerify {
        expect: Some(wrong),
    }));
    assert!(!report.ok);
    assert_eq!(report.broken, None, "the chain itself is fine");
    assert!(
        report
            .expectation
            .as_deref()
            .is_some_and(|e| e.contains("NOT")),
        "{report:?}"
    );

    let report = verify_report(c.ok(Request::AuditVerify {
        expect: Some(format!("{}:{}", head.seq + 1000, head.hash)),
    }));
    assert!(!report.ok);

    let err = c
        .call(Request::AuditVerify {
            expect: Some("garbage".into()),
        })
        .unwrap_err();
    assert_eq!(field_names(&err), ["expect"]);
}

#[test]
fn a_corrupt_user_record_is_reported_without_hiding_the_others() {
    let c = clinic();
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let bad_id: Id = 4242;
    c.svc
        .store()
        .put_raw_unchecked(
            TreeId::Users,
            &id_key(bad_id),
            b"\x00\x01not bincode at all",
        )
        .unwrap();

    let list = c.user_list();
    let ids: Vec<Id> = list.items.iter().map(|u| u.id).collect();
    assert_eq!(ids, [c.admin.user_id(), ann.user.id]);
    assert_eq!(list.unreadable.len(), 1, "{:?}", list.unreadable);
    assert_eq!(list.unreadable[0].tree, "users");
    assert_eq!(list.unreadable[0].key, format!("{bad_id:016x}"));
    assert!(!list.unreadable[0].problem.is_empty());

    // The rest of the service keeps working.
    c.add("Bo", "Chan", "bo@riverside.example", &[]);
    assert_eq!(c.show("Ann Lee").user.id, ann.user.id);
    let err = c.call(Request::UserShow(bad_id.to_string())).unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Exports and secrets
// ---------------------------------------------------------------------------------------------

const FORMULA: &str = "=cmd|' /C calc'!A0";
const CLEAR_SCREEN_EMAIL: &str = "x\u{1b}[2J@evil.example";

/// Puts a formula and a terminal escape into the log: a role named like a formula, and a refused
/// user whose (invalid) email carries an escape sequence.
fn hostile_history(c: &Clinic) {
    role(c.ok(Request::RoleAdd {
        name: FORMULA.into(),
        description: "spreadsheet bait".into(),
        permissions: vec!["calendar.view".into()],
    }));
    let err = c
        .call(staff("Eve", "Escape", CLEAR_SCREEN_EMAIL, &[]))
        .unwrap_err();
    assert_eq!(field_names(&err), ["email"]);
}

#[test]
fn audit_export_csv_parses_back_and_is_neutralised() {
    let c = clinic();
    hostile_history(&c);
    let in_log = c.head_seq();

    let mut out = Vec::new();
    let n = c
        .svc
        .audit_export(&c.admin, &AuditQuery::default(), Format::Csv, &mut out)
        .unwrap();
    assert_eq!(n, in_log);
    assert!(!out.contains(&0x1b), "a raw ESC reached the CSV");

    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, CSV_HEADER);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len() as u64, n);
    let col = |name: &str| CSV_HEADER.iter().position(|h| *h == name).unwrap();
    let seqs: Vec<u64> = rows
        .iter()
        .map(|r| r[col("seq")].parse().unwrap())
        .collect();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "oldest first, no gaps");
    for r in &rows {
        for cell in r.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "formula-looking cell {cell:?}"
            );
        }
    }
    let formula_row = rows
        .iter()
        .find(|r| &r[col("action")] == "role.create" && r[col("target_label")].contains("cmd"))
        .expect("the role row");
    assert_eq!(&formula_row[col("target_label")], &format!("'{FORMULA}"));
    let escape_row = rows
        .iter()
        .find(|r| &r[col("outcome")] == "rejected")
        .expect("the refused user row");
    assert_eq!(&escape_row[col("target_label")], "x\\u{1b}[2J@evil.example");
    assert!(escape_row[col("reason")].contains("control character"));

    // The export itself is audited, with the number of events written.
    let ev = c.newest_event();
    assert_eq!(ev.action, "audit.export");
    assert!(
        ev.changes
            .iter()
            .any(|ch| ch.field == "events" && ch.new.as_deref() == Some(&n.to_string()))
    );
    assert!(c.verify().ok);
}

#[test]
fn audit_export_jsonl_parses_back_and_escapes_controls() {
    let c = clinic();
    hostile_history(&c);
    let in_log = c.head_seq();

    let mut out = Vec::new();
    let n = c
        .svc
        .audit_export(&c.admin, &AuditQuery::default(), Format::Jsonl, &mut out)
        .unwrap();
    assert_eq!(n, in_log);
    assert!(!out.contains(&0x1b), "a raw ESC reached the JSON lines");
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, n);
    for (i, v) in lines.iter().enumerate() {
        assert_eq!(v["seq"].as_u64(), Some(i as u64 + 1));
        assert_eq!(v["hash"].as_str().map(str::len), Some(64));
    }
    // JSON keeps the exact stored text (escaped on the wire, exact when parsed).
    assert!(
        lines
            .iter()
            .any(|v| v["target"]["label"] == FORMULA && v["action"] == "role.create")
    );
    let refused = lines
        .iter()
        .find(|v| v["outcome"] == "rejected")
        .expect("refused user");
    assert_eq!(refused["target"]["label"], CLEAR_SCREEN_EMAIL);

    // A second export sees the first one's audit event.
    let mut again = Vec::new();
    let m = c
        .svc
        .audit_export(&c.admin, &AuditQuery::default(), Format::Jsonl, &mut again)
        .unwrap();
    assert_eq!(m, n + 1);
    assert_eq!(c.events("audit.export").len(), 2);
}

#[test]
fn password_hashes_and_passwords_never_leak() {
    let c = clinic();
    let (bob_id, _) = c.bob();
    c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let _ = c
        .svc
        .login("admin", "wrong password, wrong!", &Origin::default());

    let mut hashes = Vec::new();
    for id in [c.admin.user_id(), bob_id] {
        let cred: Credential = c
            .svc
            .store()
            .get(TreeId::Credentials, &id_key(id))
            .unwrap()
            .expect("credential");
        let h = cred.password_hash.expect("a hash");
        assert!(h.starts_with("$argon2id$"));
        hashes.push(h);
    }
    let mut secrets: Vec<String> = hashes.clone();
    secrets.extend([ADMIN_PW.to_string(), BOB_PW.to_string()]);
    // Pieces of a PHC string (salt and digest) must not appear either.
    for h in &hashes {
        secrets.extend(h.rsplit('$').take(2).map(String::from));
    }
    secrets.push("$argon2".into());

    let mut texts = Vec::new();
    for format in [Format::Csv, Format::Jsonl] {
        let mut out = Vec::new();
        c.svc
            .audit_export(&c.admin, &AuditQuery::default(), format, &mut out)
            .unwrap();
        texts.push(String::from_utf8(out).unwrap());
    }
    for req in [
        Request::UserList(UserFilter::default()),
        Request::UserShow("admin".into()),
        Request::UserShow("bob".into()),
        Request::AuditList(AuditQuery {
            limit: Some(100_000),
            ..AuditQuery::default()
        }),
        Request::PracticeShow,
        Request::RoleShow("Administrator".into()),
    ] {
        let resp = c.ok(req);
        texts.push(format!("{resp:?}"));
        texts.push(serde_json::to_string(&resp).unwrap());
    }
    for t in &texts {
        assert!(t.len() > 10);
        for s in &secrets {
            assert!(!t.contains(s.as_str()), "secret {s:?} leaked");
        }
    }
    // The recovery event records that the password changed, redacted.
    let recover = &c.events("auth.recover")[0];
    assert!(
        recover
            .changes
            .iter()
            .any(|ch| ch.field == "password" && ch.new.as_deref() == Some("[redacted]"))
    );
}

// ---------------------------------------------------------------------------------------------
// Store ownership
// ---------------------------------------------------------------------------------------------

#[test]
fn a_second_open_is_busy_and_names_the_holder() {
    let c = clinic();
    let err = match Service::open(c.dir.path(), &OpenOptions::default()) {
        Ok(_) => panic!("a second open must be refused while the first is open"),
        Err(e) => e,
    };
    assert!(matches!(err, Error::Busy(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("pid"), "{msg}");
    assert!(msg.contains(&std::process::id().to_string()), "{msg}");

    // The first owner is unaffected.
    assert!(c.verify().ok);
}

#[test]
fn an_edit_from_a_stale_form_is_refused_naming_who_changed_it() {
    let c = clinic();
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let seen = ann.user.revision;
    // Someone else saves first.
    c.svc
        .call(
            &c.admin,
            Request::UserEdit(
                ann.user.id.to_string(),
                fields(&[(UserField::LastName, "Leigh")]),
            ),
        )
        .unwrap();
    // The stale form is refused, and the record keeps the first change.
    let stale = Request::Expect {
        revision: seen,
        request: Box::new(Request::UserEdit(
            ann.user.id.to_string(),
            fields(&[(UserField::FirstName, "Anne")]),
        )),
    };
    let err = c.svc.call(&c.admin, stale).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("was changed by admin (#1) at "), "{msg}");
    assert!(msg.contains("reload"), "{msg}");
    let now = c.show("ann@riverside.example");
    assert_eq!(
        (now.user.first_name.as_str(), now.user.last_name.as_str()),
        ("Ann", "Leigh")
    );
    // With the current revision the edit goes through.
    let fresh = Request::Expect {
        revision: now.user.revision,
        request: Box::new(Request::UserEdit(
            ann.user.id.to_string(),
            fields(&[(UserField::FirstName, "Anne")]),
        )),
    };
    c.svc.call(&c.admin, fresh).unwrap();
    assert_eq!(c.show("ann@riverside.example").user.first_name, "Anne");
}

#[test]
fn head_counts_follow_every_change_of_role_and_facility() {
    let c = clinic();
    c.svc
        .call(
            &c.admin,
            Request::FacilityAdd(vec![(
                staffctl::service::FacilityField::Name,
                "Uptown".into(),
            )]),
        )
        .unwrap();
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let bob = c.add("Bob", "Ray", "bob@riverside.example", &[]);
    c.svc
        .call(
            &c.admin,
            Request::UserEdit(
                ann.user.id.to_string(),
                fields(&[
                    (UserField::Role, "Provider"),
                    (UserField::Facility, "Uptown"),
                ]),
            ),
        )
        .unwrap();
    c.svc
        .call(&c.admin, Request::UserDelete(bob.user.id.to_string()))
        .unwrap();
    let Response::Roles(roles) = c.svc.call(&c.admin, Request::RoleList).unwrap() else {
        panic!()
    };
    for r in &roles.items {
        let detail = role(
            c.svc
                .call(&c.admin, Request::RoleShow(r.role.id.to_string()))
                .unwrap(),
        );
        assert_eq!(r.users, detail.users.len(), "role {}", r.role.name);
    }
    let Response::Facilities(facs) = c
        .svc
        .call(
            &c.admin,
            Request::FacilityList {
                include_archived: true,
            },
        )
        .unwrap()
    else {
        panic!()
    };
    for f in &facs.items {
        let detail = facility(
            c.svc
                .call(&c.admin, Request::FacilityShow(f.facility.id.to_string()))
                .unwrap(),
        );
        assert_eq!(
            f.primary_users,
            detail.primary_users.len(),
            "facility {}",
            f.facility.name
        );
    }
    assert_eq!(
        facs.items
            .iter()
            .find(|f| f.facility.name == "Uptown")
            .map(|f| f.primary_users),
        Some(1)
    );
}

#[test]
fn repeated_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it() {
    let c = clinic();
    // A second administrator with a password of their own.
    let ann = c.add(
        "Ann",
        "Lee",
        "ann@riverside.example",
        &[(UserField::Role, "Administrator")],
    );
    c.svc
        .recover("ann@riverside.example", BOB_PW, &Origin::default())
        .unwrap();
    assert!(
        c.svc
            .login("ann@riverside.example", BOB_PW, &Origin::default())
            .is_ok()
    );
    // Five failures (the default threshold) within the window lock the account...
    for _ in 0..5 {
        let err = c
            .svc
            .login(
                "ann@riverside.example",
                "not her password at all",
                &Origin::default(),
            )
            .unwrap_err();
        assert!(matches!(err, Error::Denied(_)));
    }
    let locked = c.show("ann@riverside.example");
    assert!(locked.login.locked_until.is_some(), "{:?}", locked.login);
    assert!(has_action(&locked, "auth.lock"), "{:?}", locked.history);
    // ...so even the right password is refused, and the caller only learns "denied".
    let err = c
        .svc
        .login("ann@riverside.example", BOB_PW, &Origin::default())
        .unwrap_err();
    assert!(err.to_string().contains("login denied"), "{err}");
    let ev = c.newest_event();
    assert_eq!(ev.action, "auth.login_failed");
    assert_eq!(ev.outcome, Outcome::Denied("account is locked".into()));
    // Listings show the lock.
    let row = users(c.ok(Request::UserList(UserFilter {
        search: Some("ann@".into()),
        ..UserFilter::default()
    })))
    .items
    .remove(0);
    assert!(row.locked);
    // An administrator unlocks; the next login works.
    let unlocked = user(
        c.svc
            .call(&c.admin, Request::UserUnlock(ann.user.id.to_string()))
            .unwrap(),
    );
    assert_eq!(unlocked.login.locked_until, None);
    assert!(has_action(&unlocked, "user.unlock"));
    assert!(
        c.svc
            .login("ann@riverside.example", BOB_PW, &Origin::default())
            .is_ok()
    );
    // Unlocking someone who is not locked is refused.
    let err = c
        .svc
        .call(&c.admin, Request::UserUnlock(ann.user.id.to_string()))
        .unwrap_err();
    assert!(err.to_string().contains("is not locked"), "{err}");
}

fn invitation_code(d: &UserDetail) -> String {
    d.invitation.as_ref().expect("an invitation").code.0.clone()
}

#[test]
fn an_invited_user_activates_with_their_code_and_chooses_a_password() {
    let c = clinic();
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let code = invitation_code(&ann);
    assert_eq!(code.split('-').count(), 6, "{code}");
    assert!(has_action(
        &c.show("ann@riverside.example"),
        "invite.create"
    ));
    // The code is never stored, audited or printed by Debug.
    let mut csv = Vec::new();
    c.svc
        .audit_export(&c.admin, &AuditQuery::default(), Format::Csv, &mut csv)
        .unwrap();
    assert!(!String::from_utf8_lossy(&csv).contains(&code));
    assert!(!format!("{ann:?}").contains(&code));

    let o = Origin::default();
    let wrong = c
        .svc
        .activate("ann@riverside.example", "AAAAA-BBBBB", BOB_PW, &o)
        .unwrap_err();
    assert!(matches!(wrong, Error::Denied(_)), "{wrong:?}");
    assert_eq!(
        c.newest_event().outcome,
        Outcome::Denied("wrong code".into())
    );
    // Policy applies: too short a password is refused and the invitation stays usable.
    let short = c
        .svc
        .activate("ann@riverside.example", &code, "short", &o)
        .unwrap_err();
    assert_eq!(field_names(&short), ["password"]);
    // Codes are typed case-insensitively, with or without hyphens.
    c.svc
        .activate(
            "ann@riverside.example",
            &code.to_lowercase().replace('-', ""),
            BOB_PW,
            &o,
        )
        .unwrap();
    let now = c.show("ann@riverside.example");
    assert_eq!(now.status, UserStatus::Active);
    assert!(now.user.activated_at.is_some());
    assert!(has_action(&now, "user.activate"));
    assert!(c.svc.login("ann@riverside.example", BOB_PW, &o).is_ok());
    // A code works once.
    assert!(
        c.svc
            .activate("ann@riverside.example", &code, BOB_PW, &o)
            .is_err()
    );
    let Response::Invites(list) = c.ok(Request::InviteList) else {
        panic!()
    };
    let row = list
        .items
        .iter()
        .find(|i| i.user_id == ann.user.id)
        .unwrap();
    assert_eq!(row.status, staffctl::model::InviteStatus::Accepted);
}

#[test]
fn resend_within_cooldown_is_refused_and_a_resend_rotates_the_code() {
    let c = clinic();
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let first = invitation_code(&ann);
    let err = c
        .call(Request::InviteResend("ann@riverside.example".into()))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("can be sent again in 60 minute(s)"),
        "{err}"
    );
    c.ok(Request::PracticeEdit(vec![(
        staffctl::service::PracticeField::InviteCooldownMinutes,
        "0".into(),
    )]));
    let again = user(c.ok(Request::InviteResend("ann@riverside.example".into())));
    let second = invitation_code(&again);
    assert_ne!(first, second);
    let o = Origin::default();
    assert!(
        c.svc
            .activate("ann@riverside.example", &first, BOB_PW, &o)
            .is_err(),
        "the old code stops working"
    );
    let Response::Invites(list) = c.ok(Request::InviteList) else {
        panic!()
    };
    assert_eq!(list.items[0].send_count, 2);
    // Revoked: the current code stops working too.
    c.ok(Request::InviteRevoke("ann@riverside.example".into()));
    assert!(
        c.svc
            .activate("ann@riverside.example", &second, BOB_PW, &o)
            .is_err()
    );
    assert_eq!(
        c.newest_event().outcome,
        Outcome::Denied("invitation is revoked".into())
    );
}

#[test]
fn invitations_are_mailed_through_the_mail_command_and_a_failing_command_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let record = tmp.path().join("mail.txt");
    let c = clinic_with_mail(&format!("cat > '{}'", record.display()));
    let ann = c.add(
        "Ann",
        "Lee",
        "ann@riverside.example",
        &[
            (UserField::Username, "ann"),
            (UserField::LoginMethod, "username"),
            (UserField::ContactEmail, "ann.lee@home.example"),
        ],
    );
    let inv = ann.invitation.clone().unwrap();
    assert_eq!(inv.mail, Some(Ok(())));
    let mail = std::fs::read_to_string(&record).unwrap();
    // The contact email gets the mail.
    assert!(
        mail.contains("To: \"Ann Lee\" <ann.lee@home.example>"),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: Your Riverside Physio staff account"),
        "{mail}"
    );
    assert!(mail.contains(&inv.code.0), "{mail}");
    assert!(mail.contains("F2"), "{mail}");

    let c = clinic_with_mail("echo broken >&2; exit 3");
    let bob = c.add("Bob", "Ray", "bob@riverside.example", &[]);
    let inv = bob.invitation.clone().unwrap();
    assert!(
        matches!(&inv.mail, Some(Err(e)) if e.contains("exit") && e.contains("broken")),
        "{:?}",
        inv.mail
    );
    // The invitation still works.
    c.svc
        .activate(
            "bob@riverside.example",
            &inv.code.0,
            BOB_PW,
            &Origin::default(),
        )
        .unwrap();
}

#[test]
fn no_request_can_choose_a_program_for_the_server_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    let record = tmp.path().join("mail.txt");
    let planted = tmp.path().join("planted");
    let c = clinic_with_mail(&format!("cat > '{}'", record.display()));
    let hostile = format!("touch '{}'", planted.display());
    // Every practice setting, set to a command: none of them is one staffctl runs.
    for field in staffctl::service::PracticeField::ALL {
        let _ = c.call(Request::PracticeEdit(vec![(field, hostile.clone())]));
    }
    for field in UserField::ALL {
        let _ = c.call(Request::UserEdit(
            "admin".into(),
            vec![(*field, hostile.clone())],
        ));
    }
    let view = match c.ok(Request::PracticeShow) {
        Response::Practice(v) => v,
        other => panic!("expected the practice, got {other:?}"),
    };
    assert_eq!(
        view.mail.command.as_deref(),
        Some(format!("cat > '{}'", record.display()).as_str())
    );
    assert_eq!(view.mail.source, "test configuration");
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    assert_eq!(ann.invitation.unwrap().mail, Some(Ok(())));
    assert!(record.exists());
    assert!(!planted.exists(), "a request made the server run a command");
}

#[test]
fn an_expired_invitation_cannot_be_used_and_is_listed_as_expired() {
    let c = clinic();
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    let code = invitation_code(&ann);
    // Age the stored invitation past its expiry (as a week passing would).
    let store = c.svc.store();
    let (key, mut inv) = store
        .scan_raw(TreeId::Invites)
        .map(|r| r.unwrap())
        .map(|(k, v)| {
            (
                k.to_vec(),
                codec::decode::<staffctl::model::Invite>(&v).unwrap(),
            )
        })
        .find(|(_, i)| i.user_id == ann.user.id)
        .unwrap();
    inv.expires_at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    inv.last_sent_at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(8 * 24);
    store
        .put_raw_unchecked(TreeId::Invites, &key, &codec::encode(&inv).unwrap())
        .unwrap();

    let err = c
        .svc
        .activate("ann@riverside.example", &code, BOB_PW, &Origin::default())
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)));
    assert_eq!(
        c.newest_event().outcome,
        Outcome::Denied("invitation is expired".into())
    );
    let Response::Invites(list) = c.ok(Request::InviteList) else {
        panic!()
    };
    assert_eq!(list.items[0].status, staffctl::model::InviteStatus::Expired);
    // Sending it again gives a fresh, working code.
    let again = user(c.ok(Request::InviteResend("ann@riverside.example".into())));
    c.svc
        .activate(
            "ann@riverside.example",
            &invitation_code(&again),
            BOB_PW,
            &Origin::default(),
        )
        .unwrap();
}

#[test]
fn a_weaker_password_hash_is_upgraded_at_the_next_login() {
    use argon2::password_hash::PasswordHasher;
    let c = clinic();
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(1024, 1, 1, None).unwrap(),
    )
    .hash_password(ADMIN_PW.as_bytes())
    .unwrap()
    .to_string();
    let key = id_key(c.admin.user_id());
    let mut cred: Credential = codec::decode(
        &c.svc
            .store()
            .get_raw(TreeId::Credentials, &key)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    cred.password_hash = Some(weak.clone());
    c.svc
        .store()
        .put_raw_unchecked(TreeId::Credentials, &key, &codec::encode(&cred).unwrap())
        .unwrap();

    c.svc.login("admin", ADMIN_PW, &Origin::default()).unwrap();
    let after: Credential = codec::decode(
        &c.svc
            .store()
            .get_raw(TreeId::Credentials, &key)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let stored = after.password_hash.unwrap();
    assert_ne!(stored, weak);
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(c.svc.login("admin", ADMIN_PW, &Origin::default()).is_ok());
}
