//! The store's files as the practice meets them: a change is on disk before staffctl says it
//! is saved; a damaged or truncated store says so and what to do; a full disk still lets
//! people read and log in, and changes resume once space is back; the data directory is closed
//! to other accounts.
//!
//! Scenarios run the `staffctl` binary against a temporary store, like `tests/cli.rs`. Those
//! that need a full disk mount a small tmpfs, which needs root; those that need another
//! account's directory use `chown`, which needs root too; the syscall-order check needs
//! `strace`. Each skips with a printed reason where that is not possible.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use staffctl::audit::Origin;
use staffctl::service::{InitRequest, OpenOptions, Request, Response, Service, UserField};

const PASSWORD: &str = "correct horse battery staple";
const INTEGRITY: i32 = 7;
const FAILURE: i32 = 1;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// `staffctl` on the store in `data`, as `admin`, with every inherited `STAFFCTL_*` removed.
fn staffctl(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_staffctl"));
    environment(&mut cmd, data);
    cmd
}

/// The environment of [`staffctl`], for a command that runs it (`strace staffctl ...`).
fn environment(cmd: &mut Command, data: &Path) {
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
fn run(data: &Path, args: &[&str]) -> Output {
    staffctl(data).args(args).output().expect("staffctl starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Initialises the store in `data`: practice "Riverside PT", facility Downtown, `admin`.
fn init(data: &Path) {
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
        ],
    );
    assert_ok(&out, "init");
}

fn user_add_args(n: u32) -> Vec<String> {
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
fn add_user(data: &Path, n: u32) -> Output {
    staffctl(data)
        .args(user_add_args(n))
        .output()
        .expect("staffctl starts")
}

/// Whether `user list` (through `route`: `--direct` or `--socket S`) lists staff member `n`.
fn lists_user(data: &Path, route: &[&str], n: u32) -> bool {
    let mut args = route.to_vec();
    args.extend(["user", "list", "--output", "json"]);
    let out = run(data, &args);
    assert_ok(&out, "user list");
    text(&out.stdout).contains(&format!("staff{n}@riverside.example"))
}

/// `staffctl auth verify` for `admin` with `password` on stdin.
fn auth_verify(data: &Path, route: &[&str], password: &str) -> Output {
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
fn verify(data: &Path) -> Output {
    run(data, &["--direct", "audit", "verify"])
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

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

/// The store's sled snapshot file (there is one once the store has been reopened).
fn snapshot(data: &Path) -> PathBuf {
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

// ---------------------------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Full disk
// ---------------------------------------------------------------------------------------------

/// A small tmpfs mounted in a temporary directory, unmounted when dropped.
struct SmallDisk {
    mount: PathBuf,
    filler: PathBuf,
    _tmp: TempDir,
}

impl SmallDisk {
    /// A tmpfs of `mib` MiB, or `None` (with the reason printed) where mounting is impossible.
    fn mount(mib: u32) -> Option<Self> {
        if !is_root() {
            eprintln!("SKIPPED: mounting a small file system needs root");
            return None;
        }
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let mount = tmp.path().join("disk");
        std::fs::create_dir(&mount).expect("mount point");
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0700"),
                "tmpfs",
            ])
            .arg(&mount)
            .stderr(Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("SKIPPED: cannot mount a tmpfs here");
            return None;
        }
        Some(Self {
            filler: mount.join("filler"),
            mount,
            _tmp: tmp,
        })
    }

    /// Where the store lives.
    fn data(&self) -> PathBuf {
        self.mount.join("data")
    }

    /// Takes every free byte.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.filler)
            .expect("create the filler");
        for size in [1 << 20, 4096, 1] {
            let block = vec![0xAAu8; size];
            while f.write_all(&block).is_ok() {}
        }
        let free = nix::sys::statvfs::statvfs(&self.mount).expect("statvfs");
        assert_eq!(free.blocks_available(), 0, "the disk is not full");
    }

    /// Gives the space back.
    fn free(&self) {
        std::fs::remove_file(&self.filler).expect("remove the filler");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

#[test]
fn reads_and_logins_work_on_a_full_disk_and_changes_resume_when_space_returns() {
    let Some(disk) = SmallDisk::mount(48) else {
        return;
    };
    let data = disk.data();
    init(&data);
    assert_ok(&add_user(&data, 1), "user add");
    disk.fill();

    // sled writes a snapshot when it opens a store whose log moved: the reserve takes it.
    assert!(
        lists_user(&data, &["--direct"], 1),
        "user list on a full disk"
    );
    let out = auth_verify(&data, &["--direct"], PASSWORD);
    assert_ok(&out, "auth verify on a full disk");
    let notice = text(&out.stderr);
    assert!(
        notice.contains("admin logged in, but the audit log could not record it"),
        "{notice}"
    );
    let out = auth_verify(&data, &["--direct"], "wrong password entirely");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert_ok(
        &run(&data, &["--direct", "audit", "verify"]),
        "audit verify",
    );
    let out = run(&data, &["--direct", "audit", "export", "--format", "jsonl"]);
    assert_ok(&out, "audit export on a full disk");
    assert!(text(&out.stdout).contains("practice.create"));
    assert!(
        text(&out.stderr).contains("admin exported"),
        "{}",
        text(&out.stderr)
    );

    let out = add_user(&data, 2);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(FAILURE), "{err}");
    assert!(err.contains("is full"), "{err}");
    assert!(
        err.contains("changes are refused until space is freed"),
        "{err}"
    );

    disk.free();
    assert_ok(&add_user(&data, 2), "user add once space is back");
    assert!(lists_user(&data, &["--direct"], 2));
    assert_ok(&verify(&data), "audit verify");
}

/// A running `staffctl serve`, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
}

impl Server {
    fn start(data: &Path, socket: &Path, log: &Path) -> Self {
        let child = staffctl(data)
            .arg("serve")
            .arg("--socket")
            .arg(socket)
            .stderr(std::fs::File::create(log).expect("server log"))
            .spawn()
            .expect("staffctl serve starts");
        let server = Self { child };
        let deadline = Instant::now() + Duration::from_secs(30);
        let socket = socket.to_str().expect("socket path");
        while !run(data, &["--socket", socket, "role", "list"])
            .status
            .success()
        {
            assert!(Instant::now() < deadline, "the server did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_answers_reads_and_logins_on_a_full_disk_and_takes_changes_again_when_space_returns() {
    let Some(disk) = SmallDisk::mount(48) else {
        return;
    };
    let data = disk.data();
    init(&data);
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let socket = tmp.path().join("s.sock");
    let server = Server::start(&data, &socket, &tmp.path().join("serve.log"));
    let via = ["--socket", socket.to_str().expect("socket path")];
    assert_ok(
        &staffctl(&data)
            .args(via)
            .args(user_add_args(1))
            .output()
            .expect("run"),
        "user add",
    );
    disk.fill();

    assert!(lists_user(&data, &via, 1), "user list through the server");
    assert_ok(
        &auth_verify(&data, &via, PASSWORD),
        "auth verify through the server",
    );
    // Changes stop: at once, refused before anything is written, or at the latest when the
    // space sled's log already holds runs out.
    let mut n = 2;
    let refused = loop {
        let out = staffctl(&data)
            .args(via)
            .args(user_add_args(n))
            .output()
            .expect("run");
        if !out.status.success() {
            break out;
        }
        n += 1;
        assert!(n < 1000, "changes never stopped on a full disk");
    };
    assert!(!lists_user(&data, &via, n), "a refused change is shown");

    disk.free();
    let out = staffctl(&data)
        .args(via)
        .args(user_add_args(n))
        .output()
        .expect("run");
    assert_ok(&out, "user add through the server once space is back");
    assert!(lists_user(&data, &via, n));
    let err = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(FAILURE), "{err}");
    assert!(err.contains("is full"), "{err}");
    assert_eq!(n, 2, "a change was written on a full disk");
    drop(server);
    assert_ok(&verify(&data), "audit verify after the server stopped");
    assert!(lists_user(&data, &["--direct"], n));
}

#[test]
fn a_write_that_meets_a_full_disk_is_not_shown_and_the_store_reopens() {
    let Some(disk) = SmallDisk::mount(48) else {
        return;
    };
    let data = disk.data();
    let svc = Service::open(&data, &OpenOptions::default()).expect("open");
    let session = svc
        .init(
            &InitRequest {
                practice_name: "Riverside PT".into(),
                practice_email: "office@riverside.example".into(),
                facility: "Downtown".into(),
                admin_username: "admin".into(),
                admin_email: "it@riverside.example".into(),
                admin_first: "Ira".into(),
                admin_last: "Tech".into(),
                admin_password: PASSWORD.into(),
            },
            &Origin::default(),
        )
        .expect("init");
    // Let sled itself meet the full disk, as when the disk fills between the free-space check
    // and the write.
    svc.store().set_min_free_bytes(0);
    disk.fill();
    let add = |n: u32| {
        svc.call(
            &session,
            Request::UserAdd(vec![
                (UserField::FirstName, "Staff".into()),
                (UserField::LastName, format!("Member{n}")),
                (UserField::Email, format!("staff{n}@riverside.example")),
                (UserField::Role, "Provider".into()),
                (UserField::Facility, "Downtown".into()),
            ]),
        )
    };
    let listed = |n: u32| match svc.call(&session, Request::UserList(Default::default())) {
        Ok(Response::Users(list)) => list
            .items
            .iter()
            .any(|u| u.email == format!("staff{n}@riverside.example")),
        other => panic!("user list: {other:?}"),
    };
    // What sled's current log segment still has room for goes in; then a write fails.
    let mut failed = None;
    for n in 0..2000 {
        match add(n) {
            Ok(_) => assert!(listed(n)),
            Err(e) => {
                failed = Some((n, e));
                break;
            }
        }
    }
    let (n, err) = failed.expect("a write met the full disk");
    assert!(
        err.to_string().contains("the change was not saved"),
        "{err}"
    );
    // The store was reopened from its files: the change that failed is not there.
    assert!(!listed(n), "the failed change is shown");

    disk.free();
    add(n).expect("user add once space is back");
    assert!(listed(n));
    drop(svc);
    let svc = Service::open(&data, &OpenOptions::default()).expect("reopen");
    let session = svc
        .login("admin", PASSWORD, &Origin::default())
        .expect("login");
    match svc.call(&session, Request::AuditVerify { expect: None }) {
        Ok(Response::Verify(report)) => assert!(report.ok, "{report:?}"),
        other => panic!("audit verify: {other:?}"),
    }
}
