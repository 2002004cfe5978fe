//! One reading of a user for every front end: sections of (label, value) rows, built from the
//! field table, so the CLI's `user show` and the interface's detail pane show the same things
//! in the same words.

use super::user_field::{FIELDS, FieldKind, Section};
use super::{LocalTime, UserDetail};

/// One section of a user's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailSection {
    /// Heading.
    pub title: &'static str,
    /// (label, value) rows; values are unsanitised data (front ends sanitise on output).
    pub rows: Vec<(&'static str, String)>,
}

/// The user's details in form order, with status, permissions, access and login bookkeeping
/// where people look for them.
pub fn detail(d: &UserDetail, local: &LocalTime) -> Vec<DetailSection> {
    let u = &d.user;
    let when = |t: Option<jiff::Timestamp>| t.map_or_else(|| "-".to_string(), |t| local.minute(t));
    let mut out = Vec::new();
    for section in Section::ALL {
        let mut rows: Vec<(&'static str, String)> = Vec::new();
        if section == Section::Identity {
            rows.push(("Id", format!("#{}", u.id)));
            rows.push(("Status", d.status.as_str().to_string()));
        }
        for f in FIELDS.iter().filter(|f| f.section == section) {
            let raw = (f.value)(u);
            let shown = match f.kind {
                FieldKind::Role => d.role.clone(),
                FieldKind::Facility => d.facility.clone(),
                FieldKind::OptionalFacility => d
                    .default_location
                    .clone()
                    .unwrap_or_else(|| "-".to_string()),
                FieldKind::Choice(options) => options
                    .iter()
                    .find(|(v, _)| *v == raw)
                    .map_or(raw.clone(), |(_, label)| (*label).to_string()),
                FieldKind::Toggle | FieldKind::Text if raw.is_empty() => "-".to_string(),
                FieldKind::Toggle | FieldKind::Text => raw,
            };
            rows.push((f.label, shown));
        }
        match section {
            Section::RoleAndFlags => rows.push(("Permissions", d.permissions.join(", "))),
            Section::Facilities => rows.push(("Can access", d.access.join(", "))),
            _ => {}
        }
        out.push(DetailSection {
            title: section.title(),
            rows,
        });
    }
    let locked = d.login.locked_until.map_or_else(
        || "no".to_string(),
        |t| format!("until {}", local.minute(t)),
    );
    out.push(DetailSection {
        title: "Security",
        rows: vec![
            ("Created", when(Some(u.created_at))),
            ("Activated", when(u.activated_at)),
            ("Last login", when(d.login.last_login_at)),
            ("Locked", locked),
            ("Failed logins", d.login.failed_logins.to_string()),
            ("Deactivated", when(u.deactivated_at)),
            (
                "Reason",
                u.deactivation_reason.clone().unwrap_or_else(|| "-".into()),
            ),
        ],
    });
    out
}
