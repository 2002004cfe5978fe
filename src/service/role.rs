//! Roles and the permission catalogue.

use std::collections::BTreeSet;

use super::resolve::{self, name_key};
use super::{
    Listing, Op, PermissionInfo, RoleDetail, RoleSummary, Service, append_event, authority,
    diff::diff,
};
use crate::audit::{Change, Target};
use crate::error::{Error, FieldError, Result};
use crate::model::permission;
use crate::model::{Id, Role, User, UserStatus};
use crate::store::member_index::{self, Group};
use crate::store::{TreeId, id_key};

/// The catalogue as response rows.
pub fn permissions() -> Vec<PermissionInfo> {
    PermissionInfo::catalogue()
}

/// Ids of the users holding role `id`.
pub fn user_ids(svc: &Service, id: Id) -> Result<Vec<Id>> {
    member_index::members(&svc.store, Group::Role, id)
}

/// Users holding role `id` / attributed to facility `id`, from the counters kept beside them.
pub fn head_count(svc: &Service, kind: &str, id: Id) -> Result<usize> {
    let n = svc
        .store
        .get_id(TreeId::Meta, &crate::store::meta::count_key(kind, id))?
        .unwrap_or(0);
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Every role with its user count.
pub fn list(svc: &Service) -> Result<Listing<RoleSummary>> {
    let mut out = Listing::default();
    for item in svc.store.scan::<Role>(TreeId::Roles) {
        match item? {
            Ok(role) => {
                let users = head_count(svc, "role", role.id)?;
                out.items.push(RoleSummary { role, users });
            }
            Err(bad) => out.unreadable.push(bad.into()),
        }
    }
    Ok(out)
}

/// One role with its users.
pub fn show(svc: &Service, reference: &str) -> Result<RoleDetail> {
    let role = resolve::role(svc, reference)?;
    let users = resolve::names(svc, &user_ids(svc, role.id)?)?;
    Ok(RoleDetail { role, users })
}

fn check_keys(keys: &[String]) -> Result<()> {
    let unknown: Vec<FieldError> = keys
        .iter()
        .filter(|k| permission::find(k).is_none())
        .map(|k| {
            FieldError::new(
                "permissions",
                format!("unknown permission '{k}'; `staffctl permission list` shows the catalogue"),
            )
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(unknown))
    }
}

fn check_name_free(svc: &Service, name: &str, own: Option<Id>) -> Result<()> {
    if let Some(other) = svc.store.get_id(TreeId::RolesByName, &name_key(name))?
        && Some(other) != own
    {
        return Err(Error::invalid(
            "name",
            format!(
                "role name '{}' is already used by role #{other}; choose another name",
                name.trim()
            ),
        ));
    }
    Ok(())
}

/// Adds a role.
pub fn add(
    op: &Op<'_>,
    name: String,
    description: String,
    permissions: Vec<String>,
) -> Result<RoleDetail> {
    check_keys(&permissions)?;
    let role = Role {
        id: 0,
        name: name.trim().to_string(),
        description: description.trim().to_string(),
        permissions: permissions.into_iter().collect(),
        builtin: false,
        created_at: op.now,
        updated_at: op.now,
        revision: 1,
    };
    role.validate()?;
    check_name_free(op.svc, &role.name, None)?;
    let id = op.svc.store.transact(|tx| {
        let mut r = role.clone();
        r.id = tx.next_id("role")?;
        tx.put(TreeId::Roles, &id_key(r.id), &r)?;
        tx.put_raw(TreeId::RolesByName, &name_key(&r.name), &id_key(r.id))?;
        append_event(
            tx,
            &op.draft(
                "role.create",
                Target::new("role", r.id, r.name.clone()),
                diff(None, Some(&r)),
            ),
        )?;
        Ok(r.id)
    })?;
    show(op.svc, &id.to_string())
}

/// Renames, re-describes, grants and revokes. A change reaches every user of the role at once;
/// granting a permission an aide may not hold is refused while aides have the role.
pub fn edit(
    op: &Op<'_>,
    reference: &str,
    rename: Option<String>,
    description: Option<String>,
    grant: Vec<String>,
    revoke: Vec<String>,
) -> Result<RoleDetail> {
    check_keys(&grant)?;
    check_keys(&revoke)?;
    let old = resolve::role(op.svc, reference)?;
    let mut role = old.clone();
    if let Some(n) = rename {
        role.name = n.trim().to_string();
    }
    if let Some(d) = description {
        role.description = d.trim().to_string();
    }
    role.permissions.extend(grant.iter().cloned());
    for k in &revoke {
        role.permissions.remove(k);
    }
    role.validate()?;
    check_name_free(op.svc, &role.name, Some(role.id))?;
    if role == old {
        return show(op.svc, &old.id.to_string());
    }
    let holders = user_ids(op.svc, role.id)?;
    if role.permissions != old.permissions {
        check_permission_change(op, &old, &role, &holders)?;
    }
    role.revision += 1;
    role.updated_at = op.now;
    let mut changes = permission_changes(&old.permissions, &role.permissions);
    changes.extend(
        diff(Some(&old), Some(&role))
            .into_iter()
            .filter(|c| !c.field.starts_with("permissions")),
    );
    changes.push(Change::new(
        "users_affected",
        None,
        Some(holders.len().to_string()),
    ));
    let draft = op.draft(
        "role.update",
        Target::new("role", role.id, role.name.clone()),
        changes,
    );
    op.svc.store.transact(|tx| {
        tx.remove(TreeId::RolesByName, &name_key(&old.name))?;
        tx.put_raw(TreeId::RolesByName, &name_key(&role.name), &id_key(role.id))?;
        tx.put(TreeId::Roles, &id_key(role.id), &role)?;
        append_event(tx, &draft)?;
        Ok(())
    })?;
    show(op.svc, &role.id.to_string())
}

/// Refuses a permission change that would give away staffctl permissions the operator does
/// not hold, leave the practice without an active full administrator, or break a rule for one
/// of the role's holders (an aide given patient messaging, a Technician seat given the RTM
/// timer, a form signer losing `forms.sign`).
fn check_permission_change(op: &Op<'_>, old: &Role, role: &Role, holders: &[Id]) -> Result<()> {
    let granted = Role {
        permissions: role
            .permissions
            .difference(&old.permissions)
            .cloned()
            .collect(),
        ..role.clone()
    };
    authority::check_grantable(&op.permissions, &granted)
        .map_err(|m| Error::invalid("permissions", m))?;
    if authority::is_administrative(old) && !authority::is_administrative(role) {
        let mut others = 0;
        for item in op.svc.store.scan::<Role>(TreeId::Roles) {
            let Ok(r) = item? else { continue };
            if r.id == role.id || !authority::is_administrative(&r) {
                continue;
            }
            for id in user_ids(op.svc, r.id)? {
                if op
                    .svc
                    .store
                    .get::<User>(TreeId::Users, &id_key(id))?
                    .is_some_and(|u| u.status == UserStatus::Active)
                {
                    others += 1;
                }
            }
        }
        if others == 0 {
            return Err(Error::Conflict(format!(
                "role '{}' holds the practice's only active administrators; without admin.users and admin.settings nobody could manage staffctl (give someone else an administrative role first)",
                role.name
            )));
        }
    }
    let mut broken = Vec::new();
    let mut why = BTreeSet::new();
    for id in holders {
        let Some(u) = op.svc.store.get::<User>(TreeId::Users, &id_key(*id))? else {
            continue;
        };
        let problems = super::user::role_rules(&u, role);
        if !problems.is_empty() {
            why.extend(problems.into_iter().map(|p| p.message));
            broken.push(super::Person {
                id: u.id,
                name: u.full_name(),
            });
        }
    }
    if broken.is_empty() {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "this change breaks a rule for {} who hold role '{}' ({}); change their role or flags first",
        resolve::name_list(&broken, 10),
        role.name,
        why.into_iter().collect::<Vec<_>>().join("; ")
    )))
}

