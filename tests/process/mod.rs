//! Helpers shared by the scenarios that run the `staffctl` binary against a temporary store
//! (`durability`, `full_disk`, `data_dir`). Each test binary uses some of them.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The first administrator's password.
pub const PASSWORD: &str = "correct horse battery staple";
/// Exit code: store or I/O failure.
pub const FAILURE: i32 = 1;
/// Exit code: authentication or permission refused.
pub const DENIED: i32 = 5;
/// Exit code: the audit chain or a record failed verification.
pub const INTEGRITY: i32 = 7;

/// `staffctl` on the store in `data`, as `admin`, with every inherited `STAFFCTL_*` removed.
pub fn staffctl(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_staffctl"));
    environment(&mut cmd, data);
    cmd
}

/// The environment of [`staffctl`], for a command that runs it (`strace staffctl ...`).
pub fn environment(cmd: &mut Command, data: &Path) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("STAFFCTL_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("STAFFCTL_DATA", data)
        .env("STAFFCTL_PASSWORD", PASSWORD)
        .env("STAFFCTL_USER", "admin")
        .stdin(Stdio::null());
}

/// Runs `staffctl ARGS` to completion.
pub fn run(data: &Path, args: &[&str]) -> Output {
    staffctl(data).args(args).output().expect("staffctl starts")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Initialises the store in `data`: practice "Riverside PT", facility Downtown, `admin`.
pub fn init(data: &Path) {
    let out = run(
        data,
        &[
            "--direct",
            "init",
            "--practice",
            "Riverside PT",
            "--practice-email",
            "office@riverside.example",
            "--facility",
            "Downtown",
            "--admin-username",
            "admin",
            "--admin-email",
            "it@riverside.example",
            "--admin-first",
            "Ada",
            "--admin-last",
            "Admin",
        ],
    );
    assert_ok(&out, "init");
}

pub fn user_add_args(n: u32) -> Vec<String> {
    [
        "user",
        "add",
        "--first",
        "Staff",
        "--last",
        &format!("Member{n}"),
        "--email",
        &format!("staff{n}@riverside.example"),
        "--role",
        "Provider",
        "--facility",
        "Downtown",
    ]
    .map(String::from)
    .to_vec()
}

/// `staffctl user add` for staff member `n`.
pub fn add_user(data: &Path, n: u32) -> Output {
    staffctl(data)
        .args(user_add_args(n))
        .output()
        .expect("staffctl starts")
}

/// Whether `user list` (through `route`: `--direct` or `--socket S`) lists staff member `n`.
pub fn lists_user(data: &Path, route: &[&str], n: u32) -> bool {
    let mut args = route.to_vec();
    args.extend(["user", "list", "--output", "json"]);
    let out = run(data, &args);
    assert_ok(&out, "user list");
    text(&out.stdout).contains(&format!("staff{n}@riverside.example"))
}

/// `staffctl auth verify` for `admin` with `password` on stdin.
pub fn auth_verify(data: &Path, route: &[&str], password: &str) -> Output {
    let mut child = staffctl(data)
        .args(route)
        .args(["auth", "verify"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("staffctl starts");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(format!("admin\n{password}\n").as_bytes())
        .expect("write the credentials");
    child.wait_with_output().expect("auth verify finishes")
}

/// `audit verify` on the store.
pub fn verify(data: &Path) -> Output {
    run(data, &["--direct", "audit", "verify"])
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The store's sled snapshot file (there is one once the store has been reopened).
pub fn snapshot(data: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(data.join("db"))
        .expect("read db/")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("snap."))
        })
        .collect();
    assert_eq!(found.len(), 1, "expected one snapshot: {found:?}");
    found.into_iter().next().expect("one snapshot")
}
