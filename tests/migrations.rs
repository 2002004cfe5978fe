//! A store written by schema v1 must open in every later staffctl, with its data and its audit
//! chain intact.

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
    // file records the audit head outside sled).
    let mut entries: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["README.md", "audit.head", "db", "staffctl.lock"]);
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
