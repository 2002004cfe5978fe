//! `staffctl serve`: owns the store and serves every service operation over a Unix socket, one
//! thread per connection. Bad clients (oversized frames, garbage, silence, disconnects) lose
//! their connection and nobody else notices. SIGTERM finishes in-flight requests, flushes and
//! removes the socket.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::protocol::{
    self, ClientMsg, EXPORT_CHUNK, FrameError, Hello, PROTOCOL, ServerMsg, Welcome,
};
use crate::audit::Origin;
use crate::error::{Error, Result};
use crate::security::sanitize::for_terminal;
use crate::service::{Request, Response, Service, Session};

/// How long a new connection has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the rest of a frame may take once its first byte arrived.
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// How often blocked reads wake up to check for shutdown.
const TICK: Duration = Duration::from_millis(250);

/// Logs one line to standard error (journald when run by systemd), sanitised.
pub fn log(msg: &str) {
    eprintln!(
        "{} staffctl serve: {}",
        jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        for_terminal(msg)
    );
}

/// A running server's shared state.
struct Shared {
    svc: Arc<Service>,
    stop: Arc<AtomicBool>,
    in_flight: AtomicUsize,
}

/// Binds the socket: replaces a stale socket file, refuses when another server answers.
pub fn bind(path: &Path) -> Result<UnixListener> {
    if let Ok(meta) = std::fs::metadata(path) {
        // Only ever remove a socket: `--socket` pointing at a file must not delete it.
        if !meta.file_type().is_socket() {
            return Err(Error::Usage(format!(
                "{} exists and is not a socket; pass another --socket PATH",
                path.display()
            )));
        }
        match UnixStream::connect(path) {
            Ok(_) => {
                return Err(Error::Busy(format!(
                    "a staffctl server already answers on {}; stop it first (or use --socket PATH)",
                    path.display()
                )));
            }
            // Nothing listens: the socket is left over from a server that died.
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
            Err(e) => {
                return Err(Error::Storage(format!(
                    "cannot tell whether a staffctl server answers on {}: {e}",
                    path.display()
                )));
            }
        }
        log(&format!("removing stale socket {}", path.display()));
        std::fs::remove_file(path).map_err(|e| {
            Error::Storage(format!(
                "cannot remove stale socket {}: {e}",
                path.display()
            ))
        })?;
    }
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Storage(format!("cannot create {}: {e}", dir.display())))?;
    }
    let listener = UnixListener::bind(path)
        .map_err(|e| Error::Storage(format!("cannot listen on {}: {e}", path.display())))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(|e| {
        Error::Storage(format!("cannot set permissions on {}: {e}", path.display()))
    })?;
    if let Ok(Some(group)) = nix::unistd::Group::from_name("staffctl") {
        // Members of the staffctl group may connect; failing to chown is not fatal.
        if let Err(e) = nix::unistd::chown(path, None, Some(group.gid)) {
            log(&format!(
                "cannot give {} to group staffctl: {e}",
                path.display()
            ));
        }
    }
    Ok(listener)
}

/// Tells systemd (Type=notify) that the server is ready, when started by systemd.
fn notify_ready() {
    let Some(addr) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let _ = sock.send_to(b"READY=1", PathBuf::from(addr));
}

