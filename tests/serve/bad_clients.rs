//! Clients that misbehave: oversized, garbage, half-sent and silent frames, other protocol
//! versions.

use std::io::Write;

use staffctl::remote::protocol::{
    ClientMsg, MAX_FRAME, PROTOCOL, Welcome, read_frame, write_frame,
};

use super::support::*;

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
