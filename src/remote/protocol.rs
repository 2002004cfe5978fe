//! The wire protocol between `staffctl serve` and its clients: length-prefixed bincode frames
//! carrying the service's own request and response types. The first exchange is a version
//! handshake, so a newer client talking to an older server gets a clear message.

use std::io::{Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::audit::Origin;
use crate::audit::export::Format;
use crate::error::{Error, Result};
use crate::model::Id;
use crate::service::{AuditQuery, InitRequest, Request, Response};

/// Protocol version; bump on any change to the message types below.
pub const PROTOCOL: u32 = 2;

/// Largest request frame the server accepts (bytes); a bigger one closes the connection.
pub const MAX_FRAME: u32 = 8 << 20;

/// Largest reply frame a client accepts (bytes): a listing of 100,000 users is tens of MiB.
pub const MAX_REPLY: u32 = 1 << 30;

/// Export data travels in chunks of at most this many bytes.
pub const EXPORT_CHUNK: usize = 256 << 10;

/// First message of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The client's protocol version.
    pub protocol: u32,
    /// The client's staffctl version.
    pub version: String,
    /// SSH client address and tty the client runs on (the server takes OS user and pid from the
    /// socket's peer credentials, never from here).
    pub origin: Origin,
}

/// The server's answer to [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Welcome {
    /// Versions match.
    Ok {
        /// The server's staffctl version.
        version: String,
        /// The data directory it serves.
        data_dir: String,
    },
    /// Versions differ; the message says which side to upgrade.
    Incompatible {
        /// The server's protocol version.
        protocol: u32,
        /// The server's staffctl version.
        version: String,
    },
}

/// A client's message after the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMsg {
    /// Whether the store has been initialised.
    IsInitialised,
    /// First-run initialisation (the wizard over the socket).
    Init(InitRequest),
    /// Authenticate this connection.
    Login {
        /// Username or login email.
        login: String,
        /// Password.
        password: String,
    },
    /// A service request, for the session of this connection.
    Call(Request),
    /// Stream an audit export; answered by chunks, then [`ServerMsg::ExportDone`].
    Export {
        /// Filters.
        query: AuditQuery,
        /// Format.
        format: Format,
    },
    /// Drop the session.
    Logout,
    /// May this login and password be used (and at this facility)? No session needed.
    AuthVerify {
        /// Username or login email.
        login: String,
        /// Password.
        password: String,
        /// Facility the program is used at.
        facility: Option<String>,
        /// Device the login comes from (for new-device approval).
        device: Option<String>,
    },
    /// Activate an invited account with its code. No session needed.
    Activate {
        /// Username or email.
        login: String,
        /// The one-time code.
        code: String,
        /// The new password.
        password: String,
    },
    /// Does this user hold this permission (at this facility)? No session needed.
    AuthCan {
        /// User.
        user: String,
        /// Permission key.
        permission: String,
        /// Facility.
        facility: Option<String>,
    },
}

/// A server's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMsg {
    /// Answer to `IsInitialised`.
    Initialised(bool),
    /// Login (or init) worked; the connection now acts as this user.
    LoggedIn {
        /// User id.
        user_id: Id,
        /// Username or email.
        label: String,
    },
    /// Answer to `Call`.
    Response(std::result::Result<Response, Error>),
    /// A piece of an export.
    ExportChunk(Vec<u8>),
    /// End of an export: events written, or why it failed.
    ExportDone(std::result::Result<u64, Error>),
    /// Answer to `Logout`, or a refusal of any message (`Err`).
    Done(std::result::Result<(), Error>),
}

fn io_err(e: std::io::Error) -> Error {
    Error::Storage(format!("connection to staffctl serve failed: {e}"))
}

/// Writes one frame: 4-byte big-endian length, then the bincode payload.
pub fn write_frame<T: Serialize>(out: &mut impl Write, msg: &T) -> Result<()> {
    let body = bincode::serde::encode_to_vec(msg, bincode::config::standard())
        .map_err(|e| Error::Storage(format!("cannot encode a message: {e}")))?;
    let len = u32::try_from(body.len())
        .ok()
        .filter(|l| *l <= MAX_REPLY)
        .ok_or_else(|| {
            Error::Storage(format!(
                "message of {} bytes is larger than the {MAX_REPLY}-byte limit",
                body.len()
            ))
        })?;
    out.write_all(&len.to_be_bytes()).map_err(io_err)?;
    out.write_all(&body).map_err(io_err)?;
    out.flush().map_err(io_err)
}

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The peer closed the connection cleanly between frames.
    Closed,
    /// A read failed or timed out.
    Io(std::io::Error),
    /// The announced length is over [`MAX_FRAME`].
    TooLarge(u32),
    /// The bytes are not a valid message.
    Garbage(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Closed => write!(f, "connection closed"),
            Self::Io(e) => write!(f, "read failed: {e}"),
            Self::TooLarge(n) => write!(f, "frame of {n} bytes exceeds the size limit"),
            Self::Garbage(e) => write!(f, "not a staffctl message: {e}"),
        }
    }
}

/// Reads one frame and decodes it.
/// Reads one request frame (at most [`MAX_FRAME`] bytes) and decodes it.
pub fn read_frame<T: DeserializeOwned>(
    input: &mut impl Read,
) -> std::result::Result<T, FrameError> {
    read_limited(input, MAX_FRAME)
}

/// Reads one reply frame (at most [`MAX_REPLY`] bytes) and decodes it.
pub fn read_reply<T: DeserializeOwned>(
    input: &mut impl Read,
) -> std::result::Result<T, FrameError> {
    read_limited(input, MAX_REPLY)
}

fn read_limited<T: DeserializeOwned>(
    input: &mut impl Read,
    limit: u32,
) -> std::result::Result<T, FrameError> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(FrameError::Closed),
        Err(e) => return Err(FrameError::Io(e)),
    }
    let len = u32::from_be_bytes(len);
    if len > limit {
        return Err(FrameError::TooLarge(len));
    }
    let mut body = vec![0u8; usize::try_from(len).unwrap_or(0)];
    input.read_exact(&mut body).map_err(FrameError::Io)?;
    let (msg, used) = bincode::serde::decode_from_slice(&body, bincode::config::standard())
        .map_err(|e| FrameError::Garbage(e.to_string()))?;
    if used != body.len() {
        return Err(FrameError::Garbage(format!(
            "{} trailing bytes",
            body.len() - used
        )));
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_bad_frames_are_named() {
        let mut buf = Vec::new();
        let msg = ClientMsg::Login {
            login: "ada".into(),
            password: "pw".into(),
        };
        write_frame(&mut buf, &msg).unwrap();
        let back: ClientMsg = read_frame(&mut buf.as_slice()).unwrap();
        assert_eq!(back, msg);

        let huge = (MAX_FRAME + 1).to_be_bytes();
        assert!(matches!(
            read_frame::<ClientMsg>(&mut huge.as_slice()),
            Err(FrameError::TooLarge(_))
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
        let mut buf = Vec::new();
        write_frame(&mut buf, &big).unwrap();
        assert_eq!(read_reply::<ServerMsg>(&mut buf.as_slice()).unwrap(), big);
        assert!(matches!(
            read_frame::<ServerMsg>(&mut buf.as_slice()),
            Err(FrameError::TooLarge(_))
        ));
        let truncated = [0, 0, 0, 9, 1];
        assert!(matches!(
            read_frame::<ClientMsg>(&mut truncated.as_slice()),
            Err(FrameError::Io(_))
        ));
    }
}
