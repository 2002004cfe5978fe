//! A full disk: reads, exports and logins keep working, changes are refused before anything
//! is written and resume once space is back, in one-shot commands and in `staffctl serve`; a
//! write that still meets the full disk is not shown afterwards.
//!
//! Each scenario mounts a small tmpfs, which needs root; they skip with a printed reason where
//! mounting is not possible.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod process;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use process::*;
use staffctl::audit::Origin;
use staffctl::service::{InitRequest, OpenOptions, Request, Response, Service, UserField};

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
    assert_eq!(out.status.code(), Some(DENIED), "{}", text(&out.stderr));
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
