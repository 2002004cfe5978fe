//! First-run initialisation, operator login, and break-glass recovery.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::resolve::{self, name_key};
use super::{Service, Session, append_event, diff::diff, user};
use crate::audit::{Actor, Change, EventDraft, Origin, Outcome, Target};
use crate::error::{Error, FieldError, Result};
use crate::model::{
    BillingCategory, Credential, DataScope, Facility, FacilityAccess, LoginMethod,
    NotificationPrefs, Practice, ProviderProfile, Role, User, UserStatus, builtin_roles, validate,
};
use crate::security::password;
use crate::store::{TreeId, id_key, meta};

/// Everything `staffctl init` (or the first-run wizard) asks for.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitRequest {
    /// Practice name.
    pub practice_name: String,
    /// Practice contact email.
    pub practice_email: String,
    /// First facility.
    pub facility: String,
    /// First administrator's username.
    pub admin_username: String,
    /// First administrator's email.
    pub admin_email: String,
    /// First name.
    pub admin_first: String,
    /// Last name.
    pub admin_last: String,
    /// Password (checked against the policy; only its hash is stored).
    pub admin_password: String,
}

impl std::fmt::Debug for InitRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitRequest")
            .field("practice_name", &self.practice_name)
            .field("practice_email", &self.practice_email)
            .field("facility", &self.facility)
            .field("admin_username", &self.admin_username)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// A hash verified when a login names nobody, so that a wrong login takes as long as a wrong
/// password and timing does not reveal which usernames exist. It is a constant (made with the
/// current parameters; a test keeps them in step) because hashing it at run time would cost
/// every process a second argon2 run.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$qT+ZM2PrWOhIWIHgnPNSYA$6WHmFFunjUo1QVHU+gbcpZRJ6IC/zCQGCGxGKHHnsiA";

impl Service {
    /// Initialises an empty store: practice, first facility, built-in roles and the first
    /// administrator (Active), all in one audited transaction.
    pub fn init(&self, req: &InitRequest, origin: &Origin) -> Result<Session> {
        let _guard = self.lock_writes();
        if self.store.is_initialised()? {
            return Err(Error::Conflict(format!(
                "the store in {} is already initialised; use --data DIR for a new one",
                self.store.dir().display()
            )));
        }
        let now = self.now();
        let practice = Practice::new(
            req.practice_name.trim().into(),
            req.practice_email.trim().into(),
            now,
        );
        let mut errs: Vec<FieldError> = practice
            .validate()
            .err()
            .map(|e| e.field_errors().to_vec())
            .unwrap_or_default();
        if let Err(m) = validate::name("facility name", &req.facility, 80) {
            errs.push(FieldError::new("facility", m));
        }
        let username = req.admin_username.trim().to_lowercase();
        let admin_email = req.admin_email.trim().to_string();
        let first = if req.admin_first.trim().is_empty() {
            "Practice"
        } else {
            req.admin_first.trim()
        };
        let last = if req.admin_last.trim().is_empty() {
            "Administrator"
        } else {
            req.admin_last.trim()
        };
        let admin = User {
            id: 0,
            username: Some(username.clone()),
            email: admin_email.clone(),
            login_method: LoginMethod::Username,
            first_name: first.into(),
            last_name: last.into(),
            public_name: None,
            status: UserStatus::Active,
            locked_until: None,
            role_id: 0,
            billing: BillingCategory::None,
            is_admin: true,
            part_time: false,
            aide: false,
            primary_facility: 0,
            access: FacilityAccess::All,
            data_scope: DataScope::All,
            nps_scope: DataScope::All,
            provider: ProviderProfile::default(),
            notifications: NotificationPrefs::default(),
            note: String::new(),
            created_at: now,
            updated_at: now,
            activated_at: Some(now),
            last_login_at: None,
            deactivated_at: None,
            deactivation_reason: None,
            revision: 1,
        };
        if let Err(e) = admin.validate() {
            errs.extend(
                e.field_errors()
                    .iter()
                    .map(|f| FieldError::new(format!("admin_{}", f.field), f.message.clone())),
            );
        }
        if let Err(e) = password::check_policy(
            &req.admin_password,
            practice.password_min_length,
            Some(&username),
            &admin_email,
        ) {
            errs.extend(e.field_errors().iter().cloned());
        }
        if !errs.is_empty() {
            return Err(Error::Invalid(errs));
        }
        let hash = password::hash(&req.admin_password)?;
        let system = |action: &str, target: Target, changes: Vec<Change>| EventDraft {
            at: now,
            actor: Actor::System,
            origin: origin.clone(),
            action: action.into(),
            target: Some(target),
            changes,
            outcome: Outcome::Success,
        };
        let admin_id = self.store.transact(|tx| {
            tx.put(TreeId::Meta, meta::PRACTICE, &practice)?;
            append_event(
                tx,
                &system(
                    "practice.create",
                    Target::new("practice", 0, practice.name.clone()),
                    diff(None, Some(&practice)),
                ),
            )?;
            let facility = Facility {
                id: tx.next_id("facility")?,
                name: req.facility.trim().into(),
                code: None,
                address: None,
                phone: None,
                archived: false,
                created_at: now,
                updated_at: now,
                revision: 1,
            };
            tx.put(TreeId::Facilities, &id_key(facility.id), &facility)?;
            tx.put_raw(
                TreeId::FacilitiesByName,
                &name_key(&facility.name),
                &id_key(facility.id),
            )?;
            append_event(
                tx,
                &system(
                    "facility.create",
                    Target::new("facility", facility.id, facility.name.clone()),
                    diff(None, Some(&facility)),
                ),
            )?;
            let mut admin_role = 0;
            for (name, description, perms) in builtin_roles() {
                let role = Role {
                    id: tx.next_id("role")?,
                    name: name.into(),
                    description: description.into(),
                    permissions: perms.iter().map(|p| p.to_string()).collect::<BTreeSet<_>>(),
                    builtin: true,
                    created_at: now,
                    updated_at: now,
                    revision: 1,
                };
                if name == "Administrator" {
                    admin_role = role.id;
                }
                tx.put(TreeId::Roles, &id_key(role.id), &role)?;
                tx.put_raw(TreeId::RolesByName, &name_key(&role.name), &id_key(role.id))?;
                append_event(
                    tx,
                    &system(
                        "role.create",
                        Target::new("role", role.id, role.name.clone()),
                        diff(None, Some(&role)),
                    ),
                )?;
            }
            let mut admin = admin.clone();
            admin.id = tx.next_id("user")?;
            admin.role_id = admin_role;
            admin.primary_facility = facility.id;
            user::write_indexes(tx, None, Some(&admin))?;
            tx.put(TreeId::Users, &id_key(admin.id), &admin)?;
            let cred = Credential::new(admin.id, Some(hash.clone()));
            tx.put(TreeId::Credentials, &id_key(admin.id), &cred)?;
            let mut changes = diff(None, Some(&admin));
            changes.push(Change::secret("password"));
            append_event(
                tx,
                &system(
                    "user.create",
                    Target::new("user", admin.id, username.clone()),
                    changes,
                ),
            )?;
            Ok(admin.id)
        })?;
        Ok(Session {
            user_id: admin_id,
            label: username,
            origin: origin.clone(),
        })
    }

