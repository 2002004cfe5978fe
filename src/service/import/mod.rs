//! Onboarding staff from the spreadsheet a practice already keeps. `preview` reads the file and
//! says, row by row, whether each person can be added and what is wrong (with the same messages
//! the user form gives); `commit` adds every eligible row in one transaction (all of them or
//! none), with an invitation each unless asked not to. Importing the same file again adds
//! nobody twice: its people already exist.

pub(crate) mod decode;
mod report;
pub(crate) mod sheet;

use std::collections::{BTreeSet, HashMap};

use sha2::Digest;

pub use report::{IgnoredColumn, ImportReport, ImportResult, ImportRow, ImportedUser, RowProblem};
use sheet::{Column, Sheet, SheetRow};

use super::user_field::UserField;
use super::{Op, Service, UserFields, append_event, invite, user};
use crate::audit::{Change, Target};
use crate::error::{Error, FieldError, Result};
use crate::model::{Facility, FacilityAccess, Id, Role, User};
use crate::store::{TreeId, derived};

/// Largest file accepted (a practice's staff list is a few hundred kilobytes).
pub const MAX_FILE_BYTES: usize = 8 << 20;

/// Reads the file and checks every row.
pub(crate) fn preview(op: &Op<'_>, file_name: &str, content: &[u8]) -> Result<ImportReport> {
    let (report, _) = examine(op, file_name, content)?;
    Ok(report)
}

/// Adds every eligible row in one transaction, with an `import.commit` event naming the file's
/// SHA-256 and the counts; invites each new user unless `invite` is false.
pub(crate) fn commit(
    op: &Op<'_>,
    file_name: &str,
    content: &[u8],
    invite: bool,
) -> Result<ImportResult> {
    let svc = op.svc;
    let (report, drafts) = examine(op, file_name, content)?;
    let practice = super::practice::show(svc)?;
    let mut invites = Vec::with_capacity(drafts.len());
    for _ in &drafts {
        invites.push(
            invite
                .then(|| invite::prepare(&practice, 0, op.now))
                .transpose()?,
        );
    }
    let summary = op.draft(
        "import.commit",
        Target::new(
            "import",
            0,
            crate::security::sanitize::for_terminal(file_name),
        ),
        vec![
            Change::new("file_sha256", None, Some(report.sha256.clone())),
            Change::new("rows", None, Some(report.rows.len().to_string())),
            Change::new("imported", None, Some(drafts.len().to_string())),
            Change::new("rejected", None, Some(report.rejected().to_string())),
            Change::new(
                "invited",
                None,
                Some(if invite { "yes" } else { "no" }.into()),
            ),
        ],
    );
    let users: Vec<User> = drafts.iter().map(|(_, u)| u.clone()).collect();
    let invite_refs: Vec<Option<&crate::model::Invite>> =
        invites.iter().map(|i| i.as_ref().map(|(i, _)| i)).collect();
    let stored = svc.store.transact(|tx| {
        let out = user::write_many(tx, op, &users, &invite_refs)?;
        append_event(tx, &summary)?;
        Ok(out)
    })?;
    let mut created = Vec::with_capacity(stored.len());
    for (((row, _), u), inv) in drafts.iter().zip(stored).zip(invites) {
        let invitation =
            inv.map(|(i, code)| invite::deliver(svc, &practice, &u, code, i.expires_at));
        created.push(ImportedUser {
            row: *row,
            id: u.id,
            name: u.full_name(),
            login: user::label(&u),
            invitation,
        });
    }
    Ok(ImportResult { report, created })
}

