use proptest::prelude::*;

use super::*;
use crate::service::{AuditHead, UserField};

fn frame<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    write_frame(&mut buf, msg).unwrap();
    buf
}

fn payload<T: Serialize>(msg: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(msg, bincode::config::standard()).unwrap()
}

/// A length prefix and a payload.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// The payload of `Call` holding `levels` revision checks around `AuditHead`, built byte by
/// byte (a value this deep could not even be dropped by recursion).
fn nested_expect_payload(levels: usize) -> Vec<u8> {
    let leaf = payload(&Request::AuditHead);
    let call = payload(&ClientMsg::Call(Request::AuditHead));
    let one = payload(&Request::Expect {
        revision: 0,
        request: Box::new(Request::AuditHead),
    });
    let mut body = call[..call.len() - leaf.len()].to_vec();
    body.extend(one[..one.len() - leaf.len()].repeat(levels));
    body.extend_from_slice(&leaf);
    body
}

fn expect(request: Request) -> Request {
    Request::Expect {
        revision: 7,
        request: Box::new(request),
    }
}

#[test]
fn frames_round_trip_and_bad_frames_are_named() {
    let msg = ClientMsg::Login {
        login: "ada".into(),
        password: "pw".into(),
    };
    let buf = frame(&msg);
    let back: ClientMsg = read_frame(&mut buf.as_slice()).unwrap();
    assert_eq!(back, msg);

    let huge = (MAX_FRAME + 1).to_be_bytes();
    assert!(matches!(
        read_frame::<ClientMsg>(&mut huge.as_slice()),
        Err(FrameError::TooLarge { .. })
    ));
    let garbage = [0, 0, 0, 3, 0xff, 0xff, 0xff];
    assert!(matches!(
        read_frame::<ClientMsg>(&mut garbage.as_slice()),
        Err(FrameError::Garbage(_))
    ));
    assert!(matches!(
        read_frame::<ClientMsg>(&mut [].as_slice()),
        Err(FrameError::Closed)
    ));
    // A big reply (a listing of many users) passes the client's limit, not the server's.
    let big = ServerMsg::ExportChunk(vec![7; (MAX_FRAME as usize) + 10]);
    let buf = frame(&big);
    assert_eq!(read_reply::<ServerMsg>(&mut buf.as_slice()).unwrap(), big);
    assert!(matches!(
        read_frame::<ServerMsg>(&mut buf.as_slice()),
        Err(FrameError::TooLarge { .. })
    ));
    let truncated = [0, 0, 0, 9, 1];
    match read_frame::<ClientMsg>(&mut truncated.as_slice()) {
        Err(FrameError::Io(e)) => {
            assert!(e.to_string().contains("after 1 of its 9 bytes"), "{e}");
        }
        other => panic!("a truncated frame must be an I/O error, got {other:?}"),
    }
}

#[test]
fn the_limit_before_login_is_named_with_what_to_do() {
    let body = payload(&ClientMsg::Call(Request::UserEdit(
        "ada".into(),
        vec![(UserField::Bio, "x".repeat(MAX_FRAME_BEFORE_LOGIN as usize))],
    )));
    let buf = framed(&body);
    let err = read_frame_within::<ClientMsg>(&mut buf.as_slice(), MAX_FRAME_BEFORE_LOGIN)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "exceeds the {MAX_FRAME_BEFORE_LOGIN}-byte limit before login"
        )),
        "{err}"
    );
    assert!(err.contains("log in first"), "{err}");
    // The same frame is fine once logged in.
    assert!(read_frame::<ClientMsg>(&mut buf.as_slice()).is_ok());
}

/// Hands out what it holds, then fails as a socket whose peer went quiet does.
struct Dribble {
    data: Vec<u8>,
    at: usize,
}

