//! Facilities (locations): add, edit, archive, restore.

use super::fields::opt;
use super::resolve::{self, name_key};
use super::{
    FacilityDetail, FacilityField, FacilitySummary, Listing, Op, Service, append_event, diff::diff,
};
use crate::audit::Target;
use crate::error::{Error, FieldError, Result};
use crate::model::{Facility, Id, User};
use crate::store::member_index::{self, Group};
use crate::store::{TreeId, id_key};

/// Every facility with its head count.
pub fn list(svc: &Service, include_archived: bool) -> Result<Listing<FacilitySummary>> {
    let mut out = Listing::default();
    for item in svc.store.scan::<Facility>(TreeId::Facilities) {
        match item? {
            Ok(f) if include_archived || !f.archived => {
                let primary_users = super::role::head_count(svc, "facility", f.id)?;
                out.items.push(FacilitySummary {
                    facility: f,
                    primary_users,
                });
            }
            Ok(_) => {}
            Err(bad) => out.unreadable.push(bad.into()),
        }
    }
    Ok(out)
}

/// Ids of users whose primary facility is `id`.
pub fn primary_user_ids(svc: &Service, id: Id) -> Result<Vec<Id>> {
    member_index::members(&svc.store, Group::PrimaryFacility, id)
}

/// One facility, who is attributed to it and who can access it.
pub fn show(svc: &Service, reference: &str) -> Result<FacilityDetail> {
    let facility = resolve::facility(svc, reference)?;
    let primary_users = resolve::names(svc, &primary_user_ids(svc, facility.id)?)?;
    let mut access_users = Vec::new();
    for item in svc.store.scan::<User>(TreeId::Users) {
        if let Ok(u) = item?
            && u.can_access(facility.id)
        {
            access_users.push(super::Person {
                id: u.id,
                name: u.full_name(),
            });
        }
    }
    Ok(FacilityDetail {
        facility,
        primary_users,
        access_users,
    })
}

fn apply(f: &mut Facility, fields: &[(FacilityField, String)]) {
    for (field, value) in fields {
        match field {
            FacilityField::Name => f.name = value.trim().to_string(),
            FacilityField::Code => f.code = opt(value),
            FacilityField::Address => f.address = opt(value),
            FacilityField::Phone => f.phone = opt(value),
        }
    }
}

fn check_name_free(op: &Op<'_>, name: &str, own_id: Option<Id>) -> Result<()> {
    if let Some(other) = op
        .svc
        .store
        .get_id(TreeId::FacilitiesByName, &name_key(name))?
        && Some(other) != own_id
    {
        return Err(Error::Invalid(vec![FieldError::new(
            "name",
            format!(
                "facility name '{}' is already used by facility #{other}; choose another name",
                name.trim()
            ),
        )]));
    }
    Ok(())
}

/// Adds a facility.
pub fn add(op: &Op<'_>, fields: Vec<(FacilityField, String)>) -> Result<FacilityDetail> {
    let mut f = Facility {
        id: 0,
        name: String::new(),
        code: None,
        address: None,
        phone: None,
        archived: false,
        created_at: op.now,
        updated_at: op.now,
        revision: 1,
    };
    apply(&mut f, &fields);
    f.validate()?;
    check_name_free(op, &f.name, None)?;
    let saved = op.svc.store.transact(|tx| {
        let mut f = f.clone();
        f.id = tx.next_id("facility")?;
        tx.put(TreeId::Facilities, &id_key(f.id), &f)?;
        tx.put_raw(TreeId::FacilitiesByName, &name_key(&f.name), &id_key(f.id))?;
        let changes = diff(None, Some(&f));
        append_event(
            tx,
            &op.draft(
                "facility.create",
                Target::new("facility", f.id, f.name.clone()),
                changes,
            ),
        )?;
        Ok(f)
    })?;
    show(op.svc, &saved.id.to_string())
}

/// Edits a facility.
pub fn edit(
    op: &Op<'_>,
    reference: &str,
    fields: Vec<(FacilityField, String)>,
) -> Result<FacilityDetail> {
    let old = resolve::facility(op.svc, reference)?;
    let mut f = old.clone();
    apply(&mut f, &fields);
    f.validate()?;
    check_name_free(op, &f.name, Some(f.id))?;
    save(op, &old, f, "facility.update")
}

fn save(op: &Op<'_>, old: &Facility, mut f: Facility, action: &str) -> Result<FacilityDetail> {
    if &f == old {
        return show(op.svc, &f.id.to_string());
    }
    f.revision += 1;
    f.updated_at = op.now;
    let changes = diff(Some(old), Some(&f));
    let draft = op.draft(
        action,
        Target::new("facility", f.id, f.name.clone()),
        changes,
    );
    op.svc.store.transact(|tx| {
        tx.remove(TreeId::FacilitiesByName, &name_key(&old.name))?;
        tx.put_raw(TreeId::FacilitiesByName, &name_key(&f.name), &id_key(f.id))?;
        tx.put(TreeId::Facilities, &id_key(f.id), &f)?;
        append_event(tx, &draft)?;
        Ok(())
    })?;
    show(op.svc, &f.id.to_string())
}

/// Archives or restores a facility. Archiving is refused while it is anyone's primary facility
/// or the last active facility.
pub fn set_archived(op: &Op<'_>, reference: &str, archived: bool) -> Result<FacilityDetail> {
    let old = resolve::facility(op.svc, reference)?;
    if old.archived == archived {
        let state = if archived {
            "already archived"
        } else {
            "not archived"
        };
        return Err(Error::Conflict(format!(
            "facility '{}' is {state}",
            old.name
        )));
    }
    if archived {
        let users = resolve::names(op.svc, &primary_user_ids(op.svc, old.id)?)?;
        if !users.is_empty() {
            return Err(Error::Conflict(format!(
                "facility '{}' is the primary facility of {} user(s): {}; move them to another facility first (`staffctl user edit USER --facility F`)",
                old.name,
                users.len(),
                resolve::name_list(&users, 10)
            )));
        }
        let active = list(op.svc, false)?.items.len();
        if active <= 1 {
            return Err(Error::Conflict(format!(
                "facility '{}' is the last active facility; add another before archiving it",
                old.name
            )));
        }
    }
    let mut f = old.clone();
    f.archived = archived;
    save(
        op,
        &old,
        f,
        if archived {
            "facility.archive"
        } else {
            "facility.restore"
        },
    )
}
