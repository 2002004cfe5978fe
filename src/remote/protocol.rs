//! The wire protocol between `staffctl serve` and its clients: length-prefixed bincode frames
//! carrying the service's own request and response types. The first exchange is a version
//! handshake, so a newer client talking to an older server gets a clear message.

use std::io::{Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Id;
use crate::service::ExportFormat as Format;
use crate::service::Origin;
use crate::service::{AuditQuery, InitRequest, Request, Response};

/// Protocol version; bump on any change to the message types below or to a type they carry
/// (the golden bytes in `tests/fixtures/protocol-v{PROTOCOL}` catch one that was missed).
pub const PROTOCOL: u32 = 3;

/// Largest request frame the server accepts from a logged-in connection (bytes); a bigger one
/// closes the connection.
pub const MAX_FRAME: u32 = 8 << 20;

/// Largest frame the server accepts before the connection has logged in: enough for a hello,
/// a login, an activation or a first-run initialisation, and no more.
pub const MAX_FRAME_BEFORE_LOGIN: u32 = 64 << 10;

/// Largest reply frame a client accepts (bytes): a listing of 100,000 users is tens of MiB.
pub const MAX_REPLY: u32 = 1 << 30;

/// Deepest nesting of values a frame may carry (see `remote::depth`); the deepest message
/// staffctl sends nests about a dozen.
pub const MAX_DEPTH: usize = 64;

/// Export data travels in chunks of at most this many bytes.
pub const EXPORT_CHUNK: usize = 256 << 10;

/// Bytes read at first into a frame's buffer; it then grows with what has arrived, so an
/// announced length costs nothing until the bytes come.
const FIRST_READ: usize = 4 << 10;

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
    /// The server already serves as many connections as it allows; sent without reading the
    /// hello, then the connection is closed.
    Busy {
        /// The server's connection limit.
        max_connections: u32,
    },
}

/// A client's message after the handshake. Its `Debug` output leaves out passwords and codes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Stream a backup of the whole store; answered by [`ServerMsg::BackupHeader`], chunks of
    /// the body, then [`ServerMsg::ExportDone`] with the number of records.
    Backup,
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

impl std::fmt::Debug for ClientMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const HIDDEN: &str = "[redacted]";
        match self {
            Self::IsInitialised => f.write_str("IsInitialised"),
            Self::Init(req) => f.debug_tuple("Init").field(req).finish(),
            Self::Login { login, .. } => f
                .debug_struct("Login")
                .field("login", login)
                .field("password", &HIDDEN)
                .finish(),
            Self::Call(request) => f.debug_tuple("Call").field(request).finish(),
            Self::Export { query, format } => f
                .debug_struct("Export")
                .field("query", query)
                .field("format", format)
                .finish(),
            Self::Backup => f.write_str("Backup"),
            Self::Logout => f.write_str("Logout"),
            Self::AuthVerify {
                login,
                facility,
                device,
                ..
            } => f
                .debug_struct("AuthVerify")
                .field("login", login)
                .field("password", &HIDDEN)
                .field("facility", facility)
                .field("device", device)
                .finish(),
            Self::Activate { login, .. } => f
                .debug_struct("Activate")
                .field("login", login)
                .field("code", &HIDDEN)
                .field("password", &HIDDEN)
                .finish(),
            Self::AuthCan {
                user,
                permission,
                facility,
            } => f
                .debug_struct("AuthCan")
                .field("user", user)
                .field("permission", permission)
                .field("facility", facility)
                .finish(),
        }
    }
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
    /// A piece of an export (or of a backup's body).
    ExportChunk(Vec<u8>),
    /// The header of a backup, before its body.
    BackupHeader(Box<crate::service::backup::BackupHeader>),
    /// End of an export: events written, or why it failed.
    ExportDone(std::result::Result<u64, Error>),
    /// Answer to `Logout`, or a refusal of any message (`Err`).
    Done(std::result::Result<(), Error>),
}

fn io_err(e: std::io::Error) -> Error {
    Error::Connection(format!("connection to staffctl serve failed: {e}"))
}

