//! The backup file: a line naming the format, a one-line JSON header that says what the file
//! holds (readable without the passphrase), then the body: plain, or encrypted in the standard
//! age format with a passphrase, so `tail -n +3 FILE | age -d` reads it where staffctl is gone.

use std::io::{self, BufRead, BufReader, Read, Write};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The first line of every backup file.
pub const MAGIC: &str = "staffctl backup";

/// What a backup holds, readable without its passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupHeader {
    /// Body layout version.
    pub format: u32,
    /// The staffctl that wrote it.
    pub staffctl: String,
    /// The practice's name.
    pub practice: String,
    /// When it was made (UTC).
    pub created_at: jiff::Timestamp,
    /// Who made it (login and OS origin).
    pub created_by: String,
    /// The audit log's head when it was made, `SEQ:HASH` (for `audit verify --expect`).
    pub audit_head: String,
    /// Records of each kind.
    pub counts: BackupCounts,
    /// Whether the body is encrypted (age, passphrase).
    pub encrypted: bool,
}

/// How many records of each kind a backup holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCounts {
    /// Users.
    pub users: u64,
    /// Roles.
    pub roles: u64,
    /// Facilities.
    pub facilities: u64,
    /// Invitations.
    pub invites: u64,
    /// Devices.
    pub devices: u64,
    /// Audit events.
    pub events: u64,
    /// Audit records kept in quarantine.
    pub quarantined: u64,
}

/// A passphrase, never printed.
#[derive(Clone)]
pub struct Passphrase(age::secrecy::SecretString);

impl Passphrase {
    /// Wraps a passphrase typed or read from a file (its trailing newline removed).
    pub fn new(text: &str) -> Result<Self> {
        let t = text.trim_end_matches(['\n', '\r']);
        if t.chars().count() < 12 {
            return Err(Error::invalid(
                "passphrase",
                "a backup passphrase needs at least 12 characters (a few words are easy to keep)",
            ));
        }
        Ok(Self(age::secrecy::SecretString::from(t.to_string())))
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase([redacted])")
    }
}

fn flush_error(e: &io::Error) -> Error {
    Error::Storage(format!("cannot write the backup: {e}"))
}

fn io_err(what: &str) -> impl Fn(io::Error) -> Error + '_ {
    move |e| Error::Storage(format!("cannot write the backup ({what}): {e}"))
}

/// A backup file being written: the magic and header lines first, then the body (encrypted
/// when a passphrase is given) through [`ArchiveWriter::body`], then [`ArchiveWriter::finish`].
pub struct ArchiveWriter<W: Write> {
    inner: Inner<W>,
}

enum Inner<W: Write> {
    Plain(io::BufWriter<W>),
    Encrypted(io::BufWriter<age::stream::StreamWriter<W>>),
}

impl<W: Write> ArchiveWriter<W> {
    /// Writes the magic and header lines to `out`.
    pub fn start(
        mut out: W,
        header: &BackupHeader,
        passphrase: Option<&Passphrase>,
    ) -> Result<Self> {
        writeln!(out, "{MAGIC} {}", header.format).map_err(io_err("header"))?;
        serde_json::to_writer(&mut out, header)
            .map_err(|e| Error::Storage(format!("cannot write the backup header: {e}")))?;
        out.write_all(b"\n").map_err(io_err("header"))?;
        let inner = match passphrase {
            None => Inner::Plain(io::BufWriter::with_capacity(256 << 10, out)),
            Some(p) => {
                let stream = age::Encryptor::with_user_passphrase(p.0.clone())
                    .wrap_output(out)
                    .map_err(io_err("encryption"))?;
                Inner::Encrypted(io::BufWriter::with_capacity(256 << 10, stream))
            }
        };
        Ok(Self { inner })
    }

    /// Where the body goes.
    pub fn body(&mut self) -> &mut dyn Write {
        match &mut self.inner {
            Inner::Plain(w) => w,
            Inner::Encrypted(w) => w,
        }
    }

    /// Flushes (and closes the encryption of) the body; returns the file.
    pub fn finish(self) -> Result<W> {
        match self.inner {
            Inner::Plain(w) => w.into_inner().map_err(|e| flush_error(e.error())),
            Inner::Encrypted(w) => w
                .into_inner()
                .map_err(|e| flush_error(e.error()))?
                .finish()
                .map_err(io_err("encryption")),
        }
    }
}

/// Reads the magic and header lines of a backup file.
pub fn read_header<R: BufRead>(input: &mut R) -> Result<BackupHeader> {
    let bad = |why: &str| {
        Error::Integrity(format!(
            "this is not a staffctl backup, or its header is damaged ({why})"
        ))
    };
    let mut magic = String::new();
    input
        .by_ref()
        .take(64)
        .read_line(&mut magic)
        .map_err(|e| bad(&e.to_string()))?;
    let version = magic
        .trim_end()
        .strip_prefix(MAGIC)
        .map(str::trim)
        .ok_or_else(|| bad("no staffctl backup line"))?;
    let version: u32 = version.parse().map_err(|_| bad("no format version"))?;
    if version > super::format::FORMAT {
        return Err(Error::Integrity(format!(
            "this backup has format {version}, written by a newer staffctl (this one reads up to {}); restore it with that staffctl",
            super::format::FORMAT
        )));
    }
    let mut header = Vec::new();
    input
        .by_ref()
        .take(64 << 10)
        .read_until(b'\n', &mut header)
        .map_err(|e| bad(&e.to_string()))?;
    serde_json::from_slice(&header).map_err(|e| bad(&e.to_string()))
}

/// The body of a backup whose header was just read: decrypted with `passphrase` when the
/// header says it is encrypted.
pub fn body_reader<'a, R: BufRead + 'a>(
    input: R,
    header: &BackupHeader,
    passphrase: Option<&Passphrase>,
) -> Result<Box<dyn BufRead + 'a>> {
    if !header.encrypted {
        return Ok(Box::new(input));
    }
    let Some(p) = passphrase else {
        return Err(Error::invalid(
            "passphrase",
            "this backup is encrypted; give its passphrase (--passphrase-file FILE or STAFFCTL_BACKUP_PASSPHRASE)",
        ));
    };
    let decryptor = age::Decryptor::new_buffered(input)
        .map_err(|e| Error::Integrity(format!("the backup's encrypted part is damaged: {e}")))?;
    let identity = age::scrypt::Identity::new(p.0.clone());
    let reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                Error::Denied("wrong passphrase for this backup".into())
            }
            other => Error::Integrity(format!("the backup cannot be decrypted: {other}")),
        })?;
    Ok(Box::new(BufReader::with_capacity(256 << 10, reader)))
}
