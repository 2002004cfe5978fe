//! One client connection of `staffctl serve`: the handshake, frames read against deadlines and
//! size limits, the session bound to the connection, and the answer to each message.
//!
//! A frame must arrive whole within its deadline (counted from its first byte, or from the
//! connection's start for the hello), however the bytes are spread over reads. Until the
//! connection has logged in, frames are limited to [`MAX_FRAME_BEFORE_LOGIN`].

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::protocol::{
    self, ClientMsg, EXPORT_CHUNK, FrameError, Hello, MAX_FRAME, MAX_FRAME_BEFORE_LOGIN, PROTOCOL,
    ServerMsg, Welcome,
};
use super::server::ServeOptions;
use crate::error::Error;
use crate::security::sanitize::for_terminal;
use crate::service::Origin;
use crate::service::{Request, Response, Service, Session};

/// Longest `ssh_client` or `tty` text a client may put in the origin of its audit events
/// (characters, after control characters are removed).
pub const MAX_ORIGIN_CHARS: usize = 64;

/// How often blocked reads wake up to check for shutdown.
const TICK: Duration = Duration::from_millis(250);

/// What every connection of a server shares.
pub(super) struct Shared {
    pub(super) svc: Arc<Service>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) options: ServeOptions,
    /// Requests being answered right now.
    pub(super) in_flight: AtomicUsize,
}

/// Reads from the socket against a deadline for the whole frame, waking every tick to check
/// for shutdown. Before the frame's first byte the wait is bounded by `idle_until` (or not at
/// all); from the first byte the rest must come within `frame_timeout`.
struct DeadlineReader<'a> {
    stream: &'a UnixStream,
    stop: &'a AtomicBool,
    idle_until: Option<Instant>,
    frame_timeout: Duration,
    frame_until: Option<Instant>,
    /// The socket's read timeout as last set, so it is set only when it changes.
    timeout: Option<Duration>,
    /// Set when a read gave up because the server is stopping.
    stopped: bool,
}

impl<'a> DeadlineReader<'a> {
    fn new(stream: &'a UnixStream, stop: &'a AtomicBool, frame_timeout: Duration) -> Self {
        Self {
            stream,
            stop,
            idle_until: None,
            frame_timeout,
            frame_until: None,
            timeout: None,
            stopped: false,
        }
    }

    /// Reads the next frame of at most `limit` bytes, waiting for its first byte until
    /// `idle_until` (or for ever); `Ok(None)` means the server is stopping.
    fn next_frame<T: serde::de::DeserializeOwned>(
        &mut self,
        idle_until: Option<Instant>,
        limit: u32,
    ) -> std::result::Result<Option<T>, FrameError> {
        self.idle_until = idle_until;
        self.frame_until = None;
        let mut body = Vec::new();
        match protocol::read_body(self, limit, &mut body) {
            Ok(()) => protocol::decode_frame(&body).map(Some),
            Err(_) if self.stopped => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn set_timeout(&mut self, wait: Duration) -> std::io::Result<()> {
        // A zero timeout means "block for ever" to the socket.
        let wait = wait.max(Duration::from_millis(1));
        if self.timeout != Some(wait) {
            self.stream.set_read_timeout(Some(wait))?;
            self.timeout = Some(wait);
        }
        Ok(())
    }
}

impl Read for DeadlineReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.stop.load(Ordering::SeqCst) {
                self.stopped = true;
                return Err(std::io::Error::other("the server is stopping"));
            }
            let (until, what) = match self.frame_until {
                Some(t) => (Some(t), "the rest of the frame did not arrive"),
                None => (self.idle_until, "the client sent nothing"),
            };
            let wait = match until {
                Some(t) => {
                    let left = t.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(std::io::Error::new(ErrorKind::TimedOut, what));
                    }
                    left.min(TICK)
                }
                None => TICK,
            };
            self.set_timeout(wait)?;
            match (&*self.stream).read(buf) {
                Ok(n) => {
                    if n > 0 && self.frame_until.is_none() {
                        let limit = Instant::now() + self.frame_timeout;
                        self.frame_until = Some(self.idle_until.map_or(limit, |t| t.min(limit)));
                    }
                    return Ok(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// `ssh_client` or `tty` as the client gave it, made safe for the audit log: controls and
/// escape sequences removed, at most [`MAX_ORIGIN_CHARS`] characters, `None` when nothing is
/// left.
pub fn bounded_origin_text(text: Option<&str>) -> Option<String> {
    let clean: String = for_terminal(text?.trim())
        .chars()
        .take(MAX_ORIGIN_CHARS)
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_string())
}

/// Sends export data as chunk frames.
struct ChunkWriter<'a> {
    stream: &'a UnixStream,
    buf: Vec<u8>,
}

impl Write for ChunkWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= EXPORT_CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = ServerMsg::ExportChunk(std::mem::take(&mut self.buf));
        protocol::write_frame(&mut &*self.stream, &chunk)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// Sends a backup over the connection: its header as a frame of its own, then its body in
/// chunks.
struct BackupFrames<'a> {
    body: ChunkWriter<'a>,
}

impl crate::service::backup::BackupSink for BackupFrames<'_> {
    fn start(
        &mut self,
        header: &crate::service::backup::BackupHeader,
    ) -> crate::error::Result<&mut dyn Write> {
        protocol::write_frame(
            &mut &*self.body.stream,
            &ServerMsg::BackupHeader(Box::new(header.clone())),
        )?;
        Ok(&mut self.body)
    }
}

