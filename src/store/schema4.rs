//! Schema 3 -> 4, written into a fresh database (most users and credentials change):
//! - staffctl's own authority comes from the role: a user with the old administrator flag gets
//!   the Administrator role (and a user who held that role without the flag now operates);
//! - login bookkeeping (lock, last login) moves from the user into their credential, so a
//!   login never rewrites the profile;
//! - the mail command leaves the practice settings for the server's configuration;
//! - NPIs become unique keys and billable seats are counted.
//!
//! Every change of authority and the dropped mail command are recorded in the audit log as
//! `store.migrate` events by `system`.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::codec::{self, decode_payload};
use super::{Store, TreeId, id_key, meta, storage};
use crate::audit::{Actor, Change, EventDraft, Origin, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::legacy::{PracticeV1, UserV1};
use crate::model::{Credential, Practice, Role, User};

/// What the old user record said that the new one no longer holds.
struct Moved {
    locked_until: Option<Timestamp>,
    last_login_at: Option<Timestamp>,
}

/// Runs the step from `old` into `new`.
pub fn rewrite(old: &Store, new: &Store) -> Result<()> {
    let untouched = [TreeId::Meta, TreeId::Users, TreeId::Credentials];
    for tree in TreeId::ALL.into_iter().filter(|t| !untouched.contains(t)) {
        super::migrate::copy_tree(old, new, tree)?;
    }
    let mut events = Vec::new();
    let origin = Origin::current();
    let now = Timestamp::now();
    let event = |target: Target, changes: Vec<Change>| EventDraft {
        at: now,
        actor: Actor::System,
        origin: origin.clone(),
        action: "store.migrate".into(),
        target: Some(target),
        changes,
        outcome: Outcome::Success,
    };

    // Meta, with the practice in its new layout.
    let meta_new = new.tree(TreeId::Meta)?;
    for item in old.scan_raw(TreeId::Meta) {
        let (k, v) = item?;
        if k.as_ref() != meta::PRACTICE || codec::version_of(&v) != Some(1) {
            meta_new.insert(k, v).map_err(storage)?;
            continue;
        }
        let payload = v.get(2..).unwrap_or_default();
        let p: PracticeV1 = decode_payload(payload, "practice").map_err(Error::Integrity)?;
        if let Some(cmd) = &p.mail_command {
            events.push(event(
                Target::new("practice", 0, p.name.clone()),
                vec![
                    Change::new("mail_command", Some(cmd.clone()), None),
                    Change::new(
                        "mail_command_now_in",
                        None,
                        Some("the server's configuration (/etc/staffctl/config.toml)".into()),
                    ),
                ],
            ));
        }
        let current: Practice = p.into_current();
        meta_new
            .insert(k, codec::encode(&current).map_err(Error::Integrity)?)
            .map_err(storage)?;
    }

    // Roles, to find the one that replaces the flag and those that already confer authority.
    let mut roles: BTreeMap<u64, Role> = BTreeMap::new();
    for item in old.scan::<Role>(TreeId::Roles) {
        if let Ok(r) = item? {
            roles.insert(r.id, r);
        }
    }
    let administrative = |r: &Role| {
        r.permissions
            .contains(crate::model::permission::MANAGE_USERS)
            && r.permissions
                .contains(crate::model::permission::MANAGE_SETTINGS)
    };
    let admin_role = old
        .get_id(TreeId::RolesByName, b"administrator")?
        .and_then(|id| roles.get(&id))
        .filter(|r| administrative(r))
        .or_else(|| roles.values().find(|r| r.builtin && administrative(r)))
        .cloned();

    // Users: new layout; the flag becomes the role.
    let users_new = new.tree(TreeId::Users)?;
    let mut moved: BTreeMap<u64, Moved> = BTreeMap::new();
    for item in old.scan_raw(TreeId::Users) {
        let (k, v) = item?;
        if codec::version_of(&v) != Some(1) {
            users_new.insert(k, v).map_err(storage)?;
            continue;
        }
        let Ok(old_user) = decode_payload::<UserV1>(v.get(2..).unwrap_or_default(), "user") else {
            // An unreadable user stays as found; listings keep reporting it.
            users_new.insert(k, v).map_err(storage)?;
            continue;
        };
        moved.insert(
            old_user.id,
            Moved {
                locked_until: old_user.locked_until,
                last_login_at: old_user.last_login_at,
            },
        );
        let was_admin = old_user.is_admin;
        let mut u: User = old_user.into_current();
        let label = u.username.clone().unwrap_or_else(|| u.email.clone());
        let target = Target::new("user", u.id, label);
        let role_name = |id: u64| {
            roles
                .get(&id)
                .map_or_else(|| format!("#{id}"), |r| r.name.clone())
        };
        let holds = roles.get(&u.role_id).is_some_and(administrative);
        match (&admin_role, was_admin, holds) {
            (Some(admin), true, false) => {
                events.push(event(
                    target,
                    vec![
                        Change::new("role", Some(role_name(u.role_id)), Some(admin.name.clone())),
                        Change::new("admin_flag", Some("yes".into()), None),
                    ],
                ));
                u.role_id = admin.id;
            }
            (_, false, true) => events.push(event(
                target,
                vec![Change::new(
                    "operates_staffctl",
                    Some("no".into()),
                    Some(format!("yes (role {} grants it)", role_name(u.role_id))),
                )],
            )),
            _ => {}
        }
        users_new
            .insert(k, codec::encode(&u).map_err(Error::Integrity)?)
            .map_err(storage)?;
    }

    // Credentials take the lock and the last login.
    let creds_new = new.tree(TreeId::Credentials)?;
    for item in old.scan_raw(TreeId::Credentials) {
        let (k, v) = item?;
        match codec::decode::<Credential>(&v) {
            Ok(mut c) => {
                if let Some(m) = moved.get(&c.user_id) {
                    c.locked_until = m.locked_until;
                    c.last_login_at = m.last_login_at;
                }
                creds_new
                    .insert(k, codec::encode(&c).map_err(Error::Integrity)?)
                    .map_err(storage)?;
            }
            Err(_) => {
                creds_new.insert(k, v).map_err(storage)?;
            }
        }
    }

    // A user locked (or logged in) without a credential record gets one, holding no password.
    for (id, m) in &moved {
        if (m.locked_until.is_some() || m.last_login_at.is_some())
            && creds_new.get(id_key(*id)).map_err(storage)?.is_none()
        {
            let mut c = Credential::new(*id, None);
            c.locked_until = m.locked_until;
            c.last_login_at = m.last_login_at;
            creds_new
                .insert(id_key(*id), codec::encode(&c).map_err(Error::Integrity)?)
                .map_err(storage)?;
        }
    }

    // Every derived index from the converted records: the role indexes follow the new roles,
    // and the NPI keys and seat counts are new.
    new.rebuild_indexes()?;
    new.transact(|tx| super::audit_log::append_drafts(tx, events.clone()).map(|_| ()))
}
