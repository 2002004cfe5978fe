//! First-run initialisation, operator login, and break-glass recovery.

use std::collections::BTreeSet;

use jiff::Timestamp;
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
        let first = req.admin_first.trim();
        let last = req.admin_last.trim();
        let admin = User {
            id: 0,
            username: Some(username.clone()),
            email: admin_email.clone(),
            contact_email: None,
            login_method: LoginMethod::Username,
            first_name: first.into(),
            last_name: last.into(),
            public_name: None,
            status: UserStatus::Active,
            role_id: 0,
            billing: BillingCategory::None,
            part_time: false,
            aide: false,
            chat_user: true,
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

    /// Checks a username or email and password. Every failure is audited, and so is every
    /// success except a repeat by another process at the same place within the idle timeout (a
    /// burst of commands from one terminal reads as one login); the caller learns only
    /// "denied", the audit log learns why.
    ///
    /// The password is checked (argon2id, tens of milliseconds) before the write lock is taken;
    /// the user and their credential are then read again under the lock, so a deactivation or a
    /// password change made meanwhile wins, failed logins racing each other are all counted, and
    /// only the credential (login bookkeeping) is written, never the profile.
    pub fn login(&self, login: &str, secret: &str, origin: &Origin) -> Result<Session> {
        let typed = login.trim();
        let label = audit_label(typed);
        if !self.store.is_initialised()? {
            return Err(Error::NotFound(format!(
                "the store in {} is empty; run `staffctl init` first",
                self.store.dir().display()
            )));
        }
        // Only a username or a login email identifies someone at login (not an id, a contact
        // email or a full name), looked up exactly as typed: identifiers never hold invisible
        // or control characters, so `ni\u{200b}na` is nobody rather than nina.
        let found: Option<User> = resolve::by_login(self, typed)?;
        let cred: Option<Credential> = match &found {
            Some(u) => self.store.get(TreeId::Credentials, &id_key(u.id))?,
            None => None,
        };
        let checked_hash = cred.as_ref().and_then(|c| c.password_hash.clone());
        let password_ok = password::verify(checked_hash.as_deref().unwrap_or(DUMMY_HASH), secret)
            && checked_hash.is_some();

        let _guard = self.lock_writes();
        let now = self.now();
        let (found, cred) = match found {
            Some(u) => {
                let fresh: Option<User> = self.store.get(TreeId::Users, &id_key(u.id))?;
                let cred: Option<Credential> =
                    self.store.get(TreeId::Credentials, &id_key(u.id))?;
                (fresh, cred)
            }
            None => (None, None),
        };
        // A password changed while argon2 ran makes the check stale: the old one no longer counts.
        let password_ok = password_ok
            && cred.as_ref().and_then(|c| c.password_hash.as_ref()) == checked_hash.as_ref();
        let locked = cred.as_ref().is_some_and(|c| c.is_locked(now));
        let reason = match &found {
            None => Some("no such user".to_string()),
            Some(_) if !password_ok => Some("wrong password".to_string()),
            Some(u) if u.status != UserStatus::Active => {
                Some(format!("account is {}", u.status.as_str()))
            }
            Some(_) if locked => Some("account is locked".to_string()),
            Some(_) => None,
        };
        match (found, reason) {
            (Some(u), None) => {
                let cred = cred.unwrap_or_else(|| Credential::new(u.id, checked_hash.clone()));
                let saved = self.record_login(&u, cred, secret, origin, now);
                self.answer_unaudited(&format!("{label} logged in"), saved)?;
                Ok(Session {
                    user_id: u.id,
                    label: user::label(&u),
                    origin: origin.clone(),
                })
            }
            (found, reason) => {
                let why = reason.unwrap_or_default();
                let refused = format!("a login as {label} was refused ({why})");
                let failed = match &found {
                    Some(u) => user::own_event(
                        u,
                        origin,
                        now,
                        "auth.login_failed",
                        Vec::new(),
                        Outcome::Denied(why),
                    ),
                    None => EventDraft {
                        at: now,
                        actor: Actor::Anonymous {
                            label: label.clone(),
                        },
                        origin: origin.clone(),
                        action: "auth.login_failed".into(),
                        target: None,
                        changes: Vec::new(),
                        outcome: Outcome::Denied(why),
                    },
                };
                // A wrong password counts towards the lockout of an account that is not
                // already locked; the lock itself is an audited event of its own.
                match (found, cred) {
                    (Some(u), Some(c)) if !password_ok && !locked => {
                        let saved = self.count_failure(&u, c, failed, origin, now);
                        // Unsaved, the failure does not count towards a lockout either.
                        self.answer_unaudited(
                            &format!("{refused}; not counted towards a lockout"),
                            saved,
                        )?;
                    }
                    _ => {
                        self.answer_unaudited(&refused, self.record(failed).map(|_| ()))?;
                    }
                }
                Err(Error::Denied(
                    "login denied: unknown user, wrong password, or the account cannot log in"
                        .into(),
                ))
            }
        }
    }

    /// Writes a successful login's bookkeeping (and a stronger hash when the policy's costs
    /// went up). Called under the write lock with the credential as read under it.
    fn record_login(
        &self,
        u: &User,
        mut cred: Credential,
        secret: &str,
        origin: &Origin,
        now: Timestamp,
    ) -> Result<()> {
        let practice = super::practice::show(self)?;
        let place = origin.place();
        let window = jiff::SignedDuration::from_mins(i64::from(practice.idle_timeout_minutes));
        // Another process at the same place (the next command typed at that terminal) repeats
        // the login; the same process logging in again (unlocking the interface) does not.
        let repeat = cred.last_login_from.as_deref() == Some(place.as_str())
            && cred.last_login_pid != Some(origin.pid)
            && cred
                .last_login_at
                .is_some_and(|t| now.duration_since(t) < window && t <= now);
        if let Some(h) = cred
            .password_hash
            .as_deref()
            .filter(|h| password::needs_rehash(h))
            .map(|_| password::hash(secret))
            .transpose()?
        {
            cred.password_hash = Some(h);
        }
        cred.clear_failures();
        cred.locked_until = None;
        cred.last_login_at = Some(now);
        cred.last_login_from = Some(place);
        cred.last_login_pid = Some(origin.pid);
        let draft = (!repeat)
            .then(|| user::own_event(u, origin, now, "auth.login", Vec::new(), Outcome::Success));
        self.store.transact(|tx| {
            tx.put(TreeId::Credentials, &id_key(cred.user_id), &cred)?;
            if let Some(d) = &draft {
                append_event(tx, d)?;
            }
            Ok(())
        })
    }

    /// Counts a wrong password and locks the account when the practice's threshold is reached
    /// within its window. Called under the write lock, so parallel failures are all counted.
    fn count_failure(
        &self,
        u: &User,
        mut c: Credential,
        failed: EventDraft,
        origin: &Origin,
        now: Timestamp,
    ) -> Result<()> {
        let practice = super::practice::show(self)?;
        let window = jiff::SignedDuration::from_mins(i64::from(practice.lockout_window_minutes));
        let fresh = c
            .failed_window_start
            .is_none_or(|start| now.duration_since(start) > window);
        if fresh {
            c.failed_logins = 1;
            c.failed_window_start = Some(now);
        } else {
            c.failed_logins = c.failed_logins.saturating_add(1);
        }
        let lock_event = (c.failed_logins >= practice.lockout_threshold).then(|| {
            let until = now
                .checked_add(jiff::SignedDuration::from_mins(i64::from(
                    practice.lockout_duration_minutes,
                )))
                .unwrap_or(now);
            c.locked_until = Some(until);
            c.clear_failures();
            EventDraft {
                at: now,
                actor: Actor::System,
                origin: origin.clone(),
                action: "auth.lock".into(),
                target: Some(Target::new("user", u.id, user::label(u))),
                changes: vec![Change::new("locked_until", None, Some(until.to_string()))],
                outcome: Outcome::Success,
            }
        });
        self.store.transact(|tx| {
            tx.put(TreeId::Credentials, &id_key(c.user_id), &c)?;
            append_event(tx, &failed)?;
            if let Some(ev) = &lock_event {
                append_event(tx, ev)?;
            }
            Ok(())
        })
    }

    /// Break-glass: sets a new password for an administrator, for an operator with OS access
    /// to the store. Loudly audited as `auth.recover` by `system`, with the OS origin.
    pub fn recover(&self, reference: &str, new_password: &str, origin: &Origin) -> Result<String> {
        let _guard = self.lock_writes();
        let u = resolve::user(self, reference)?;
        if !super::authority::is_full_administrator(self, &u)? {
            return Err(Error::Conflict(format!(
                "{} (#{}) is not an administrator (their role lacks admin.users or admin.settings); recovery only resets administrators (others are reset by an administrator)",
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
        let mut cred: Credential = self
            .store
            .get(TreeId::Credentials, &id_key(u.id))?
            .unwrap_or_else(|| Credential::new(u.id, None));
        let was_locked = cred.is_locked(now);
        cred.password_hash = Some(hash);
        cred.clear_failures();
        cred.locked_until = None;
        let mut updated = u.clone();
        if updated.status == UserStatus::Invited {
            updated.status = UserStatus::Active;
            updated.activated_at = Some(now);
            updated.revision += 1;
            updated.updated_at = now;
        }
        let mut changes = vec![Change::secret("password")];
        if was_locked {
            changes.push(Change::new("locked", Some("yes".into()), Some("no".into())));
        }
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
            if updated != u {
                tx.put(TreeId::Users, &id_key(updated.id), &updated)?;
            }
            tx.put(TreeId::Credentials, &id_key(updated.id), &cred)?;
            append_event(tx, &draft)?;
            Ok(())
        })?;
        Ok(user::label(&u))
    }
}

/// How a typed login appears in the audit log when it names nobody: sanitised and bounded, so
/// a hostile login cannot paint a terminal or fill the log.
pub(crate) fn audit_label(typed: &str) -> String {
    crate::security::sanitize::for_terminal(typed)
        .chars()
        .take(120)
        .collect()
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
