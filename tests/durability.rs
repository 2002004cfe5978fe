//! The store's files as the practice meets them: a change is on disk before staffctl says it
//! is saved, and the head file follows it; a damaged or truncated store says which file and
//! what to do.
//!
//! Scenarios run the `staffctl` binary against a temporary store, like `tests/cli.rs`. The
//! syscall-order check needs `strace`, and skips with a printed reason where it cannot trace.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod process;

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use process::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the store") {
        let entry = entry.expect("read an entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), target).expect("copy a file");
        }
    }
}

/// Flips one bit of byte `at` of `path`.
fn flip(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).expect("read the file");
    bytes[at] ^= 0x40;
    std::fs::write(path, bytes).expect("write the file back");
}

/// The highest sequence number in the head file's slots (`SEQ:HASH TIME CRC` lines).
fn newest_recorded(file: &str) -> u64 {
    file.lines()
        .map(|l| {
            l.split(':')
                .next()
                .and_then(|s| s.parse().ok())
                .expect("a slot starts with SEQ:")
        })
        .max()
        .expect("the head file has slots")
}

/// A store with 40 staff members added one command at a time, so its log spans several
/// hundred kilobytes written over many opens; kept as a pristine copy to damage.
fn busy_store() -> (TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    init(&data);
    for n in 0..40 {
        assert_ok(&add_user(&data, n), "user add");
    }
    // One more open, so the snapshot covers the whole log.
    assert_ok(&verify(&data), "audit verify");
    (tmp, data)
}

// ---------------------------------------------------------------------------------------------
// Durability
// ---------------------------------------------------------------------------------------------

