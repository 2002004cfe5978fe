//! Hostile and resource-hungry clients: frames that nest thousands of levels, large frames
//! before login, bytes dribbled to hold a connection, more connections than the server serves,
//! and origin text that would bloat the audit log.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use staffctl::Error;
use staffctl::remote::client::RemoteClient;
use staffctl::remote::protocol::{
    ClientMsg, Hello, MAX_DEPTH, MAX_FRAME_BEFORE_LOGIN, PROTOCOL, ServerMsg, Welcome, read_frame,
    write_frame,
};
use staffctl::remote::server::{MAX_ORIGIN_CHARS, ServeOptions};
use staffctl::service::{FacilityField, Origin, Request, Response, UserField};

use super::support::*;

/// Sends `bytes` and expects the server to answer with a bad-request refusal naming `why`, then
/// to close the connection.
fn assert_refused(stream: &mut UnixStream, bytes: &[u8], why: &str, what: &str) {
    // The server may close before it has read everything (and say so first).
    let _ = stream.write_all(bytes);
    let said = assert_closed_by_server(stream, what);
    assert_bad_request_reply(&said, what);
    let reply: ServerMsg = read_frame(&mut &said[..]).expect("a frame");
    let ServerMsg::Done(Err(e)) = reply else {
        unreachable!("checked by assert_bad_request_reply")
    };
    assert!(e.to_string().contains(why), "{what}: {e}");
}

#[test]
fn the_attack_frame_is_what_it_claims_to_be() {
    let one: ClientMsg = read_frame(&mut framed(&nested_expect_call(1)).as_slice()).unwrap();
    assert_eq!(
        one,
        ClientMsg::Call(Request::Expect {
            revision: 0,
            request: Box::new(Request::AuditHead),
        })
    );
    // 4,000 levels in about 8 KB, well under the limit before login.
    let attack = nested_expect_call(4_000);
    assert!(attack.len() < 8_100, "{} bytes", attack.len());
}

#[test]
fn a_call_nesting_thousands_of_revision_checks_is_refused_and_the_server_stays_up() {
    let store = Store::new();
    let mut server = store.serve();
    let nested = format!("nested more than {MAX_DEPTH} levels deep");

    // Before login: the 8 KB frame that used to overflow the server's stack, and a deeper one
    // just under the limit before login.
    for levels in [4_000, 30_000] {
        let mut s = handshaken(&store.socket());
        let what = format!("{levels} nested revision checks before login");
        assert_refused(&mut s, &framed(&nested_expect_call(levels)), &nested, &what);
        store.assert_server_answers(&what);
    }

    // After login, as many as fit in the 8 MiB limit.
    let mut s = logged_in(&store.socket());
    assert_refused(
        &mut s,
        &framed(&nested_expect_call(4_000_000)),
        &nested,
        "4,000,000 nested revision checks after login",
    );
    store.assert_server_answers("4,000,000 nested revision checks");
    assert!(
        server.child.try_wait().expect("poll the server").is_none(),
        "the server exited; its log:\n{}",
        server.log()
    );
    assert_eq!(server.stop().code(), Some(0), "log:\n{}", server.log());
}

#[test]
fn a_tiny_frame_announcing_an_enormous_string_is_refused_and_the_server_stays_up() {
    let store = Store::new();
    let mut server = store.serve();
    // A login whose username announces 2^56 bytes (bincode varint: 253, then a u64) and brings
    // none of them: decoding it used to allocate the announced length and abort the server.
    let login = frame_of(&ClientMsg::Login {
        login: String::new(),
        password: String::new(),
    });
    let mut body = vec![login[4]];
    body.push(253);
    body.extend_from_slice(&(1u64 << 56).to_le_bytes());
    let mut s = handshaken(&store.socket());
    assert_refused(
        &mut s,
        &framed(&body),
        "bad request",
        "a login announcing 2^56 bytes",
    );
    store.assert_server_answers("a login announcing 2^56 bytes");
    assert!(
        server.child.try_wait().expect("poll the server").is_none(),
        "the server exited; its log:\n{}",
        server.log()
    );
}

