//! What the operator's role lets them do, as the interface shows it: actions whose request
//! needs a permission they lack are not offered (hint line, palette) or marked (help), and
//! their keys say why instead of opening a form the service would refuse. The rule is the
//! service's own ([`required_permission`]); the interface only asks it about each action.

use crate::model::permission::{EXPORT_AUDIT, OPERATOR};
use crate::service::{OperatorView, Request, required_permission};
use crate::tui::action::Action;

/// The operator's permissions (from `WhoAmI`), or none known (everything is offered and the
/// service decides).
#[derive(Debug, Clone, Default)]
pub struct Authority {
    operator: Option<OperatorView>,
}

impl Authority {
    /// The authority of `operator`.
    pub fn new(operator: Option<OperatorView>) -> Self {
        Self { operator }
    }

    /// Who is operating, when known.
    pub fn operator(&self) -> Option<&OperatorView> {
        self.operator.as_ref()
    }

    /// Why `operator` may not operate staffctl at all, if they may not.
    pub fn refuse_entry(operator: &OperatorView) -> Option<String> {
        if OPERATOR.iter().any(|k| operator.may(k)) {
            return None;
        }
        Some(format!(
            "{}'s role ({}) gives no access to staffctl; ask an administrator",
            operator.name, operator.role
        ))
    }

    /// The permission `action` needs, if any.
    pub fn needs(action: Action) -> Option<&'static str> {
        if action == Action::AuditExport {
            return Some(EXPORT_AUDIT);
        }
        request_of(action).as_ref().and_then(required_permission)
    }

    /// Whether the operator may do `action`.
    pub fn allows(&self, action: Action) -> bool {
        self.refusal(action).is_none()
    }

    /// What pressing `action`'s key says when the operator may not do it.
    pub fn refusal(&self, action: Action) -> Option<String> {
        let operator = self.operator.as_ref()?;
        let key = Self::needs(action).filter(|k| !operator.may(k))?;
        Some(format!(
            "your role ({}) does not allow this: it needs {key}",
            operator.role
        ))
    }
}

/// The request `action` sends (its target left blank: only its kind matters here).
fn request_of(action: Action) -> Option<Request> {
    let blank = String::new;
    Some(match action {
        Action::UserAdd => Request::UserAdd(Vec::new()),
        Action::UserEdit => Request::UserEdit(blank(), Vec::new()),
        Action::UserDeactivate => Request::UserDeactivate {
            user: blank(),
            reason: blank(),
        },
        Action::UserReactivate => Request::UserReactivate(blank()),
        Action::UserDelete => Request::UserDelete(blank()),
        Action::UserAccess => Request::AccessOnly {
            user: blank(),
            facilities: Vec::new(),
        },
        Action::UserUnlock => Request::UserUnlock(blank()),
        Action::RoleAdd => Request::RoleAdd {
            name: blank(),
            description: blank(),
            permissions: Vec::new(),
        },
        Action::RoleEdit | Action::RoleRename => Request::RoleEdit {
            role: blank(),
            rename: None,
            description: None,
            grant: Vec::new(),
            revoke: Vec::new(),
        },
        Action::RoleDelete => Request::RoleDelete(blank()),
        Action::FacilityAdd => Request::FacilityAdd(Vec::new()),
        Action::FacilityEdit => Request::FacilityEdit(blank(), Vec::new()),
        Action::FacilityArchive => Request::FacilityArchive(blank()),
        Action::InviteResend => Request::InviteResend(blank()),
        Action::InviteRevoke => Request::InviteRevoke(blank()),
        Action::DeviceApprove => Request::DeviceApprove(0),
        Action::DeviceDecline => Request::DeviceDecline(0),
        Action::DeviceRevoke => Request::DeviceRevoke(0),
        Action::SettingsEdit => Request::PracticeEdit(Vec::new()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operator(role: &str, permissions: &[&str]) -> OperatorView {
        OperatorView {
            id: 7,
            login: "olga".into(),
            name: "Olga Manager".into(),
            role: role.into(),
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            time_zone: "UTC".into(),
        }
    }

    #[test]
    fn each_area_needs_its_permission() {
        for (action, key) in [
            (Action::UserAdd, Some("admin.users")),
            (Action::UserAccess, Some("admin.users")),
            (Action::InviteResend, Some("admin.users")),
            (Action::DeviceApprove, Some("admin.users")),
            (Action::RoleRename, Some("admin.settings")),
            (Action::FacilityArchive, Some("admin.settings")),
            (Action::SettingsEdit, Some("admin.settings")),
            (Action::AuditExport, Some("audit.export")),
            (Action::AuditVerify, None),
            (Action::Open, None),
            (Action::FacilityAccess, None),
        ] {
            assert_eq!(Authority::needs(action), key, "{}", action.name());
        }
    }

    #[test]
    fn an_office_manager_is_refused_settings_with_the_reason() {
        let a = Authority::new(Some(operator("Office Manager", &["admin.users"])));
        assert!(a.allows(Action::UserDelete));
        assert!(a.allows(Action::Quit));
        assert_eq!(
            a.refusal(Action::RoleEdit).as_deref(),
            Some("your role (Office Manager) does not allow this: it needs admin.settings")
        );
        assert!(!a.allows(Action::AuditExport));
        // Nothing known: everything is offered and the service decides.
        assert!(Authority::default().allows(Action::SettingsEdit));
    }

    #[test]
    fn a_role_without_staffctl_permissions_may_not_enter() {
        let nurse = operator("Provider", &["calendar.view", "clinical.view_charts"]);
        assert_eq!(
            Authority::refuse_entry(&nurse).as_deref(),
            Some(
                "Olga Manager's role (Provider) gives no access to staffctl; ask an administrator"
            )
        );
        assert_eq!(
            Authority::refuse_entry(&operator("Auditor", &["audit.export"])),
            None
        );
    }
}
