//! How each response looks in a terminal (tables, sanitised) or to a script (JSON).

use super::args::{AccessCmd, AuditCmd, Command, FacilityCmd, RoleCmd, UserCmd};
use super::is_json;
use super::output::{self, OutputFormat, cell, fields, or_dash, table, when, yes_no};
use crate::audit::export::changes_text;
use crate::error::{Error, Result};
use crate::service::{
    AccessView, FacilityDetail, Listing, PermissionInfo, Response, RoleDetail, UserDetail,
};

/// Prints the permission catalogue.
pub fn permissions(rows: &[PermissionInfo], format: OutputFormat) -> Result<()> {
    if is_json(format) {
        return output::json(rows);
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|p| vec![cell(&p.module), cell(&p.key), cell(&p.description)])
        .collect();
    output::print(&table(&["MODULE", "KEY", "DESCRIPTION"], &body))
}

fn warn_unreadable(bad: &[crate::service::UnreadableRecord]) {
    for b in bad {
        eprintln!(
            "warning: {}; the other records are listed",
            output::cell_long(&b.to_string())
        );
    }
}

fn listing_json<T: serde::Serialize>(l: &Listing<T>) -> Result<()> {
    warn_unreadable(&l.unreadable);
    output::json(&l.items)
}

/// Prints a response as the command that produced it expects.
pub fn response(command: &Command, response: &Response, format: OutputFormat) -> Result<()> {
    let json = is_json(format);
    match response {
        Response::Operator(o) => operator(o, json),
        Response::Practice(v) => practice(v.as_ref(), json),
        Response::Facilities(l) => facilities(l, json),
        Response::Facility(d) => facility(d, json, command),
        Response::Roles(l) => roles(l, json),
        Response::Role(d) => role(d, json, command),
        Response::Permissions(rows) => permissions(rows, format),
        Response::Users(l) => users(l, json),
        Response::User(d) => user(d.as_ref(), json, command),
        Response::Devices(l) => devices(l, json),
        Response::Device(v) => device(v, json),
        Response::Invites(l) => invites(l, json),
        Response::Deleted(id, name) => deleted(id, name, json, command),
        Response::Access(v) => access(v, json, command),
        Response::Audit(l) => audit(l, json),
        Response::Verify(r) => verify(r, json),
        Response::Quarantine(entries) => quarantine(entries, json),
        Response::Head(h) => head(h, json, command),
        Response::ImportPreview(r) => {
            if json {
                return output::json(r);
            }
            output::print(&super::import::report_text(r))
        }
        Response::ImportCommit(r) => {
            if json {
                return output::json(r);
            }
            output::print(&super::import::result_text(r))
        }
    }
}

/// Prints a `Response::Operator`.
fn operator(o: &crate::service::OperatorView, json: bool) -> Result<()> {
    if json {
        return output::json(o);
    }
    output::print(&fields(&[
        (
            "user",
            format!("#{} {} ({})", o.id, cell(&o.name), cell(&o.login)),
        ),
        ("role", cell(&o.role)),
        ("permissions", o.permissions.join(", ")),
        ("times in", o.time_zone.clone()),
    ]))
}

/// Prints a `Response::Practice`.
fn practice(v: &crate::service::PracticeView, json: bool) -> Result<()> {
    if json {
        return output::json(v);
    }
    let p = &v.settings;
    let mail = match (&v.mail.command, &v.mail.problem) {
        (_, Some(problem)) => format!("none ({})", cell(problem)),
        (Some(cmd), None) => format!(
            "{} (set by the server's administrator in {})",
            cell(cmd),
            cell(&v.mail.source)
        ),
        (None, None) => format!(
            "none (the server's administrator sets it in {})",
            cell(&v.mail.source)
        ),
    };
    output::print(&fields(&[
        ("practice", p.name.clone()),
        ("email", p.email.clone()),
        ("invite_expiry_hours", p.invite_expiry_hours.to_string()),
        (
            "invite_cooldown_minutes",
            p.invite_cooldown_minutes.to_string(),
        ),
        ("lockout_threshold", p.lockout_threshold.to_string()),
        (
            "lockout_window_minutes",
            p.lockout_window_minutes.to_string(),
        ),
        (
            "lockout_duration_minutes",
            p.lockout_duration_minutes.to_string(),
        ),
        ("idle_timeout_minutes", p.idle_timeout_minutes.to_string()),
        ("password_min_length", p.password_min_length.to_string()),
        (
            "time_zone",
            match &p.time_zone {
                Some(z) => z.clone(),
                None => format!("{} (the server's)", v.time_zone),
            },
        ),
        ("device_approval", yes_no(p.device_approval)),
        ("mail command", mail),
        (
            "billable seats",
            format!(
                "{} ({} provider, {} provider assistant; {} technician, free)",
                v.seats.billable(),
                v.seats.provider,
                v.seats.assistant,
                v.seats.technician
            ),
        ),
    ]))
}