/// Writes one frame: 4-byte big-endian length, then the bincode payload.
pub fn write_frame<T: Serialize>(out: &mut impl Write, msg: &T) -> Result<()> {
    let body = bincode::serde::encode_to_vec(msg, bincode::config::standard())
        .map_err(|e| Error::Internal(format!("cannot encode a message: {e}")))?;
    let len = u32::try_from(body.len())
        .ok()
        .filter(|l| *l <= MAX_REPLY)
        .ok_or_else(|| {
            Error::Connection(format!(
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
    /// The announced length is over the limit that applies.
    TooLarge {
        /// Announced length.
        len: u32,
        /// The limit.
        limit: u32,
    },
    /// The bytes are not a valid message.
    Garbage(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Closed => write!(f, "connection closed"),
            Self::Io(e) => write!(f, "read failed: {e}"),
            Self::TooLarge { len, limit } if *limit == MAX_FRAME_BEFORE_LOGIN => write!(
                f,
                "frame of {len} bytes exceeds the {limit}-byte limit before login; log in first"
            ),
            Self::TooLarge { len, limit } => {
                write!(f, "frame of {len} bytes exceeds the {limit}-byte limit")
            }
            Self::Garbage(e) => write!(f, "not a staffctl message: {e}"),
        }
    }
}

/// Reads one request frame (at most [`MAX_FRAME`] bytes) and decodes it.
pub fn read_frame<T: DeserializeOwned>(
    input: &mut impl Read,
) -> std::result::Result<T, FrameError> {
    read_frame_within(input, MAX_FRAME)
}

/// Reads one reply frame (at most [`MAX_REPLY`] bytes) and decodes it.
pub fn read_reply<T: DeserializeOwned>(
    input: &mut impl Read,
) -> std::result::Result<T, FrameError> {
    read_frame_within(input, MAX_REPLY)
}

/// Reads one frame of at most `limit` bytes and decodes it.
pub fn read_frame_within<T: DeserializeOwned>(
    input: &mut impl Read,
    limit: u32,
) -> std::result::Result<T, FrameError> {
    let mut body = Vec::new();
    read_body(input, limit, &mut body)?;
    decode_frame(&body)
}

/// Reads one frame's payload into `body` (cleared first). The length prefix is checked against
/// `limit` but never trusted to size the buffer: it grows with the bytes that arrive (to at
/// most twice what arrived, or 4 KiB).
pub fn read_body(
    input: &mut impl Read,
    limit: u32,
    body: &mut Vec<u8>,
) -> std::result::Result<(), FrameError> {
    body.clear();
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(FrameError::Closed),
        Err(e) => return Err(FrameError::Io(e)),
    }
    let len = u32::from_be_bytes(len);
    if len > limit {
        return Err(FrameError::TooLarge { len, limit });
    }
    let want = usize::try_from(len).map_err(|_| FrameError::TooLarge { len, limit })?;
    // `body[..filled]` has arrived; the rest of `body` is zeroed room, doubled when full, so
    // each byte is zeroed once and the room never exceeds twice what arrived (or FIRST_READ).
    let mut filled = 0;
    while filled < want {
        if filled == body.len() {
            body.resize(want.min(filled.max(FIRST_READ / 2) * 2), 0);
        }
        match input.read(&mut body[filled..]) {
            Ok(0) => {
                body.truncate(filled);
                return Err(FrameError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the frame ended after {filled} of its {want} bytes"),
                )));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                body.truncate(filled);
                return Err(FrameError::Io(e));
            }
        }
    }
    Ok(())
}

/// Decodes a frame's payload: exactly one message, nested at most [`MAX_DEPTH`] levels.
pub fn decode_frame<T: DeserializeOwned>(body: &[u8]) -> std::result::Result<T, FrameError> {
    let (msg, used) =
        super::depth::decode(body, MAX_DEPTH).map_err(|e| FrameError::Garbage(e.to_string()))?;
    if used != body.len() {
        return Err(FrameError::Garbage(format!(
            "{} trailing bytes",
            body.len() - used
        )));
    }
    Ok(msg)
}

/// Refuses a call the service should never see: a revision check (`Request::Expect`) whose
/// change is again a revision check. One level is all an editor needs.
pub fn check_call(request: &Request) -> Result<()> {
    if let Request::Expect { request: inner, .. } = request
        && matches!(**inner, Request::Expect { .. })
    {
        return Err(Error::invalid(
            "revision",
            "a revision check cannot hold another revision check; send the change inside one Expect",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
