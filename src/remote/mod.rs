//! One owner, many clients: `staffctl serve`, or an interface that opened the store itself
//! ([`beside`]), owns the store and answers the service's requests over a Unix socket;
//! [`backend::Backend`] lets the CLI and the interface use that socket when a server answers,
//! and open the store directly when none does.

pub mod backend;
pub mod beside;
mod busy;
pub mod client;
mod connection;
mod depth;
pub mod protocol;
pub mod server;

use std::path::{Path, PathBuf};

/// Socket path used by the system service (systemd `RuntimeDirectory=staffctl`).
pub const SYSTEM_SOCKET: &str = "/run/staffctl/staffctl.sock";

/// Socket file name inside the data directory (when not run as a system service).
pub const SOCKET_NAME: &str = "staffctl.sock";

/// The socket `serve` listens on by default: the system path when its directory exists and is
/// writable (running as the service), else a socket inside the data directory.
pub fn default_socket(data_dir: &Path) -> PathBuf {
    let system = Path::new(SYSTEM_SOCKET);
    match system.parent() {
        Some(dir)
            if dir.is_dir() && nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_ok() =>
        {
            system.to_path_buf()
        }
        _ => data_dir.join(SOCKET_NAME),
    }
}

/// Sockets a client tries, in order: the data directory's, then the system one.
pub fn candidate_sockets(data_dir: &Path) -> Vec<PathBuf> {
    vec![data_dir.join(SOCKET_NAME), PathBuf::from(SYSTEM_SOCKET)]
}