/// Prints a `Response::Facilities`.
fn facilities(l: &Listing<crate::service::FacilitySummary>, json: bool) -> Result<()> {
    if json {
        return listing_json(l);
    }
    warn_unreadable(&l.unreadable);
    let rows: Vec<Vec<String>> = l
        .items
        .iter()
        .map(|s| {
            let f = &s.facility;
            vec![
                f.id.to_string(),
                cell(&f.name),
                or_dash(f.code.as_deref()),
                s.primary_users.to_string(),
                if f.archived { "archived" } else { "active" }.into(),
                or_dash(f.phone.as_deref()),
            ]
        })
        .collect();
    output::print(&table(
        &["ID", "NAME", "CODE", "STAFF", "STATUS", "PHONE"],
        &rows,
    ))
}

/// Prints a `Response::Facility`.
fn facility(d: &FacilityDetail, json: bool, command: &Command) -> Result<()> {
    if json {
        return output::json(d);
    }
    let verb = match command {
        Command::Facility(FacilityCmd::Add { .. }) => Some("Added"),
        Command::Facility(FacilityCmd::Edit { .. }) => Some("Updated"),
        Command::Facility(FacilityCmd::Archive { .. }) => Some("Archived"),
        Command::Facility(FacilityCmd::Restore { .. }) => Some("Restored"),
        _ => None,
    };
    match verb {
        Some(v) => output::print(&format!(
            "{v} facility #{} {}.\n",
            d.facility.id,
            cell(&d.facility.name)
        )),
        None => output::print(&facility_detail(d)),
    }
}

/// Prints a `Response::Roles`.
fn roles(l: &Listing<crate::service::RoleSummary>, json: bool) -> Result<()> {
    if json {
        return listing_json(l);
    }
    warn_unreadable(&l.unreadable);
    let rows: Vec<Vec<String>> = l
        .items
        .iter()
        .map(|s| {
            vec![
                s.role.id.to_string(),
                cell(&s.role.name),
                s.users.to_string(),
                s.role.permissions.len().to_string(),
                yes_no(s.role.builtin),
                cell(&s.role.description),
            ]
        })
        .collect();
    output::print(&table(
        &[
            "ID",
            "NAME",
            "USERS",
            "PERMISSIONS",
            "BUILT-IN",
            "DESCRIPTION",
        ],
        &rows,
    ))
}

/// Prints a `Response::Role`.
fn role(d: &RoleDetail, json: bool, command: &Command) -> Result<()> {
    if json {
        return output::json(d);
    }
    let verb = match command {
        Command::Role(RoleCmd::Add { .. }) => Some("Added"),
        Command::Role(RoleCmd::Edit { .. }) => Some("Updated"),
        _ => None,
    };
    if let Some(v) = verb {
        output::print(&format!(
            "{v} role #{} {} ({} permissions; {} user(s) affected).\n",
            d.role.id,
            cell(&d.role.name),
            d.role.permissions.len(),
            d.users.len()
        ))?;
    }
    output::print(&role_detail(d))
}

