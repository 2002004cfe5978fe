//! Every form of the interface: how it is built from current data, and (in
//! `forms/submit.rs`) what saving it asks of the service. Values travel to the service as text,
//! so its validation messages land beside the right fields.

mod submit;

use std::path::PathBuf;

pub use submit::{Purpose, Submitted, submit};

use super::action::Action;
use super::app::Ctx;
use super::keymap::{Keymap, Section};
use super::widgets::form::{Field, Form};
use crate::error::{FieldError, Result};
use crate::model::permission::{self, CATALOGUE};
use crate::model::{Facility, Practice, Role, User};
use crate::service::user_field::{FieldKind, Section as FieldSection, UserField};
use crate::service::{AccessView, AuditQuery, InitRequest, LocalTime, Request, Response};

fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(v, l)| ((*v).to_string(), (*l).to_string()))
        .collect()
}

/// The first-run wizard.
pub fn setup() -> Form {
    Form::new(
        "Welcome to staffctl: set up your practice",
        vec![
            Field::heading("Practice"),
            Field::text("practice_name", "Practice name", ""),
            Field::text("practice_email", "Contact email", ""),
            Field::text("facility", "First facility", ""),
            Field::heading("First administrator"),
            Field::text("first_name", "First name", ""),
            Field::text("last_name", "Last name", ""),
            Field::text("username", "Username", ""),
            Field::text("email", "Email", ""),
            Field::secret("password", "Password"),
            Field::secret("password_repeat", "Repeat password"),
        ],
    )
}

