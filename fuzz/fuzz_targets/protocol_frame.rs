//! Arbitrary bytes through every way `staffctl serve` and its clients read a frame: the hello
//! and requests before login (64 KiB limit), requests after login (8 MiB), and a client's
//! reading of welcomes and replies; then the payload alone, so the fuzzer need not find a
//! matching length prefix to reach the decoder. Nothing may panic or overflow the stack, and
//! whatever decodes must encode back to the same message.
//!
//! Inputs are decoded on one thread with a 512 KiB stack, a quarter of a server connection
//! thread's, so decoding that recursed with the input (as bincode does without a depth limit)
//! overflows within the fuzzer's input sizes instead of hiding in the main thread's 8 MiB. A
//! panic or an overflow there aborts the process, which libFuzzer reports as a crash.
//!
//! `seeds/protocol_frame/` holds one frame of each kind, and calls nesting 50 and 2,000 revision
//! checks (the second crashed decoding before the depth limit):
//! `cargo fuzz run protocol_frame corpus/protocol_frame seeds/protocol_frame`.

#![no_main]

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Mutex, OnceLock};

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

/// Stack of the thread inputs are decoded on.
const STACK: usize = 512 << 10;

/// The decoding thread: takes an input, answers when done with it.
struct Decoder {
    inputs: SyncSender<Vec<u8>>,
    done: Mutex<Receiver<()>>,
}

fn decoder() -> &'static Decoder {
    static DECODER: OnceLock<Decoder> = OnceLock::new();
    DECODER.get_or_init(|| {
        let (inputs, take) = sync_channel::<Vec<u8>>(0);
        let (finished, done) = sync_channel(0);
        std::thread::Builder::new()
            .name("decode".into())
            .stack_size(STACK)
            .spawn(move || {
                for data in take {
                    read_every_way(&data);
                    if finished.send(()).is_err() {
                        return;
                    }
                }
            })
            .expect("the decoding thread starts");
        Decoder {
            inputs,
            done: Mutex::new(done),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let decoder = decoder();
    decoder
        .inputs
        .send(data.to_vec())
        .expect("the decoding thread takes the input");
    decoder
        .done
        .lock()
        .expect("one fuzzing thread")
        .recv()
        .expect("the decoding thread finishes the input");
});

fn read_every_way(data: &[u8]) {
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
}
