//! Importing staff from spreadsheets as they really come, through the same service calls the
//! command line and the interface make.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use staffctl::error::Error;
use staffctl::service::{Calls, Request, UserFilter};

const FIXTURES: &str = "tests/fixtures/import";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture")
}

fn calls(c: &Clinic) -> staffctl::service::Bound<'_> {
    staffctl::service::Bound {
        service: &c.svc,
        session: &c.admin,
    }
}

#[test]
fn every_real_world_file_shape_reads_the_same_people() {
    for name in [
        "utf8-bom.csv",
        "excel-unicode-text.txt",
        "windows-1252.csv",
        "quoted-and-blank.csv",
    ] {
        let c = clinic();
        let report = calls(&c)
            .import_preview(name.into(), fixture(name))
            .unwrap();
        assert_eq!(report.eligible(), 2, "{name}: {report:?}");
        assert_eq!(
            report.rows[0].name, "Zoë Müller",
            "{name}: read as {}",
            report.encoding
        );
        let done = calls(&c)
            .import_commit(name.into(), fixture(name), true)
            .unwrap();
        assert_eq!(done.created.len(), 2, "{name}");
        let zoe = c.show("zoe@riverside.example");
        assert_eq!(zoe.user.last_name, "Müller", "{name}");
        assert_eq!(zoe.role, "Provider");
    }
    let c = clinic();
    let r = calls(&c)
        .import_preview("q.csv".into(), fixture("quoted-and-blank.csv"))
        .unwrap();
    // Rows are numbered as the spreadsheet shows them; blank rows are skipped, not errors.
    assert_eq!(r.rows.iter().map(|r| r.row).collect::<Vec<_>>(), [2, 5]);
    let zoe = calls(&c)
        .import_commit("q.csv".into(), fixture("quoted-and-blank.csv"), false)
        .unwrap();
    assert!(zoe.created[0].invitation.is_none());
    assert_eq!(
        c.show("zoe@riverside.example").user.provider.bio,
        "Knees, hips\nand shoulders"
    );
}

#[test]
fn a_workbook_is_named_not_read_as_mojibake() {
    let c = clinic();
    let err = calls(&c)
        .import_preview("staff.xlsx".into(), fixture("workbook.xlsx.csv"))
        .unwrap_err();
    assert_eq!(field_names(&err), ["file"]);
    assert!(message_of(&err, "file").contains("Save As"), "{err}");
}

#[test]
fn preview_names_every_problem_by_row_and_column_and_commit_adds_only_the_eligible() {
    let c = clinic();
    let file = fixture("problems.csv");
    let report = calls(&c)
        .import_preview("problems.csv".into(), file.clone())
        .unwrap();
    assert_eq!(report.ignored_columns.len(), 1);
    assert_eq!(report.ignored_columns[0].header, "Shoe size");
    let problems = |row: u64| -> Vec<(String, String)> {
        report
            .rows
            .iter()
            .find(|r| r.row == row)
            .unwrap()
            .problems
            .iter()
            .map(|p| (p.column.clone(), p.message.clone()))
            .collect()
    };
    assert!(problems(2).is_empty());
    let npi = problems(3);
    assert_eq!(npi[0].0, "NPI");
    assert!(npi[0].1.contains("check digit"), "{npi:?}");
    let typo = problems(4);
    assert!(
        typo.iter()
            .any(|(c, m)| c == "Role" && m.contains("did you mean 'Provider'")),
        "{typo:?}"
    );
    assert!(
        typo.iter()
            .any(|(c, m)| c == "Primary facility" && m.contains("did you mean 'Downtown'")),
        "{typo:?}"
    );
    let dup = problems(5);
    assert!(
        dup.iter().any(|(c, m)| c == "Email" && m.contains("row 2")),
        "{dup:?}"
    );
    assert!(problems(6).iter().any(|(c, _)| c == "Email"));
    assert_eq!((report.eligible(), report.rejected()), (1, 4));
    // Nothing was written by the preview.
    assert_eq!(c.user_list().items.len(), 1);

    let before = c.head_seq();
    let done = calls(&c)
        .import_commit("problems.csv".into(), file.clone(), true)
        .unwrap();
    assert_eq!(done.created.len(), 1);
    assert!(done.created[0].invitation.is_some());
    // One user.create and one invite.create per user, and one import.commit with the file's hash.
    let commit = c.newest_event();
    assert_eq!(commit.action, "import.commit");
    let sha = commit
        .changes
        .iter()
        .find(|ch| ch.field == "file_sha256")
        .unwrap();
    assert_eq!(sha.new.as_deref(), Some(report.sha256.as_str()));
    assert_eq!(c.head_seq(), before + 3);
    // The rejected rows come back with a reason, ready to fix.
    let rejected = done.report.rejected_csv();
    assert!(
        rejected.lines().next().unwrap().ends_with(",Reason"),
        "{rejected}"
    );
    assert_eq!(rejected.lines().count(), 5, "{rejected}");
    // Importing the same file again adds nobody twice.
    let again = calls(&c)
        .import_commit("problems.csv".into(), file, true)
        .unwrap();
    assert!(again.created.is_empty());
    assert!(
        again.report.rows[0].problems[0]
            .message
            .contains("already used by user #2")
    );
    assert_eq!(c.user_list().items.len(), 2);
}