/// The wizard's values as an init request; the two passwords must match.
pub fn setup_request(form: &Form) -> std::result::Result<InitRequest, Vec<FieldError>> {
    let password = form.value("password");
    if password != form.value("password_repeat") {
        return Err(vec![FieldError::new(
            "password_repeat",
            "the two passwords differ; type the same password twice",
        )]);
    }
    let mut missing = Vec::new();
    for (key, what) in [
        ("practice_name", "practice name"),
        ("facility", "facility name"),
        ("username", "username"),
    ] {
        if form.value(key).trim().is_empty() {
            missing.push(FieldError::new(key, format!("{what} is required")));
        }
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(InitRequest {
        practice_name: form.value("practice_name"),
        practice_email: form.value("practice_email"),
        facility: form.value("facility"),
        admin_username: form.value("username"),
        admin_email: form.value("email"),
        admin_first: form.value("first_name"),
        admin_last: form.value("last_name"),
        admin_password: password,
    })
}

/// Activating an invited account: login, the code, a new password twice.
pub fn activation(user: &str, keymap: &Keymap) -> Form {
    Form::new(
        &format!(
            "Activate your account ({} again or {}: back to log in)",
            keymap.key_or_name(Section::Form, Action::Activate),
            keymap.key_or_name(Section::Form, Action::FormCancel)
        ),
        vec![
            Field::text("login", "Username or email", user),
            Field::text("code", "Activation code", ""),
            Field::secret("password", "New password"),
            Field::secret("password_repeat", "Repeat password"),
        ],
    )
}

/// The login form; `locked` when it stands in for a session put away by the lock.
pub fn login(user: &str, locked: bool) -> Form {
    let mut f = Form::new(
        if locked {
            "Screen locked: log in to continue"
        } else {
            "Log in"
        },
        vec![
            Field::text("login", "Username or email", user),
            Field::secret("password", "Password"),
        ],
    );
    if !user.is_empty() {
        f.focus_key("password");
    }
    f
}

fn roles_and_facilities(ctx: &Ctx<'_>) -> Result<(Vec<Role>, Vec<Facility>)> {
    let roles = match ctx.call(Request::RoleList)? {
        Response::Roles(l) => l.items.into_iter().map(|s| s.role).collect(),
        _ => Vec::new(),
    };
    let facilities = match ctx.call(Request::FacilityList {
        include_archived: false,
    })? {
        Response::Facilities(l) => l.items.into_iter().map(|s| s.facility).collect(),
        _ => Vec::new(),
    };
    Ok((roles, facilities))
}

/// The add/edit user form, built from the field table
/// ([`FIELDS`](crate::service::user_field::FIELDS)): one heading
/// per section, each field as the widget of its kind, a new user's defaults, and the
/// practice's roles and facilities as options.
pub fn user(ctx: &Ctx<'_>, existing: Option<&User>) -> Result<Form> {
    let (mut roles, facilities) = roles_and_facilities(ctx)?;
    // Roles that administer staffctl come last, so a stray → never lands on them first.
    roles.sort_by_key(|r| r.permissions.iter().any(|p| p.starts_with("admin.")));
    let new = existing.is_none();
    // How to pick, in the operator's keys.
    let pick = format!(
        "{}/{}",
        ctx.keymap
            .key_or_name(Section::Form, Action::FormChoicePrev),
        ctx.keymap
            .key_or_name(Section::Form, Action::FormChoiceNext)
    );
    // A new user gets no role or facility until one is chosen (never Administrator by accident).
    let choose = || (String::new(), "(choose)".to_string());
    let facility_list = || {
        facilities
            .iter()
            .map(|f| (f.id.to_string(), f.name.clone()))
    };
    let mut fields = Vec::new();
    for section in FieldSection::ALL {
        fields.push(Field::heading(section.title()));
        for spec in UserField::in_section(section) {
            let value = existing.map_or_else(|| spec.default.to_string(), |u| (spec.value)(u));
            let (name, label) = (spec.name, spec.label);
            fields.push(match spec.kind {
                FieldKind::Text => Field::text(name, label, &value),
                FieldKind::Toggle => Field::toggle(name, label, value == "yes"),
                FieldKind::Choice(options) => Field::choice(name, label, opts(options), &value),
                FieldKind::Role => {
                    let options = new
                        .then(choose)
                        .into_iter()
                        .chain(roles.iter().map(|r| (r.id.to_string(), r.name.clone())))
                        .collect();
                    Field::choice(name, label, options, &value)
                        .required(&format!("pick a role with {pick}"))
                }
                FieldKind::Facility => {
                    // With one facility there is nothing to choose.
                    let options = (new && facilities.len() > 1)
                        .then(choose)
                        .into_iter()
                        .chain(facility_list())
                        .collect();
                    Field::choice(name, label, options, &value)
                        .required(&format!("pick a primary facility with {pick}"))
                }
                FieldKind::OptionalFacility => {
                    let options = std::iter::once((String::new(), "(none)".to_string()))
                        .chain(facility_list())
                        .collect();
                    Field::choice(name, label, options, &value)
                }
            });
        }
    }
    let title = match existing {
        Some(u) => format!("Edit user #{} {}", u.id, u.full_name()),
        None => "Add user (starts as invited)".to_string(),
    };
    Ok(Form::new(&title, fields))
}

/// The deactivation dialog: asks for a reason and says what is kept.
pub fn deactivate(name: &str) -> Form {
    Form::new(
        &format!("Deactivate {name}?"),
        vec![
            Field::heading("Login is refused; the record, history and audit events are kept."),
            Field::text("reason", "Reason", ""),
        ],
    )
}

/// The facility checklist for one user.
pub fn access(view: &AccessView) -> Form {
    let mut fields = vec![
        Field::toggle("all", "All facilities", view.all),
        Field::heading("Or only these"),
    ];
    for f in &view.facilities {
        let (id, name, can, primary) = (f.id, &f.name, f.can_access, f.primary);
        let label = if primary {
            format!("{name} (primary)")
        } else {
            name.clone()
        };
        fields.push(Field::toggle(
            &format!("f:{id}"),
            &label,
            can && !view.all || primary,
        ));
    }
    Form::new(&format!("Facility access: {}", view.user), fields)
}

/// Add a role.
pub fn role_add() -> Form {
    Form::new(
        "Add role",
        vec![
            Field::text("name", "Name", ""),
            Field::text("description", "Description", ""),
        ],
    )
}

/// Rename a role.
pub fn role_rename(role: &Role) -> Form {
    Form::new(
        &format!("Rename role {}", role.name),
        vec![
            Field::text("name", "Name", &role.name),
            Field::text("description", "Description", &role.description),
        ],
    )
}

/// The permission matrix of a role: one heading per module, one switch per action.
pub fn role_permissions(role: &Role, keymap: &Keymap) -> Form {
    let mut fields = Vec::new();
    for module in permission::modules() {
        fields.push(Field::heading(module));
        for p in CATALOGUE.iter().filter(|p| p.module == module) {
            let action = p.key.split_once('.').map_or(p.key, |(_, a)| a);
            fields.push(Field::toggle(
                p.key,
                action,
                role.permissions.contains(p.key),
            ));
        }
    }
    Form::new(
        &format!(
            "Permissions of {} ({} toggles, {} saves)",
            role.name,
            keymap.key_or_name(Section::Form, Action::FormToggle),
            keymap.key_or_name(Section::Form, Action::FormSubmit)
        ),
        fields,
    )
}

/// Add or edit a facility.
pub fn facility(existing: Option<&Facility>) -> Form {
    let v = |f: fn(&Facility) -> Option<String>| existing.and_then(f).unwrap_or_default();
    let title = existing.map_or("Add facility".to_string(), |f| {
        format!("Edit facility {}", f.name)
    });
    Form::new(
        &title,
        vec![
            Field::text(
                "name",
                "Name",
                &existing.map(|f| f.name.clone()).unwrap_or_default(),
            ),
            Field::text("code", "Code", &v(|f| f.code.clone())),
            Field::text("address", "Address", &v(|f| f.address.clone())),
            Field::text("phone", "Phone", &v(|f| f.phone.clone())),
        ],
    )
}

/// Practice settings and policies.
pub fn settings(p: &Practice) -> Form {
    let n = |v: u32| v.to_string();
    Form::new(
        "Practice settings (administrators only; every change is audited)",
        vec![
            Field::heading("Practice"),
            Field::text("name", "Practice name", &p.name),
            Field::text("email", "Contact email", &p.email),
            Field::text(
                "time_zone",
                "Time zone (empty: server's)",
                p.time_zone.as_deref().unwrap_or(""),
            ),
            Field::heading("Invitations"),
            Field::text(
                "invite_expiry_hours",
                "Invite valid (hours)",
                &n(p.invite_expiry_hours),
            ),
            Field::text(
                "invite_cooldown_minutes",
                "Resend cool-down (min)",
                &n(p.invite_cooldown_minutes),
            ),
            Field::heading("Login policy"),
            Field::text(
                "lockout_threshold",
                "Lockout after failures",
                &n(p.lockout_threshold),
            ),
            Field::text(
                "lockout_window_minutes",
                "Failure window (min)",
                &n(p.lockout_window_minutes),
            ),
            Field::text(
                "lockout_duration_minutes",
                "Lockout duration (min)",
                &n(p.lockout_duration_minutes),
            ),
            Field::text(
                "idle_timeout_minutes",
                "Idle lock (min)",
                &n(p.idle_timeout_minutes),
            ),
            Field::text(
                "password_min_length",
                "Password min length",
                &n(p.password_min_length),
            ),
            Field::toggle("device_approval", "New-device approval", p.device_approval),
        ],
    )
}

/// Audit filters.
pub fn audit_filter(q: &AuditQuery) -> Form {
    Form::new(
        "Filter the audit log (empty = any)",
        vec![
            Field::text("actor", "Actor", q.actor.as_deref().unwrap_or("")),
            Field::text(
                "action",
                "Action starts with",
                q.action.as_deref().unwrap_or(""),
            ),
            Field::text(
                "target",
                "Target (user:12)",
                q.target.as_deref().unwrap_or(""),
            ),
            Field::text(
                "since",
                "Since (YYYY-MM-DD)",
                &q.since.map(|t| t.to_string()).unwrap_or_default(),
            ),
            Field::text(
                "until",
                "Until (YYYY-MM-DD)",
                &q.until.map(|t| t.to_string()).unwrap_or_default(),
            ),
        ],
    )
}

/// A default export file name in the home directory, named after `now` as the practice reads
/// it.
pub fn default_export_path(ext: &str, time: &LocalTime, now: jiff::Timestamp) -> PathBuf {
    let stamp = time.format(now, "%Y%m%d-%H%M%S");
    // The home directory, where an administrator will look for it (not wherever staffctl was
    // started from).
    let dir = std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_dir())
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    dir.join(format!("staffctl-audit-{stamp}.{ext}"))
}

