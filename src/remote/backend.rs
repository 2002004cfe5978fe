//! What front ends talk to: the service in this process (the store opened directly), or a
//! `staffctl serve` over its socket. Both give the same answers to the same requests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::client::RemoteClient;
use crate::error::{Error, Result};
use crate::service::ExportFormat as Format;
use crate::service::Origin;
use crate::service::{AuditQuery, InitRequest, OpenOptions, Request, Response, Service, Session};

/// How to reach the store.
#[derive(Debug, Clone, Default)]
pub enum Route {
    /// Use a server if one answers, else open the store directly.
    #[default]
    Auto,
    /// Always open the store directly.
    Direct,
    /// Always use the server on this socket.
    Socket(PathBuf),
}

/// How long a command that found the store held, and no server, waits before looking for one
/// once more: an interface opens the store first and starts serving it right after.
const SERVER_START_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

/// Whether the server behind `client` serves the store in `data_dir`.
fn serves(client: &RemoteClient, data_dir: &Path) -> bool {
    let wanted = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let served =
        std::fs::canonicalize(&client.data_dir).unwrap_or_else(|_| PathBuf::from(&client.data_dir));
    served == wanted
}

/// The socket among the usual ones on which a server answers for the store in `data_dir`.
fn serving_socket(data_dir: &Path) -> Option<PathBuf> {
    super::candidate_sockets(data_dir)
        .into_iter()
        .find(|socket| {
            matches!(RemoteClient::connect(socket), Ok(Some(client)) if serves(&client, data_dir))
        })
}

