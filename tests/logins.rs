//! Logins under pressure: logins racing administrators' changes, parallel wrong passwords,
//! identifiers that read as ids or hide invisible characters, and the login bookkeeping that
//! must never rewrite a profile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use std::sync::Arc;

use staffctl::audit::Origin;
use staffctl::error::Error;
use staffctl::model::UserStatus;
use staffctl::service::{Request, UserField, UserFilter};
use staffctl::store::{TreeId, id_key};

/// A clinic shared between threads, with an active user "nina" whose password is BOB_PW.
fn with_nina() -> (Arc<Clinic>, u64) {
    let c = clinic();
    let nina = c.add(
        "Nina",
        "Park",
        "nina@riverside.example",
        &[
            (UserField::Username, "nina"),
            (UserField::Role, "Administrator"),
        ],
    );
    c.svc.recover("nina", BOB_PW, &Origin::default()).unwrap();
    c.ok(Request::UserEdit(
        "nina".into(),
        fields(&[(UserField::Role, "Provider")]),
    ));
    (Arc::new(c), nina.user.id)
}

#[test]
fn a_login_never_rewrites_the_profile() {
    let (c, id) = with_nina();
    let before = c.svc.store().get_raw(TreeId::Users, &id_key(id)).unwrap();
    c.svc.login("nina", BOB_PW, &Origin::default()).unwrap();
    let _ = c
        .svc
        .login("nina", "a wrong password entirely", &Origin::default());
    let after = c.svc.store().get_raw(TreeId::Users, &id_key(id)).unwrap();
    assert_eq!(before, after, "login bookkeeping belongs in the credential");
    assert!(c.show("nina").login.last_login_at.is_some());
}

#[test]
fn logins_racing_a_deactivation_never_revert_it() {
    for round in 0..8 {
        let (c, _) = with_nina();
        let logins: Vec<_> = (0..4)
            .map(|_| {
                let c = Arc::clone(&c);
                std::thread::spawn(move || {
                    for _ in 0..3 {
                        let _ = c.svc.login("nina", BOB_PW, &Origin::default());
                    }
                })
            })
            .collect();
        c.ok(Request::UserDeactivate {
            user: "nina".into(),
            reason: format!("round {round}"),
        });
        c.ok(Request::UserEdit(
            "nina".into(),
            fields(&[(UserField::PartTime, "yes")]),
        ));
        for t in logins {
            t.join().unwrap();
        }
        let nina = c.show("nina");
        assert_eq!(nina.status, UserStatus::Deactivated, "round {round}");
        assert!(nina.user.part_time, "round {round}");
        // Listings and counts agree with the record.
        let deactivated = match c.ok(Request::UserList(UserFilter {
            status: Some(UserStatus::Deactivated),
            ..UserFilter::default()
        })) {
            staffctl::service::Response::Users(l) => l.items.len(),
            other => panic!("{other:?}"),
        };
        assert_eq!(deactivated, 1);
        // After the deactivation, no login succeeds.
        assert!(c.svc.login("nina", BOB_PW, &Origin::default()).is_err());
    }
}

#[test]
fn parallel_wrong_passwords_are_all_counted_and_lock_the_account() {
    let (c, _) = with_nina();
    // Threshold 5: 32 parallel guesses must lock the account, however they interleave.
    let guesses: Vec<_> = (0..32)
        .map(|i| {
            let c = Arc::clone(&c);
            std::thread::spawn(move || {
                c.svc
                    .login(
                        "nina",
                        &format!("guess number {i} of many"),
                        &Origin::default(),
                    )
                    .is_err()
            })
        })
        .collect();
    assert!(guesses.into_iter().all(|t| t.join().unwrap()));
    let nina = c.show("nina");
    assert!(nina.login.locked_until.is_some(), "{:?}", nina.login);
    assert!(c.svc.login("nina", BOB_PW, &Origin::default()).is_err());
    assert!(!c.events("auth.lock").is_empty());
}

#[test]
fn a_username_of_digits_is_refused_and_never_taken_for_an_id() {
    let c = clinic();
    let err = c
        .call(staff(
            "Oh",
            "One",
            "o1@riverside.example",
            &[(UserField::Username, "01")],
        ))
        .unwrap_err();
    assert_eq!(field_names(&err), ["username"]);
    assert!(message_of(&err, "username").contains("#1"), "{err}");
    // A store from an older release may hold such a username: it is never read as an id.
    let ann = c.add("Ann", "Lee", "ann@riverside.example", &[]);
    c.svc
        .store()
        .put_raw_unchecked(TreeId::UsersByLogin, b"u:01", &id_key(ann.user.id))
        .unwrap();
    let err = c.call(Request::UserShow("01".into())).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("write #1"), "{err}");
    assert_eq!(c.show("#1").user.username.as_deref(), Some("admin"));
    // `auth can` finds people by login only: "01" is Ann, never the administrator #1.
    assert!(c.svc.can("01", "admin.settings", None).is_err());
    assert!(c.svc.can("1", "admin.settings", None).is_err());
    assert!(c.svc.can("admin", "admin.settings", None).is_ok());
}

