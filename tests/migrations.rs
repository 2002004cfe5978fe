//! A store written by schema v1 must open in every later staffctl, with its data and its audit
//! chain intact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use staffctl::audit::Origin;
use staffctl::model::UserStatus;
use staffctl::service::{Request, Response, Service, UserFilter};
use staffctl::store::{OpenOptions, audit_log, migrate, target_index};

const FIXTURE: &str = "tests/fixtures/store-v1";
const FIXTURE_HEAD: &str = "19:5755c09958d8043954f084198bc2603f2b502fb81b1e3f2f3de00a13efc1ce49";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn store_written_by_schema_v1_opens_with_data_and_chain_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    copy_dir(Path::new(FIXTURE), &dir);
    // An earlier upgrade attempt was interrupted while writing the new database.
    std::fs::create_dir_all(dir.join("db.rewrite-tmp")).unwrap();
    std::fs::write(dir.join("db.rewrite-tmp").join("db"), b"half-written").unwrap();

    let svc = Service::open(&dir, &OpenOptions::default()).unwrap();
    assert_eq!(migrate::version(svc.store()).unwrap(), migrate::CURRENT);
    // The rewritten database replaced the old one, and nothing else is left behind (the head
    // file records the audit head outside sled; the reserve keeps room for the next commits).
    let mut entries: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "README.md",
            "audit.head",
            "db",
            "space.reserve",
            "staffctl.lock"
        ]
    );
    let session = svc
        .login("admin", "fixture passphrase for v1", &Origin::default())
        .unwrap();

    let Response::Users(list) = svc
        .call(&session, Request::UserList(UserFilter::default()))
        .unwrap()
    else {
        panic!("expected users");
    };
    assert!(list.unreadable.is_empty(), "{:?}", list.unreadable);
    let emails: Vec<_> = list.items.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "it@fixture.example",
            "pat@fixture.example",
            "gone@fixture.example"
        ]
    );

    let Response::User(gone) = svc
        .call(&session, Request::UserShow("gone@fixture.example".into()))
        .unwrap()
    else {
        panic!("expected user");
    };
    assert_eq!(gone.status, UserStatus::Deactivated);
    assert_eq!(
        gone.user.deactivation_reason.as_deref(),
        Some("left in 2026")
    );
    assert!(gone.history.iter().any(|h| h.action == "user.deactivate"));

    let Response::Verify(report) = svc
        .call(
            &session,
            Request::AuditVerify {
                expect: Some(FIXTURE_HEAD.into()),
            },
        )
        .unwrap()
    else {
        panic!("expected verify report");
    };
    assert!(report.ok, "{report:?}");
    assert!(report.checked > 19);

    // Migrating to schema 3 moved the log into chunks and indexed it per target in blocks.
    assert_eq!(
        audit_log::last_chunk(svc.store()).unwrap(),
        Some(audit_log::chunk_number(report.head_seq))
    );
    assert!(target_index::records(svc.store()).unwrap() < report.checked as usize);

    // Migrating to schema 2 counted the users per role and facility.
    let Response::Roles(roles) = svc.call(&session, Request::RoleList).unwrap() else {
        panic!("expected roles");
    };
    let count = |name: &str| {
        roles
            .items
            .iter()
            .find(|r| r.role.name == name)
            .map(|r| r.users)
    };
    assert_eq!(count("Provider"), Some(1));
    assert_eq!(count("Front Desk"), Some(1));
    assert_eq!(count("Administrator"), Some(1));
    assert_eq!(count("Aide"), Some(0));

    // The old store accepts new writes through the current code.
    svc.call(
        &session,
        Request::FacilityAdd(vec![(
            staffctl::service::FacilityField::Name,
            "Westside".into(),
        )]),
    )
    .unwrap();
    let Response::Verify(after) = svc
        .call(&session, Request::AuditVerify { expect: None })
        .unwrap()
    else {
        panic!("expected verify report");
    };
    assert!(after.ok, "{after:?}");
    assert!(after.checked > report.checked);
}

/// Writes `value` in an older layout `version` (bincode as the codec uses it).
fn legacy_bytes<T: serde::Serialize>(version: u16, value: &T) -> Vec<u8> {
    let mut out = version.to_be_bytes().to_vec();
    bincode::serde::encode_into_std_write(value, &mut out, bincode::config::standard()).unwrap();
    out
}