#[test]
fn one_revision_check_is_served_and_one_inside_another_is_refused() {
    let server = InProcess::start(ServeOptions::default());
    let mut client = server.client();
    let revision = |client: &mut RemoteClient| match client.call(Request::UserShow("admin".into()))
    {
        Ok(Response::User(d)) => d.user.revision,
        other => panic!("user show: {other:?}"),
    };
    let edit = |bio: &str| Request::UserEdit("admin".into(), vec![(UserField::Bio, bio.into())]);
    let expect = |revision: u64, request: Request| Request::Expect {
        revision,
        request: Box::new(request),
    };

    // One level, as the interface sends every edit form.
    let seen = revision(&mut client);
    match client.call(expect(seen, edit("Runs the servers."))) {
        Ok(Response::User(d)) => assert_eq!(d.user.provider.bio, "Runs the servers."),
        other => panic!("a revision-checked edit must be served: {other:?}"),
    }

    // Two levels: refused by name, nothing written, and the connection goes on.
    let seen = revision(&mut client);
    match client.call(expect(seen, expect(seen, edit("Nested.")))) {
        Err(Error::Invalid(fields)) => {
            assert_eq!(fields[0].field, "revision");
            assert!(
                fields[0]
                    .message
                    .contains("cannot hold another revision check"),
                "{}",
                fields[0].message
            );
        }
        other => panic!("a revision check inside another must be refused: {other:?}"),
    }
    assert_eq!(
        revision(&mut client),
        seen,
        "the refused edit wrote nothing"
    );
}

#[test]
fn frames_before_login_are_small_and_large_ones_work_after_login() {
    let server = InProcess::start(ServeOptions::default());
    let big_edit = ClientMsg::Call(Request::UserEdit(
        "admin".into(),
        vec![(UserField::Bio, "b".repeat(100 << 10))],
    ));

    // A 100 KiB request before login is refused with what to do, and the connection closed.
    let mut s = handshaken(&server.socket);
    assert_refused(
        &mut s,
        &frame_of(&big_edit),
        &format!("{MAX_FRAME_BEFORE_LOGIN}-byte limit before login; log in first"),
        "a 100 KiB request before login",
    );

    // So is a 100 KiB hello (without a word: the client has not spoken the protocol yet).
    let mut s = raw(&server.socket);
    let hello = Hello {
        protocol: PROTOCOL,
        version: "v".repeat(100 << 10),
        origin: Origin::current(),
    };
    let _ = s.write_all(&frame_of(&hello));
    let said = assert_closed_by_server(&mut s, "a 100 KiB hello");
    assert!(
        read_frame::<Welcome>(&mut &said[..]).is_err(),
        "a 100 KiB hello must not be welcomed"
    );

    // Logged in, the same request is answered (here: the bio is too long), and the connection
    // stays up.
    let mut s = logged_in(&server.socket);
    s.write_all(&frame_of(&big_edit)).unwrap();
    match read_frame::<ServerMsg>(&mut s) {
        Ok(ServerMsg::Response(_)) => {}
        other => panic!("a 100 KiB request after login must be answered, got {other:?}"),
    }
    write_frame(&mut s, &ClientMsg::Call(Request::AuditHead)).unwrap();
    assert!(matches!(
        read_frame::<ServerMsg>(&mut s),
        Ok(ServerMsg::Response(Ok(Response::Head(_))))
    ));
    // Logging out brings the small limit back.
    write_frame(&mut s, &ClientMsg::Logout).unwrap();
    assert!(matches!(
        read_frame::<ServerMsg>(&mut s),
        Ok(ServerMsg::Done(Ok(())))
    ));
    assert_refused(
        &mut s,
        &frame_of(&big_edit),
        "before login",
        "a 100 KiB request after logout",
    );
    server.assert_answers("large frames");
}

/// Options with deadlines short enough for a test to reach them quickly.
fn short_deadlines() -> ServeOptions {
    ServeOptions {
        hello_timeout: Duration::from_millis(300),
        frame_timeout: Duration::from_millis(300),
        ..ServeOptions::default()
    }
}