#[test]
fn logins_with_invisible_or_control_characters_match_nobody() {
    let (c, _) = with_nina();
    for typed in ["ni\u{200b}na", "ni\u{7}na", "\u{202e}nina", "nina\u{feff}"] {
        let err = c.svc.login(typed, BOB_PW, &Origin::default()).unwrap_err();
        assert!(matches!(err, Error::Denied(_)), "{typed:?}");
    }
    // Emails with them are refused at input, so no look-alike account can exist.
    let err = c
        .call(staff("Nina", "Two", "ni\u{200b}na@riverside.example", &[]))
        .unwrap_err();
    assert_eq!(field_names(&err), ["email"]);
}

#[test]
fn a_long_login_email_logs_in() {
    let c = clinic();
    let local = "a".repeat(64);
    let email = format!("{local}@{}.riverside.example", "b".repeat(60));
    assert!(email.len() > 120);
    c.add(
        "Lon",
        "Gmail",
        &email,
        &[(UserField::Role, "Administrator")],
    );
    c.svc.recover(&email, BOB_PW, &Origin::default()).unwrap();
    c.svc
        .login(&email, BOB_PW, &Origin::default())
        .expect("an email longer than 120 characters logs in");
}

#[test]
fn repeated_logins_from_one_place_are_recorded_once() {
    let (c, _) = with_nina();
    let here = Origin {
        os_user: "ira".into(),
        pid: 10,
        ssh_client: Some("10.0.0.5".into()),
        tty: Some("/dev/pts/3".into()),
    };
    let before = c
        .events("auth.login")
        .iter()
        .filter(|e| e.action == "auth.login")
        .count();
    for pid in 11..15 {
        let origin = Origin {
            pid,
            ..here.clone()
        };
        c.svc.login("nina", BOB_PW, &origin).unwrap();
    }
    let count = |c: &Clinic| {
        c.events("auth.login")
            .iter()
            .filter(|e| e.action == "auth.login")
            .count()
    };
    assert_eq!(count(&c), before + 1, "one login per place and idle period");
    // Another terminal is another login.
    let elsewhere = Origin {
        tty: Some("/dev/pts/4".into()),
        ..here.clone()
    };
    c.svc.login("nina", BOB_PW, &elsewhere).unwrap();
    assert_eq!(count(&c), before + 2);
    // The same process logging in again (unlocking the interface) is a login of its own.
    c.svc.login("nina", BOB_PW, &elsewhere).unwrap();
    assert_eq!(count(&c), before + 3);
    // Failures are always recorded.
    let failures = c.events("auth.login_failed").len();
    let _ = c.svc.login("nina", "not it at all, sorry", &here);
    let _ = c.svc.login("nina", "not it at all, sorry", &here);
    assert_eq!(c.events("auth.login_failed").len(), failures + 2);
}

#[test]
fn a_new_device_waits_and_the_administrators_are_mailed() {
    let tmp = tempfile::tempdir().unwrap();
    let outbox = tmp.path().join("outbox");
    let c = clinic_with_mail(&format!("cat >> '{}'", outbox.display()));
    c.add(
        "Nina",
        "Park",
        "nina@riverside.example",
        &[
            (UserField::Username, "nina"),
            (UserField::Role, "Administrator"),
        ],
    );
    c.svc.recover("nina", BOB_PW, &Origin::default()).unwrap();
    c.ok(Request::UserEdit(
        "nina".into(),
        fields(&[(UserField::Role, "Provider")]),
    ));
    c.ok(Request::PracticeEdit(vec![(
        staffctl::service::PracticeField::DeviceApproval,
        "yes".into(),
    )]));
    std::fs::remove_file(&outbox).unwrap(); // Nina's invitation
    let o = Origin::default();
    // No device id while approval is on: refused, not waved through.
    let err = c
        .svc
        .verify_login("nina", BOB_PW, None, None, &o)
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    // A new device waits, and everyone who can approve it hears of it.
    let err = c
        .svc
        .verify_login("nina", BOB_PW, None, Some("tablet-9"), &o)
        .unwrap_err();
    assert!(matches!(err, Error::Pending(_)), "{err:?}");
    assert_eq!(err.exit_code(), staffctl::error::exit::PENDING);
    let mail = std::fs::read_to_string(&outbox).unwrap();
    assert!(mail.contains("it@riverside.example"), "{mail}");
    assert!(
        !mail.contains("To: \"Nina Park\""),
        "nina cannot approve devices: {mail}"
    );
    assert!(
        mail.contains("tablet-9") && mail.contains("device approve"),
        "{mail}"
    );
    assert_eq!(c.events("device.notify").len(), 1);
    // Asking again does not mail again.
    let _ = c
        .svc
        .verify_login("nina", BOB_PW, None, Some("tablet-9"), &o);
    assert_eq!(c.events("device.notify").len(), 1);
}