#[test]
fn schema_3_administrator_flags_become_the_administrator_role() {
    use staffctl::model::legacy::{PracticeV1, UserV1};
    use staffctl::model::{Practice, User};
    use staffctl::service::UserField;
    use staffctl::store::{TreeId, codec, id_key, meta};

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let admin_pw = "a long enough secret phrase";
    let (pat_id, fay_id) = {
        let svc = Service::open(&dir, &OpenOptions::default()).unwrap();
        let s = svc
            .init(
                &staffctl::service::InitRequest {
                    practice_name: "Old Clinic".into(),
                    practice_email: "office@old.example".into(),
                    facility: "Main".into(),
                    admin_username: "admin".into(),
                    admin_email: "it@old.example".into(),
                    admin_first: "Ada".into(),
                    admin_last: "Admin".into(),
                    admin_password: admin_pw.into(),
                },
                &Origin::default(),
            )
            .unwrap();
        let add = |first: &str, email: &str, role: &str| {
            let Response::User(u) = svc
                .call(
                    &s,
                    Request::UserAdd(vec![
                        (UserField::FirstName, first.into()),
                        (UserField::LastName, "Old".into()),
                        (UserField::Email, email.into()),
                        (UserField::Role, role.into()),
                        (UserField::Facility, "Main".into()),
                    ]),
                )
                .unwrap()
            else {
                panic!()
            };
            u.user.id
        };
        (
            add("Pat", "pat@old.example", "Provider"),
            add("Fay", "fay@old.example", "Front Desk"),
        )
    };
    // Turn the store back into what schema 3 wrote: v1 users (Pat with the flag, locked),
    // a v1 practice with a mail command.
    {
        let db = sled::open(dir.join("db")).unwrap();
        let users = db.open_tree("users").unwrap();
        for (k, v) in users.iter().map(Result::unwrap).collect::<Vec<_>>() {
            let u: User = codec::decode(&v).unwrap();
            let old = UserV1 {
                id: u.id,
                username: u.username,
                email: u.email,
                login_method: u.login_method,
                first_name: u.first_name,
                last_name: u.last_name,
                public_name: u.public_name,
                status: u.status,
                locked_until: (u.id == pat_id).then(|| "2099-01-01T00:00:00Z".parse().unwrap()),
                role_id: u.role_id,
                billing: u.billing,
                is_admin: u.id == pat_id || u.id == 1,
                part_time: u.part_time,
                aide: u.aide,
                primary_facility: u.primary_facility,
                access: u.access,
                data_scope: u.data_scope,
                nps_scope: u.nps_scope,
                provider: u.provider,
                notifications: u.notifications,
                note: u.note,
                created_at: u.created_at,
                updated_at: u.updated_at,
                activated_at: u.activated_at,
                last_login_at: None,
                deactivated_at: u.deactivated_at,
                deactivation_reason: u.deactivation_reason,
                revision: u.revision,
            };
            users.insert(k, legacy_bytes(1, &old)).unwrap();
        }
        let meta_tree = db.open_tree("meta").unwrap();
        let p: Practice = codec::decode(&meta_tree.get(meta::PRACTICE).unwrap().unwrap()).unwrap();
        let old = PracticeV1 {
            name: p.name,
            email: p.email,
            invite_expiry_hours: p.invite_expiry_hours,
            invite_cooldown_minutes: p.invite_cooldown_minutes,
            lockout_threshold: p.lockout_threshold,
            lockout_window_minutes: p.lockout_window_minutes,
            lockout_duration_minutes: p.lockout_duration_minutes,
            idle_timeout_minutes: p.idle_timeout_minutes,
            password_min_length: p.password_min_length,
            mail_command: Some("/usr/sbin/sendmail -t".into()),
            device_approval: p.device_approval,
            revision: p.revision,
            updated_at: p.updated_at,
        };
        meta_tree
            .insert(meta::PRACTICE, legacy_bytes(1, &old))
            .unwrap();
        meta_tree.insert(meta::SCHEMA, &3u16.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }

    let svc = Service::open(&dir, &OpenOptions::default()).unwrap();
    assert_eq!(migrate::version(svc.store()).unwrap(), migrate::CURRENT);
    let s = svc.login("admin", admin_pw, &Origin::default()).unwrap();
    let show = |r: &str| match svc.call(&s, Request::UserShow(r.into())).unwrap() {
        Response::User(d) => d,
        other => panic!("{other:?}"),
    };
    // Pat had the flag: now the Administrator role, and still locked (the lock moved into the
    // credential).
    let pat = show(&pat_id.to_string());
    assert_eq!(pat.role, "Administrator");
    assert!(pat.login.locked_until.is_some());
    assert!(pat.history.iter().any(|h| {
        h.action == "store.migrate"
            && h.changes
                .iter()
                .any(|c| c.contains("Provider") && c.contains("Administrator"))
    }));
    assert_eq!(show(&fay_id.to_string()).role, "Front Desk");
    // The mail command left the practice, and the log says so.
    let Response::Practice(p) = svc.call(&s, Request::PracticeShow).unwrap() else {
        panic!()
    };
    assert_eq!(p.settings.time_zone, None);
    let Response::Audit(events) = svc
        .call(
            &s,
            Request::AuditList(staffctl::service::AuditQuery {
                action: Some("store.migrate".into()),
                ..Default::default()
            }),
        )
        .unwrap()
    else {
        panic!()
    };
    assert!(
        events.items.iter().any(|e| e.changes.iter().any(
            |c| c.field == "mail_command" && c.old.as_deref() == Some("/usr/sbin/sendmail -t")
        )),
        "{:?}",
        events.items
    );
    // Counts follow the new roles, and the chain is intact.
    let Response::Roles(roles) = svc.call(&s, Request::RoleList).unwrap() else {
        panic!()
    };
    let admins = roles
        .items
        .iter()
        .find(|r| r.role.name == "Administrator")
        .unwrap();
    assert_eq!(admins.users, 2);
    let Response::Verify(v) = svc.call(&s, Request::AuditVerify { expect: None }).unwrap() else {
        panic!()
    };
    assert!(v.ok, "{v:?}");
    let raw = svc
        .store()
        .get_raw(TreeId::Users, &id_key(pat_id))
        .unwrap()
        .unwrap();
    assert_eq!(codec::version_of(&raw), Some(2));
}
