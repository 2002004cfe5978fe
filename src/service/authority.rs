//! What staffctl itself lets an operator do. There is one model: a user's role grants
//! permissions, and three of them govern staffctl (`admin.users`, `admin.settings`,
//! `audit.export`). A practice can so have an office manager who manages staff but not
//! settings, or an auditor who only reads and exports the log.

use std::collections::BTreeSet;

use super::{Request, Service};
use crate::error::{Error, Result};
use crate::model::permission::{
    AIDE_FORBIDDEN, EXPORT_AUDIT, MANAGE_SETTINGS, MANAGE_USERS, OPERATOR, TECHNICIAN_FORBIDDEN,
};
use crate::model::{BillingCategory, Id, Role, User, UserStatus};
use crate::store::member_index::{self, Group};
use crate::store::{TreeId, id_key};

/// The permissions `u` holds: their role's, less what an aide or a Technician seat never holds.
pub fn effective(role: Option<&Role>, u: &User) -> BTreeSet<String> {
    let Some(role) = role else {
        return BTreeSet::new();
    };
    role.permissions
        .iter()
        .filter(|k| !(u.aide && AIDE_FORBIDDEN.contains(&k.as_str())))
        .filter(|k| {
            !(u.billing == BillingCategory::Technician
                && TECHNICIAN_FORBIDDEN.contains(&k.as_str()))
        })
        .cloned()
        .collect()
}

/// The permissions `u` holds, reading their role.
pub fn permissions_of(svc: &Service, u: &User) -> Result<BTreeSet<String>> {
    let role: Option<Role> = svc.store.get(TreeId::Roles, &id_key(u.role_id))?;
    Ok(effective(role.as_ref(), u))
}

/// Whether a role makes its holders full administrators (staff and settings): the practice
/// must always keep one active user with such a role, or nobody could repair access.
pub fn is_administrative(role: &Role) -> bool {
    role.permissions.contains(MANAGE_USERS) && role.permissions.contains(MANAGE_SETTINGS)
}

/// Whether `u`'s role makes them a full administrator.
pub fn is_full_administrator(svc: &Service, u: &User) -> Result<bool> {
    let role: Option<Role> = svc.store.get(TreeId::Roles, &id_key(u.role_id))?;
    Ok(role.as_ref().is_some_and(is_administrative))
}

/// Whether any of `permissions` lets its holder operate staffctl.
pub fn may_operate(permissions: &BTreeSet<String>) -> bool {
    OPERATOR.iter().any(|k| permissions.contains(*k))
}

/// The permission a request needs beyond being an operator (`None`: any operator may, e.g. to
/// read lists and the audit log).
pub fn required(request: &Request) -> Option<&'static str> {
    use Request as R;
    match request {
        R::Expect { request, .. } => required(request),
        R::PracticeEdit(_)
        | R::FacilityAdd(_)
        | R::FacilityEdit(..)
        | R::FacilityArchive(_)
        | R::FacilityRestore(_)
        | R::RoleAdd { .. }
        | R::RoleEdit { .. }
        | R::RoleDelete(_) => Some(MANAGE_SETTINGS),
        R::UserAdd(_)
        | R::UserEdit(..)
        | R::UserDeactivate { .. }
        | R::UserReactivate(_)
        | R::UserDelete(_)
        | R::UserUnlock(_)
        | R::InviteResend(_)
        | R::InviteRevoke(_)
        | R::DeviceApprove(_)
        | R::DeviceDecline(_)
        | R::DeviceRevoke(_)
        | R::AccessGrant { .. }
        | R::AccessRevoke { .. }
        | R::AccessAll(_)
        | R::AccessOnly { .. }
        | R::ImportPreview { .. }
        | R::ImportCommit { .. } => Some(MANAGE_USERS),
        _ => None,
    }
}

/// Refuses `request` when `permissions` (the operator's) do not allow it.
pub fn check(
    label: &str,
    role: &str,
    permissions: &BTreeSet<String>,
    request: &Request,
) -> Result<()> {
    if !may_operate(permissions) {
        return Err(Error::Denied(format!(
            "{label}'s role ({role}) gives no access to staffctl (it needs admin.users, admin.settings or audit.export); ask an administrator"
        )));
    }
    match required(request) {
        Some(key) if !permissions.contains(key) => Err(Error::Denied(format!(
            "{label}'s role ({role}) does not grant {key}, which this needs; ask someone whose role grants it"
        ))),
        _ => Ok(()),
    }
}