/// One change per granted or revoked permission, easier to read than a list diff.
fn permission_changes(old: &BTreeSet<String>, new: &BTreeSet<String>) -> Vec<Change> {
    let mut out = Vec::new();
    for k in new.difference(old) {
        out.push(Change::new(
            &format!("permission {k}"),
            Some("no".into()),
            Some("yes".into()),
        ));
    }
    for k in old.difference(new) {
        out.push(Change::new(
            &format!("permission {k}"),
            Some("yes".into()),
            Some("no".into()),
        ));
    }
    out
}

/// Deletes a role that nobody holds and that is not built in.
pub fn delete(op: &Op<'_>, reference: &str) -> Result<(Id, String)> {
    let role = resolve::role(op.svc, reference)?;
    if role.builtin {
        return Err(Error::Conflict(format!(
            "role '{}' is built in and cannot be deleted; edit its permissions instead",
            role.name
        )));
    }
    let users = resolve::names(op.svc, &user_ids(op.svc, role.id)?)?;
    if !users.is_empty() {
        return Err(Error::Conflict(format!(
            "role '{}' is assigned to {} user(s): {}; give them another role first",
            role.name,
            users.len(),
            resolve::name_list(&users, 10)
        )));
    }
    let draft = op.draft(
        "role.delete",
        Target::new("role", role.id, role.name.clone()),
        diff(Some(&role), None),
    );
    op.svc.store.transact(|tx| {
        tx.remove(TreeId::Roles, &id_key(role.id))?;
        tx.remove(TreeId::RolesByName, &name_key(&role.name))?;
        append_event(tx, &draft)?;
        Ok(())
    })?;
    Ok((role.id, role.name))
}