    /// Checks a username or email and password. Every success and failure is audited; the
    /// caller learns only "denied", the audit log learns why.
    pub fn login(&self, login: &str, secret: &str, origin: &Origin) -> Result<Session> {
        let label = crate::security::sanitize::for_terminal(login.trim())
            .chars()
            .take(120)
            .collect::<String>();
        let denied = || {
            Error::Denied(
                "login denied: unknown user, wrong password, or the account cannot log in".into(),
            )
        };
        if !self.store.is_initialised()? {
            return Err(Error::NotFound(format!(
                "the store in {} is empty; run `staffctl init` first",
                self.store.dir().display()
            )));
        }
        // Only a username or a login email identifies someone at login (not an id, a contact
        // email or a full name).
        let found: Option<User> = resolve::by_login(self, &label)?;
        let cred: Option<Credential> = match &found {
            Some(u) => self.store.get(TreeId::Credentials, &id_key(u.id))?,
            None => None,
        };
        let stored = cred.as_ref().and_then(|c| c.password_hash.as_deref());
        let password_ok =
            password::verify(stored.unwrap_or(DUMMY_HASH), secret) && stored.is_some();
        let now = self.now();
        let reason = match &found {
            None => Some("no such user".to_string()),
            Some(_) if !password_ok => Some("wrong password".to_string()),
            Some(u) if u.status != UserStatus::Active => {
                Some(format!("account is {}", u.status.as_str()))
            }
            Some(u) if u.locked_until.is_some_and(|t| t > now) => {
                Some("account is locked".to_string())
            }
            Some(_) => None,
        };
        let _guard = self.lock_writes();
        match (found, reason) {
            (Some(u), None) => {
                let mut updated = u.clone();
                updated.last_login_at = Some(now);
                let draft =
                    user::own_event(&u, origin, now, "auth.login", Vec::new(), Outcome::Success);
                let rehash = stored
                    .is_some_and(password::needs_rehash)
                    .then(|| password::hash(secret))
                    .transpose()?;
                self.store.transact(|tx| {
                    tx.put(TreeId::Users, &id_key(updated.id), &updated)?;
                    let reset = cred.as_ref().is_some_and(|c| c.failed_logins > 0);
                    if let Some(c) = cred.as_ref().filter(|_| rehash.is_some() || reset) {
                        let mut c = c.clone();
                        if let Some(h) = &rehash {
                            c.password_hash = Some(h.clone());
                        }
                        c.clear_failures();
                        tx.put(TreeId::Credentials, &id_key(c.user_id), &c)?;
                    }
                    append_event(tx, &draft)?;
                    Ok(())
                })?;
                Ok(Session {
                    user_id: u.id,
                    label: user::label(&u),
                    origin: origin.clone(),
                })
            }
            (found, reason) => {
                let why = reason.unwrap_or_default();
                let (actor, target) = match &found {
                    Some(u) => (
                        Actor::User {
                            id: u.id,
                            label: user::label(u),
                        },
                        Some(Target::new("user", u.id, user::label(u))),
                    ),
                    None => (
                        Actor::Anonymous {
                            label: label.clone(),
                        },
                        None,
                    ),
                };
                let failed = EventDraft {
                    at: now,
                    actor: actor.clone(),
                    origin: origin.clone(),
                    action: "auth.login_failed".into(),
                    target: target.clone(),
                    changes: Vec::new(),
                    outcome: Outcome::Denied(why),
                };
                // A wrong password counts towards the lockout of an account that is not
                // already locked; the lock itself is an audited event of its own.
                let counting = match (&found, &cred) {
                    (Some(u), Some(c))
                        if !password_ok && u.locked_until.is_none_or(|t| t <= now) =>
                    {
                        Some((u, c))
                    }
                    _ => None,
                };
                let Some((u, c)) = counting else {
                    self.record(failed)?;
                    return Err(denied());
                };
                let practice = super::practice::show(self)?;
                let window =
                    jiff::SignedDuration::from_mins(i64::from(practice.lockout_window_minutes));
                let mut c = c.clone();
                let fresh = c
                    .failed_window_start
                    .is_none_or(|start| now.duration_since(start) > window);
                if fresh {
                    c.failed_logins = 1;
                    c.failed_window_start = Some(now);
                } else {
                    c.failed_logins += 1;
                }
                let lock = c.failed_logins >= practice.lockout_threshold;
                let mut locked = u.clone();
                let until = now
                    .checked_add(jiff::SignedDuration::from_mins(i64::from(
                        practice.lockout_duration_minutes,
                    )))
                    .unwrap_or(now);
                let lock_event = lock.then(|| {
                    locked.locked_until = Some(until);
                    EventDraft {
                        at: now,
                        actor: Actor::System,
                        origin: origin.clone(),
                        action: "auth.lock".into(),
                        target: target.clone(),
                        changes: vec![Change::new("locked_until", None, Some(until.to_string()))],
                        outcome: Outcome::Success,
                    }
                });
                if lock {
                    c.clear_failures();
                }
                self.store.transact(|tx| {
                    tx.put(TreeId::Credentials, &id_key(c.user_id), &c)?;
                    append_event(tx, &failed)?;
                    if let Some(ev) = &lock_event {
                        tx.put(TreeId::Users, &id_key(locked.id), &locked)?;
                        append_event(tx, ev)?;
                    }
                    Ok(())
                })?;
                Err(denied())
            }
        }
    }

