//! Shared by the `serve` scenarios: temporary stores, a `staffctl serve` process per test,
//! raw connections for clients that do not follow the protocol.

use std::io::{ErrorKind, Read};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use staffctl::Error;
use staffctl::remote::client::RemoteClient;
use staffctl::remote::protocol::{
    ClientMsg, Hello, PROTOCOL, ServerMsg, Welcome, read_frame, write_frame,
};
use staffctl::remote::server::{self, ServeOptions};
use staffctl::service::{InitRequest, OpenOptions, Origin, Request, Service};

/// The first administrator's password in every scenario.
pub const PASSWORD: &str = "correct horse battery staple";

/// Documented exit codes.
pub const INVALID: i32 = 3;
pub const NOT_FOUND: i32 = 4;
pub const BUSY: i32 = 6;

/// How long a server may take to answer after it was started, or to exit after SIGTERM.
pub const STARTUP: Duration = Duration::from_secs(30);
pub const SHUTDOWN: Duration = Duration::from_secs(30);

/// Longest a client waits for the server to drop a connection it should drop. A `serve` process
/// gives an unfinished hello 5 s (`ServeOptions::hello_timeout`; the in-process servers of the
/// deadline tests use far less); everything else it drops at once.
pub const DROP_WITHIN: Duration = Duration::from_secs(8);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A temporary data directory with an initialised store.
pub struct Store {
    pub dir: TempDir,
}

impl Store {
    /// A fresh store: practice "Riverside PT", facility "Downtown", administrator `admin`.
    pub fn new() -> Self {
        let store = Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        let out = store.run(&[
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
        ]);
        assert_ok(&out, "init");
        store
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("s.sock")
    }

