//! Answers for the clinic's other programs: may this person log in (`staffctl auth verify`), and
//! may this user do this (`staffctl auth can`). No administrator session is involved: access to
//! these answers is access to the store or to the server's socket, so they tell as little as
//! they can: allowed, denied, or waiting for approval. The audit log says why.

use super::device::DeviceCheck;
use super::{Service, authority, resolve};
use crate::audit::{Actor, EventDraft, Origin, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::UserStatus;
use crate::model::permission;

/// What every refused check tells its caller.
fn denied() -> Error {
    Error::Denied("login denied: unknown user, wrong password, or the account cannot log in".into())
}

impl Service {
    /// Checks a login and password (audited like any login), then, when given, that the user
    /// may use `facility`, and, when the practice approves new devices, that `device` is
    /// approved for them (an unseen device becomes a pending approval; no device is refused).
    /// The caller learns only allowed, denied, or waiting ([`Error::Pending`]).
    pub fn verify_login(
        &self,
        login: &str,
        secret: &str,
        facility: Option<&str>,
        device: Option<&str>,
        origin: &Origin,
    ) -> Result<()> {
        let session = self.login(login, secret, origin)?;
        let user = resolve::user(self, &format!("#{}", session.user_id()))?;
        let refusal = match facility.map(|f| resolve::facility(self, f)) {
            Some(Ok(f)) if f.archived || !user.can_access(f.id) => {
                Some(format!("no access to facility {}", f.name))
            }
            Some(Err(_)) => Some(format!(
                "unknown facility {}",
                crate::security::sanitize::for_terminal(facility.unwrap_or_default())
            )),
            _ => None,
        };
        let (why, waiting) = match refusal {
            Some(r) => (r, false),
            None => match super::device::check(self, &user, device, origin)? {
                DeviceCheck::Allowed => return Ok(()),
                DeviceCheck::Waiting(r) => (r, true),
                DeviceCheck::Refused(r) => (r, false),
            },
        };
        let refused = format!("{} was refused ({why})", session.label());
        let recorded = self.record(EventDraft {
            at: self.now(),
            actor: Actor::User {
                id: user.id,
                label: session.label().to_string(),
            },
            origin: origin.clone(),
            action: "auth.denied".into(),
            target: Some(Target::new("user", user.id, session.label())),
            changes: Vec::new(),
            outcome: Outcome::Denied(why),
        });
        self.answer_unaudited(&refused, recorded.map(|_| ()))?;
        if waiting {
            return Err(Error::Pending(
                "login waits for an administrator to approve this device".into(),
            ));
        }
        Err(denied())
    }

    /// Whether the user who logs in as `login` is active, not locked, holds `permission`
    /// (their role's, less what aides and Technician seats never hold), and may use `facility`
    /// when given. Users are found by login (username or login email) only, exactly as `auth
    /// verify` finds them: never by id, name or contact email. A refusal says only which
    /// question was answered no, never who the user is or what state their account is in.
    pub fn can(&self, login: &str, permission_key: &str, facility: Option<&str>) -> Result<()> {
        if permission::find(permission_key).is_none() {
            return Err(Error::invalid(
                "permission",
                format!(
                    "unknown permission '{}'; `staffctl permission list` shows the catalogue",
                    crate::security::sanitize::for_terminal(permission_key)
                ),
            ));
        }
        let typed = login.trim();
        let no = || {
            Error::Denied(format!(
                "denied: {} may not {permission_key}{}",
                super::auth::audit_label(typed),
                facility
                    .map(|f| format!(" at {}", crate::security::sanitize::for_terminal(f)))
                    .unwrap_or_default()
            ))
        };
        let Some(u) = resolve::by_login(self, typed)? else {
            return Err(no());
        };
        let now = self.now();
        let locked = super::user::login_state(self, u.id, now)?
            .locked_until
            .is_some();
        if u.status != UserStatus::Active || locked {
            return Err(no());
        }
        if !authority::permissions_of(self, &u)?.contains(permission_key) {
            return Err(no());
        }
        if let Some(f) = facility {
            match resolve::facility(self, f) {
                Ok(f) if !f.archived && u.can_access(f.id) => {}
                _ => return Err(no()),
            }
        }
        Ok(())
    }
}
