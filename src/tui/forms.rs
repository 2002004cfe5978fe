//! Every form of the interface: how it is built from current data, and (in
//! `forms/submit.rs`) what saving it asks of the service. Values travel to the service as text,
//! so its validation messages land beside the right fields.

mod submit;

use std::path::PathBuf;

pub use submit::{Purpose, Submitted, submit};

use super::app::Ctx;
use super::widgets::form::{Field, Form};
use crate::error::{FieldError, Result};
use crate::model::permission::{self, CATALOGUE};
use crate::model::{Facility, Practice, Role, User};
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
        Field::toggle("part_time", "Part-time", b(|u| u.part_time, false)),
        Field::toggle("aide", "Aide (unlicensed)", b(|u| u.aide, false)),
        Field::toggle("chat_user", "Chat user", b(|u| u.chat_user, false)),
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
/// the person uses it (`activate_key` on the login screen).
pub fn invitation_lines(
    d: &crate::service::UserDetail,
    activate_key: &str,
    time: &LocalTime,
) -> Vec<String> {
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
    lines.push("Esc closes.".into());
    lines
}