impl Read for Dribble {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.data.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "nothing more",
            ));
        }
        let n = buf.len().min(self.data.len() - self.at).min(100);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn an_announced_length_is_not_allocated_before_its_bytes_arrive() {
    let mut data = MAX_FRAME.to_be_bytes().to_vec();
    data.extend_from_slice(&[0; 1000]);
    let mut body = Vec::new();
    let err = read_body(&mut Dribble { data, at: 0 }, MAX_FRAME, &mut body).unwrap_err();
    assert!(matches!(err, FrameError::Io(_)), "{err}");
    assert_eq!(body.len(), 1000, "what arrived is kept");
    assert!(
        body.capacity() <= 16 << 10,
        "an {MAX_FRAME}-byte announcement with 1000 bytes sent allocated {} bytes",
        body.capacity()
    );

    // A frame that does arrive in full grows its buffer to fit.
    let big = vec![9u8; 3 << 20];
    let mut body = Vec::new();
    read_body(
        &mut Dribble {
            data: framed(&big),
            at: 0,
        },
        MAX_FRAME,
        &mut body,
    )
    .unwrap();
    assert_eq!(body, big);
}

#[test]
fn one_revision_check_is_accepted_and_one_inside_another_is_refused() {
    let edit = Request::UserEdit("ada".into(), vec![(UserField::Bio, "hi".into())]);
    assert!(check_call(&edit).is_ok());
    assert!(check_call(&expect(edit.clone())).is_ok());
    let err = check_call(&expect(expect(edit))).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("cannot hold another revision check"),
        "{err}"
    );
}

#[test]
fn thousands_of_nested_revision_checks_are_refused_by_the_decoder() {
    // What an attacker sent: 4,000 levels in 8 KB, under the limit before login.
    for levels in [4_000, 30_000] {
        let body = nested_expect_payload(levels);
        assert!(body.len() < MAX_FRAME_BEFORE_LOGIN as usize);
        let err =
            read_frame_within::<ClientMsg>(&mut framed(&body).as_slice(), MAX_FRAME_BEFORE_LOGIN)
                .unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("nested more than {MAX_DEPTH} levels deep")),
            "{levels} levels: {err}"
        );
    }
    // And as many as fit in the limit after login.
    let body = nested_expect_payload((MAX_FRAME as usize - 16) / 2);
    assert!(matches!(
        read_frame::<ClientMsg>(&mut framed(&body).as_slice()),
        Err(FrameError::Garbage(_))
    ));
}

#[test]
fn the_deepest_messages_staffctl_sends_are_well_within_the_depth_limit() {
    // The interface wraps every edit form in one revision check.
    let msg = ClientMsg::Call(expect(Request::UserEdit(
        "ada".into(),
        vec![(UserField::Role, "Provider".into())],
    )));
    assert_eq!(decode_frame::<ClientMsg>(&payload(&msg)).unwrap(), msg);
    let reply = ServerMsg::Response(Err(Error::Invalid(vec![crate::error::FieldError::new(
        "email", "taken",
    )])));
    assert_eq!(decode_frame::<ServerMsg>(&payload(&reply)).unwrap(), reply);
    // A deeper value than any staffctl message still fits: 20 revision checks (two levels each).
    let body = nested_expect_payload(20);
    assert!(decode_frame::<ClientMsg>(&body).is_ok());
}

#[test]
fn busy_and_incompatible_welcomes_round_trip() {
    for w in [
        Welcome::Busy {
            max_connections: 64,
        },
        Welcome::Incompatible {
            protocol: 2,
            version: "0.1.0".into(),
        },
    ] {
        assert_eq!(read_reply::<Welcome>(&mut frame(&w).as_slice()).unwrap(), w);
    }
}

