//! The server beside the interface. When the interface opens the store itself (no server
//! answered), it also answers other staffctl processes on the socket `staffctl serve` would use
//! for that data directory: the same dispatch ([`server::serve_with`]), limits, peer-credential
//! origins and logging, for as long as the interface runs. Commands, `auth verify` and a second
//! interface then find it as they find `staffctl serve`.
//!
//! Its log never reaches the terminal the interface draws on: it goes to [`LOG_NAME`] in the data
//! directory ([`LogFile`], at most [`LOG_LIMIT`] bytes before it is rotated once).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use super::server::{self, ServeOptions};
use crate::error::{Error, Result};
use crate::service::Service;

/// The log of the server beside the interface, inside the data directory.
pub const LOG_NAME: &str = "serve.log";

/// The previous log, kept once [`LOG_NAME`] reaches [`LOG_LIMIT`].
pub const OLD_LOG_NAME: &str = "serve.log.old";

/// Bytes a log file may reach before it is moved to [`OLD_LOG_NAME`] and started afresh, so a
/// flood of misbehaving clients costs at most twice this much disk.
pub const LOG_LIMIT: u64 = 1 << 20;

/// A server running in a thread of this process. Dropping it stops it as [`Beside::stop`] does
/// (also while a panic unwinds), so the socket never outlives the interface that answered on it.
pub struct Beside {
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    signals: Vec<signal_hook::SigId>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl std::fmt::Debug for Beside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Beside")
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

impl Beside {
    /// Binds `socket` (see [`server::bind`]: a stale socket is replaced, a live server or a file
    /// that is not a socket is refused) and serves `svc` on it in a new thread. SIGTERM, SIGHUP
    /// and SIGINT stop it at once, so the socket goes away even if the process then exits
    /// without returning through [`Beside::stop`].
    pub fn start(svc: Arc<Service>, socket: PathBuf, options: ServeOptions) -> Result<Self> {
        let listener = server::bind(&socket)?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut signals = Vec::new();
        for sig in [
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
            signal_hook::consts::SIGINT,
        ] {
            match signal_hook::flag::register(sig, Arc::clone(&stop)) {
                Ok(id) => signals.push(id),
                // Not fatal: quitting the interface still stops the server.
                Err(e) => tracing::warn!("cannot watch signal {sig}: {e}"),
            }
        }
        let spawned = std::thread::Builder::new()
            .name("staffctl-serve".into())
            .spawn({
                let socket = socket.clone();
                let stop = Arc::clone(&stop);
                move || server::serve_with(svc, listener, &socket, stop, options)
            });
        let mut beside = Self {
            socket,
            stop,
            signals,
            thread: None,
        };
        match spawned {
            Ok(thread) => {
                beside.thread = Some(thread);
                Ok(beside)
            }
            Err(e) => {
                // The listener went with the closure; the socket file must go too.
                let _ = std::fs::remove_file(&beside.socket);
                Err(Error::Storage(format!(
                    "cannot start a thread to serve on {}: {e}",
                    beside.socket.display()
                )))
            }
        }
    }

    /// The socket it answers on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Stops accepting, lets requests in flight finish, flushes the store and removes the
    /// socket; returns once the server thread has ended.
    pub fn stop(mut self) -> Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        for id in self.signals.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        match thread.join() {
            Ok(result) => result,
            Err(_) => {
                let _ = std::fs::remove_file(&self.socket);
                Err(Error::Storage(format!(
                    "the server on {} stopped with an internal error; the socket was removed",
                    self.socket.display()
                )))
            }
        }
    }
}

impl Drop for Beside {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!("{e}");
        }
    }
}

/// An append-only log file for `tracing` that moves itself to [`OLD_LOG_NAME`] (replacing the
/// one before) when it reaches its limit. Writes that fail are dropped: logging must never stop
/// the interface.
#[derive(Debug)]
pub struct LogFile {
    state: Mutex<LogState>,
}

#[derive(Debug)]
struct LogState {
    path: PathBuf,
    old: PathBuf,
    file: Option<File>,
    written: u64,
    limit: u64,
}

impl LogFile {
    /// Opens (creating, mode 0600) [`LOG_NAME`] in `data_dir`, rotating it first when it is
    /// already at [`LOG_LIMIT`].
    pub fn open(data_dir: &Path) -> Result<Self> {
        Self::with_limit(data_dir, LOG_LIMIT)
    }

    fn with_limit(data_dir: &Path, limit: u64) -> Result<Self> {
        let mut state = LogState {
            path: data_dir.join(LOG_NAME),
            old: data_dir.join(OLD_LOG_NAME),
            file: None,
            written: 0,
            limit,
        };
        state
            .reopen()
            .map_err(|e| Error::Storage(format!("cannot open {}: {e}", state.path.display())))?;
        if state.written >= limit {
            state.rotate();
        }
        Ok(Self {
            state: Mutex::new(state),
        })
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        // A panic while writing a log line leaves nothing half-done that matters.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl LogState {
    fn reopen(&mut self) -> std::io::Result<()> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)?;
        self.written = file.metadata()?.len();
        self.file = Some(file);
        Ok(())
    }

    fn rotate(&mut self) {
        self.file = None;
        let _ = std::fs::rename(&self.path, &self.old);
        if self.reopen().is_err() {
            self.file = None;
        }
    }
}

/// One log line being written (holds the file while it is).
pub struct LogWriter<'a>(MutexGuard<'a, LogState>);

impl Write for LogWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let state = &mut *self.0;
        if state.written >= state.limit {
            state.rotate();
        }
        if let Some(file) = state.file.as_mut()
            && file.write_all(buf).is_ok()
        {
            state.written += buf.len() as u64;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogFile {
    type Writer = LogWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter(self.lock())
    }
}

#[cfg(test)]
mod tests;