/// Refuses an audit export to an operator without `audit.export`.
pub fn check_export(label: &str, role: &str, permissions: &BTreeSet<String>) -> Result<()> {
    if permissions.contains(EXPORT_AUDIT) {
        Ok(())
    } else {
        Err(Error::Denied(format!(
            "{label}'s role ({role}) does not grant audit.export; ask someone whose role grants it"
        )))
    }
}

/// Refuses to hand out a role that grants staffctl permissions the operator does not hold
/// (an office manager with `admin.users` cannot make someone an Administrator).
pub fn check_grantable(
    operator: &BTreeSet<String>,
    role: &Role,
) -> std::result::Result<(), String> {
    let missing: Vec<&str> = OPERATOR
        .iter()
        .copied()
        .filter(|k| role.permissions.contains(*k) && !operator.contains(*k))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "role '{}' grants {}, which your own role does not; ask someone whose role grants it",
            role.name,
            missing.join(" and ")
        ))
    }
}

/// Active full administrators other than `except`.
pub fn other_active_administrators(svc: &Service, except: Id) -> Result<usize> {
    let mut n = 0;
    for item in svc.store.scan::<Role>(TreeId::Roles) {
        let Ok(role) = item? else { continue };
        if !is_administrative(&role) {
            continue;
        }
        for id in member_index::members(&svc.store, Group::Role, role.id)? {
            if id == except {
                continue;
            }
            let active = svc
                .store
                .get::<User>(TreeId::Users, &id_key(id))?
                .is_some_and(|u| u.status == UserStatus::Active && u.role_id == role.id);
            if active {
                n += 1;
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::sample_user;

    fn role(perms: &[&str]) -> Role {
        Role {
            id: 1,
            name: "Office Manager".into(),
            description: String::new(),
            permissions: perms.iter().map(|p| p.to_string()).collect(),
            builtin: false,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
            revision: 1,
        }
    }

    #[test]
    fn office_manager_manages_staff_but_not_settings() {
        let perms = effective(
            Some(&role(&["admin.users", "calendar.view"])),
            &sample_user(),
        );
        assert!(
            check(
                "ann",
                "Office Manager",
                &perms,
                &Request::UserList(Default::default())
            )
            .is_ok()
        );
        assert!(
            check(
                "ann",
                "Office Manager",
                &perms,
                &Request::UserDelete("3".into())
            )
            .is_ok()
        );
        let err = check(
            "ann",
            "Office Manager",
            &perms,
            &Request::PracticeEdit(vec![]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("admin.settings"), "{err}");
        assert!(check_export("ann", "Office Manager", &perms).is_err());
    }

    #[test]
    fn clinical_roles_cannot_operate() {
        let perms = effective(
            Some(&role(&["calendar.view", "clinical.view_charts"])),
            &sample_user(),
        );
        let err = check(
            "bo",
            "Provider",
            &perms,
            &Request::UserList(Default::default()),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("gives no access to staffctl"),
            "{err}"
        );
    }

    #[test]
    fn roles_granting_more_than_the_operator_holds_cannot_be_handed_out() {
        let manager: BTreeSet<String> = ["admin.users".to_string()].into();
        let admin = role(&["admin.users", "admin.settings", "audit.export"]);
        let err = check_grantable(&manager, &admin).unwrap_err();
        assert!(err.contains("admin.settings and audit.export"), "{err}");
        assert!(check_grantable(&manager, &role(&["clinical.view_charts"])).is_ok());
    }

    #[test]
    fn technician_seats_and_aides_lose_what_they_never_hold() {
        let r = role(&["rtm.timer", "messaging.patients", "calendar.view"]);
        let mut u = sample_user();
        u.billing = BillingCategory::Technician;
        assert_eq!(
            effective(Some(&r), &u).into_iter().collect::<Vec<_>>(),
            ["calendar.view", "messaging.patients"]
        );
        u.aide = true;
        assert_eq!(
            effective(Some(&r), &u).into_iter().collect::<Vec<_>>(),
            ["calendar.view"]
        );
    }
}