/// The session of a connection, with its last use for the idle timeout.
struct Authenticated {
    session: Session,
    last_used: Instant,
    idle: Duration,
}

fn idle_timeout(svc: &Service, session: &Session) -> Duration {
    match svc.call(session, Request::PracticeShow) {
        Ok(Response::Practice(p)) => {
            Duration::from_secs(u64::from(p.settings.idle_timeout_minutes) * 60)
        }
        _ => Duration::from_secs(15 * 60),
    }
}

/// Serves one connection until the client leaves, misbehaves, or the server stops.
pub(super) fn serve_connection(shared: &Shared, stream: UnixStream, os_user: String, pid: u32) {
    // A client that stops reading (e.g. mid-export) cannot hold this thread for ever.
    let _ = stream.set_write_timeout(Some(shared.options.write_timeout));
    let who = format!("{os_user} pid {pid}");
    let mut reader = DeadlineReader::new(&stream, &shared.stop, shared.options.frame_timeout);
    let hello_until = Instant::now() + shared.options.hello_timeout;
    let hello: Hello = match reader.next_frame(Some(hello_until), MAX_FRAME_BEFORE_LOGIN) {
        Ok(Some(h)) => h,
        Ok(None) => return,
        Err(e) => {
            tracing::info!(
                "{}: dropped before hello: {}",
                for_terminal(&who),
                for_terminal(&e.to_string())
            );
            return;
        }
    };
    if hello.protocol != PROTOCOL {
        let _ = protocol::write_frame(
            &mut &stream,
            &Welcome::Incompatible {
                protocol: PROTOCOL,
                version: env!("CARGO_PKG_VERSION").into(),
            },
        );
        tracing::info!(
            "{}: refused protocol {} (server speaks {PROTOCOL})",
            for_terminal(&who),
            hello.protocol
        );
        return;
    }
    let welcome = Welcome::Ok {
        version: env!("CARGO_PKG_VERSION").into(),
        data_dir: shared.svc.data_dir().display().to_string(),
    };
    if protocol::write_frame(&mut &stream, &welcome).is_err() {
        return;
    }
    let origin = Origin {
        os_user,
        pid,
        ssh_client: bounded_origin_text(hello.origin.ssh_client.as_deref()),
        tty: bounded_origin_text(hello.origin.tty.as_deref()),
    };
    let mut auth: Option<Authenticated> = None;
    loop {
        let limit = if auth.is_some() {
            MAX_FRAME
        } else {
            MAX_FRAME_BEFORE_LOGIN
        };
        let msg = match reader.next_frame(None, limit) {
            Ok(Some(m)) => m,
            Ok(None) | Err(FrameError::Closed) => return,
            Err(e) => {
                tracing::info!(
                    "{}: dropping connection: {}",
                    for_terminal(&who),
                    for_terminal(&e.to_string())
                );
                if matches!(e, FrameError::TooLarge { .. } | FrameError::Garbage(_)) {
                    let _ = protocol::write_frame(
                        &mut &stream,
                        &ServerMsg::Done(Err(Error::Usage(format!("bad request: {e}")))),
                    );
                }
                return;
            }
        };
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        let reply = handle(shared, &stream, &origin, &mut auth, msg);
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        match reply {
            Ok(Some(r)) => {
                if let Err(e) = protocol::write_frame(&mut &stream, &r) {
                    tracing::info!(
                        "{}: cannot answer: {}",
                        for_terminal(&who),
                        for_terminal(&e.to_string())
                    );
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!("{}: {}", for_terminal(&who), for_terminal(&e));
                return;
            }
        }
    }
}

fn session_of(auth: &mut Option<Authenticated>) -> std::result::Result<&Session, Error> {
    if auth
        .as_ref()
        .is_some_and(|a| a.last_used.elapsed() > a.idle)
    {
        *auth = None;
        return Err(Error::Denied(
            "your session expired after the idle timeout; log in again".into(),
        ));
    }
    match auth {
        Some(a) => {
            a.last_used = Instant::now();
            Ok(&a.session)
        }
        None => Err(Error::Denied("not logged in; log in first".into())),
    }
}

fn handle(
    shared: &Shared,
    stream: &UnixStream,
    origin: &Origin,
    auth: &mut Option<Authenticated>,
    msg: ClientMsg,
) -> std::result::Result<Option<ServerMsg>, String> {
    let svc = &shared.svc;
    let logged_in = |session: Session, auth: &mut Option<Authenticated>| {
        let idle = idle_timeout(svc, &session);
        let reply = ServerMsg::LoggedIn {
            user_id: session.user_id(),
            label: session.label().to_string(),
        };
        *auth = Some(Authenticated {
            session,
            last_used: Instant::now(),
            idle,
        });
        reply
    };
    Ok(Some(match msg {
        ClientMsg::IsInitialised => match svc.is_initialised() {
            Ok(b) => ServerMsg::Initialised(b),
            Err(e) => ServerMsg::Done(Err(e)),
        },
        ClientMsg::Init(req) => match svc.init(&req, origin) {
            Ok(session) => logged_in(session, auth),
            Err(e) => ServerMsg::Done(Err(e)),
        },
        ClientMsg::Login { login, password } => match svc.login(&login, &password, origin) {
            Ok(session) => logged_in(session, auth),
            Err(e) => {
                *auth = None;
                ServerMsg::Done(Err(e))
            }
        },
        ClientMsg::AuthVerify {
            login,
            password,
            facility,
            device,
        } => ServerMsg::Done(svc.verify_login(
            &login,
            &password,
            facility.as_deref(),
            device.as_deref(),
            origin,
        )),
        ClientMsg::AuthCan {
            user,
            permission,
            facility,
        } => ServerMsg::Done(svc.can(&user, &permission, facility.as_deref())),
        ClientMsg::Activate {
            login,
            code,
            password,
        } => ServerMsg::Done(svc.activate(&login, &code, &password, origin)),
        ClientMsg::Logout => {
            *auth = None;
            ServerMsg::Done(Ok(()))
        }
        ClientMsg::Call(request) => match session_of(auth) {
            Ok(session) => ServerMsg::Response(
                protocol::check_call(&request).and_then(|()| svc.call(session, request)),
            ),
            Err(e) => ServerMsg::Response(Err(e)),
        },
        ClientMsg::Backup => {
            let session = match session_of(auth) {
                Ok(s) => s.clone(),
                Err(e) => return Ok(Some(ServerMsg::ExportDone(Err(e)))),
            };
            let mut frames = BackupFrames {
                body: ChunkWriter {
                    stream,
                    buf: Vec::with_capacity(EXPORT_CHUNK),
                },
            };
            let result = svc.backup(&session, &mut frames).and_then(|h| {
                frames
                    .body
                    .flush()
                    .map_err(|e| Error::Connection(format!("cannot send the backup: {e}")))?;
                Ok(h.counts.events)
            });
            ServerMsg::ExportDone(result)
        }
        ClientMsg::Export { query, format } => {
            let session = match session_of(auth) {
                Ok(s) => s.clone(),
                Err(e) => return Ok(Some(ServerMsg::ExportDone(Err(e)))),
            };
            let mut out = ChunkWriter {
                stream,
                buf: Vec::with_capacity(EXPORT_CHUNK),
            };
            let result = svc
                .audit_export(&session, &query, format, &mut out)
                .and_then(|n| {
                    out.flush()
                        .map_err(|e| Error::Connection(format!("cannot send the export: {e}")))?;
                    Ok(n)
                });
            ServerMsg::ExportDone(result)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_text_from_a_client_is_cleaned_and_bounded() {
        assert_eq!(
            bounded_origin_text(Some("/dev/pts/3")).as_deref(),
            Some("/dev/pts/3")
        );
        assert_eq!(bounded_origin_text(None), None);
        assert_eq!(bounded_origin_text(Some(" \u{7}\u{1b}[2J ")), None);
        let hostile = format!("\u{1b}]0;owned\u{7}10.0.0.1\n{}", "A".repeat(1 << 20));
        let clean = bounded_origin_text(Some(&hostile)).unwrap();
        assert_eq!(clean.chars().count(), MAX_ORIGIN_CHARS);
        assert!(clean.starts_with("10.0.0.1 AAA"), "{clean}");
        assert!(!clean.chars().any(char::is_control), "{clean:?}");
        // Characters, not bytes: a long name in another script is cut, not split.
        let wide = "ü".repeat(100);
        assert_eq!(
            bounded_origin_text(Some(&wide)).unwrap().chars().count(),
            MAX_ORIGIN_CHARS
        );
    }
}
