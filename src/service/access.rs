//! Per-user facility access: all facilities, or a set (the primary facility always included).

use std::collections::BTreeSet;

use super::{AccessView, FacilityCheck, Op, Service, resolve, user};
use crate::error::{Error, Result};
use crate::model::{Facility, FacilityAccess, Id, User};
use crate::store::TreeId;

/// Active facilities in id order.
fn active_facilities(svc: &Service) -> Result<Vec<Facility>> {
    let mut out = Vec::new();
    for item in svc.store.scan::<Facility>(TreeId::Facilities) {
        if let Ok(f) = item?
            && !f.archived
        {
            out.push(f);
        }
    }
    Ok(out)
}

/// A user's access as a checklist of active facilities.
pub fn show(svc: &Service, reference: &str) -> Result<AccessView> {
    let u = resolve::user(svc, reference)?;
    view(svc, &u)
}

fn view(svc: &Service, u: &User) -> Result<AccessView> {
    let facilities = active_facilities(svc)?
        .into_iter()
        .map(|f| FacilityCheck {
            id: f.id,
            name: f.name.clone(),
            can_access: u.can_access(f.id),
            primary: f.id == u.primary_facility,
        })
        .collect();
    Ok(AccessView {
        user_id: u.id,
        user: u.full_name(),
        all: u.access == FacilityAccess::All,
        facilities,
    })
}

fn resolve_all(svc: &Service, refs: &[String]) -> Result<BTreeSet<Id>> {
    if refs.is_empty() {
        return Err(Error::invalid("facilities", "name at least one facility"));
    }
    let mut ids = BTreeSet::new();
    for r in refs {
        let f = resolve::facility(svc, r)?;
        if f.archived {
            return Err(Error::invalid(
                "facilities",
                format!("facility '{}' is archived; restore it first", f.name),
            ));
        }
        ids.insert(f.id);
    }
    Ok(ids)
}

fn apply(
    op: &Op<'_>,
    reference: &str,
    action: &str,
    change: impl FnOnce(&User) -> Result<FacilityAccess>,
) -> Result<AccessView> {
    let old = resolve::user(op.svc, reference)?;
    let mut u = old.clone();
    u.access = change(&old)?;
    if let FacilityAccess::Only(set) = &mut u.access {
        set.remove(&u.primary_facility);
    }
    if u.access != old.access {
        user::save_access(op, &old, u.clone(), action)?;
    }
    view(op.svc, &u)
}

/// Adds facilities to a user's access.
pub fn grant(op: &Op<'_>, reference: &str, refs: &[String]) -> Result<AccessView> {
    let ids = resolve_all(op.svc, refs)?;
    apply(op, reference, "access.grant", |u| {
        Ok(match &u.access {
            FacilityAccess::All => FacilityAccess::All,
            FacilityAccess::Only(set) => FacilityAccess::Only(set.union(&ids).copied().collect()),
        })
    })
}

/// Removes facilities from a user's access. Revoking from "all facilities" leaves every other
/// active facility. The primary facility cannot be revoked.
pub fn revoke(op: &Op<'_>, reference: &str, refs: &[String]) -> Result<AccessView> {
    let ids = resolve_all(op.svc, refs)?;
    let everything: BTreeSet<Id> = active_facilities(op.svc)?.iter().map(|f| f.id).collect();
    apply(op, reference, "access.revoke", |u| {
        if ids.contains(&u.primary_facility) {
            return Err(Error::Conflict(format!(
                "{}'s primary facility cannot be revoked; change the primary facility first (`staffctl user edit {} --facility F`)",
                u.full_name(),
                u.id
            )));
        }
        let current = match &u.access {
            FacilityAccess::All => everything.clone(),
            FacilityAccess::Only(set) => set.clone(),
        };
        Ok(FacilityAccess::Only(
            current.difference(&ids).copied().collect(),
        ))
    })
}

/// Gives a user access to every facility, including future ones.
pub fn all(op: &Op<'_>, reference: &str) -> Result<AccessView> {
    apply(op, reference, "access.all", |_| Ok(FacilityAccess::All))
}

/// Sets a user's access to exactly these facilities (plus the primary one).
pub fn only(op: &Op<'_>, reference: &str, refs: &[String]) -> Result<AccessView> {
    let ids = if refs.is_empty() {
        BTreeSet::new()
    } else {
        resolve_all(op.svc, refs)?
    };
    apply(op, reference, "access.set", |_| {
        Ok(FacilityAccess::Only(ids))
    })
}