#[test]
fn an_import_is_all_or_nothing() {
    let c = clinic();
    // Two rows claim the default doctor: the second is a problem, the first is imported.
    let csv = "first,last,email,role,facility,default doctor\n\
               Ann,One,ann@riverside.example,Provider,Downtown,yes\n\
               Bo,Two,bo@riverside.example,Provider,Downtown,yes\n";
    let r = calls(&c)
        .import_preview("d.csv".into(), csv.as_bytes().to_vec())
        .unwrap();
    assert_eq!(r.eligible(), 1);
    assert!(
        r.rows[1].problems[0]
            .message
            .contains("row 2 is already the default doctor")
    );
    // A store that refuses the transaction part-way adds nobody: a user added between the
    // preview and the commit takes one row's email, and the commit sees it (it re-checks).
    let csv = "first,last,email,role,facility\nAnn,One,ann@riverside.example,Provider,Downtown\nCy,Three,cy@riverside.example,Provider,Downtown\n";
    c.add("Cy", "Early", "cy@riverside.example", &[]);
    let done = calls(&c)
        .import_commit("e.csv".into(), csv.as_bytes().to_vec(), false)
        .unwrap();
    assert_eq!(done.created.len(), 1);
    assert_eq!(c.user_list().items.len(), 3);
}

#[test]
fn only_those_who_manage_staff_may_import() {
    let c = clinic();
    c.ok(Request::RoleAdd {
        name: "Auditor".into(),
        description: String::new(),
        permissions: vec!["audit.export".into()],
    });
    c.add(
        "Aud",
        "Itor",
        "aud@riverside.example",
        &[
            (staffctl::service::UserField::Username, "aud"),
            (staffctl::service::UserField::Role, "Administrator"),
        ],
    );
    c.svc
        .recover("aud", BOB_PW, &staffctl::audit::Origin::default())
        .unwrap();
    c.ok(Request::UserEdit(
        "aud".into(),
        fields(&[(staffctl::service::UserField::Role, "Auditor")]),
    ));
    let session = c
        .svc
        .login("aud", BOB_PW, &staffctl::audit::Origin::default())
        .unwrap();
    let auditor = staffctl::service::Bound {
        service: &c.svc,
        session: &session,
    };
    let err = auditor
        .import_preview("x.csv".into(), fixture("utf8-bom.csv"))
        .unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    assert!(err.to_string().contains("admin.users"), "{err}");
    // A file larger than the limit is refused before it is read.
    let big = vec![b'a'; staffctl::service::import::MAX_FILE_BYTES + 1];
    let err = calls(&c).import_preview("big.csv".into(), big).unwrap_err();
    assert_eq!(field_names(&err), ["file"]);
    assert_eq!(
        c.call(Request::UserList(UserFilter::default()))
            .map(|_| ())
            .ok(),
        Some(())
    );
}
