//! `staffctl import template|preview|commit`: the file is read here, in the caller's process,
//! and its bytes go to the service (directly or through `staffctl serve`), which does all the
//! checking. Output files (codes, rejected rows) are private to their owner.

use std::io::Write;
use std::path::Path;

use super::args::ImportCmd;
use super::output::{self, OutputFormat, cell, table};
use crate::error::{Error, Result};
use crate::remote::backend::Backend;
use crate::security::files::create_private;
use crate::service::import::{ImportReport, ImportResult, MAX_FILE_BYTES};
use crate::service::{Calls as _, Session};

/// Reads the file to import, refusing what cannot be a staff list before reading it all.
fn read(path: &Path) -> Result<(String, Vec<u8>)> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::NotFound(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(Error::invalid(
            "file",
            format!("{} is not a regular file", path.display()),
        ));
    }
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(Error::invalid(
            "file",
            format!(
                "{} is {} bytes; split it into files of at most {} MiB",
                path.display(),
                meta.len(),
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Storage(format!("cannot read {}: {e}", path.display())))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok((name, bytes))
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut f = create_private(path, false)
        .map_err(|e| Error::Storage(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::Storage(format!("cannot write {}: {e}", path.display())))
}

/// The template, which needs no store.
pub fn template(file: Option<&Path>) -> Result<()> {
    let text = crate::service::import::template();
    match file {
        Some(path) => {
            write_private(path, &text)?;
            eprintln!("Wrote the import template to {}.", path.display());
            Ok(())
        }
        None => output::print(&text),
    }
}

/// Preview and commit.
pub fn run(
    cmd: &ImportCmd,
    backend: &Backend,
    session: &Session,
    format: OutputFormat,
) -> Result<()> {
    let json = super::is_json(format);
    let calls = backend.bound(session);
    match cmd {
        ImportCmd::Template { file } => template(file.as_deref()),
        ImportCmd::Preview { file } => {
            let (name, bytes) = read(file)?;
            let report = calls.import_preview(name, bytes)?;
            if json {
                return output::json(&report);
            }
            output::print(&report_text(&report))
        }
        ImportCmd::Commit {
            file,
            no_invite,
            rejected_out,
            codes_out,
        } => {
            let (name, bytes) = read(file)?;
            let result = calls.import_commit(name, bytes, !no_invite)?;
            if let Some(path) = rejected_out {
                write_private(path, &result.report.rejected_csv())?;
            }
            if let Some(path) = codes_out {
                write_private(path, &codes_csv(&result))?;
            }
            if json {
                return output::json(&result);
            }
            let mut text = result_text(&result);
            if let Some(path) = rejected_out {
                text.push_str(&format!(
                    "Rejected rows, with a Reason column, are in {} (fix them and import that file).\n",
                    path.display()
                ));
            }
            if let Some(path) = codes_out {
                text.push_str(&format!(
                    "The activation codes are also in {}.\n",
                    path.display()
                ));
            }
            output::print(&text)
        }
    }
}

/// The preview as people read it: the file, what was ignored, and every row's verdict.
pub fn report_text(r: &ImportReport) -> String {
    let mut text = format!(
        "{}: {} row(s), {} can be imported, {} cannot (read as {}, separated by {}).\n",
        cell(&r.file),
        r.rows.len(),
        r.eligible(),
        r.rejected(),
        r.encoding,
        r.delimiter
    );
    for c in &r.ignored_columns {
        text.push_str(&format!(
            "Column '{}' is ignored: {}.\n",
            output::cell_long(&c.header),
            c.why
        ));
    }
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|row| {
            vec![
                row.row.to_string(),
                cell(&row.name),
                cell(&row.email),
                if row.eligible() { "ok" } else { "PROBLEM" }.into(),
                output::cell_long(
                    &row.problems
                        .iter()
                        .map(|p| format!("{}: {}", p.column, p.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            ]
        })
        .collect();
    text.push_str(&table(
        &["ROW", "NAME", "EMAIL", "STATUS", "PROBLEMS"],
        &rows,
    ));
    text
}

/// What a commit did, with the codes shown once.
pub fn result_text(r: &ImportResult) -> String {
    let mut text = format!(
        "Imported {} user(s) from {} in one transaction; {} row(s) were not imported.\n",
        r.created.len(),
        cell(&r.report.file),
        r.report.rejected()
    );
    if r.created.is_empty() {
        return text;
    }
    let invited = r.created.iter().any(|u| u.invitation.is_some());
    let rows: Vec<Vec<String>> = r
        .created
        .iter()
        .map(|u| {
            let (code, mail) = match &u.invitation {
                Some(i) => (
                    i.code.0.clone(),
                    match &i.mail {
                        None => "-".to_string(),
                        Some(Ok(())) => "mailed".to_string(),
                        Some(Err(e)) => format!("not mailed: {}", cell(e)),
                    },
                ),
                None => ("-".into(), "-".into()),
            };
            vec![
                u.row.to_string(),
                format!("#{}", u.id),
                cell(&u.name),
                cell(&u.login),
                code,
                mail,
            ]
        })
        .collect();
    text.push_str(&table(
        &["ROW", "ID", "NAME", "LOGIN", "CODE", "MAIL"],
        &rows,
    ));
    if invited {
        text.push_str(
            "The codes are shown only now (only their hashes are stored). Each person activates with `staffctl activate` or F2 on the login screen.\n",
        );
    }
    text
}

/// The activation codes as CSV: row, id, name, login, code, expires.
fn codes_csv(r: &ImportResult) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["row", "id", "name", "login", "code", "expires_at"]);
    for u in &r.created {
        if let Some(i) = &u.invitation {
            let _ = w.write_record([
                u.row.to_string(),
                u.id.to_string(),
                crate::security::sanitize::csv_cell(&u.name).into_owned(),
                crate::security::sanitize::csv_cell(&u.login).into_owned(),
                i.code.0.clone(),
                i.expires_at.to_string(),
            ]);
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