/// The report, and the users of the eligible rows (row number, drafted user).
fn examine(
    op: &Op<'_>,
    file_name: &str,
    content: &[u8],
) -> Result<(ImportReport, Vec<(u64, User)>)> {
    if content.len() > MAX_FILE_BYTES {
        return Err(Error::invalid(
            "file",
            format!(
                "the file is {} bytes; split it into files of at most {} MiB",
                content.len(),
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    let decoded = decode::decode(content).map_err(|m| Error::invalid("file", m))?;
    let sheet = sheet::parse(&decoded.text).map_err(|m| Error::invalid("file", m))?;
    let known = Known::load(op.svc)?;
    let mut seen: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut default_doctor: Option<u64> = None;
    let mut rows = Vec::with_capacity(sheet.rows.len());
    let mut drafts = Vec::new();
    for r in &sheet.rows {
        let (problems, draft) = check_row(op, &sheet, r, &known, &mut seen, &mut default_doctor);
        let name = [UserField::FirstName, UserField::LastName]
            .iter()
            .filter_map(|f| sheet.cell(r, *f))
            .collect::<Vec<_>>()
            .join(" ");
        rows.push(ImportRow {
            row: r.row,
            name,
            email: sheet
                .cell(r, UserField::Email)
                .unwrap_or_default()
                .to_string(),
            cells: r.cells.clone(),
            problems,
        });
        if let Some(u) = draft {
            drafts.push((r.row, u));
        }
    }
    let report = ImportReport {
        file: crate::security::sanitize::for_terminal(file_name).into_owned(),
        sha256: hex::encode(sha2::Sha256::digest(content)),
        encoding: decoded.encoding.to_string(),
        delimiter: match sheet.delimiter {
            b'\t' => "tab".into(),
            d => char::from(d).to_string(),
        },
        headers: header_names(&sheet),
        ignored_columns: sheet
            .ignored()
            .into_iter()
            .map(|(header, why)| IgnoredColumn { header, why })
            .collect(),
        rows,
    };
    Ok((report, drafts))
}

/// The sheet's headers as written (ignored ones included), for the rejected-rows file.
fn header_names(sheet: &Sheet) -> Vec<String> {
    sheet
        .columns
        .iter()
        .map(|c| match c {
            Column::Field(f) => f.spec().label.to_string(),
            Column::Access => "Facility access".to_string(),
            Column::Ignored { header, .. } => header.clone(),
        })
        .collect()
}

/// Names the practice already has, for "did you mean" hints.
struct Known {
    roles: Vec<Role>,
    facilities: Vec<Facility>,
}

impl Known {
    fn load(svc: &Service) -> Result<Self> {
        let mut roles = Vec::new();
        for r in svc.store.scan::<Role>(TreeId::Roles) {
            if let Ok(r) = r? {
                roles.push(r);
            }
        }
        let mut facilities = Vec::new();
        for f in svc.store.scan::<Facility>(TreeId::Facilities) {
            if let Ok(f) = f? {
                facilities.push(f);
            }
        }
        Ok(Self { roles, facilities })
    }

    /// The existing name closest to `typed`, when one is close.
    fn nearest<'a>(typed: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
        let t = typed.trim().to_lowercase();
        names
            .map(|n| (strsim::jaro_winkler(&t, &n.to_lowercase()), n))
            .filter(|(score, _)| *score >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n)| n)
    }
}

/// Checks one row; returns its problems and, when there are none, the user it adds.
fn check_row(
    op: &Op<'_>,
    sheet: &Sheet,
    r: &SheetRow,
    known: &Known,
    seen: &mut HashMap<Vec<u8>, u64>,
    default_doctor: &mut Option<u64>,
) -> (Vec<RowProblem>, Option<User>) {
    let header_of = |field: &str| -> String {
        UserField::parse(field)
            .and_then(|f| {
                sheet
                    .columns
                    .iter()
                    .position(|c| *c == Column::Field(f))
                    .map(|_| f.spec().label.to_string())
            })
            .unwrap_or_else(|| field.replace('_', " "))
    };
    let fields: UserFields = sheet
        .columns
        .iter()
        .zip(&r.cells)
        .filter_map(|(c, v)| match c {
            Column::Field(f) if !v.is_empty() => Some((*f, v.clone())),
            _ => None,
        })
        .collect();
    let mut problems = Vec::new();
    let mut push = |e: FieldError| {
        let mut message = e.message.clone();
        if let Some(hint) = hint(&e, &fields, known) {
            message.push_str(&hint);
        }
        problems.push(RowProblem {
            column: header_of(&e.field),
            message,
        });
    };
    let mut draft = match user::draft_new(op, &fields) {
        Ok(u) => Some(u),
        Err(Error::Invalid(errs)) => {
            errs.into_iter().for_each(&mut push);
            None
        }
        Err(other) => {
            push(FieldError::new("row", other.to_string()));
            None
        }
    };
    if let Some(cell) = sheet.access(r) {
        match parse_access(cell, known) {
            Ok(access) => {
                if let Some(u) = draft.as_mut() {
                    u.access = access;
                }
            }
            Err(m) => {
                problems.push(RowProblem {
                    column: "Facility access".into(),
                    message: m,
                });
                draft = None;
            }
        }
    }
    let Some(u) = draft else {
        return (problems, None);
    };
    // What the store would refuse at commit: taken logins and NPIs, inside the file or not.
    let mut unique = Vec::new();
    if let Some(e) = u.login_email() {
        unique.push((derived::email_key(e), "email", e.to_string()));
    }
    if let Some(n) = &u.username {
        unique.push((derived::username_key(n), "username", n.clone()));
    }
    if let Some(npi) = &u.provider.npi {
        unique.push((derived::npi_key(npi), "npi", npi.clone()));
    }
    for (key, field, value) in unique {
        if let Some(first) = seen.get(&key) {
            problems.push(RowProblem {
                column: header_of(field),
                message: format!("{field} {value} is also in row {first} of this file"),
            });
        } else if let Ok(Some(id)) = op.svc.store.get_id(TreeId::UsersByLogin, &key) {
            let who = op
                .svc
                .store
                .get::<User>(TreeId::Users, &crate::store::id_key(id))
                .ok()
                .flatten()
                .map(|u| format!(" ({})", u.full_name()))
                .unwrap_or_default();
            problems.push(RowProblem {
                column: header_of(field),
                message: format!("{field} {value} is already used by user #{id}{who}"),
            });
        } else {
            seen.insert(key, r.row);
        }
    }
    if u.provider.default_doctor {
        let existing = op
            .svc
            .store
            .get_id(TreeId::Meta, crate::store::meta::DEFAULT_DOCTOR)
            .ok()
            .flatten();
        match (*default_doctor, existing) {
            (Some(first), _) => problems.push(RowProblem {
                column: header_of("default_doctor"),
                message: format!(
                    "row {first} is already the default doctor; a practice has at most one"
                ),
            }),
            (None, Some(id)) => problems.push(RowProblem {
                column: header_of("default_doctor"),
                message: format!(
                    "user #{id} is already the default doctor; a practice has at most one"
                ),
            }),
            (None, None) => *default_doctor = Some(r.row),
        }
    }
    if problems.is_empty() {
        (problems, Some(u))
    } else {
        (problems, None)
    }
}

/// "Did you mean" for an unknown role or facility.
fn hint(e: &FieldError, fields: &UserFields, known: &Known) -> Option<String> {
    let typed = |f: UserField| fields.iter().rev().find(|(k, _)| *k == f).map(|(_, v)| v);
    let nearest = match e.field.as_str() {
        "role" if e.message.starts_with("no role") => Known::nearest(
            typed(UserField::Role)?,
            known.roles.iter().map(|r| r.name.as_str()),
        ),
        "facility" | "default_location" if e.message.starts_with("no facility") => {
            let f = if e.field == "facility" {
                UserField::Facility
            } else {
                UserField::DefaultLocation
            };
            Known::nearest(
                typed(f)?,
                known
                    .facilities
                    .iter()
                    .filter(|f| !f.archived)
                    .map(|f| f.name.as_str()),
            )
        }
        _ => None,
    }?;
    Some(format!(" (did you mean '{nearest}'?)"))
}

/// An access cell: `all`, or facility names or codes separated by `;`, `|` or `,`.
fn parse_access(cell: &str, known: &Known) -> std::result::Result<FacilityAccess, String> {
    if cell.trim().eq_ignore_ascii_case("all") {
        return Ok(FacilityAccess::All);
    }
    let mut ids: BTreeSet<Id> = BTreeSet::new();
    let mut unknown = Vec::new();
    for part in cell
        .split([';', '|', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let found = known.facilities.iter().find(|f| {
            !f.archived
                && (f.name.eq_ignore_ascii_case(part)
                    || f.code
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(part)))
        });
        match found {
            Some(f) => {
                ids.insert(f.id);
            }
            None => {
                let near = Known::nearest(
                    part,
                    known
                        .facilities
                        .iter()
                        .filter(|f| !f.archived)
                        .map(|f| f.name.as_str()),
                )
                .map(|n| format!(" (did you mean '{n}'?)"))
                .unwrap_or_default();
                unknown.push(format!("'{part}'{near}"));
            }
        }
    }
    if unknown.is_empty() {
        Ok(FacilityAccess::Only(ids))
    } else {
        Err(format!(
            "no active facility {}; write facility names or codes separated by ; (or all)",
            unknown.join(", ")
        ))
    }
}

/// The template: a header for every importable field and one example row.
pub fn template() -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = super::user_field::FIELDS.iter().map(|f| f.label).collect();
    header.push("Facility access");
    let example = |f: UserField| -> &'static str {
        match f {
            UserField::FirstName => "Alice",
            UserField::LastName => "Smith",
            UserField::PublicName => "Dr. Smith",
            UserField::Email => "alice.smith@clinic.example",
            UserField::LoginMethod => "email",
            UserField::Role => "Provider",
            UserField::Billing => "provider",
            UserField::Facility => "Downtown",
            UserField::Npi => "1245319599",
            UserField::Taxonomy => "225100000X",
            UserField::Note => "Starts Monday",
            _ => f.spec().default,
        }
    };
    let mut row: Vec<&str> = super::user_field::FIELDS
        .iter()
        .map(|f| example(f.field))
        .collect();
    row.push("Downtown; Uptown");
    // Writing to memory cannot fail.
    let _ = w.write_record(&header);
    let _ = w.write_record(&row);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