/// Prints a `Response::Users`.
fn users(l: &Listing<crate::service::UserSummary>, json: bool) -> Result<()> {
    if json {
        return listing_json(l);
    }
    warn_unreadable(&l.unreadable);
    let rows: Vec<Vec<String>> = l
        .items
        .iter()
        .map(|u| {
            let status = if u.locked {
                format!("{} (locked)", u.status.as_str())
            } else {
                u.status.as_str().into()
            };
            vec![
                u.id.to_string(),
                cell(&u.name),
                or_dash(u.username.as_deref()),
                cell(&u.email),
                cell(&u.role),
                cell(&u.facility),
                status,
                u.billing.as_str().into(),
                when(u.last_login_at),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "ID",
            "NAME",
            "USERNAME",
            "EMAIL",
            "ROLE",
            "FACILITY",
            "STATUS",
            "BILLING",
            "LAST LOGIN",
        ],
        &rows,
    );
    text.push_str(&format!(
        "{} user(s); times in {}\n",
        l.items.len(),
        output::local_time().name()
    ));
    output::print(&text)
}

/// Prints a `Response::User`.
fn user(d: &UserDetail, json: bool, command: &Command) -> Result<()> {
    if json {
        return output::json(d);
    }
    let verb = match command {
        Command::User(UserCmd::Add { .. }) => Some("Added"),
        Command::User(UserCmd::Edit { .. }) => Some("Updated"),
        Command::User(UserCmd::Deactivate { .. }) => Some("Deactivated"),
        Command::User(UserCmd::Reactivate { .. }) => Some("Reactivated"),
        Command::User(UserCmd::Unlock { .. }) => Some("Unlocked"),
        Command::Invite(super::args::InviteCmd::Resend { .. }) => Some("Invitation re-sent to"),
        Command::Invite(super::args::InviteCmd::Revoke { .. }) => Some("Invitation revoked for"),
        _ => None,
    };
    match verb {
        Some(v) => {
            let mut msg = String::new();
            msg.push_str(&format!(
                "{v} user #{} {} (status: {}).\n",
                d.user.id,
                cell(&d.user.full_name()),
                d.status.as_str()
            ));
            msg.push_str(&invitation_text(d));
            if matches!(command, Command::User(UserCmd::Deactivate { .. })) {
                msg.push_str("Their record, history and audit events are kept; login is refused and pending invitations are revoked.\n");
            }
            output::print(&msg)
        }
        None => output::print(&user_detail(d)),
    }
}

/// Prints a `Response::Devices`.
fn devices(l: &Listing<crate::service::DeviceView>, json: bool) -> Result<()> {
    if json {
        return listing_json(l);
    }
    let rows: Vec<Vec<String>> = l
        .items
        .iter()
        .map(|v| {
            let d = &v.device;
            vec![
                d.id.to_string(),
                cell(&v.user),
                cell(&d.fingerprint),
                d.status.as_str().to_string(),
                when(Some(d.first_seen)),
                when(d.decided_at),
            ]
        })
        .collect();
    let mut text = table(
        &["ID", "USER", "DEVICE", "STATUS", "FIRST SEEN", "DECIDED"],
        &rows,
    );
    text.push_str(&format!("times in {}\n", output::local_time().name()));
    output::print(&text)
}

/// Prints a `Response::Device`.
fn device(v: &crate::service::DeviceView, json: bool) -> Result<()> {
    if json {
        return output::json(v);
    }
    output::print(&format!(
        "Device #{} ({}) of {} is now {}.\n",
        v.device.id,
        cell(&v.device.fingerprint),
        cell(&v.user),
        v.device.status.as_str()
    ))
}

/// Prints a `Response::Invites`.
fn invites(l: &Listing<crate::service::InviteView>, json: bool) -> Result<()> {
    if json {
        return listing_json(l);
    }
    warn_unreadable(&l.unreadable);
    let rows: Vec<Vec<String>> = l
        .items
        .iter()
        .map(|i| {
            vec![
                i.user_id.to_string(),
                cell(&i.name),
                cell(&i.email),
                i.status.as_str().to_string(),
                i.send_count.to_string(),
                when(Some(i.last_sent_at)),
                when(Some(i.expires_at)),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "ID",
            "NAME",
            "EMAIL",
            "STATUS",
            "SENT",
            "LAST SENT",
            "EXPIRES",
        ],
        &rows,
    );
    text.push_str(&format!("times in {}\n", output::local_time().name()));
    output::print(&text)
}

/// Prints a `Response::Deleted`.
fn deleted(id: &crate::model::Id, name: &str, json: bool, command: &Command) -> Result<()> {
    if json {
        return output::json(&serde_json::json!({ "deleted": { "id": id, "name": name } }));
    }
    let kind = match command {
        Command::Role(_) => "role",
        _ => "user",
    };
    output::print(&format!(
        "Deleted {kind} #{id} {}; the audit log keeps the record of it.\n",
        cell(name)
    ))
}

/// Prints a `Response::Access`.
fn access(v: &crate::service::AccessView, json: bool, command: &Command) -> Result<()> {
    if json {
        return output::json(v);
    }
    if !matches!(command, Command::Access(AccessCmd::Show { .. })) {
        output::print("Access updated.\n")?;
    }
    output::print(&access_view(v))
}

/// Prints a `Response::Audit`.
fn audit(l: &Listing<crate::audit::AuditEvent>, json: bool) -> Result<()> {
    if json {
        warn_unreadable(&l.unreadable);
        let events: Vec<_> = l
            .items
            .iter()
            .map(crate::audit::export::JsonEvent::of)
            .collect();
        return output::json(&events);
    }
    warn_unreadable(&l.unreadable);
    let rows: Vec<Vec<String>> = l
        .items
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                output::when_exact(e.at()),
                cell(&e.actor.label()),
                cell(&e.action),
                e.target.as_ref().map_or_else(
                    || "-".into(),
                    |t| cell(&format!("{}:{} {}", t.kind, t.id, t.label)),
                ),
                e.outcome.kind().into(),
                cell(
                    if e.changes.is_empty() {
                        e.outcome.reason().to_string()
                    } else {
                        changes_text(&e.changes)
                    }
                    .as_str(),
                ),
            ]
        })
        .collect();
    let time = output::time_header("TIME");
    let mut text = table(
        &[
            "SEQ", &time, "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL",
        ],
        &rows,
    );
    text.push_str(&format!("{} event(s), newest first\n", l.items.len()));
    output::print(&text)
}

