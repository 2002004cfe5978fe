//! Every form of the interface: how it is built from current data, and what saving it asks of
//! the service. Values travel to the service as text, so its validation messages land beside
//! the right fields.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::app::Ctx;
use super::widgets::form::{Field, Form};
use crate::error::{Error, FieldError, Result};
use crate::model::permission::{self, CATALOGUE};
use crate::model::{Facility, Id, Practice, Role, User};
use crate::service::{
    AccessView, AuditQuery, ExportFormat, FacilityField, InitRequest, PracticeField, Request,
    Response, UserField, UserFields, parse_time,
};

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
        /// Title.
        title: String,
        /// What will happen.
        lines: Vec<String>,
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
pub fn activation(user: &str) -> Form {
    Form::new(
        "Activate your account (F2 again or Esc: back to log in)",
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

/// The add/edit user form, in sections.
pub fn user(ctx: &Ctx<'_>, existing: Option<&User>) -> Result<Form> {
    let (mut roles, facilities) = roles_and_facilities(ctx)?;
    // Roles that administer staffctl come last, so a stray → never lands on them first.
    roles.sort_by_key(|r| r.permissions.iter().any(|p| p.starts_with("admin.")));
    // A new user gets no role or facility until one is chosen (never Administrator by accident).
    let choose = || vec![(String::new(), "(choose)".to_string())];
    let mut role_opts = if existing.is_none() {
        choose()
    } else {
        Vec::new()
    };
    role_opts.extend(roles.iter().map(|r| (r.id.to_string(), r.name.clone())));
    let fac_list: Vec<(String, String)> = facilities
        .iter()
        .map(|f| (f.id.to_string(), f.name.clone()))
        .collect();
    let mut fac_opts = if existing.is_none() && fac_list.len() > 1 {
        choose()
    } else {
        Vec::new()
    };
    fac_opts.extend(fac_list.iter().cloned());
    let mut loc_opts = vec![(String::new(), "(none)".to_string())];
    loc_opts.extend(fac_list.iter().cloned());
    let d = existing.cloned();
    let u = d.as_ref();
    let s = |f: fn(&User) -> String| u.map(f).unwrap_or_default();
    let b = |f: fn(&User) -> bool, default: bool| u.map_or(default, f);
    let title = match u {
        Some(u) => format!("Edit user #{} {}", u.id, u.full_name()),
        None => "Add user (starts as invited)".to_string(),
    };
    let fields = vec![
        Field::heading("Identity"),
        Field::text("first_name", "First name", &s(|u| u.first_name.clone())),
        Field::text("last_name", "Last name", &s(|u| u.last_name.clone())),
        Field::text(
            "public_name",
            "Public name",
            &s(|u| u.public_name.clone().unwrap_or_default()),
        ),
        Field::text("email", "Email", &s(|u| u.email.clone())),
        Field::text(
            "username",
            "Username",
            &s(|u| u.username.clone().unwrap_or_default()),
        ),
        Field::choice(
            "login_method",
            "Logs in with",
            opts(&[("email", "email"), ("username", "username")]),
            &s(|u| format!("{:?}", u.login_method).to_lowercase()),
        ),
        Field::heading("Role & flags"),
        Field::choice("role", "Role", role_opts, &s(|u| u.role_id.to_string()))
            .required("pick a role with ←/→"),
        Field::choice(
            "billing",
            "Billing seat",
            opts(&[
                ("none", "none"),
                ("provider", "provider (billable)"),
                ("assistant", "provider assistant (billable)"),
                ("technician", "technician (free)"),
            ]),
            &s(|u| u.billing.as_str().to_string()),
        ),
        Field::toggle("admin", "Administrator", b(|u| u.is_admin, false)),
        Field::toggle("part_time", "Part-time", b(|u| u.part_time, false)),
        Field::toggle("aide", "Aide (unlicensed)", b(|u| u.aide, false)),
        Field::heading("Facilities & access"),
        Field::choice(
            "facility",
            "Primary facility",
            fac_opts,
            &s(|u| u.primary_facility.to_string()),
        )
        .required("pick a primary facility with ←/→"),
        Field::choice(
            "default_location",
            "Default location",
            loc_opts,
            &s(|u| {
                u.notifications
                    .default_location
                    .map(|i| i.to_string())
                    .unwrap_or_default()
            }),
        ),
        Field::choice(
            "data_scope",
            "Data access",
            opts(&[("facility", "facility"), ("own", "own"), ("all", "all")]),
            &s(|u| format!("{:?}", u.data_scope).to_lowercase()),
        ),
        Field::choice(
            "nps_scope",
            "NPS access",
            opts(&[("own", "own"), ("facility", "facility"), ("all", "all")]),
            &s(|u| format!("{:?}", u.nps_scope).to_lowercase()),
        ),
        Field::heading("Provider credentials"),
        Field::text(
            "npi",
            "NPI",
            &s(|u| u.provider.npi.clone().unwrap_or_default()),
        ),
        Field::text(
            "taxonomy",
            "Taxonomy code",
            &s(|u| u.provider.taxonomy.clone().unwrap_or_default()),
        ),
        Field::text(
            "pms_provider_id",
            "PMS provider id",
            &s(|u| u.provider.pms_provider_id.clone().unwrap_or_default()),
        ),
        Field::text(
            "capacity",
            "Capacity",
            &u.map_or("1".to_string(), |u| u.provider.capacity.to_string()),
        ),
        Field::choice(
            "scheduling_step",
            "Scheduling step",
            opts(&[
                ("15", "15 min"),
                ("5", "5 min"),
                ("10", "10 min"),
                ("20", "20 min"),
                ("30", "30 min"),
                ("60", "60 min"),
            ]),
            &u.map_or("15".to_string(), |u| {
                u.provider.scheduling_step_minutes.to_string()
            }),
        ),
        Field::toggle(
            "default_doctor",
            "Default doctor",
            b(|u| u.provider.default_doctor, false),
        ),
        Field::toggle(
            "can_sign_forms",
            "Can sign forms",
            b(|u| u.provider.can_sign_forms, false),
        ),
        Field::toggle(
            "show_in_app",
            "Show in app",
            b(|u| u.provider.show_in_app, false),
        ),
        Field::text(
            "extension",
            "Screen-pop ext.",
            &s(|u| u.provider.screen_pop_extension.clone().unwrap_or_default()),
        ),
        Field::toggle(
            "rtm_default",
            "RTM on by default",
            b(|u| u.provider.rtm_default, true),
        ),
        Field::toggle(
            "location_popup",
            "Location pop-up",
            b(|u| u.provider.location_popup, false),
        ),
        Field::text("bio", "Bio", &s(|u| u.provider.bio.clone())),
        Field::heading("Notifications"),
        Field::toggle(
            "secure_messaging",
            "Secure messaging",
            b(|u| u.notifications.secure_messaging, false),
        ),
        Field::toggle(
            "billable_codes_email",
            "Billable codes email",
            b(|u| u.notifications.billable_codes_email, false),
        ),
        Field::toggle(
            "new_lead",
            "New lead",
            b(|u| u.notifications.new_lead, false),
        ),
        Field::toggle(
            "new_intake",
            "New intake",
            b(|u| u.notifications.new_intake, false),
        ),
        Field::toggle(
            "low_score_alert",
            "Low score alert",
            b(|u| u.notifications.low_score_alert, false),
        ),
        Field::toggle(
            "passive_score_alert",
            "Passive score alert",
            b(|u| u.notifications.passive_score_alert, false),
        ),
        Field::toggle(
            "promoter_score_alert",
            "Promoter alert",
            b(|u| u.notifications.promoter_score_alert, false),
        ),
        Field::choice(
            "dos_threshold",
            "DOS threshold",
            opts(&[
                ("", "off"),
                ("1", "1"),
                ("2", "2"),
                ("3", "3"),
                ("4", "4"),
                ("5", "5"),
            ]),
            &s(|u| {
                u.notifications
                    .dos_threshold
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            }),
        ),
        Field::heading("Administration"),
        Field::text("note", "Note", &s(|u| u.note.clone())),
    ];
    Ok(Form::new(&title, fields))
}

fn user_fields(pairs: Vec<(String, String)>) -> UserFields {
    pairs
        .into_iter()
        .filter_map(|(k, v)| {
            let field = UserField::parse(&k)?;
            // Choice values for role/facility are ids; the service accepts `#id`.
            let v = if matches!(
                field,
                UserField::Role | UserField::Facility | UserField::DefaultLocation
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
pub fn role_permissions(role: &Role) -> Form {
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
        &format!("Permissions of {} (Space toggles, Enter saves)", role.name),
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
            Field::text(
                "mail_command",
                "Mail command",
                p.mail_command.as_deref().unwrap_or(""),
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

/// A default export file name in the current directory.
pub fn default_export_path(ext: &str) -> PathBuf {
    let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S").to_string();
    // The home directory, where an administrator will look for it (not wherever staffctl was
    // started from).
    let dir = std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_dir())
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    dir.join(format!("staffctl-audit-{stamp}.{ext}"))
}

/// The export dialog.
pub fn export(q: &AuditQuery) -> Form {
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
                &default_export_path("csv").display().to_string(),
            ),
        ],
    )
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

/// What the operator must hand over after adding a user: the code, shown this once, and how
/// the person uses it (`activate_key` on the login screen).
pub fn invitation_lines(d: &crate::service::UserDetail, activate_key: &str) -> Vec<String> {
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
        format!(
            "Valid until:      {}",
            inv.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        ),
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
    lines.push("Esc closes.".into());
    lines
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
                lines: invitation_lines(&d, &ctx.activate_key()),
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
                "Added role {}; press e to choose its permissions.",
                form.value("name").trim()
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
            lines.push("y: save   n: back to the matrix".into());
            Ok(Submitted::Confirm {
                title: format!("Change permissions of {}?", detail.role.name),
                lines,
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
