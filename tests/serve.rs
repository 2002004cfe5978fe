//! `staffctl serve` as a real process: concurrent CLI writers through the socket, the origin the
//! server records, clients that misbehave, requests before login, shutdown and restart, and the
//! messages a client gets when no server answers.
//!
//! Every test gets its own temporary data directory and socket, initialises the store with the
//! CLI (opening it directly), starts `staffctl serve --socket DIR/s.sock`, waits until the
//! socket answers the handshake, and stops the server with SIGTERM when the [`Server`] guard is
//! dropped (also when the test fails).

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use staffctl::Error;
use staffctl::remote::client::RemoteClient;
use staffctl::remote::protocol::{
    ClientMsg, Hello, MAX_FRAME, PROTOCOL, ServerMsg, Welcome, read_frame, write_frame,
};
use staffctl::service::{Origin, Request, Service, UserFilter};

/// The first administrator's password in every scenario.
const PASSWORD: &str = "correct horse battery staple";

/// Documented exit codes.
const INVALID: i32 = 3;
const NOT_FOUND: i32 = 4;
const BUSY: i32 = 6;

/// How long a server may take to answer after it was started, or to exit after SIGTERM.
const STARTUP: Duration = Duration::from_secs(30);
const SHUTDOWN: Duration = Duration::from_secs(30);

/// Longest a client waits for the server to drop a connection it should drop. The server gives
/// a silent client 5 s (`HELLO_TIMEOUT`); everything else it drops at once.
const DROP_WITHIN: Duration = Duration::from_secs(8);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A temporary data directory with an initialised store.
struct Store {
    dir: TempDir,
}

impl Store {
    /// A fresh store: practice "Riverside PT", facility "Downtown", administrator `admin`.
    fn new() -> Self {
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

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("s.sock")
    }

