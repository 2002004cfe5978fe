//! `staffctl backup create|verify|restore`. A backup is taken through the service (directly or
//! through `staffctl serve`), written here to a file private to its owner, and encrypted here:
//! the passphrase never leaves this process.

use std::io::{BufReader, Write};
use std::path::Path;

use super::args::{BackupCmd, PassphraseArgs};
use super::output::{self, OutputFormat, cell};
use crate::error::{Error, Result};
use crate::remote::backend::Backend;
use crate::security::files::create_private;
use crate::service::Session;
use crate::service::backup::{self, ArchiveReport, BackupHeader, FileSink, Passphrase};

/// Environment variable holding a backup passphrase (for timers and scripts).
pub const PASSPHRASE_ENV: &str = "STAFFCTL_BACKUP_PASSPHRASE";

/// The passphrase: from `--passphrase-file`, the environment, or a prompt (twice when
/// `confirm`); `None` when none can be had without a terminal.
fn passphrase(args: &PassphraseArgs, confirm: bool) -> Result<Option<Passphrase>> {
    if let Some(path) = &args.passphrase_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::NotFound(format!(
                "cannot read the passphrase file {}: {e}",
                path.display()
            ))
        })?;
        let first = text.lines().next().unwrap_or_default();
        return Passphrase::new(first).map(Some);
    }
    if let Ok(text) = std::env::var(PASSPHRASE_ENV) {
        return Passphrase::new(&text).map(Some);
    }
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let first = super::prompt::secret_line("Backup passphrase: ")?;
    if confirm {
        let again = super::prompt::secret_line("Repeat the passphrase: ")?;
        if first != again {
            return Err(Error::invalid(
                "passphrase",
                "the two passphrases differ; type the same one twice",
            ));
        }
    }
    Passphrase::new(&first).map(Some)
}

/// The header as people read it.
fn header_text(h: &BackupHeader) -> String {
    let c = &h.counts;
    output::fields(&[
        ("practice", cell(&h.practice)),
        ("created", output::when_exact(h.created_at)),
        ("created by", cell(&h.created_by)),
        ("staffctl", cell(&h.staffctl)),
        ("format", h.format.to_string()),
        ("encrypted", output::yes_no(h.encrypted)),
        (
            "records",
            format!(
                "{} users, {} roles, {} facilities, {} invitations, {} devices",
                c.users, c.roles, c.facilities, c.invites, c.devices
            ),
        ),
        (
            "audit events",
            format!("{} ({} in quarantine)", c.events, c.quarantined),
        ),
        ("audit head", h.audit_head.clone()),
    ])
}

fn open_backup(path: &Path) -> Result<BufReader<std::fs::File>> {
    std::fs::File::open(path)
        .map(|f| BufReader::with_capacity(256 << 10, f))
        .map_err(|e| Error::NotFound(format!("cannot read {}: {e}", path.display())))
}

/// `backup create`, through the store or server the command reaches.
pub fn create(
    backend: &Backend,
    session: &Session,
    file: &Path,
    args: &PassphraseArgs,
    unencrypted: bool,
    format: OutputFormat,
) -> Result<()> {
    let passphrase = if unencrypted {
        None
    } else {
        passphrase(args, true)?
    };
    if passphrase.is_none() && !unencrypted {
        return Err(Error::invalid(
            "passphrase",
            format!(
                "a backup holds password hashes: give a passphrase (--passphrase-file FILE, {PASSPHRASE_ENV}, or type it at a terminal), or pass --unencrypted"
            ),
        ));
    }
    let out = create_private(file, true).map_err(|e| {
        Error::Storage(format!(
            "cannot create {}: {e} (a backup never overwrites a file; choose a new name)",
            file.display()
        ))
    })?;
    let mut sink = FileSink::new(
        std::io::BufWriter::with_capacity(256 << 10, out),
        passphrase,
    );
    let result = backend.backup(session, &mut sink).and_then(|header| {
        let mut w = sink.finish()?;
        w.flush()?;
        let f = w.into_inner().map_err(|e| {
            Error::Storage(format!("cannot write {}: {}", file.display(), e.error()))
        })?;
        f.sync_all()?;
        Ok(header)
    });
    let header = match result {
        Ok(h) => BackupHeader {
            encrypted: !unencrypted,
            ..h
        },
        Err(e) => {
            // A backup that did not finish must not be mistaken for one.
            let _ = std::fs::remove_file(file);
            return Err(e);
        }
    };
    if super::is_json(format) {
        return output::json(&header);
    }
    output::print(&format!(
        "Backup written to {} ({}).\n{}Keep the audit head off the server: after a restore, `staffctl audit verify --expect {}` proves nothing is missing.\n",
        file.display(),
        if unencrypted {
            "not encrypted"
        } else {
            "encrypted"
        },
        header_text(&header),
        header.audit_head
    ))
}

/// `backup verify`: reads the whole file without a store.
pub fn verify(file: &Path, args: &PassphraseArgs, format: OutputFormat) -> Result<()> {
    let mut input = open_backup(file)?;
    let header = backup::archive::read_header(&mut input)?;
    let pass = if header.encrypted {
        passphrase(args, false)?
    } else {
        None
    };
    let report = backup::verify_archive(open_backup(file)?, pass.as_ref())?;
    report_out(
        &report,
        format,
        &format!("Backup {} is complete and intact.", file.display()),
    )
}

/// `backup restore` into the data directory given with --data, which must be empty.
pub fn restore(file: &Path, dir: &Path, args: &PassphraseArgs, format: OutputFormat) -> Result<()> {
    let mut input = open_backup(file)?;
    let header = backup::archive::read_header(&mut input)?;
    let pass = if header.encrypted {
        passphrase(args, false)?
    } else {
        None
    };
    let report = backup::restore(dir, open_backup(file)?, pass.as_ref())?;
    report_out(
        &report,
        format,
        &format!(
            "Restored into {}; the audit chain ends at the backup's head. Check it against the head you kept: `staffctl --data {} audit verify --expect HEAD`.",
            dir.display(),
            dir.display()
        ),
    )
}

fn report_out(report: &ArchiveReport, format: OutputFormat, done: &str) -> Result<()> {
    if super::is_json(format) {
        return output::json(report);
    }
    output::print(&format!(
        "{}{} records read, {} audit events verified.\n{done}\n",
        header_text(&report.header),
        report.records,
        report.events
    ))
}

/// Runs a `backup` command that needs no login (verify, restore).
pub fn offline(cmd: &BackupCmd, dir: &Path, format: OutputFormat) -> Result<()> {
    match cmd {
        BackupCmd::Verify { file, passphrase } => verify(file, passphrase, format),
        BackupCmd::Restore { file, passphrase } => restore(file, dir, passphrase, format),
        BackupCmd::Create { .. } => Err(Error::Internal(
            "internal error: create needs a login".into(),
        )),
    }
}
