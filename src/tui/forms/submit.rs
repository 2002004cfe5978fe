//! What saving each form asks of the service, and what the interface does with the answer.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::invitation_lines;
use crate::error::{Error, FieldError, Result};
use crate::model::Id;
use crate::service::{
    AuditQuery, ExportFormat, FacilityField, FieldKind, PracticeField, Request, Response,
    UserField, UserFields, parse_time,
};
use crate::tui::action::Action;
use crate::tui::app::Ctx;
use crate::tui::keymap::Section;
use crate::tui::screens::Question;
use crate::tui::widgets::form::Form;

/// What saving a form does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Add a user.
    UserAdd,
    /// Edit user `id`, last read at revision `.1`.
    UserEdit(Id, u64),
    /// Deactivate user `id`.
    Deactivate(Id),
    /// Facility access of user `id`.
    Access(Id),
    /// Add a role.
    RoleAdd,
    /// Rename role `id` (read at revision `.1`).
    RoleRename(Id, u64),
    /// Permission matrix of role `id` (read at revision `.1`).
    RolePermissions(Id, u64),
    /// Add a facility.
    FacilityAdd,
    /// Edit facility `id` (read at revision `.1`).
    FacilityEdit(Id, u64),
    /// Practice settings (read at revision `.0`).
    Settings(u64),
    /// Audit filters.
    AuditFilter,
    /// Audit export.
    Export,
}

/// The result of a successful submit.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// Saved; show this message.
    Done(String),
    /// Ask before sending `request`.
    Confirm {
        /// The question.
        question: Question,
        /// The request to send on yes.
        request: Request,
        /// Message on success.
        success: String,
    },
    /// Saved; show this message and these lines (read once, e.g. an activation code).
    Shown {
        /// Status message.
        message: String,
        /// Title of the window.
        title: String,
        /// Lines.
        lines: Vec<String>,
    },
    /// New audit filters.
    AuditQuery(AuditQuery),
    /// Start an export.
    Export {
        /// Format.
        format: ExportFormat,
        /// Destination (must not exist).
        path: PathBuf,
        /// Filters.
        query: AuditQuery,
    },
}

fn user_fields(pairs: Vec<(String, String)>) -> UserFields {
    pairs
        .into_iter()
        .filter_map(|(k, v)| {
            let field = UserField::parse(&k)?;
            // Choice values for roles and facilities are ids; the service accepts `#id`.
            let v = if matches!(
                field.spec().kind,
                FieldKind::Role | FieldKind::Facility | FieldKind::OptionalFacility
            ) && !v.is_empty()
            {
                format!("#{v}")
            } else {
                v
            };
            Some((field, v))
        })
        .collect()
}

