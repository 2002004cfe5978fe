//! The fixed permission catalogue. Keys are stable strings (`module.action`); adding a key needs no
//! migration, renaming one does.

use serde::Serialize;

/// One permission in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Permission {
    /// Stable key, `module.action`.
    pub key: &'static str,
    /// Module the permission belongs to (the part before the dot).
    pub module: &'static str,
    /// One line a newcomer understands.
    pub description: &'static str,
}

macro_rules! catalogue {
    ($(($module:literal, $action:literal, $desc:literal)),* $(,)?) => {
        /// Every permission staffctl knows, grouped by module in display order.
        pub const CATALOGUE: &[Permission] = &[
            $(Permission { key: concat!($module, ".", $action), module: $module, description: $desc }),*
        ];
    };
}

catalogue![
    ("calendar", "view", "See appointments on the calendar"),
    ("calendar", "create", "Book and reschedule appointments"),
    ("calendar", "delete", "Cancel and delete appointments"),
    ("billing", "process_payments", "Take patient payments"),
    ("billing", "issue_refunds", "Issue refunds"),
    ("billing", "view_revenue", "See revenue reports"),
    ("clinical", "view_charts", "Open patient charts"),
    ("clinical", "write_notes", "Write clinical notes"),
    ("clinical", "manage_medications", "Manage medication lists"),
    (
        "patients",
        "assignable",
        "Can have patients assigned (licensed staff only)"
    ),
    ("messaging", "patients", "Send secure messages to patients"),
    ("messaging", "team_chat", "Use team chat"),
    ("forms", "sign", "Co-sign forms and consents with a patient"),
    ("reports", "nps", "See NPS (patient satisfaction) reports"),
    (
        "rtm",
        "timer",
        "Use the remote therapeutic monitoring timer"
    ),
    ("admin", "users", "Manage staff users and invitations"),
    ("admin", "settings", "Change practice settings"),
    ("audit", "export", "Export the audit log"),
];

/// Manage staff users, their access, invitations and devices.
pub const MANAGE_USERS: &str = "admin.users";
/// Change practice settings, roles and facilities.
pub const MANAGE_SETTINGS: &str = "admin.settings";
/// Export the audit log.
pub const EXPORT_AUDIT: &str = "audit.export";
/// The permissions that govern staffctl itself; holding any of them lets a user operate
/// staffctl (see what the others hold, read the audit log) within what they hold.
pub const OPERATOR: &[&str] = &[MANAGE_USERS, MANAGE_SETTINGS, EXPORT_AUDIT];

/// Permissions a Technician seat never holds (article: technicians get everything except the
/// RTM timer).
pub const TECHNICIAN_FORBIDDEN: &[&str] = &["rtm.timer"];

/// Permissions an aide (unlicensed staff) may never hold.
pub const AIDE_FORBIDDEN: &[&str] = &["patients.assignable", "messaging.patients"];

/// Looks a permission up by key.
pub fn find(key: &str) -> Option<&'static Permission> {
    CATALOGUE.iter().find(|p| p.key == key)
}

/// The modules in catalogue order, without repeats.
pub fn modules() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for p in CATALOGUE {
        if !out.contains(&p.module) {
            out.push(p.module);
        }
    }
    out
}

/// Keys of every permission in the catalogue.
pub fn all_keys() -> impl Iterator<Item = &'static str> {
    CATALOGUE.iter().map(|p| p.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_well_formed() {
        let mut keys: Vec<_> = all_keys().collect();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n);
        for p in CATALOGUE {
            assert_eq!(p.key.split_once('.').map(|(m, _)| m), Some(p.module));
        }
        for k in AIDE_FORBIDDEN {
            assert!(find(k).is_some(), "{k}");
        }
        assert!(modules().contains(&"calendar"));
    }
}