/// A connection to the store.
pub enum Backend {
    /// The store opened in this process.
    Local(Arc<Service>),
    /// A server, over its socket.
    Remote {
        /// The connection (one request at a time).
        client: Mutex<RemoteClient>,
        /// The socket path, for messages.
        socket: PathBuf,
    },
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Backend {
    /// Connects per `route`: the first answering socket among the candidates, else the store
    /// in `data_dir` directly. When another process has it, the error names that process and
    /// how to get past it (close an interface that cannot serve, start `staffctl serve`, pass
    /// its `--socket`, leave out `--direct`). When the data directory was given explicitly
    /// (`--data`, `STAFFCTL_DATA`), a server found by looking around is used only if it
    /// serves that directory.
    pub fn connect(
        route: &Route,
        data_dir: &Path,
        explicit_dir: bool,
        create: bool,
    ) -> Result<Self> {
        let sockets = match route {
            Route::Direct => Vec::new(),
            Route::Socket(p) => vec![p.clone()],
            Route::Auto => super::candidate_sockets(data_dir),
        };
        if let Some(found) = Self::first_server(route, &sockets, data_dir, explicit_dir)? {
            return Ok(found);
        }
        if let Route::Socket(p) = route {
            return Err(Error::NotFound(format!(
                "no staffctl server answers on {}; start one with `staffctl serve` or leave out --socket",
                p.display()
            )));
        }
        let opened = Service::open(
            data_dir,
            &OpenOptions {
                create,
                ..OpenOptions::default()
            },
        );
        match opened {
            Ok(svc) => Ok(Self::Local(Arc::new(svc))),
            Err(Error::Busy(message)) => {
                // An interface that has just opened the store serves it a moment later.
                if matches!(route, Route::Auto) {
                    std::thread::sleep(SERVER_START_GRACE);
                    if let Some(found) =
                        Self::first_server(route, &sockets, data_dir, explicit_dir)?
                    {
                        return Ok(found);
                    }
                }
                let direct = matches!(route, Route::Direct);
                // Asked for the store itself: is it only --direct that is in the way?
                let serving = if direct {
                    serving_socket(data_dir)
                } else {
                    None
                };
                Err(Error::Busy(super::busy::advise(
                    data_dir,
                    &message,
                    direct,
                    serving.as_deref(),
                )))
            }
            Err(e) => Err(e),
        }
    }

    /// The first of `sockets` on which a server answers that `route` accepts.
    fn first_server(
        route: &Route,
        sockets: &[PathBuf],
        data_dir: &Path,
        explicit_dir: bool,
    ) -> Result<Option<Self>> {
        for socket in sockets {
            if let Some(client) = RemoteClient::connect(socket)? {
                // A server found by looking around must serve the store asked for; an explicit
                // --socket is taken at its word.
                if matches!(route, Route::Socket(_)) || !explicit_dir || serves(&client, data_dir) {
                    return Ok(Some(Self::Remote {
                        client: Mutex::new(client),
                        socket: socket.clone(),
                    }));
                }
            }
        }
        Ok(None)
    }

    fn remote(client: &Mutex<RemoteClient>) -> MutexGuard<'_, RemoteClient> {
        // A panic mid-request leaves the connection unusable but not unsafe; later requests
        // will report the broken connection.
        client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// "store DIR" or "server on SOCKET (store DIR)", for status lines.
    pub fn describe(&self) -> String {
        match self {
            Self::Local(svc) => format!("store {}", svc.data_dir().display()),
            Self::Remote { client, socket } => {
                let dir = Self::remote(client).data_dir.clone();
                format!("server {} (store {dir})", socket.display())
            }
        }
    }

    /// Whether the store is initialised.
    pub fn is_initialised(&self) -> Result<bool> {
        match self {
            Self::Local(svc) => svc.is_initialised(),
            Self::Remote { client, .. } => Self::remote(client).is_initialised(),
        }
    }

    /// First-run initialisation; returns the administrator's session.
    pub fn init(&self, req: &InitRequest, origin: &Origin) -> Result<Session> {
        match self {
            Self::Local(svc) => svc.init(req, origin),
            Self::Remote { client, .. } => {
                let (id, label) = Self::remote(client).init(req)?;
                Ok(Session::remote(id, label, origin.clone()))
            }
        }
    }

    /// Logs in. Over a socket, the connection itself carries the session.
    pub fn login(&self, login: &str, password: &str, origin: &Origin) -> Result<Session> {
        match self {
            Self::Local(svc) => svc.login(login, password, origin),
            Self::Remote { client, .. } => {
                let (id, label) = Self::remote(client).login(login, password)?;
                Ok(Session::remote(id, label, origin.clone()))
            }
        }
    }

    /// Sends a request.
    pub fn call(&self, session: &Session, request: Request) -> Result<Response> {
        match self {
            Self::Local(svc) => svc.call(session, request),
            Self::Remote { client, .. } => Self::remote(client).call(request),
        }
    }

    /// This backend acting for `session`, with one typed method per request
    /// ([`crate::service::Calls`]).
    pub fn bound<'a>(&'a self, session: &'a Session) -> BackendSession<'a> {
        BackendSession {
            backend: self,
            session,
        }
    }

    /// Takes a backup of the whole store into `sink`.
    pub fn backup(
        &self,
        session: &Session,
        sink: &mut dyn crate::service::backup::BackupSink,
    ) -> Result<crate::service::backup::BackupHeader> {
        match self {
            Self::Local(svc) => svc.backup(session, sink),
            Self::Remote { client, .. } => Self::remote(client).backup(sink),
        }
    }

    /// Streams an audit export into `out`.
    pub fn audit_export(
        &self,
        session: &Session,
        query: &AuditQuery,
        format: Format,
        out: &mut dyn Write,
    ) -> Result<u64> {
        match self {
            Self::Local(svc) => svc.audit_export(session, query, format, out),
            Self::Remote { client, .. } => Self::remote(client).export(query, format, out),
        }
    }

    /// May this login and password be used (at this facility)? Audited like a login.
    pub fn verify_login(
        &self,
        login: &str,
        password: &str,
        facility: Option<&str>,
        device: Option<&str>,
        origin: &Origin,
    ) -> Result<()> {
        match self {
            Self::Local(svc) => svc.verify_login(login, password, facility, device, origin),
            Self::Remote { client, .. } => {
                Self::remote(client).verify_login(login, password, facility, device)
            }
        }
    }

    /// Activates an invited account with its code and a new password.
    pub fn activate(&self, login: &str, code: &str, password: &str, origin: &Origin) -> Result<()> {
        match self {
            Self::Local(svc) => svc.activate(login, code, password, origin),
            Self::Remote { client, .. } => Self::remote(client).activate(login, code, password),
        }
    }

    /// Does `user` hold `permission` (at this facility)?
    pub fn can(&self, user: &str, permission: &str, facility: Option<&str>) -> Result<()> {
        match self {
            Self::Local(svc) => svc.can(user, permission, facility),
            Self::Remote { client, .. } => Self::remote(client).can(user, permission, facility),
        }
    }

    /// Flushes a local store (nothing to do over a socket: the server owns durability).
    pub fn flush(&self) -> Result<()> {
        match self {
            Self::Local(svc) => svc.flush(),
            Self::Remote { .. } => Ok(()),
        }
    }

    /// The local service, when the store is opened in this process (break-glass recovery).
    pub fn local(&self) -> Option<&Arc<Service>> {
        match self {
            Self::Local(svc) => Some(svc),
            Self::Remote { .. } => None,
        }
    }
}

/// A backend acting for one session: what front ends make typed calls on.
pub struct BackendSession<'a> {
    backend: &'a Backend,
    session: &'a Session,
}

impl crate::service::Call for BackendSession<'_> {
    fn call(&self, request: Request) -> Result<Response> {
        self.backend.call(self.session, request)
    }
}