fn opt(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn times(form: &Form) -> Result<(Option<jiff::Timestamp>, Option<jiff::Timestamp>)> {
    let mut errs = Vec::new();
    let mut parse = |key: &str| match opt(form.value(key)) {
        None => None,
        Some(t) => match parse_time(key, &t) {
            Ok(ts) => Some(ts),
            Err(e) => {
                errs.extend(e.field_errors().iter().cloned());
                None
            }
        },
    };
    let since = parse("since");
    let until = parse("until");
    if errs.is_empty() {
        Ok((since, until))
    } else {
        Err(Error::Invalid(errs))
    }
}

fn name_list(users: &[crate::service::Person]) -> String {
    let mut s: Vec<String> = users
        .iter()
        .take(8)
        .map(|p| format!("#{} {}", p.id, p.name))
        .collect();
    if users.len() > 8 {
        s.push(format!("and {} more", users.len() - 8));
    }
    s.join(", ")
}

/// Saves `form` by `save`, which gets the values of every field but the required choices
/// left without a selection. Those report their own message beside the field (how to pick
/// one), together with whatever the service says about the rest, so every problem shows at
/// once.
fn with_picks<T>(form: &Form, save: impl FnOnce(Vec<(String, String)>) -> Result<T>) -> Result<T> {
    let unpicked = form.unpicked();
    let values = form
        .values()
        .into_iter()
        .filter(|(k, _)| !unpicked.iter().any(|e| e.field == *k))
        .collect();
    let result = save(values);
    if unpicked.is_empty() {
        return result;
    }
    match result {
        Ok(v) => Ok(v),
        Err(Error::Invalid(errs)) => {
            let mut all = unpicked.clone();
            all.extend(
                errs.into_iter()
                    .filter(|e| !unpicked.iter().any(|u| u.field == e.field)),
            );
            Err(Error::Invalid(all))
        }
        Err(e) => {
            let mut all = unpicked;
            all.push(FieldError::new("", e.to_string()));
            Err(Error::Invalid(all))
        }
    }
}

/// `request`, refused by the service if its record changed since the form was opened.
fn expect(revision: u64, request: Request) -> Request {
    Request::Expect {
        revision,
        request: Box::new(request),
    }
}

/// Saves a form through the service.
pub fn submit(ctx: &Ctx<'_>, purpose: &Purpose, form: &Form) -> Result<Submitted> {
    let done = |m: String| Ok(Submitted::Done(m));
    match purpose {
        Purpose::UserAdd => match with_picks(form, |values| {
            ctx.call(Request::UserAdd(user_fields(values)))
        })? {
            Response::User(d) => Ok(Submitted::Shown {
                message: format!(
                    "Added user #{} {} (invited).",
                    d.user.id,
                    d.user.full_name()
                ),
                title: format!("Invitation for {}", d.user.full_name()),
                lines: invitation_lines(&d, ctx.keymap, ctx.time),
            }),
            _ => done("Added.".into()),
        },
        Purpose::UserEdit(id, rev) => {
            let changes = user_fields(form.changed_values());
            if changes.is_empty() {
                return done("Nothing changed.".into());
            }
            ctx.call(expect(*rev, Request::UserEdit(id.to_string(), changes)))?;
            done(format!("Saved user #{id}."))
        }
        Purpose::Deactivate(id) => {
            ctx.call(Request::UserDeactivate {
                user: id.to_string(),
                reason: form.value("reason"),
            })?;
            done(format!(
                "Deactivated user #{id}; their record and history are kept."
            ))
        }
        Purpose::Access(id) => {
            let user = id.to_string();
            let request = if form.value("all") == "yes" {
                Request::AccessAll(user)
            } else {
                let facilities = form
                    .values()
                    .into_iter()
                    .filter(|(k, v)| k.starts_with("f:") && v == "yes")
                    .map(|(k, _)| format!("#{}", &k[2..]))
                    .collect();
                Request::AccessOnly { user, facilities }
            };
            ctx.call(request)?;
            done(format!("Saved facility access of user #{id}."))
        }
        Purpose::RoleAdd => {
            ctx.call(Request::RoleAdd {
                name: form.value("name"),
                description: form.value("description"),
                permissions: Vec::new(),
            })?;
            done(format!(
                "Added role {}; press {} to choose its permissions.",
                form.value("name").trim(),
                ctx.keymap.key_or_name(Section::Roles, Action::RoleEdit)
            ))
        }
        Purpose::RoleRename(id, rev) => {
            ctx.call(expect(
                *rev,
                Request::RoleEdit {
                    role: id.to_string(),
                    rename: Some(form.value("name")),
                    description: Some(form.value("description")),
                    grant: Vec::new(),
                    revoke: Vec::new(),
                },
            ))?;
            done(format!("Saved role {}.", form.value("name").trim()))
        }
        Purpose::RolePermissions(id, rev) => {
            let Response::Role(detail) = ctx.call(Request::RoleShow(id.to_string()))? else {
                return Err(Error::NotFound(format!("role #{id} is gone")));
            };
            let chosen: BTreeSet<String> = form
                .values()
                .into_iter()
                .filter(|(_, v)| v == "yes")
                .map(|(k, _)| k)
                .collect();
            let grant: Vec<String> = chosen
                .difference(&detail.role.permissions)
                .cloned()
                .collect();
            let revoke: Vec<String> = detail
                .role
                .permissions
                .difference(&chosen)
                .cloned()
                .collect();
            if grant.is_empty() && revoke.is_empty() {
                return done("Nothing changed.".into());
            }
            let mut lines = Vec::new();
            if !grant.is_empty() {
                lines.push(format!("Grant:  {}", grant.join(", ")));
            }
            if !revoke.is_empty() {
                lines.push(format!("Revoke: {}", revoke.join(", ")));
            }
            lines.push(if detail.users.is_empty() {
                "No user holds this role yet.".to_string()
            } else {
                format!(
                    "This changes {} user(s) at once: {}",
                    detail.users.len(),
                    name_list(&detail.users)
                )
            });
            Ok(Submitted::Confirm {
                question: Question::new(
                    format!("Change permissions of {}?", detail.role.name),
                    lines,
                    "save",
                    "back to the matrix",
                ),
                request: expect(
                    *rev,
                    Request::RoleEdit {
                        role: id.to_string(),
                        rename: None,
                        description: None,
                        grant,
                        revoke,
                    },
                ),
                success: format!("Saved permissions of {}.", detail.role.name),
            })
        }
        Purpose::FacilityAdd | Purpose::FacilityEdit(..) => {
            let pairs = if matches!(purpose, Purpose::FacilityAdd) {
                form.values()
            } else {
                form.changed_values()
            };
            let fields: Vec<(FacilityField, String)> = pairs
                .into_iter()
                .filter_map(|(k, v)| {
                    let f = match k.as_str() {
                        "name" => FacilityField::Name,
                        "code" => FacilityField::Code,
                        "address" => FacilityField::Address,
                        "phone" => FacilityField::Phone,
                        _ => return None,
                    };
                    Some((f, v))
                })
                .collect();
            match purpose {
                Purpose::FacilityEdit(id, rev) => {
                    if fields.is_empty() {
                        return done("Nothing changed.".into());
                    }
                    ctx.call(expect(*rev, Request::FacilityEdit(id.to_string(), fields)))?;
                    done(format!("Saved facility #{id}."))
                }
                _ => {
                    ctx.call(Request::FacilityAdd(fields))?;
                    done(format!("Added facility {}.", form.value("name").trim()))
                }
            }
        }
        Purpose::Settings(rev) => {
            let fields: Vec<(PracticeField, String)> = form
                .changed_values()
                .into_iter()
                .filter_map(|(k, v)| PracticeField::parse(&k).map(|f| (f, v)))
                .collect();
            if fields.is_empty() {
                return done("Nothing changed.".into());
            }
            ctx.call(expect(*rev, Request::PracticeEdit(fields)))?;
            done("Saved practice settings.".into())
        }
        Purpose::AuditFilter => {
            let (since, until) = times(form)?;
            Ok(Submitted::AuditQuery(AuditQuery {
                since,
                until,
                actor: opt(form.value("actor")),
                action: opt(form.value("action")),
                target: opt(form.value("target")),
                limit: None,
            }))
        }
        Purpose::Export => {
            let (since, until) = times(form)?;
            let format = if form.value("format") == "jsonl" {
                ExportFormat::Jsonl
            } else {
                ExportFormat::Csv
            };
            let Some(path) = opt(form.value("path")) else {
                return Err(Error::invalid("path", "choose where to save the export"));
            };
            let path = PathBuf::from(path);
            if path.exists() {
                return Err(Error::invalid(
                    "path",
                    format!("{} already exists; choose another name", path.display()),
                ));
            }
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
                && !parent.is_dir()
            {
                return Err(Error::invalid(
                    "path",
                    format!("folder {} does not exist", parent.display()),
                ));
            }
            Ok(Submitted::Export {
                format,
                path,
                query: AuditQuery {
                    since,
                    until,
                    ..AuditQuery::default()
                },
            })
        }
    }
}
