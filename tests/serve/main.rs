//! `staffctl serve` as a real process: concurrent CLI writers through the socket, the origin the
//! server records, clients that misbehave, requests before login, shutdown and restart, and the
//! messages a client gets when no server answers.
//!
//! Every test gets its own temporary data directory and socket, initialises the store with the
//! CLI (opening it directly), starts `staffctl serve --socket DIR/s.sock`, waits until the
//! socket answers the handshake, and stops the server with SIGTERM when the [`Server`] guard is
//! dropped (also when the test fails).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_clients;
mod limits;
mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde_json::Value;

use staffctl::Error;
use staffctl::remote::client::RemoteClient;
use staffctl::remote::protocol::{ClientMsg, ServerMsg, read_frame, write_frame};
use staffctl::service::{Origin, Request, Service, UserFilter};

use support::*;

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
    assert!(
        err.contains("`systemctl start staffctl`") && err.contains("`staffctl serve`"),
        "the message says how to let processes share the store: {err}"
    );
    drop(holder);
    let out = store.run(&["user", "list"]);
    assert_ok(&out, "user list once the holder closed the store");
}

#[test]
fn a_server_on_a_socket_commands_do_not_look_at_is_named_with_that_socket() {
    let store = Store::new();
    // `Store::serve` listens on a socket outside the data directory.
    let server = store.serve();
    let out = store.run(&["user", "list"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(BUSY), "{err}");
    assert!(
        err.contains(&format!("in use by pid {}", server.pid()))
            && err.contains("`staffctl serve`"),
        "the message names the server: {err}"
    );
    assert!(
        err.contains(&format!(
            "use it with `--socket {}`",
            store.socket().display()
        )),
        "the message names its socket: {err}"
    );
    let out = store.run(&["--direct", "user", "list"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(BUSY), "{err}");
    assert!(
        err.contains(&format!(
            "`--socket {}` instead of --direct",
            store.socket().display()
        )),
        "{err}"
    );
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