    /// Break-glass: sets a new password for an administrator, for an operator with OS access
    /// to the store. Loudly audited as `auth.recover` by `system`, with the OS origin.
    pub fn recover(&self, reference: &str, new_password: &str, origin: &Origin) -> Result<String> {
        let _guard = self.lock_writes();
        let u = resolve::user(self, reference)?;
        if !u.is_admin {
            return Err(Error::Conflict(format!(
                "{} (#{}) is not an administrator; recovery only resets administrators (others are reset by an administrator)",
                u.full_name(),
                u.id
            )));
        }
        if u.status == UserStatus::Deactivated {
            return Err(Error::Conflict(format!(
                "{} (#{}) is deactivated; recover another administrator",
                u.full_name(),
                u.id
            )));
        }
        let practice = super::practice::show(self)?;
        password::check_policy(
            new_password,
            practice.password_min_length,
            u.username.as_deref(),
            &u.email,
        )?;
        let hash = password::hash(new_password)?;
        let now = self.now();
        let mut updated = u.clone();
        updated.locked_until = None;
        if updated.status == UserStatus::Invited {
            updated.status = UserStatus::Active;
            updated.activated_at = Some(now);
        }
        updated.revision += 1;
        updated.updated_at = now;
        let mut changes = vec![Change::secret("password")];
        changes.extend(diff(Some(&u), Some(&updated)));
        let draft = EventDraft {
            at: now,
            actor: Actor::System,
            origin: origin.clone(),
            action: "auth.recover".into(),
            target: Some(Target::new("user", u.id, user::label(&u))),
            changes,
            outcome: Outcome::Success,
        };
        self.store.transact(|tx| {
            tx.put(TreeId::Users, &id_key(updated.id), &updated)?;
            let cred = Credential::new(updated.id, Some(hash.clone()));
            tx.put(TreeId::Credentials, &id_key(updated.id), &cred)?;
            append_event(tx, &draft)?;
            Ok(())
        })?;
        Ok(user::label(&u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_costs_what_a_real_one_does() {
        // An unknown login must take as long as a wrong password: same algorithm, same costs.
        let prefix = format!(
            "$argon2id$v=19$m={},t={},p={}$",
            password::M_COST_KIB,
            password::T_COST,
            password::P_COST
        );
        assert!(DUMMY_HASH.starts_with(&prefix), "{DUMMY_HASH}");
        assert!(password::verify(DUMMY_HASH, "staffctl-timing-equaliser"));
    }
}