/// Sends `frame` one byte at a time with a pause after each, far slower than any deadline
/// allows; after `midway` bytes, runs `meanwhile` once. Returns how many bytes were sent
/// before the server closed the connection, and what it sent back.
fn dribble(
    stream: &mut UnixStream,
    frame: &[u8],
    midway: usize,
    mut meanwhile: impl FnMut(),
) -> (usize, Vec<u8>) {
    let mut sent = 0;
    for (i, byte) in frame.iter().enumerate() {
        if i == midway {
            meanwhile();
        }
        if stream.write_all(std::slice::from_ref(byte)).is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    let said = assert_closed_by_server(stream, "a client dribbling a frame");
    (sent, said)
}

#[test]
fn a_client_dribbling_its_hello_is_dropped_at_the_deadline_while_others_are_served() {
    let server = InProcess::start(short_deadlines());
    // 4,000 bytes at one per 2 ms or slower: at least 8 s, against a 300 ms deadline.
    let hello = Hello {
        protocol: PROTOCOL,
        version: "v".repeat(4_000),
        origin: Origin::current(),
    };
    let frame = frame_of(&hello);
    let mut s = raw(&server.socket);
    let (sent, said) = dribble(&mut s, &frame, 10, || {
        server.assert_answers("a client began dribbling its hello");
    });
    assert!(
        sent < frame.len(),
        "the server waited for all {} dribbled bytes of a hello",
        frame.len()
    );
    assert!(
        read_frame::<Welcome>(&mut &said[..]).is_err(),
        "a dribbled hello must not be welcomed"
    );
    server.assert_answers("a client dribbling its hello");
}

#[test]
fn a_logged_in_client_dribbling_a_request_is_dropped_at_the_deadline() {
    let server = InProcess::start(short_deadlines());
    let mut s = logged_in(&server.socket);
    let request = ClientMsg::Call(Request::UserEdit(
        "admin".into(),
        vec![(UserField::Bio, "slow".repeat(1_000))],
    ));
    let frame = frame_of(&request);
    let (sent, said) = dribble(&mut s, &frame, 10, || {
        server.assert_answers("a client began dribbling a request");
    });
    assert!(
        sent < frame.len(),
        "the server waited for all {} dribbled bytes of a request",
        frame.len()
    );
    assert!(said.is_empty(), "a dribbled request must not be answered");
    server.assert_answers("a client dribbling a request");
}

#[test]
fn a_silent_client_is_dropped_after_the_hello_timeout_and_does_not_block_others() {
    let server = InProcess::start(short_deadlines());
    let mut silent = raw(&server.socket);
    // While it sits there saying nothing, everyone else is served.
    server.assert_answers("a silent client connected");
    assert!(
        assert_closed_by_server(&mut silent, "a client that sends nothing").is_empty(),
        "a silent client is dropped without a word"
    );
    server.assert_answers("a silent client");
}

#[test]
fn a_quiet_connection_after_the_handshake_is_kept_and_its_requests_have_whole_deadlines() {
    // Sitting idle between requests is allowed (the interface does); only a started frame
    // has a deadline.
    let server = InProcess::start(short_deadlines());
    let mut s = logged_in(&server.socket);
    std::thread::sleep(Duration::from_millis(900));
    write_frame(&mut s, &ClientMsg::Call(Request::AuditHead)).unwrap();
    assert!(
        matches!(
            read_frame::<ServerMsg>(&mut s),
            Ok(ServerMsg::Response(Ok(Response::Head(_))))
        ),
        "an idle, logged-in connection is still served"
    );
}

/// Threads of process `pid` now.
fn threads_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("read /proc/PID/task")
        .count()
}