    /// `staffctl` for this store, as `admin`, with every inherited `STAFFCTL_*` removed.
    pub fn staffctl(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_staffctl"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("STAFFCTL_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("STAFFCTL_DATA", self.data())
            .env("STAFFCTL_PASSWORD", PASSWORD)
            .env("STAFFCTL_USER", "admin")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `staffctl ARGS` to completion (no socket added).
    pub fn run(&self, args: &[&str]) -> Output {
        self.staffctl()
            .args(args)
            .output()
            .expect("staffctl starts")
    }

    /// Runs `staffctl --socket S ARGS` through this store's server.
    pub fn via_socket(&self, args: &[&str]) -> Output {
        self.staffctl()
            .arg("--socket")
            .arg(self.socket())
            .args(args)
            .output()
            .expect("staffctl starts")
    }

    /// `staffctl serve --socket S` on this store, answering.
    pub fn serve(&self) -> Server {
        Server::start(self, &self.socket())
    }

    /// A read through the server that must succeed (the server is still healthy).
    pub fn assert_server_answers(&self, after: &str) {
        let out = self.via_socket(&["user", "list"]);
        assert_ok(&out, &format!("user list through the socket after {after}"));
        assert!(
            text(&out.stdout).contains("it@riverside.example"),
            "user list after {after} did not list the administrator:\n{}",
            text(&out.stdout)
        );
    }

    /// `user list --output json` through the socket.
    pub fn users(&self) -> Vec<Value> {
        let out = self.via_socket(&["user", "list", "--output", "json"]);
        assert_ok(&out, "user list --output json");
        match serde_json::from_slice(&out.stdout).expect("user list prints JSON") {
            Value::Array(users) => users,
            other => panic!("user list is not an array: {other}"),
        }
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Sends SIGTERM (the signal systemd stops the service with).
pub fn sigterm(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill -TERM {pid} failed");
}

/// Waits for a child to exit, up to `within`; `None` if it is still running.
pub fn wait_for(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `staffctl serve`, stopped with SIGTERM when dropped.
pub struct Server {
    pub child: Child,
    pub socket: PathBuf,
    pub log: PathBuf,
    pub exited: Option<ExitStatus>,
}

impl Server {
    /// Starts `serve --socket SOCKET` on `store` and waits until the socket answers the
    /// handshake.
    pub fn start(store: &Store, socket: &Path) -> Self {
        let log = store.dir.path().join(format!(
            "serve-{}.log",
            std::fs::read_dir(store.dir.path()).map_or(0, Iterator::count)
        ));
        let log_file = std::fs::File::create(&log).expect("create the server log");
        let child = store
            .staffctl()
            .arg("serve")
            .arg("--socket")
            .arg(socket)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("staffctl serve starts");
        let mut server = Self {
            child,
            socket: socket.to_path_buf(),
            log,
            exited: None,
        };
        server.wait_until_answering();
        server
    }

    pub fn wait_until_answering(&mut self) {
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Ok(Some(_)) = RemoteClient::connect(&self.socket) {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                self.exited = Some(status);
                panic!(
                    "staffctl serve exited with {status} before answering; its log:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "staffctl serve did not answer on {} within {STARTUP:?}; its log:\n{}",
                self.socket.display(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then waits for the exit.
    pub fn stop(&mut self) -> ExitStatus {
        if let Some(status) = self.exited {
            return status;
        }
        sigterm(self.pid());
        let status = wait_for(&mut self.child, SHUTDOWN).unwrap_or_else(|| {
            let _ = self.child.kill();
            panic!(
                "staffctl serve still ran {SHUTDOWN:?} after SIGTERM; its log:\n{}",
                self.log()
            )
        });
        self.exited = Some(status);
        status
    }

    /// SIGKILL (a crash): nothing is cleaned up.
    pub fn kill_hard(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.exited = Some(self.child.wait().expect("reap the server"));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited.is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        if wait_for(&mut self.child, SHUTDOWN).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A raw connection to the server, for clients that do not follow the protocol.
pub fn raw(socket: &Path) -> UnixStream {
    let stream = UnixStream::connect(socket).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("set a read timeout");
    stream
}

pub fn hello(protocol: u32) -> Hello {
    Hello {
        protocol,
        version: "test".into(),
        origin: Origin::current(),
    }
}

/// A raw connection past the handshake (not logged in).
pub fn handshaken(socket: &Path) -> UnixStream {
    let mut stream = raw(socket);
    write_frame(&mut stream, &hello(PROTOCOL)).expect("send hello");
    match read_frame::<Welcome>(&mut stream) {
        Ok(Welcome::Ok { .. }) => stream,
        other => panic!("handshake failed: {other:?}"),
    }
}

/// Asserts that the server closes `stream` within [`DROP_WITHIN`]: a read returns end of file
/// or a connection error (never a timeout). Bytes the server sends first are returned.
pub fn assert_closed_by_server(stream: &mut UnixStream, what: &str) -> Vec<u8> {
    stream
        .set_read_timeout(Some(DROP_WITHIN))
        .expect("set a read timeout");
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return received,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the server kept the connection of {what} open for {DROP_WITHIN:?}")
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Reset: the server closed with our bytes unread.
            Err(_) => return received,
        }
    }
}

/// Asserts that `bytes` are one `Done(Err(Usage("bad request: ...")))` frame.
pub fn assert_bad_request_reply(bytes: &[u8], what: &str) {
    let reply: ServerMsg = read_frame(&mut &bytes[..])
        .unwrap_or_else(|e| panic!("{what}: the server's last words are not a frame: {e}"));
    match reply {
        ServerMsg::Done(Err(Error::Usage(m))) if m.starts_with("bad request") => {}
        other => panic!("{what}: expected a bad-request refusal, got {other:?}"),
    }
}

/// Deterministic pseudo-random bytes (xorshift), so a failure can be reproduced.
pub fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[3]
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// A server in this process, for options a scenario needs (short deadlines, a small limit)
// ---------------------------------------------------------------------------------------------

/// `remote::server::serve_with` on a thread over a fresh store initialised like [`Store`];
/// stopped (as by SIGTERM) when dropped.
pub struct InProcess {
    pub socket: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<staffctl::Result<()>>>,
    _dir: TempDir,
}

impl InProcess {
    pub fn start(options: ServeOptions) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let svc = Service::open(
            &dir.path().join("data"),
            &OpenOptions {
                create: true,
                ..OpenOptions::default()
            },
        )
        .expect("open the store");
        svc.init(
            &InitRequest {
                practice_name: "Riverside PT".into(),
                practice_email: "office@riverside.example".into(),
                facility: "Downtown".into(),
                admin_username: "admin".into(),
                admin_email: "it@riverside.example".into(),
                admin_first: "Ira".into(),
                admin_last: "Admin".into(),
                admin_password: PASSWORD.into(),
            },
            &Origin::current(),
        )
        .expect("initialise the store");
        let socket = dir.path().join("s.sock");
        let listener = server::bind(&socket).expect("bind the socket");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (svc, socket, stop) = (Arc::new(svc), socket.clone(), Arc::clone(&stop));
            std::thread::spawn(move || server::serve_with(svc, listener, &socket, stop, options))
        };
        Self {
            socket,
            stop,
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// A client logged in as the administrator.
    pub fn client(&self) -> RemoteClient {
        let mut client = RemoteClient::connect(&self.socket)
            .expect("connect")
            .expect("the server answers");
        client.login("admin", PASSWORD).expect("log in");
        client
    }

    /// A logged-in client's read must succeed (the server is still healthy).
    pub fn assert_answers(&self, after: &str) {
        let head = self.client().call(Request::AuditHead);
        assert!(head.is_ok(), "a read after {after} failed: {head:?}");
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let stopped = thread.join();
            if !std::thread::panicking() {
                assert!(
                    matches!(stopped, Ok(Ok(()))),
                    "the server did not stop cleanly: {stopped:?}"
                );
            }
        }
    }
}

/// A raw connection past the handshake and logged in as the administrator.
pub fn logged_in(socket: &Path) -> UnixStream {
    let mut stream = handshaken(socket);
    write_frame(
        &mut stream,
        &ClientMsg::Login {
            login: "admin".into(),
            password: PASSWORD.into(),
        },
    )
    .expect("send the login");
    match read_frame::<ServerMsg>(&mut stream) {
        Ok(ServerMsg::LoggedIn { .. }) => stream,
        other => panic!("login failed: {other:?}"),
    }
}

/// `msg` as it travels: a 4-byte length and the payload.
pub fn frame_of<T: serde::Serialize>(msg: &T) -> Vec<u8> {
    let mut frame = Vec::new();
    write_frame(&mut frame, msg).expect("encode a frame");
    frame
}

/// A length prefix for `body`, then `body`.
pub fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(body.len())
        .expect("a body under 4 GiB")
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(body);
    out
}

/// The payload of a `Call` holding `levels` revision checks around `AuditHead`, built byte by
/// byte as an attacker would (such a value could not even be built and dropped in memory).
pub fn nested_expect_call(levels: usize) -> Vec<u8> {
    let payload = |msg: &ClientMsg| frame_of(msg)[4..].to_vec();
    let leaf = payload(&ClientMsg::Call(Request::AuditHead));
    let one = payload(&ClientMsg::Call(Request::Expect {
        revision: 0,
        request: Box::new(Request::AuditHead),
    }));
    // `leaf` is the Call tag then AuditHead; `one` has the Expect tag and revision between.
    let call_tag = &leaf[..leaf.len() - 1];
    let per_level = &one[call_tag.len()..one.len() - 1];
    let mut body = call_tag.to_vec();
    body.extend(per_level.repeat(levels));
    body.extend_from_slice(&leaf[call_tag.len()..]);
    body
}