/// Serves until `stop` is set, then drains connections, flushes and removes the socket.
pub fn serve(
    svc: Arc<Service>,
    listener: UnixListener,
    socket: &Path,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    // Block in accept, waking every tick to check `stop`: Linux applies SO_RCVTIMEO to accept.
    // Where that fails, poll a non-blocking listener instead (a new connection then waits up to
    // one poll interval before it is accepted).
    let wakes = cfg!(target_os = "linux")
        && nix::sys::socket::setsockopt(
            &listener,
            nix::sys::socket::sockopt::ReceiveTimeout,
            &nix::sys::time::TimeVal::new(0, TICK.as_micros().try_into().unwrap_or(250_000)),
        )
        .is_ok();
    listener
        .set_nonblocking(!wakes)
        .map_err(|e| Error::Storage(format!("socket setup failed: {e}")))?;
    let shared = Arc::new(Shared {
        svc,
        stop: Arc::clone(&stop),
        in_flight: AtomicUsize::new(0),
    });
    log(&format!(
        "serving {} on {}",
        shared.svc.data_dir().display(),
        socket.display()
    ));
    notify_ready();
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(&shared);
                workers.retain(|w| !w.is_finished());
                workers.push(std::thread::spawn(move || connection(&shared, stream)));
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if !wakes {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            Err(e) => {
                log(&format!("accept failed: {e}"));
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    log("shutting down: finishing requests in flight");
    drop(listener);
    let _ = std::fs::remove_file(socket);
    let deadline = Instant::now() + Duration::from_secs(10);
    for w in workers {
        while !w.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if w.is_finished() {
            let _ = w.join();
        }
    }
    shared.svc.flush()?;
    log("stopped");
    Ok(())
}

/// The OS user and pid of the peer, from the kernel (SO_PEERCRED).
fn peer_origin(stream: &UnixStream) -> (String, u32) {
    match nix::sys::socket::getsockopt(stream, nix::sys::socket::sockopt::PeerCredentials) {
        Ok(cred) => {
            let uid = nix::unistd::Uid::from_raw(cred.uid());
            let name = nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .map_or_else(|| format!("uid {uid}"), |u| u.name);
            (name, u32::try_from(cred.pid()).unwrap_or(0))
        }
        Err(_) => ("unknown".into(), 0),
    }
}

/// Reads the next frame, waking every tick to honour shutdown; `Ok(None)` means stop.
fn next_frame(
    stream: &mut UnixStream,
    stop: &AtomicBool,
    first_byte_within: Option<Duration>,
) -> std::result::Result<Option<ClientMsg>, FrameError> {
    stream
        .set_read_timeout(Some(TICK))
        .map_err(FrameError::Io)?;
    let started = Instant::now();
    let mut first = [0u8; 1];
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(None);
        }
        match stream.read(&mut first) {
            Ok(0) => return Err(FrameError::Closed),
            Ok(_) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                if first_byte_within.is_some_and(|limit| started.elapsed() > limit) {
                    return Err(FrameError::Io(std::io::Error::new(
                        ErrorKind::TimedOut,
                        "client sent nothing",
                    )));
                }
            }
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    stream
        .set_read_timeout(Some(FRAME_TIMEOUT))
        .map_err(FrameError::Io)?;
    let mut rest = (&first[..]).chain(&mut *stream);
    protocol::read_frame(&mut rest).map(Some)
}

/// Sends export data as chunk frames.
struct ChunkWriter<'a> {
    stream: &'a mut UnixStream,
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
        protocol::write_frame(self.stream, &chunk).map_err(|e| std::io::Error::other(e.to_string()))
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

fn connection(shared: &Shared, mut stream: UnixStream) {
    // A client that stops reading (e.g. mid-export) cannot hold this thread for ever.
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let (os_user, pid) = peer_origin(&stream);
    let who = format!("{os_user} pid {pid}");
    let hello: Hello = match next_frame_as(&mut stream, &shared.stop) {
        Ok(Some(h)) => h,
        Ok(None) => return,
        Err(e) => {
            log(&format!("{who}: dropped before hello: {e}"));
            return;
        }
    };
    if hello.protocol != PROTOCOL {
        let _ = protocol::write_frame(
            &mut stream,
            &Welcome::Incompatible {
                protocol: PROTOCOL,
                version: env!("CARGO_PKG_VERSION").into(),
            },
        );
        log(&format!(
            "{who}: refused protocol {} (server speaks {PROTOCOL})",
            hello.protocol
        ));
        return;
    }
    let welcome = Welcome::Ok {
        version: env!("CARGO_PKG_VERSION").into(),
        data_dir: shared.svc.data_dir().display().to_string(),
    };
    if protocol::write_frame(&mut stream, &welcome).is_err() {
        return;
    }
    let origin = Origin {
        os_user,
        pid,
        ssh_client: hello.origin.ssh_client,
        tty: hello.origin.tty,
    };
    let mut auth: Option<Authenticated> = None;
    loop {
        let msg = match next_frame(&mut stream, &shared.stop, None) {
            Ok(Some(m)) => m,
            Ok(None) | Err(FrameError::Closed) => return,
            Err(e) => {
                log(&format!("{who}: dropping connection: {e}"));
                if matches!(e, FrameError::TooLarge(_) | FrameError::Garbage(_)) {
                    let _ = protocol::write_frame(
                        &mut stream,
                        &ServerMsg::Done(Err(Error::Usage(format!("bad request: {e}")))),
                    );
                }
                return;
            }
        };
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        let reply = handle(shared, &mut stream, &origin, &mut auth, msg);
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        match reply {
            Ok(Some(r)) => {
                if let Err(e) = protocol::write_frame(&mut stream, &r) {
                    log(&format!("{who}: cannot answer: {e}"));
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => {
                log(&format!("{who}: {e}"));
                return;
            }
        }
    }
}

fn next_frame_as<T: serde::de::DeserializeOwned>(
    stream: &mut UnixStream,
    stop: &AtomicBool,
) -> std::result::Result<Option<T>, FrameError> {
    stream
        .set_read_timeout(Some(HELLO_TIMEOUT))
        .map_err(FrameError::Io)?;
    if stop.load(Ordering::SeqCst) {
        return Ok(None);
    }
    protocol::read_frame(stream).map(Some)
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
    stream: &mut UnixStream,
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
            Ok(session) => ServerMsg::Response(svc.call(session, request)),
            Err(e) => ServerMsg::Response(Err(e)),
        },
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
                        .map_err(|e| Error::Storage(format!("cannot send the export: {e}")))?;
                    Ok(n)
                });
            ServerMsg::ExportDone(result)
        }
    }))
}
