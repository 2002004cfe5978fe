//! Arbitrary bytes through every way `staffctl serve` and its clients read a frame: the hello
//! and requests before login (64 KiB limit), requests after login (8 MiB), and a client's
//! reading of welcomes and replies; then the payload alone, so the fuzzer need not find a
//! matching length prefix to reach the decoder. Nothing may panic or overflow the stack, and
//! whatever decodes must encode back to the same message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use staffctl::remote::protocol::{
    self, ClientMsg, FrameError, Hello, MAX_FRAME_BEFORE_LOGIN, ServerMsg, Welcome,
};

/// Re-encodes what decoded and checks it decodes to the same message.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    decoded: Result<T, FrameError>,
) -> Option<T> {
    let msg = decoded.ok()?;
    let mut frame = Vec::new();
    protocol::write_frame(&mut frame, &msg).expect("a decoded message encodes");
    let again: T = protocol::read_reply(&mut frame.as_slice()).expect("and decodes again");
    assert_eq!(again, msg);
    Some(msg)
}

fuzz_target!(|data: &[u8]| {
    // As the server reads: the hello, then requests before and after login.
    round_trips(protocol::read_frame_within::<Hello>(
        &mut &data[..],
        MAX_FRAME_BEFORE_LOGIN,
    ));
    let before_login =
        protocol::read_frame_within::<ClientMsg>(&mut &data[..], MAX_FRAME_BEFORE_LOGIN);
    if let Some(ClientMsg::Call(request)) = round_trips(before_login) {
        let _ = protocol::check_call(&request);
    }
    round_trips(protocol::read_frame::<ClientMsg>(&mut &data[..]));
    // As a client reads the server's answers.
    round_trips(protocol::read_reply::<Welcome>(&mut &data[..]));
    round_trips(protocol::read_reply::<ServerMsg>(&mut &data[..]));
    // The payload alone.
    if let Some(ClientMsg::Call(request)) = round_trips(protocol::decode_frame::<ClientMsg>(data)) {
        let _ = protocol::check_call(&request);
    }
    round_trips(protocol::decode_frame::<ServerMsg>(data));
    round_trips(protocol::decode_frame::<Hello>(data));
});
