//! `staffctl serve`: owns the store and serves every service operation over a Unix socket, one
//! thread per connection, up to [`ServeOptions::max_connections`] at a time (more are told the
//! server is busy and closed). Bad clients (oversized, deep, garbage or slow frames, silence,
//! disconnects) lose their connection and nobody else notices (see `remote::connection`).
//! SIGTERM finishes in-flight requests, flushes and removes the socket.
//!
//! The server logs through `tracing`; the binary's `serve` command sends that to standard error
//! (journald under systemd). Text that came from clients is sanitised before it is logged.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use super::connection::MAX_ORIGIN_CHARS;
use super::connection::{Shared, serve_connection};
use super::protocol::{self, Welcome};
use crate::error::{Error, Result};
use crate::security::sanitize::for_terminal;
use crate::service::Service;

/// How often the accept loop wakes up to check for shutdown.
const TICK: Duration = Duration::from_millis(250);

/// At most one line about refused connections per this interval (a flood of them must not
/// flood the journal); the next line says how many were refused meanwhile.
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Limits and deadlines of a server. [`Default`] gives the documented values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// Connections served at once; one more is answered [`Welcome::Busy`] and closed.
    pub max_connections: usize,
    /// A new connection's whole hello must arrive within this.
    pub hello_timeout: Duration,
    /// Any later frame must arrive whole within this of its first byte.
    pub frame_timeout: Duration,
    /// A write to a client that does not read fails after this.
    pub write_timeout: Duration,
}

impl ServeOptions {
    /// Connections served at once by default.
    pub const MAX_CONNECTIONS: usize = 64;
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_connections: Self::MAX_CONNECTIONS,
            hello_timeout: Duration::from_secs(5),
            frame_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
        }
    }
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
                return Err(Error::Connection(format!(
                    "cannot tell whether a staffctl server answers on {}: {e}",
                    path.display()
                )));
            }
        }
        tracing::info!(
            "removing stale socket {}",
            for_terminal(&path.display().to_string())
        );
        std::fs::remove_file(path).map_err(|e| {
            Error::Connection(format!(
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
            .map_err(|e| Error::Connection(format!("cannot create {}: {e}", dir.display())))?;
    }
    let listener = UnixListener::bind(path)
        .map_err(|e| Error::Connection(format!("cannot listen on {}: {e}", path.display())))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(|e| {
        Error::Connection(format!("cannot set permissions on {}: {e}", path.display()))
    })?;
    if let Ok(Some(group)) = nix::unistd::Group::from_name("staffctl") {
        // Members of the staffctl group may connect; failing to chown is not fatal.
        if let Err(e) = nix::unistd::chown(path, None, Some(group.gid)) {
            tracing::warn!(
                "cannot give {} to group staffctl: {e}",
                for_terminal(&path.display().to_string())
            );
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

/// Serves until `stop` is set with the default [`ServeOptions`], then drains connections,
/// flushes and removes the socket.
pub fn serve(
    svc: Arc<Service>,
    listener: UnixListener,
    socket: &Path,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    serve_with(svc, listener, socket, stop, ServeOptions::default())
}

/// Serves until `stop` is set, then drains connections, flushes and removes the socket.
pub fn serve_with(
    svc: Arc<Service>,
    listener: UnixListener,
    socket: &Path,
    stop: Arc<AtomicBool>,
    options: ServeOptions,
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
        .map_err(|e| Error::Connection(format!("socket setup failed: {e}")))?;
    let shared = Arc::new(Shared {
        svc,
        stop: Arc::clone(&stop),
        options,
        in_flight: AtomicUsize::new(0),
    });
    tracing::info!(
        "serving {} on {} (at most {} connections)",
        for_terminal(&shared.svc.data_dir().display().to_string()),
        for_terminal(&socket.display().to_string()),
        shared.options.max_connections
    );
    notify_ready();
    let open = Arc::new(AtomicUsize::new(0));
    let mut refusals = Refusals::default();
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                workers.retain(|w| !w.is_finished());
                if open.load(Ordering::SeqCst) >= shared.options.max_connections {
                    refuse(stream, shared.options.max_connections, &mut refusals);
                    continue;
                }
                if let Some(worker) = spawn_connection(&shared, &open, stream) {
                    workers.push(worker);
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if !wakes {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    tracing::info!("shutting down: finishing requests in flight");
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
    tracing::info!("stopped");
    Ok(())
}

/// Counts the connection as open until its thread ends (also by a panic).
struct OpenSlot(Arc<AtomicUsize>);

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts the thread of a new connection; `None` (logged) when the system has no thread for it.
fn spawn_connection(
    shared: &Arc<Shared>,
    open: &Arc<AtomicUsize>,
    stream: UnixStream,
) -> Option<JoinHandle<()>> {
    open.fetch_add(1, Ordering::SeqCst);
    let slot = OpenSlot(Arc::clone(open));
    let shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("staffctl-conn".into())
        .spawn(move || {
            let _slot = slot;
            let (os_user, pid) = peer_origin(&stream);
            serve_connection(&shared, stream, os_user, pid);
        });
    match spawned {
        Ok(worker) => Some(worker),
        Err(e) => {
            // The closure (with the stream and the slot) was dropped: the client sees the
            // connection closed and the slot is free again.
            tracing::warn!("cannot start a thread for a new connection: {e}");
            None
        }
    }
}

/// How many connections were refused since the last line about them.
#[derive(Default)]
struct Refusals {
    last_logged: Option<Instant>,
    unlogged: u64,
}

/// Tells a connection over the limit that the server is busy, without reading from it or
/// waiting for it, and closes it.
fn refuse(stream: UnixStream, max_connections: usize, refusals: &mut Refusals) {
    // A fresh socket's send buffer takes a small frame at once; never block the accept loop.
    if stream.set_nonblocking(true).is_ok() {
        let busy = Welcome::Busy {
            max_connections: u32::try_from(max_connections).unwrap_or(u32::MAX),
        };
        let _ = protocol::write_frame(&mut &stream, &busy);
    }
    refusals.unlogged += 1;
    if refusals
        .last_logged
        .is_none_or(|t| t.elapsed() >= REFUSAL_LOG_INTERVAL)
    {
        let (os_user, pid) = peer_origin(&stream);
        tracing::warn!(
            "refused {} connection(s), the last from {} pid {pid}: {max_connections} connections are open, the limit",
            refusals.unlogged,
            for_terminal(&os_user)
        );
        refusals.last_logged = Some(Instant::now());
        refusals.unlogged = 0;
    }
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