    /// `staffctl` for this store, as `admin`, with every inherited `STAFFCTL_*` removed.
    fn staffctl(&self) -> Command {
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
    fn run(&self, args: &[&str]) -> Output {
        self.staffctl()
            .args(args)
            .output()
            .expect("staffctl starts")
    }

    /// Runs `staffctl --socket S ARGS` through this store's server.
    fn via_socket(&self, args: &[&str]) -> Output {
        self.staffctl()
            .arg("--socket")
            .arg(self.socket())
            .args(args)
            .output()
            .expect("staffctl starts")
    }

    /// `staffctl serve --socket S` on this store, answering.
    fn serve(&self) -> Server {
        Server::start(self, &self.socket())
    }

    /// A read through the server that must succeed (the server is still healthy).
    fn assert_server_answers(&self, after: &str) {
        let out = self.via_socket(&["user", "list"]);
        assert_ok(&out, &format!("user list through the socket after {after}"));
        assert!(
            text(&out.stdout).contains("it@riverside.example"),
            "user list after {after} did not list the administrator:\n{}",
            text(&out.stdout)
        );
    }

    /// `user list --output json` through the socket.
    fn users(&self) -> Vec<Value> {
        let out = self.via_socket(&["user", "list", "--output", "json"]);
        assert_ok(&out, "user list --output json");
        match serde_json::from_slice(&out.stdout).expect("user list prints JSON") {
            Value::Array(users) => users,
            other => panic!("user list is not an array: {other}"),
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Sends SIGTERM (the signal systemd stops the service with).
fn sigterm(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill -TERM {pid} failed");
}

/// Waits for a child to exit, up to `within`; `None` if it is still running.
fn wait_for(child: &mut Child, within: Duration) -> Option<ExitStatus> {
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
struct Server {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
    exited: Option<ExitStatus>,
}

impl Server {
    /// Starts `serve --socket SOCKET` on `store` and waits until the socket answers the
    /// handshake.
    fn start(store: &Store, socket: &Path) -> Self {
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

    fn wait_until_answering(&mut self) {
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

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to standard error so far.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then waits for the exit.
    fn stop(&mut self) -> ExitStatus {
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
    fn kill_hard(&mut self) {
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
fn raw(socket: &Path) -> UnixStream {
    let stream = UnixStream::connect(socket).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("set a read timeout");
    stream
}

fn hello(protocol: u32) -> Hello {
    Hello {
        protocol,
        version: "test".into(),
        origin: Origin::current(),
    }
}

/// A raw connection past the handshake (not logged in).
fn handshaken(socket: &Path) -> UnixStream {
    let mut stream = raw(socket);
    write_frame(&mut stream, &hello(PROTOCOL)).expect("send hello");
    match read_frame::<Welcome>(&mut stream) {
        Ok(Welcome::Ok { .. }) => stream,
        other => panic!("handshake failed: {other:?}"),
    }
}

/// Asserts that the server closes `stream` within [`DROP_WITHIN`]: a read returns end of file
/// or a connection error (never a timeout). Bytes the server sends first are returned.
fn assert_closed_by_server(stream: &mut UnixStream, what: &str) -> Vec<u8> {
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
fn assert_bad_request_reply(bytes: &[u8], what: &str) {
    let reply: ServerMsg = read_frame(&mut &bytes[..])
        .unwrap_or_else(|e| panic!("{what}: the server's last words are not a frame: {e}"));
    match reply {
        ServerMsg::Done(Err(Error::Usage(m))) if m.starts_with("bad request") => {}
        other => panic!("{what}: expected a bad-request refusal, got {other:?}"),
    }
}

/// Deterministic pseudo-random bytes (xorshift), so a failure can be reproduced.
fn noise(seed: u64, n: usize) -> Vec<u8> {
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
// (a) Concurrent writers through the socket
// ---------------------------------------------------------------------------------------------

/// Invocations per writer.
const PER_WRITER: usize = 500;
/// Every this many invocations a writer adds an email the other writer adds too.
const COLLIDE_EVERY: usize = 100;

fn collides(i: usize) -> bool {
    i % COLLIDE_EVERY == COLLIDE_EVERY / 2
}

fn email(writer: usize, i: usize) -> String {
    if collides(i) {
        format!("shared{}@collide.example", i / COLLIDE_EVERY)
    } else {
        format!("w{writer}-{i}@unique.example")
    }
}

/// What one `user add` returned.
struct Attempt {
    email: String,
    code: Option<i32>,
    stderr: String,
}

#[test]
fn two_cli_writers_through_the_socket_lose_nothing_and_collide_cleanly() {
    let store = Store::new();
    let server = store.serve();
    let started = Instant::now();
    let attempts: Vec<Vec<Attempt>> = std::thread::scope(|s| {
        let writers: Vec<_> = (0..2)
            .map(|writer| {
                let store = &store;
                s.spawn(move || {
                    (0..PER_WRITER)
                        .map(|i| {
                            let email = email(writer, i);
                            let last = format!("W{writer}n{i}");
                            let out = store.via_socket(&[
                                "user",
                                "add",
                                "--first",
                                "Load",
                                "--last",
                                &last,
                                "--email",
                                &email,
                                "--role",
                                "Technician",
                                "--facility",
                                "Downtown",
                            ]);
                            Attempt {
                                email,
                                code: out.status.code(),
                                stderr: text(&out.stderr),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        writers
            .into_iter()
            .map(|w| w.join().expect("writer thread"))
            .collect()
    });
    eprintln!(
        "{} CLI invocations through the socket took {:?}",
        2 * PER_WRITER,
        started.elapsed()
    );

    // Every unique add succeeded.
    let failed: Vec<String> = attempts
        .iter()
        .flatten()
        .filter(|a| a.email.ends_with("@unique.example") && a.code != Some(0))
        .map(|a| format!("{}: exit {:?}: {}", a.email, a.code, a.stderr.trim()))
        .collect();
    assert!(
        failed.is_empty(),
        "unique adds failed:\n{}",
        failed.join("\n")
    );

    // Each colliding email: one writer won, the other got a conflict naming the winner.
    let shared = PER_WRITER.div_ceil(COLLIDE_EVERY);
    for k in 0..shared {
        let email = format!("shared{k}@collide.example");
        let tries: Vec<&Attempt> = attempts
            .iter()
            .flatten()
            .filter(|a| a.email == email)
            .collect();
        assert_eq!(tries.len(), 2, "both writers tried {email}");
        let won = tries.iter().filter(|a| a.code == Some(0)).count();
        let lost: Vec<&&Attempt> = tries.iter().filter(|a| a.code != Some(0)).collect();
        assert_eq!(
            won,
            1,
            "exactly one add of {email} must succeed; got {:?}",
            tries
                .iter()
                .map(|a| (a.code, a.stderr.trim()))
                .collect::<Vec<_>>()
        );
        assert_eq!(lost[0].code, Some(INVALID), "{email}: {}", lost[0].stderr);
        assert!(
            lost[0].stderr.contains("already used by user #"),
            "the refusal of {email} must name the user who has it: {}",
            lost[0].stderr
        );
    }

    // The store holds exactly the administrator, the unique users and one of each shared.
    let users = store.users();
    let emails: Vec<&str> = users
        .iter()
        .map(|u| u["email"].as_str().expect("email"))
        .collect();
    let unique = 2 * (PER_WRITER - shared);
    assert_eq!(users.len(), 1 + unique + shared, "user count");
    for writer in 0..2 {
        for i in (0..PER_WRITER).filter(|i| !collides(*i)) {
            let e = email(writer, i);
            assert!(emails.contains(&e.as_str()), "{e} is missing");
        }
    }
    for k in 0..shared {
        let e = format!("shared{k}@collide.example");
        assert_eq!(
            emails.iter().filter(|x| **x == e).count(),
            1,
            "{e} must exist exactly once"
        );
    }

    let verify = store.via_socket(&["audit", "verify"]);
    assert_ok(&verify, "audit verify");
    drop(server);
}

// ---------------------------------------------------------------------------------------------
// (b) Origin
// ---------------------------------------------------------------------------------------------

#[test]
fn events_written_through_the_server_record_the_clients_pid_and_os_user() {
    let store = Store::new();
    let server = store.serve();
    let child = store
        .staffctl()
        .args(["--socket"])
        .arg(store.socket())
        .args([
            "user",
            "add",
            "--first",
            "Alice",
            "--last",
            "Smith",
            "--email",
            "alice@riverside.example",
            "--role",
            "Provider",
            "--facility",
            "Downtown",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("staffctl starts");
    let client_pid = child.id();
    let out = child.wait_with_output().expect("staffctl finishes");
    assert_ok(&out, "user add through the socket");
    assert_ne!(client_pid, server.pid());

    let listed = store.via_socket(&["audit", "list", "--limit", "50", "--output", "json"]);
    assert_ok(&listed, "audit list");
    let events: Vec<Value> = serde_json::from_slice(&listed.stdout).expect("audit list is JSON");
    let create = events
        .iter()
        .find(|e| {
            e["action"] == "user.create"
                && e["outcome"] == "success"
                && e["target"]["label"].as_str() == Some("alice@riverside.example")
        })
        .unwrap_or_else(|| panic!("no user.create event in {events:#?}"));
    let origin = &create["origin"];
    assert_eq!(
        origin["pid"].as_u64(),
        Some(u64::from(client_pid)),
        "the event must carry the client's pid ({client_pid}), not the server's ({}): {origin}",
        server.pid()
    );
    assert_eq!(
        origin["os_user"].as_str(),
        Some(Origin::current().os_user.as_str()),
        "the event must carry the client's OS user: {origin}"
    );
    // The login of that invocation is attributed to the same process.
    assert!(
        events.iter().any(|e| e["action"] == "auth.login"
            && e["origin"]["pid"].as_u64() == Some(u64::from(client_pid))),
        "the login of pid {client_pid} is not in the log"
    );
}

// ---------------------------------------------------------------------------------------------
// (c) Bad clients
// ---------------------------------------------------------------------------------------------

#[test]
fn a_frame_announcing_more_than_max_frame_is_dropped_and_others_go_on() {
    let store = Store::new();
    let _server = store.serve();

    // Before the handshake: dropped without a word.
    let mut s = raw(&store.socket());
    s.write_all(&(MAX_FRAME + 1).to_be_bytes()).unwrap();
    assert_closed_by_server(&mut s, "an oversized hello");
    store.assert_server_answers("an oversized hello");

    // After the handshake: told why, then dropped.
    let mut s = handshaken(&store.socket());
    s.write_all(&(MAX_FRAME + 1).to_be_bytes()).unwrap();
    let said = assert_closed_by_server(&mut s, "an oversized request");
    assert_bad_request_reply(&said, "an oversized request");
    store.assert_server_answers("an oversized request");
}

#[test]
fn random_garbage_is_dropped_and_others_go_on() {
    let store = Store::new();
    let _server = store.serve();

    // 64 bytes instead of a hello.
    let mut s = raw(&store.socket());
    s.write_all(&noise(0x5eed, 64)).unwrap();
    assert_closed_by_server(&mut s, "64 bytes of garbage");
    store.assert_server_answers("64 bytes of garbage");

    // A well-framed request whose 60 bytes are garbage, after the handshake.
    let mut s = handshaken(&store.socket());
    let body = noise(0xbad, 60);
    s.write_all(&u32::try_from(body.len()).unwrap().to_be_bytes())
        .unwrap();
    s.write_all(&body).unwrap();
    let said = assert_closed_by_server(&mut s, "a garbage request");
    assert_bad_request_reply(&said, "a garbage request");
    store.assert_server_answers("a garbage request");
}

#[test]
fn a_silent_client_is_dropped_after_the_hello_timeout_and_does_not_block_others() {
    let store = Store::new();
    let _server = store.serve();
    let mut silent = raw(&store.socket());
    // While it sits there saying nothing, everyone else is served.
    store.assert_server_answers("a silent client connected");
    assert_closed_by_server(&mut silent, "a client that sends nothing");
    store.assert_server_answers("a silent client");
}

#[test]
fn a_client_that_sends_half_a_frame_and_disconnects_harms_nobody() {
    let store = Store::new();
    let server = store.serve();

    // Half a hello.
    let mut frame = Vec::new();
    write_frame(&mut frame, &hello(PROTOCOL)).unwrap();
    let mut s = raw(&store.socket());
    s.write_all(&frame[..frame.len() / 2]).unwrap();
    drop(s);
    store.assert_server_answers("half a hello");

    // Half a login after the handshake.
    let mut frame = Vec::new();
    write_frame(
        &mut frame,
        &ClientMsg::Login {
            login: "admin".into(),
            password: PASSWORD.into(),
        },
    )
    .unwrap();
    let mut s = handshaken(&store.socket());
    s.write_all(&frame[..frame.len() / 2]).unwrap();
    drop(s);
    store.assert_server_answers("half a request");

    // Only a length header, then gone.
    let mut s = raw(&store.socket());
    s.write_all(&[0, 0]).unwrap();
    drop(s);
    store.assert_server_answers("half a length header");
    assert!(
        server.log().contains("dropped before hello"),
        "the server logs dropped clients:\n{}",
        server.log()
    );
}

#[test]
fn a_client_speaking_another_protocol_version_is_told_so() {
    let store = Store::new();
    let _server = store.serve();
    let mut s = raw(&store.socket());
    write_frame(&mut s, &hello(PROTOCOL + 1)).unwrap();
    match read_frame::<Welcome>(&mut s) {
        Ok(Welcome::Incompatible { protocol, version }) => {
            assert_eq!(protocol, PROTOCOL);
            assert_eq!(version, env!("CARGO_PKG_VERSION"));
        }
        other => panic!("expected Welcome::Incompatible, got {other:?}"),
    }
    // And nothing else happens on that connection.
    assert!(assert_closed_by_server(&mut s, "an incompatible client").is_empty());
    store.assert_server_answers("an incompatible client");
}

// ---------------------------------------------------------------------------------------------
// (d) Requests without login
// ---------------------------------------------------------------------------------------------

#[test]
fn requests_before_login_are_refused_and_login_then_works() {
    let store = Store::new();
    let _server = store.serve();
    let mut s = handshaken(&store.socket());

    write_frame(
        &mut s,
        &ClientMsg::Call(Request::UserList(UserFilter::default())),
    )
    .unwrap();
    match read_frame::<ServerMsg>(&mut s) {
        Ok(ServerMsg::Response(Err(Error::Denied(m)))) => {
            assert!(m.contains("not logged in"), "refusal says why: {m}");
        }
        other => panic!("a call before login must be denied, got {other:?}"),
    }

    // A write before login is refused the same way, and nothing is written.
    write_frame(
        &mut s,
        &ClientMsg::Call(Request::FacilityAdd(vec![(
            staffctl::service::FacilityField::Name,
            "Sneaky".into(),
        )])),
    )
    .unwrap();
    assert!(matches!(
        read_frame::<ServerMsg>(&mut s),
        Ok(ServerMsg::Response(Err(Error::Denied(_))))
    ));

    write_frame(
        &mut s,
        &ClientMsg::Export {
            query: staffctl::service::AuditQuery::default(),
            format: staffctl::service::ExportFormat::Jsonl,
        },
    )
    .unwrap();
    assert!(matches!(
        read_frame::<ServerMsg>(&mut s),
        Ok(ServerMsg::ExportDone(Err(Error::Denied(_))))
    ));

    // A wrong password does not log the connection in either.
    write_frame(
        &mut s,
        &ClientMsg::Login {
            login: "admin".into(),
            password: "not the password".into(),
        },
    )
    .unwrap();
    assert!(matches!(
        read_frame::<ServerMsg>(&mut s),
        Ok(ServerMsg::Done(Err(Error::Denied(_))))
    ));
    write_frame(
        &mut s,
        &ClientMsg::Call(Request::UserList(UserFilter::default())),
    )
    .unwrap();
    assert!(matches!(
        read_frame::<ServerMsg>(&mut s),
        Ok(ServerMsg::Response(Err(Error::Denied(_))))
    ));

    // The same connection, logged in, is served.
    write_frame(
        &mut s,
        &ClientMsg::Login {
            login: "admin".into(),
            password: PASSWORD.into(),
        },
    )
    .unwrap();
    assert!(matches!(
        read_frame::<ServerMsg>(&mut s),
        Ok(ServerMsg::LoggedIn { .. })
    ));
    write_frame(
        &mut s,
        &ClientMsg::Call(Request::UserList(UserFilter::default())),
    )
    .unwrap();
    match read_frame::<ServerMsg>(&mut s) {
        Ok(ServerMsg::Response(Ok(staffctl::service::Response::Users(list)))) => {
            assert_eq!(list.items.len(), 1);
        }
        other => panic!("a call after login must be served, got {other:?}"),
    }

    // Logging out ends it.
    write_frame(&mut s, &ClientMsg::Logout).unwrap();
    assert!(matches!(
        read_frame::<ServerMsg>(&mut s),
        Ok(ServerMsg::Done(Ok(())))
    ));
    write_frame(
        &mut s,
        &ClientMsg::Call(Request::UserList(UserFilter::default())),
    )
    .unwrap();
    assert!(matches!(
        read_frame::<ServerMsg>(&mut s),
        Ok(ServerMsg::Response(Err(Error::Denied(_))))
    ));
    assert!(
        !store
            .via_socket(&["facility", "list", "--output", "json"])
            .stdout
            .windows(6)
            .any(|w| w == b"Sneaky"),
        "a refused write must not land"
    );
}

// ---------------------------------------------------------------------------------------------
// (e) Shutdown, crash, second server
// ---------------------------------------------------------------------------------------------

#[test]
fn sigterm_stops_the_server_removes_the_socket_and_releases_the_store() {
    let store = Store::new();
    let mut server = store.serve();
    let added = store.via_socket(&[
        "user",
        "add",
        "--first",
        "Alice",
        "--last",
        "Smith",
        "--email",
        "alice@riverside.example",
        "--role",
        "Provider",
        "--facility",
        "Downtown",
    ]);
    assert_ok(&added, "user add through the socket");

    // A client that stays connected (logged in, idle) does not keep the server alive.
    let mut idle = RemoteClient::connect(&store.socket())
        .expect("connect")
        .expect("the server answers");
    idle.login("admin", PASSWORD).expect("log in");

    let status = server.stop();
    assert!(
        status.success(),
        "serve exits 0 after SIGTERM, got {status}; log:\n{}",
        server.log()
    );
    assert!(
        !store.socket().exists(),
        "the socket file is removed on shutdown"
    );
    assert!(server.log().contains("stopped"), "log:\n{}", server.log());
    assert!(
        idle.call(Request::AuditHead).is_err(),
        "the idle connection is closed"
    );

    // The store is released and holds what the server wrote.
    let direct = store.run(&["--direct", "user", "list", "--output", "json"]);
    assert_ok(&direct, "--direct user list after the server stopped");
    assert!(text(&direct.stdout).contains("alice@riverside.example"));
    let verify = store.run(&["--direct", "audit", "verify"]);
    assert_ok(&verify, "--direct audit verify after the server stopped");
}

#[test]
fn a_stale_socket_left_by_a_crash_is_replaced_by_the_next_server() {
    let store = Store::new();
    let mut crashed = store.serve();
    crashed.kill_hard();
    assert!(
        store.socket().exists(),
        "SIGKILL leaves the socket file behind"
    );
    // Nobody answers it: a client says so.
    let out = store.via_socket(&["user", "list"]);
    assert_eq!(out.status.code(), Some(NOT_FOUND), "{}", text(&out.stderr));

    let server = store.serve();
    assert!(
        server.log().contains("removing stale socket"),
        "the new server says it replaced the stale socket:\n{}",
        server.log()
    );
    store.assert_server_answers("a restart over a stale socket");
}

#[test]
fn serve_never_removes_a_file_that_is_not_a_socket() {
    let store = Store::new();
    let precious = store.dir.path().join("notes.txt");
    std::fs::write(&precious, "not a socket").unwrap();
    let mut cmd = store.staffctl();
    cmd.arg("serve").arg("--socket").arg(&precious);
    let out = run_bounded(cmd);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "serve must refuse: {err}");
    assert!(err.contains("is not a socket"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&precious).expect("the file is still there"),
        "not a socket"
    );
}

/// Runs `cmd` and waits at most [`SHUTDOWN`] for it (a second server must not start serving).
fn run_bounded(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("staffctl starts");
    if wait_for(&mut child, SHUTDOWN).is_none() {
        let _ = child.kill();
        let out = child.wait_with_output().expect("reap");
        panic!(
            "a second staffctl serve kept running; stderr:\n{}",
            text(&out.stderr)
        );
    }
    child.wait_with_output().expect("collect output")
}

#[test]
fn a_second_server_is_refused_as_busy() {
    let store = Store::new();
    let server = store.serve();

    // Same store: the store lock names the running server.
    let mut cmd = store.staffctl();
    cmd.arg("serve").arg("--socket").arg(store.socket());
    let out = run_bounded(cmd);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(BUSY), "{err}");
    assert!(
        err.contains(&format!("pid {}", server.pid()))
            || err.contains(&*store.socket().to_string_lossy()),
        "the refusal names the holder or the socket: {err}"
    );

    // Another store, same socket: the socket is taken.
    let other = Store::new();
    let mut cmd = other.staffctl();
    cmd.arg("serve").arg("--socket").arg(store.socket());
    let out = run_bounded(cmd);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(BUSY), "{err}");
    assert!(
        err.contains(&*store.socket().to_string_lossy()),
        "the refusal names the socket: {err}"
    );

    // The first server was not disturbed.
    assert!(store.socket().exists());
    store.assert_server_answers("a refused second server");
}

// ---------------------------------------------------------------------------------------------
// (f) No server
// ---------------------------------------------------------------------------------------------

#[test]
fn an_explicit_socket_nobody_answers_on_is_not_found() {
    let store = Store::new();
    let missing = Path::new("/nonexistent.sock");
    assert!(!missing.exists());
    let out = store.run(&["--socket", "/nonexistent.sock", "user", "list"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(NOT_FOUND), "{err}");
    assert!(
        err.contains("no staffctl server answers on /nonexistent.sock"),
        "the message names the socket: {err}"
    );
    assert!(
        err.contains("staffctl serve"),
        "the message says how to start one: {err}"
    );
}

#[test]
fn a_store_held_directly_with_no_server_names_the_holder() {
    let store = Store::new();
    // This test process opens the store directly, as a `--direct` staffctl would.
    let holder = Service::open(&store.data(), &staffctl::service::OpenOptions::default())
        .expect("open the store directly");
    let out = store.run(&["user", "list"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(BUSY), "{err}");
    assert!(
        err.contains(&format!("in use by pid {}", std::process::id())),
        "the message names the holding pid {}: {err}",
        std::process::id()
    );
    drop(holder);
    let out = store.run(&["user", "list"]);
    assert_ok(&out, "user list once the holder closed the store");
}

#[test]
fn other_programs_check_logins_and_permissions_through_the_server() {
    let store = Store::new();
    let _server = store.serve();
    let verify = |input: &str| {
        let mut child = store
            .staffctl()
            .arg("--socket")
            .arg(store.socket())
            .args(["auth", "verify"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("staffctl starts");
        use std::io::Write as _;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("finishes").status.code()
    };
    assert_eq!(verify(&format!("admin\n{PASSWORD}\n")), Some(0));
    assert_eq!(verify("admin\nnot the password at all\n"), Some(5));
    let can = store.via_socket(&[
        "auth",
        "can",
        "--user",
        "admin",
        "--permission",
        "audit.export",
    ]);
    assert_ok(&can, "auth can");
    // The server records the check with the caller's origin, like any login.
    let events = store.via_socket(&[
        "audit",
        "list",
        "--action",
        "auth.login_failed",
        "--output",
        "json",
    ]);
    assert_ok(&events, "audit list");
    let events: Value = serde_json::from_slice(&events.stdout).expect("JSON");
    assert_eq!(events[0]["reason"], "wrong password");
}