/// Whether `strace` can trace a child here (it is missing, or ptrace is not allowed, in some
/// containers).
fn strace_works() -> bool {
    Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_change_is_synced_to_disk_before_staffctl_says_it_is_saved() {
    if !strace_works() {
        eprintln!("SKIPPED: strace is not available or may not trace here");
        return;
    }
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    init(&data);
    let trace = tmp.path().join("trace");
    let mut strace = Command::new("strace");
    environment(&mut strace, &data);
    let out = strace
        .args(["-f", "-qq", "-y", "-s", "64", "-o"])
        .arg(&trace)
        .args([
            "-e",
            "trace=pwrite64,write,fsync,fdatasync,sync_file_range,rename",
        ])
        .arg(env!("CARGO_BIN_EXE_staffctl"))
        .args(user_add_args(1))
        .output()
        .expect("strace starts");
    assert_ok(&out, "user add under strace");
    let lines: Vec<String> = std::fs::read_to_string(&trace)
        .expect("read the trace")
        .lines()
        .map(str::to_string)
        .collect();
    let log = format!("{}/db/db>", data.display());
    let find = |what: &dyn Fn(&str) -> bool| lines.iter().position(|l| what(l));
    let printed = find(&|l| l.contains("write(1") && l.contains("Added user"))
        .unwrap_or_else(|| panic!("no success line in the trace:\n{}", lines.join("\n")));
    let last_log_write = lines[..printed]
        .iter()
        .rposition(|l| l.contains("pwrite64(") && l.contains(&log))
        .expect("the change was written to the log before the success line");
    let synced = lines[last_log_write..printed]
        .iter()
        .position(|l| (l.contains("fdatasync(") || l.contains("fsync(")) && l.contains(&log))
        .map(|i| i + last_log_write);
    let Some(synced) = synced else {
        panic!(
            "db/db was not fsynced between its last write and the success line:\n{}",
            lines[last_log_write..=printed].join("\n")
        );
    };
    // The head file is updated after the commit is durable, before the answer, and synced
    // (by a thread of its own) before the process ends.
    let head = format!("{}/audit.head>", data.display());
    let head_written = lines[synced..printed]
        .iter()
        .position(|l| l.contains("pwrite64(") && l.contains(&head))
        .map(|i| i + synced);
    let Some(head_written) = head_written else {
        panic!(
            "audit.head was not written between the sync and the success line:\n{}",
            lines[synced..=printed].join("\n")
        );
    };
    assert!(
        lines[head_written..]
            .iter()
            .any(|l| l.contains("fdatasync(") && l.contains(&head)),
        "audit.head was not synced after it was written:\n{}",
        lines[head_written..].join("\n")
    );
}

#[test]
fn the_head_file_holds_the_head_audit_head_prints_after_every_change() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    init(&data);
    for n in 0..3 {
        assert_ok(&add_user(&data, n), "user add");
        // `audit head` itself logs in, which moves the head: compare what it printed with
        // the file as it was written for that login.
        let out = run(&data, &["--direct", "audit", "head"]);
        assert_ok(&out, "audit head");
        let printed = text(&out.stdout).trim().to_string();
        // The file's two slots hold this head and the one before.
        let recorded = std::fs::read_to_string(data.join("audit.head")).expect("head file");
        let newest = recorded
            .lines()
            .find(|l| l.starts_with(&format!("{printed} ")));
        assert!(
            newest.is_some() && printed.starts_with(&format!("{}:", newest_recorded(&recorded))),
            "audit head printed {printed}, audit.head holds {recorded}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Damage
// ---------------------------------------------------------------------------------------------

#[test]
fn a_flipped_byte_in_the_snapshot_names_the_file_and_says_to_restore() {
    let (_tmp, data) = busy_store();
    let damaged = tempfile::tempdir().expect("a temporary directory");
    let copy = damaged.path().join("data");
    copy_dir(&data, &copy);
    let snap = snapshot(&copy);
    flip(&snap, 100);
    for args in [
        &["--direct", "audit", "verify"][..],
        &["--direct", "user", "list"],
        &["--direct", "recover", "--user", "admin"],
    ] {
        let out = run(&copy, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(INTEGRITY), "{args:?}: {err}");
        assert!(
            err.contains(&format!("{} is damaged", snap.display())),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("restore the data directory from your latest backup"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_flipped_byte_in_the_log_names_the_file_and_says_to_restore() {
    let (_tmp, data) = busy_store();
    let len = std::fs::metadata(data.join("db/db")).expect("db/db").len() as usize;
    // The newest data is at the end of the log: a flip there is read at once.
    let mut named = 0;
    for at in [len / 2, len * 3 / 5, len * 2 / 3] {
        let damaged = tempfile::tempdir().expect("a temporary directory");
        let copy = damaged.path().join("data");
        copy_dir(&data, &copy);
        flip(&copy.join("db/db"), at);
        let out = verify(&copy);
        let err = text(&out.stderr);
        // Either the store says which file is damaged, or verification reports what is
        // missing or wrong: never "OK" without the data.
        if out.status.success() {
            let events = run(&copy, &["--direct", "audit", "head"]);
            assert_ok(&events, "audit head");
            continue;
        }
        assert_eq!(out.status.code(), Some(INTEGRITY), "flip at {at}: {err}");
        if err.contains(&format!("{} is damaged", copy.join("db/db").display())) {
            assert!(
                err.contains("restore the data directory from your latest backup"),
                "{err}"
            );
            named += 1;
        }
    }
    assert!(named > 0, "no flip in the newest half of the log was named");
}

#[test]
fn a_store_opened_without_its_snapshot_reports_the_events_it_lost() {
    let (_tmp, data) = busy_store();
    let recorded = std::fs::read_to_string(data.join("audit.head")).expect("head file");
    let recorded_seq = newest_recorded(&recorded);
    let damaged = tempfile::tempdir().expect("a temporary directory");
    let copy = damaged.path().join("data");
    copy_dir(&data, &copy);
    // A damaged message halfway through the log, and the snapshot removed to get the store
    // to open: sled then replays the log up to the damage and stops there.
    let len = std::fs::metadata(copy.join("db/db")).expect("db/db").len() as usize;
    flip(&copy.join("db/db"), len / 3);
    std::fs::remove_file(snapshot(&copy)).expect("remove the snapshot");

    let out = verify(&copy);
    let report = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(INTEGRITY),
        "{report}{}",
        text(&out.stderr)
    );
    assert!(
        report.contains(&format!("but event #{recorded_seq} was recorded on")),
        "{report}"
    );
    assert!(report.contains("the store lost events"), "{report}");
    assert!(
        report.contains("restore the data directory from your latest backup"),
        "{report}"
    );
    // Changes would reuse the lost sequence numbers: they are refused, and the evidence stays.
    let out = add_user(&copy, 99);
    assert_eq!(out.status.code(), Some(INTEGRITY), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("the store lost events"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(copy.join("audit.head")).expect("head file"),
        recorded
    );
}

#[test]
fn a_store_that_lost_everything_is_not_offered_for_a_new_init() {
    let (_tmp, data) = busy_store();
    let damaged = tempfile::tempdir().expect("a temporary directory");
    let copy = damaged.path().join("data");
    copy_dir(&data, &copy);
    // The very first message damaged and the snapshot gone: nothing replays.
    flip(&copy.join("db/db"), 1000);
    std::fs::remove_file(snapshot(&copy)).expect("remove the snapshot");
    let out = run(
        &copy,
        &[
            "--direct",
            "init",
            "--practice",
            "Other",
            "--practice-email",
            "office@other.example",
            "--facility",
            "Main",
            "--admin-username",
            "mallory",
            "--admin-email",
            "m@other.example",
            "--admin-first",
            "Mal",
            "--admin-last",
            "Lory",
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(INTEGRITY), "{err}");
    assert!(err.contains("the store lost events"), "{err}");
}

#[test]
fn an_unfinished_snapshot_left_by_a_full_disk_does_not_stop_the_store_opening() {
    let (_tmp, data) = busy_store();
    // What sled leaves when the disk fills while it writes a snapshot on open.
    let partial = data.join("db/snap.00000000FFFFFFFF.generating");
    std::fs::write(&partial, b"half a snapshot").expect("write the partial snapshot");
    assert_ok(&verify(&data), "audit verify with an unfinished snapshot");
    assert!(!partial.exists());
    assert!(lists_user(&data, &["--direct"], 39));
}
