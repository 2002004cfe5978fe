//! Who may read the data directory: a directory made with `mkdir` is closed on first use, one
//! another account owns is refused with the fix, and exports are private to their owner.
//! Giving a directory to another account needs root; that scenario skips otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod process;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use process::*;

#[test]
fn a_data_directory_made_by_mkdir_is_closed_to_other_accounts_on_first_use() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    init(&data);
    assert_eq!(mode(&data), 0o700);
    for file in [
        "db/db",
        "db/conf",
        "staffctl.lock",
        "audit.head",
        "space.reserve",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&data.join("db")), 0o700);
    assert_eq!(mode(&snapshot_after_reopen(&data)), 0o600);

    // Opened again after someone loosened it: closed again.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(data.join("db/db"), std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    assert_ok(&run(&data, &["--direct", "user", "list"]), "user list");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("db/db")), 0o600);
}

/// The snapshot, which sled writes when the store is opened again.
fn snapshot_after_reopen(data: &Path) -> PathBuf {
    assert_ok(&run(data, &["--direct", "role", "list"]), "role list");
    snapshot(data)
}

#[test]
fn audit_exports_are_readable_by_their_owner_only() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    init(&data);
    let new = tmp.path().join("audit.csv");
    let out = staffctl(&data)
        .args(["--direct", "audit", "export", "--format", "csv", "-o"])
        .arg(&new)
        .output()
        .expect("staffctl starts");
    assert_ok(&out, "audit export");
    assert_eq!(mode(&new), 0o600);
    // An existing, readable file that an export overwrites is restricted too.
    let old = tmp.path().join("old.jsonl");
    std::fs::write(&old, b"last year's export").expect("write");
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = staffctl(&data)
        .args(["--direct", "audit", "export", "--format", "jsonl", "-o"])
        .arg(&old)
        .output()
        .expect("staffctl starts");
    assert_ok(&out, "audit export over an old file");
    assert_eq!(mode(&old), 0o600);
    assert!(
        std::fs::read_to_string(&old)
            .expect("read")
            .contains("practice.create")
    );
}

#[test]
fn another_accounts_data_directory_is_refused_with_the_fix() {
    if !is_root() {
        eprintln!("SKIPPED: giving a directory to another account needs root");
        return;
    }
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    init(&data);
    let nobody = nix::unistd::User::from_name("nobody")
        .ok()
        .flatten()
        .map_or(65534, |u| u.uid.as_raw());
    let chown = |path: &Path| {
        nix::unistd::chown(path, Some(nix::unistd::Uid::from_raw(nobody)), None)
            .expect("chown to nobody");
    };
    chown(&data);

    let out = run(&data, &["--direct", "user", "list"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(FAILURE), "{err}");
    assert!(err.contains("belongs to"), "{err}");
    assert!(err.contains("sudo -u"), "{err}");
    // Nothing was written by the refused process.
    assert_eq!(mode(&data), 0o700);

    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = run(&data, &["--direct", "user", "list"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(FAILURE), "{err}");
    assert!(err.contains("open to every local account"), "{err}");
    assert!(
        err.contains(&format!("chmod 700 {}", data.display())),
        "{err}"
    );
    assert_eq!(
        mode(&data),
        0o755,
        "another account's directory is left alone"
    );
}