/// Prints a `Response::Verify`.
fn verify(r: &crate::service::VerifyReport, json: bool) -> Result<()> {
    if json {
        output::json(r)?;
    } else {
        let mut text = format!(
            "checked {} event(s); head #{} {}\n",
            r.checked, r.head_seq, r.head_hash
        );
        if let Some((seq, why)) = &r.broken {
            // The whole reason, however long: it is what an auditor acts on.
            text.push_str(&format!(
                "BROKEN at event #{seq}: {}\n",
                output::cell_long(why)
            ));
        }
        if let Some(x) = &r.expectation {
            text.push_str(&format!("{x}\n"));
        }
        if r.quarantined > 0 {
            text.push_str(&format!(
                "{} damaged or out-of-place audit record(s) are kept unchanged in the store's audit_quarantine tree for investigation\n",
                r.quarantined
            ));
        }
        text.push_str(if r.ok {
            "audit log OK\n"
        } else {
            "audit log FAILED verification\n"
        });
        output::print(&text)?;
    }
    if r.ok {
        Ok(())
    } else {
        Err(Error::Integrity(match &r.broken {
            Some((seq, _)) => format!("audit chain broken at event #{seq}"),
            None => "the audit log does not hold the expected head".into(),
        }))
    }
}

/// Prints a `Response::Quarantine`.
fn quarantine(entries: &[crate::service::QuarantineEntry], json: bool) -> Result<()> {
    if json {
        return output::json(entries);
    }
    if entries.is_empty() {
        return output::print("No audit records are kept in quarantine.\n");
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|q| {
            vec![
                cell(&q.reason),
                q.stored_under.clone(),
                q.displaced_by
                    .map_or_else(|| "-".into(), |s| format!("#{s}")),
                q.size.to_string(),
                if q.readable_events.is_empty() {
                    "none".into()
                } else {
                    q.readable_events
                        .iter()
                        .map(|s| format!("#{s}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                },
            ]
        })
        .collect();
    let mut text = table(
        &[
            "REASON",
            "STORED UNDER",
            "SET ASIDE BY",
            "BYTES",
            "READABLE EVENTS",
        ],
        &rows,
    );
    text.push_str("The bytes of each record are in --output json (data_hex).\n");
    output::print(&text)
}

/// Prints a `Response::Head`.
fn head(h: &crate::service::AuditHead, json: bool, command: &Command) -> Result<()> {
    if json {
        return output::json(h);
    }
    if matches!(command, Command::Audit(AuditCmd::Head)) {
        output::print(&format!("{h}\n"))
    } else {
        Ok(())
    }
}

fn names(list: &[crate::service::Person]) -> String {
    if list.is_empty() {
        return "-".into();
    }
    list.iter()
        .map(|p| format!("#{} {}", p.id, cell(&p.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn facility_detail(d: &FacilityDetail) -> String {
    let f = &d.facility;
    fields(&[
        ("id", f.id.to_string()),
        ("name", f.name.clone()),
        ("code", f.code.clone().unwrap_or_else(|| "-".into())),
        ("address", f.address.clone().unwrap_or_else(|| "-".into())),
        ("phone", f.phone.clone().unwrap_or_else(|| "-".into())),
        (
            "status",
            if f.archived { "archived" } else { "active" }.into(),
        ),
        ("primary staff", names(&d.primary_users)),
        ("can access", names(&d.access_users)),
    ])
}

fn role_detail(d: &RoleDetail) -> String {
    let r = &d.role;
    let mut text = fields(&[
        ("id", r.id.to_string()),
        ("name", r.name.clone()),
        ("description", r.description.clone()),
        ("built-in", yes_no(r.builtin)),
        ("users", names(&d.users)),
    ]);
    text.push_str("permissions:\n");
    for p in crate::model::permission::CATALOGUE {
        let mark = if r.permissions.contains(p.key) {
            "[x]"
        } else {
            "[ ]"
        };
        text.push_str(&format!("  {mark} {:<30} {}\n", p.key, p.description));
    }
    text
}

fn access_view(v: &AccessView) -> String {
    let mut text = format!(
        "{} (#{}): {}\n",
        cell(&v.user),
        v.user_id,
        if v.all {
            "all facilities"
        } else {
            "selected facilities"
        }
    );
    for f in &v.facilities {
        let mark = if f.can_access { "[x]" } else { "[ ]" };
        let p = if f.primary { " (primary)" } else { "" };
        text.push_str(&format!("  {mark} #{} {}{p}\n", f.id, cell(&f.name)));
    }
    text
}

fn user_detail(d: &UserDetail) -> String {
    let mut text = String::new();
    for section in crate::service::user_view::detail(d, &output::local_time()) {
        text.push_str(section.title);
        text.push('\n');
        let rows: Vec<(String, String)> = section
            .rows
            .into_iter()
            .map(|(label, value)| (format!("  {label}"), value))
            .collect();
        let pairs: Vec<(&str, String)> =
            rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        text.push_str(&fields(&pairs));
    }
    text.push_str("History\n");
    let rows: Vec<Vec<String>> = d
        .history
        .iter()
        .map(|h| {
            vec![
                h.seq.to_string(),
                when(Some(h.time)),
                cell(&h.actor),
                cell(&h.action),
                h.outcome.clone(),
                cell(&h.changes.join("; ")),
            ]
        })
        .collect();
    let time = output::time_header("TIME");
    for line in table(&["SEQ", &time, "BY", "ACTION", "OUTCOME", "CHANGES"], &rows).lines() {
        text.push_str(&format!("  {line}\n"));
    }
    text
}

/// The one-time code of an invitation just created or re-sent, and what happened to the mail.
fn invitation_text(d: &UserDetail) -> String {
    let Some(inv) = &d.invitation else {
        return String::new();
    };
    let mut s = format!(
        "Activation code for {}: {}  (valid until {}; it is shown only now, and only its hash is stored)\n",
        cell(&d.user.full_name()),
        inv.code.0,
        when(Some(inv.expires_at)),
    );
    match &inv.mail {
        None => s.push_str("No mail command is set: hand the code to the person.\n"),
        Some(Ok(())) => s.push_str("The invitation was mailed.\n"),
        Some(Err(e)) => s.push_str(&format!(
            "The mail could not be sent ({}); the invitation is still valid: hand the code over.\n",
            cell(e)
        )),
    }
    s
}