#[test]
fn debug_output_of_client_messages_hides_secrets() {
    let msgs = [
        ClientMsg::Login {
            login: "ada".into(),
            password: "hunter2-secret".into(),
        },
        ClientMsg::AuthVerify {
            login: "ada".into(),
            password: "hunter2-secret".into(),
            facility: None,
            device: None,
        },
        ClientMsg::Activate {
            login: "ada".into(),
            code: "hunter2-secret".into(),
            password: "hunter2-secret".into(),
        },
    ];
    for msg in msgs {
        let shown = format!("{msg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("ada"), "{shown}");
    }
}

/// Messages of every shape both sides send, to mutate.
fn samples() -> Vec<Vec<u8>> {
    vec![
        frame(&Hello {
            protocol: PROTOCOL,
            version: "0.1.0".into(),
            origin: Origin {
                os_user: "ada".into(),
                pid: 42,
                ssh_client: Some("10.0.0.1".into()),
                tty: Some("/dev/pts/3".into()),
            },
        }),
        frame(&ClientMsg::Login {
            login: "ada".into(),
            password: "pw".into(),
        }),
        frame(&ClientMsg::Call(expect(Request::UserEdit(
            "ada".into(),
            vec![(UserField::Email, "a@b.example".into())],
        )))),
        frame(&ClientMsg::Export {
            query: AuditQuery::default(),
            format: Format::Jsonl,
        }),
        frame(&Welcome::Ok {
            version: "0.1.0".into(),
            data_dir: "/var/lib/staffctl".into(),
        }),
        frame(&ServerMsg::Response(Ok(Response::Head(AuditHead {
            seq: 9,
            hash: "ab".repeat(32),
        })))),
        frame(&ServerMsg::Done(Err(Error::Denied("no".into())))),
        frame(&ServerMsg::ExportChunk(vec![1, 2, 3])),
    ]
}

/// Every way the server or a client reads a frame; none may panic, and a refusal must say
/// what was wrong.
fn read_every_way(bytes: &[u8]) {
    fn named<T: std::fmt::Debug>(r: std::result::Result<T, FrameError>) {
        if let Err(e) = r {
            let shown = e.to_string();
            assert!(shown.len() > 10, "an error without a name: {shown:?}");
        }
    }
    named(read_frame_within::<Hello>(
        &mut &bytes[..],
        MAX_FRAME_BEFORE_LOGIN,
    ));
    named(read_frame_within::<ClientMsg>(
        &mut &bytes[..],
        MAX_FRAME_BEFORE_LOGIN,
    ));
    named(read_frame::<ClientMsg>(&mut &bytes[..]));
    named(read_reply::<Welcome>(&mut &bytes[..]));
    named(read_reply::<ServerMsg>(&mut &bytes[..]));
    named(decode_frame::<ClientMsg>(bytes));
    named(decode_frame::<ServerMsg>(bytes));
    if let Ok(ClientMsg::Call(request)) = decode_frame::<ClientMsg>(bytes.get(4..).unwrap_or(&[])) {
        let _ = check_call(&request);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn random_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        read_every_way(&bytes);
        read_every_way(&framed(&bytes));
    }

    #[test]
    fn mutated_frames_never_panic_the_decoder_and_what_decodes_round_trips(
        which in 0..8usize,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in proptest::option::of(any::<usize>()),
        insert in proptest::option::of((any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))),
    ) {
        let mut bytes = samples().swap_remove(which);
        for (at, byte) in flips {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        if let Some((at, extra)) = insert {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, extra);
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        read_every_way(&bytes);
        // Whatever decodes encodes back to a frame that decodes to the same message.
        if let Ok(msg) = read_frame::<ClientMsg>(&mut bytes.as_slice()) {
            prop_assert_eq!(read_frame::<ClientMsg>(&mut frame(&msg).as_slice()).unwrap(), msg);
        }
        if let Ok(msg) = read_reply::<ServerMsg>(&mut bytes.as_slice()) {
            prop_assert_eq!(read_reply::<ServerMsg>(&mut frame(&msg).as_slice()).unwrap(), msg);
        }
    }

    #[test]
    fn nesting_decodes_up_to_the_limit_and_is_refused_past_it(levels in 0..3_000usize) {
        let body = nested_expect_payload(levels);
        match decode_frame::<ClientMsg>(&body) {
            Ok(ClientMsg::Call(_)) => prop_assert!(levels < MAX_DEPTH / 2),
            Ok(other) => prop_assert!(false, "decoded as {:?}", other),
            Err(e) => {
                prop_assert!(levels > MAX_DEPTH / 4, "{} levels refused: {}", levels, e);
                prop_assert!(e.to_string().contains("nested more than"), "{}", e);
            }
        }
    }
}
