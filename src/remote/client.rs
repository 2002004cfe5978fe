//! The client side of the socket: a connection to `staffctl serve` that speaks the protocol.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::protocol::{self, ClientMsg, Hello, PROTOCOL, ServerMsg, Welcome};
use crate::error::{Error, Result};
use crate::model::Id;
use crate::security::sanitize::for_terminal;
use crate::service::ExportFormat as Format;
use crate::service::Origin;
use crate::service::{AuditQuery, InitRequest, Request, Response};

/// A connection to a server.
#[derive(Debug)]
pub struct RemoteClient {
    stream: UnixStream,
    /// The data directory the server serves.
    pub data_dir: String,
    /// The server's version.
    pub server_version: String,
}

fn unexpected(what: &ServerMsg) -> Error {
    Error::Connection(format!(
        "staffctl serve answered unexpectedly ({what:?}); are client and server the same version?"
    ))
}

fn frame_err(e: protocol::FrameError) -> Error {
    match e {
        protocol::FrameError::Closed => {
            Error::Connection("staffctl serve closed the connection (did it stop?)".into())
        }
        other => Error::Connection(format!("talking to staffctl serve failed: {other}")),
    }
}

impl RemoteClient {
    /// Connects and exchanges versions. `Ok(None)` when nothing listens on `path`.
    pub fn connect(path: &Path) -> Result<Option<Self>> {
        let mut stream = match UnixStream::connect(path) {
            Ok(s) => s,
            // A socket nobody listens on, or no socket: no server.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Ok(None);
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(Error::Denied(format!(
                    "a staffctl server listens on {} but you may not use it ({e}); ask to be added to the staffctl group",
                    path.display()
                )));
            }
            Err(_) => return Ok(None),
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(300)))
            .map_err(|e| Error::Connection(e.to_string()))?;
        let hello = Hello {
            protocol: PROTOCOL,
            version: env!("CARGO_PKG_VERSION").into(),
            origin: Origin::current(),
        };
        // A busy server answers without reading the hello and closes, so sending it may fail:
        // its answer is still there to read, and says more than the failed write.
        let sent = protocol::write_frame(&mut stream, &hello);
        let welcome = match protocol::read_reply::<Welcome>(&mut stream) {
            Ok(w) => w,
            Err(e) => return Err(sent.err().unwrap_or_else(|| frame_err(e))),
        };
        match welcome {
            Welcome::Ok { version, data_dir } => Ok(Some(Self {
                stream,
                data_dir,
                server_version: version,
            })),
            Welcome::Incompatible { protocol, version } => Err(Error::Usage(format!(
                "the staffctl server on {} is version {} (protocol {protocol}) and this staffctl is {} (protocol {PROTOCOL}); install the same version on both, or use --direct after stopping the server",
                path.display(),
                for_terminal(&version),
                env!("CARGO_PKG_VERSION")
            ))),
            Welcome::Busy { max_connections } => Err(Error::Busy(format!(
                "the staffctl server on {} already serves its limit of {max_connections} connections; try again in a moment, or close idle staffctl sessions",
                path.display()
            ))),
        }
    }

    fn ask(&mut self, msg: &ClientMsg) -> Result<ServerMsg> {
        protocol::write_frame(&mut self.stream, msg)?;
        protocol::read_reply(&mut self.stream).map_err(frame_err)
    }

    /// Whether the served store is initialised.
    pub fn is_initialised(&mut self) -> Result<bool> {
        match self.ask(&ClientMsg::IsInitialised)? {
            ServerMsg::Initialised(b) => Ok(b),
            ServerMsg::Done(Err(e)) => Err(e),
            other => Err(unexpected(&other)),
        }
    }

    fn logged_in(reply: ServerMsg) -> Result<(Id, String)> {
        match reply {
            ServerMsg::LoggedIn { user_id, label } => Ok((user_id, label)),
            ServerMsg::Done(Err(e)) => Err(e),
            other => Err(unexpected(&other)),
        }
    }

    /// First-run initialisation; the connection is then logged in as the administrator.
    pub fn init(&mut self, req: &InitRequest) -> Result<(Id, String)> {
        let reply = self.ask(&ClientMsg::Init(req.clone()))?;
        Self::logged_in(reply)
    }

    /// Logs this connection in.
    pub fn login(&mut self, login: &str, password: &str) -> Result<(Id, String)> {
        let reply = self.ask(&ClientMsg::Login {
            login: login.into(),
            password: password.into(),
        })?;
        Self::logged_in(reply)
    }

    /// Checks a login for another program.
    pub fn verify_login(
        &mut self,
        login: &str,
        password: &str,
        facility: Option<&str>,
        device: Option<&str>,
    ) -> Result<()> {
        let msg = ClientMsg::AuthVerify {
            login: login.into(),
            password: password.into(),
            facility: facility.map(str::to_string),
            device: device.map(str::to_string),
        };
        match self.ask(&msg)? {
            ServerMsg::Done(r) => r,
            other => Err(unexpected(&other)),
        }
    }

    /// Activates an invited account.
    pub fn activate(&mut self, login: &str, code: &str, password: &str) -> Result<()> {
        let msg = ClientMsg::Activate {
            login: login.into(),
            code: code.into(),
            password: password.into(),
        };
        match self.ask(&msg)? {
            ServerMsg::Done(r) => r,
            other => Err(unexpected(&other)),
        }
    }

    /// Checks a permission for another program.
    pub fn can(&mut self, user: &str, permission: &str, facility: Option<&str>) -> Result<()> {
        let msg = ClientMsg::AuthCan {
            user: user.into(),
            permission: permission.into(),
            facility: facility.map(str::to_string),
        };
        match self.ask(&msg)? {
            ServerMsg::Done(r) => r,
            other => Err(unexpected(&other)),
        }
    }

    /// Sends a request for this connection's session.
    pub fn call(&mut self, request: Request) -> Result<Response> {
        match self.ask(&ClientMsg::Call(request))? {
            ServerMsg::Response(r) => r,
            ServerMsg::Done(Err(e)) => Err(e),
            other => Err(unexpected(&other)),
        }
    }

    /// Streams an export into `out`; returns the number of events.
    pub fn export(
        &mut self,
        query: &AuditQuery,
        format: Format,
        out: &mut dyn Write,
    ) -> Result<u64> {
        protocol::write_frame(
            &mut self.stream,
            &ClientMsg::Export {
                query: query.clone(),
                format,
            },
        )?;
        loop {
            match protocol::read_reply(&mut self.stream).map_err(frame_err)? {
                ServerMsg::ExportChunk(bytes) => out.write_all(&bytes)?,
                ServerMsg::ExportDone(result) => {
                    out.flush()?;
                    return result;
                }
                other => return Err(unexpected(&other)),
            }
        }
    }

    /// Receives a backup of the whole store into `sink` (header first, then the body).
    pub fn backup(
        &mut self,
        sink: &mut dyn crate::service::backup::BackupSink,
    ) -> Result<crate::service::backup::BackupHeader> {
        protocol::write_frame(&mut self.stream, &ClientMsg::Backup)?;
        let header = match protocol::read_reply(&mut self.stream).map_err(frame_err)? {
            ServerMsg::BackupHeader(h) => *h,
            ServerMsg::ExportDone(Err(e)) => return Err(e),
            other => return Err(unexpected(&other)),
        };
        let body = sink.start(&header)?;
        loop {
            match protocol::read_reply(&mut self.stream).map_err(frame_err)? {
                ServerMsg::ExportChunk(bytes) => body.write_all(&bytes)?,
                ServerMsg::ExportDone(result) => {
                    body.flush()?;
                    return result.map(|_| header);
                }
                other => return Err(unexpected(&other)),
            }
        }
    }
}