/// The export dialog; `now` names the file it proposes.
pub fn export(q: &AuditQuery, time: &LocalTime, now: jiff::Timestamp) -> Form {
    Form::new(
        "Export the audit log",
        vec![
            Field::choice(
                "format",
                "Format",
                opts(&[("csv", "CSV (spreadsheets)"), ("jsonl", "JSON lines")]),
                "csv",
            ),
            Field::text(
                "since",
                "Since (YYYY-MM-DD)",
                &q.since.map(|t| t.to_string()).unwrap_or_default(),
            ),
            Field::text(
                "until",
                "Until (YYYY-MM-DD)",
                &q.until.map(|t| t.to_string()).unwrap_or_default(),
            ),
            Field::text(
                "path",
                "Save to",
                &default_export_path("csv", time, now).display().to_string(),
            ),
        ],
    )
}

/// What the operator must hand over after adding a user: the code, shown this once, and how
/// the person uses it (the activation key of `keymap` on the login screen).
pub fn invitation_lines(
    d: &crate::service::UserDetail,
    keymap: &Keymap,
    time: &LocalTime,
) -> Vec<String> {
    let activate_key = keymap.key_or_name(Section::Form, Action::Activate);
    let Some(inv) = &d.invitation else {
        return vec!["No invitation was created.".into()];
    };
    let mut lines = vec![
        format!("Activation code:  {}", inv.code.0),
        format!(
            "Login:            {}",
            d.user
                .username
                .clone()
                .unwrap_or_else(|| d.user.email.clone())
        ),
        format!("Valid until:      {}", time.minute(inv.expires_at)),
        String::new(),
        "The code is shown only now; staffctl keeps only its hash.".into(),
    ];
    lines.push(match &inv.mail {
        None => "No mail command is set: hand the code to the person.".into(),
        Some(Ok(())) => "The invitation was also mailed to them.".into(),
        Some(Err(e)) => format!("The mail failed ({e}); hand the code over instead."),
    });
    lines.push(format!(
        "They activate the account with {activate_key} on the staffctl login screen (or with \
         `staffctl activate`), typing their login and this code, and choose a password."
    ));
    lines.push(format!(
        "{} closes.",
        keymap.key_or_name(Section::List, Action::Back)
    ));
    lines
}
