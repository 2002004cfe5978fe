//! Backups as a practice relies on them: a round trip gives back every record and the same
//! audit chain; a wrong passphrase, a damaged or cut file, and a restore over a store are
//! refused with what is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod process;
use process::*;

use std::path::Path;
use std::process::Command;

const PASSPHRASE: &str = "four words for the backup";

fn staffctl_at(data: &Path) -> Command {
    let mut c = staffctl(data);
    c.env("STAFFCTL_BACKUP_PASSPHRASE", PASSPHRASE);
    c
}

fn out(c: &mut Command) -> std::process::Output {
    c.output().expect("staffctl runs")
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ok(c: &mut Command, what: &str) -> String {
    let o = out(c);
    assert!(
        o.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        stdout(&o)
    );
    stdout(&o)
}

/// A small practice with history, backed up to `file`; returns the head printed by `create`.
fn practice_and_backup(data: &Path, file: &Path) -> String {
    init(data);
    for n in 0..5 {
        let args = user_add_args(n);
        ok(staffctl_at(data).args(&args), "user add");
    }
    ok(
        staffctl_at(data).args(["facility", "add", "Uptown", "--code", "UP"]),
        "facility add",
    );
    let created = ok(
        staffctl_at(data)
            .args(["--output", "json", "backup", "create"])
            .arg(file),
        "backup create",
    );
    let header: serde_json::Value = serde_json::from_str(&created).expect("JSON header");
    assert_eq!(header["encrypted"], true);
    header["audit_head"].as_str().expect("head").to_string()
}

#[test]
fn a_restored_store_holds_every_record_and_the_same_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, restored, file) = (
        tmp.path().join("data"),
        tmp.path().join("restored"),
        tmp.path().join("nightly.stbk"),
    );
    let head = practice_and_backup(&data, &file);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    ok(
        staffctl_at(&restored)
            .args(["backup", "restore"])
            .arg(&file),
        "restore",
    );
    ok(
        staffctl_at(&restored).args(["audit", "verify", "--expect", &head]),
        "verify --expect the head printed at backup time",
    );
    // Every listing and the log up to the backup are identical, byte for byte.
    let seq: u64 = head.split(':').next().unwrap().parse().unwrap();
    for args in [
        vec!["role", "list", "--output", "json"],
        vec!["facility", "list", "--output", "json"],
        vec!["invite", "list", "--output", "json"],
    ] {
        assert_eq!(
            ok(staffctl_at(&data).args(&args), "source"),
            ok(staffctl_at(&restored).args(&args), "restored"),
            "{args:?}"
        );
    }
    let users = |d: &Path| {
        let v: serde_json::Value = serde_json::from_str(&ok(
            staffctl_at(d).args(["user", "list", "--output", "json"]),
            "users",
        ))
        .unwrap();
        // Logging in to list them moves the last login; everything else is the same.
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| {
                let mut u = u.clone();
                u.as_object_mut().unwrap().remove("last_login_at");
                u
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(users(&data), users(&restored));
    let export = |d: &Path| {
        let csv = ok(
            staffctl_at(d).args(["audit", "export", "--format", "csv"]),
            "export",
        );
        csv.lines()
            .take(1 + seq as usize)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(export(&data), export(&restored));
    // The restored store works: people log in with the passwords they had.
    ok(
        staffctl_at(&restored).args(["user", "list"]),
        "login on the restored store",
    );
    // And the backup was audited at the source.
    let events = ok(
        staffctl_at(&data).args([
            "audit",
            "list",
            "--action",
            "backup.create",
            "--output",
            "json",
        ]),
        "audit list",
    );
    assert!(events.contains(&head), "{events}");
}

#[test]
fn wrong_passphrases_damaged_files_and_occupied_directories_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, file) = (tmp.path().join("data"), tmp.path().join("b.stbk"));
    practice_and_backup(&data, &file);
    let verify = |path: &Path, pass: &str| {
        out(staffctl(&data)
            .env("STAFFCTL_BACKUP_PASSPHRASE", pass)
            .args(["backup", "verify"])
            .arg(path))
    };
    assert!(verify(&file, PASSPHRASE).status.success());
    let wrong = verify(&file, "not the right passphrase at all");
    assert_eq!(wrong.status.code(), Some(DENIED));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"));

    let bytes = std::fs::read(&file).unwrap();
    let cut = tmp.path().join("cut.stbk");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let o = verify(&cut, PASSPHRASE);
    assert_eq!(
        o.status.code(),
        Some(INTEGRITY),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let edited = tmp.path().join("edited.stbk");
    let mut e = bytes.clone();
    let at = e.len() - 40;
    e[at] ^= 0x01;
    std::fs::write(&edited, &e).unwrap();
    assert_eq!(verify(&edited, PASSPHRASE).status.code(), Some(INTEGRITY));
    let not_a_backup = tmp.path().join("notes.txt");
    std::fs::write(&not_a_backup, "shopping list\n").unwrap();
    let o = verify(&not_a_backup, PASSPHRASE);
    assert_eq!(o.status.code(), Some(INTEGRITY));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a staffctl backup"));

    // Restoring over a store, or into a directory with anything in it, is refused.
    let o = out(staffctl_at(&data).args(["backup", "restore"]).arg(&file));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
    // A failed restore leaves nothing that could pass for a store.
    let target = tmp.path().join("new");
    let o = out(staffctl_at(&target).args(["backup", "restore"]).arg(&cut));
    assert!(!o.status.success());
    assert!(!target.exists() || std::fs::read_dir(&target).unwrap().count() == 0);

    // A backup never overwrites a file, and needs a passphrase or --unencrypted.
    let o = out(staffctl_at(&data).args(["backup", "create"]).arg(&file));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("never overwrites"));
    let plain = tmp.path().join("plain.stbk");
    let o = out(staffctl(&data).args(["backup", "create"]).arg(&plain));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--unencrypted"));
    ok(
        staffctl(&data)
            .args(["backup", "create", "--unencrypted"])
            .arg(&plain),
        "unencrypted backup",
    );
    assert!(
        std::fs::read_to_string(&plain)
            .unwrap()
            .contains("\"encrypted\":false")
    );
    ok(
        staffctl(&data).args(["backup", "verify"]).arg(&plain),
        "verify plain",
    );
}