#[test]
fn connections_past_the_limit_are_told_the_server_is_busy_and_threads_stay_bounded() {
    let store = Store::new();
    let server = store.serve();
    let limit = ServeOptions::MAX_CONNECTIONS;
    store.assert_server_answers("start-up");
    let before = threads_of(server.pid());

    // The limit's worth of clients that connect and then sit there.
    let held: Vec<RemoteClient> = (0..limit)
        .map(|i| {
            RemoteClient::connect(&store.socket())
                .unwrap_or_else(|e| panic!("connection {i} of {limit} refused: {e}"))
                .expect("the server answers")
        })
        .collect();

    // Everyone past them costs no thread, and is told why: raw sockets that never say hello,
    // and a client's ordinary connect.
    let mut silent: Vec<UnixStream> = (0..200).map(|_| raw(&store.socket())).collect();
    let during = threads_of(server.pid());
    assert!(
        during <= before + limit + 4,
        "{during} threads with {} connections open ({before} before)",
        limit + silent.len()
    );
    for s in &mut silent {
        let said = assert_closed_by_server(s, "a connection past the limit");
        assert!(matches!(
            read_frame::<Welcome>(&mut &said[..]),
            Ok(Welcome::Busy { max_connections }) if max_connections as usize == limit
        ));
    }
    for i in 0..20 {
        match RemoteClient::connect(&store.socket()) {
            Err(Error::Busy(m)) => assert!(
                m.contains(&format!("limit of {limit} connections")) && m.contains("try again"),
                "{m}"
            ),
            other => panic!("connection {} past the limit: {other:?}", limit + i),
        }
    }
    let log = server.log();
    assert!(
        log.contains("refused") && log.contains(&format!("{limit} connections are open")),
        "the server logs refused connections:\n{log}"
    );

    // A slot that frees up is used again.
    drop(held);
    let deadline = Instant::now() + STARTUP;
    loop {
        match RemoteClient::connect(&store.socket()) {
            Ok(Some(_)) => break,
            Err(Error::Busy(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => panic!("no connection once the others left: {other:?}"),
        }
    }
    store.assert_server_answers("connections past the limit");
}

#[test]
fn origin_text_from_the_client_is_bounded_and_cleaned_before_it_reaches_the_audit_log() {
    let store = Store::new();
    let _server = store.serve();
    let hostile = Hello {
        protocol: PROTOCOL,
        version: "test".into(),
        origin: Origin {
            // Ignored: the server takes these from the socket.
            os_user: "someone-else".into(),
            pid: 1,
            ssh_client: Some(format!("10.1.2.3\n\u{1b}[31mFAKE{}", "B".repeat(20_000))),
            tty: Some(format!(
                "/dev/pts/9\u{1b}]0;owned\u{7}{}",
                "A".repeat(40_000)
            )),
        },
    };
    let mut s = raw(&store.socket());
    write_frame(&mut s, &hostile).unwrap();
    assert!(matches!(
        read_frame::<Welcome>(&mut s),
        Ok(Welcome::Ok { .. })
    ));
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
        &ClientMsg::Call(Request::FacilityAdd(vec![(
            FacilityField::Name,
            "Annex".into(),
        )])),
    )
    .unwrap();
    assert!(matches!(
        read_frame::<ServerMsg>(&mut s),
        Ok(ServerMsg::Response(Ok(_)))
    ));

    let listed = store.via_socket(&["audit", "list", "--limit", "10", "--output", "json"]);
    assert_ok(&listed, "audit list");
    let events: Vec<Value> = serde_json::from_slice(&listed.stdout).expect("JSON");
    let mine: Vec<&Value> = events
        .iter()
        .filter(|e| e["origin"]["pid"].as_u64() == Some(u64::from(std::process::id())))
        .collect();
    assert!(
        mine.iter().any(|e| e["action"] == "facility.create")
            && mine.iter().any(|e| e["action"] == "auth.login"),
        "the login and the change are recorded with this process as origin: {events:#?}"
    );
    for event in mine {
        let origin = &event["origin"];
        let tty = origin["tty"].as_str().expect("a tty");
        let ssh = origin["ssh_client"].as_str().expect("an ssh client");
        for (name, text, start) in [
            ("tty", tty, "/dev/pts/9AAA"),
            ("ssh_client", ssh, "10.1.2.3 FAKEBBB"),
        ] {
            assert!(
                text.chars().count() <= MAX_ORIGIN_CHARS,
                "{name} of {} characters reached the audit log",
                text.chars().count()
            );
            assert!(!text.chars().any(char::is_control), "{name}: {text:?}");
            assert!(text.starts_with(start), "{name}: {text:?}");
        }
        assert_eq!(
            origin["os_user"].as_str(),
            Some(Origin::current().os_user.as_str()),
            "the OS user comes from the socket"
        );
    }
}
