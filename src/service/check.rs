//! Answers for the clinic's other programs: may this person log in (`staffctl auth verify`), and
//! may this user do this (`staffctl auth can`). No administrator session is involved: access to
//! these answers is access to the store or to the server's socket.

use super::{Service, resolve};
use crate::audit::{Actor, EventDraft, Origin, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::permission::{self, AIDE_FORBIDDEN};
use crate::model::{Role, UserStatus};
use crate::store::{TreeId, id_key};

impl Service {
    /// Checks a login and password (audited like any login), then, when given, that the user
    /// may use `facility`, and, when the practice approves new devices, that `device` is
    /// approved for them (an unseen device becomes a pending approval). The caller learns only
    /// allowed or denied; the audit log says why.
    pub fn verify_login(
        &self,
        login: &str,
        secret: &str,
        facility: Option<&str>,
        device: Option<&str>,
        origin: &Origin,
    ) -> Result<()> {
        let session = self.login(login, secret, origin)?;
        let user = resolve::user(self, &session.user_id().to_string())?;
        let refusal = match facility.map(|f| resolve::facility(self, f)) {
            Some(Ok(f)) if f.archived || !user.can_access(f.id) => {
                Some(format!("no access to facility {}", f.name))
            }
            Some(Err(_)) => Some(format!("unknown facility {}", facility.unwrap_or_default())),
            _ => None,
        };
        let refusal = match (refusal, device) {
            (Some(r), _) => Some(r),
            (None, Some(d)) => super::device::check(self, &user, d, origin)?,
            (None, None) => None,
        };
        let Some(why) = refusal else { return Ok(()) };
        self.record(EventDraft {
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
        })?;
        Err(Error::Denied(
            "login denied: unknown user, wrong password, or the account cannot log in".into(),
        ))
    }

    /// Whether `user` is active, not locked, holds `permission` through their role (aides never
    /// hold what aides may not), and may use `facility` when given. `Err(Denied)` says why not.
    pub fn can(&self, user: &str, permission_key: &str, facility: Option<&str>) -> Result<()> {
        if permission::find(permission_key).is_none() {
            return Err(Error::invalid(
                "permission",
                format!(
                    "unknown permission '{permission_key}'; `staffctl permission list` shows the catalogue"
                ),
            ));
        }
        let u = resolve::user(self, user)?;
        let now = self.now();
        if u.status != UserStatus::Active {
            return Err(Error::Denied(format!(
                "{} is {}",
                u.full_name(),
                u.status.as_str()
            )));
        }
        if u.locked_until.is_some_and(|t| t > now) {
            return Err(Error::Denied(format!(
                "{} is locked after failed logins",
                u.full_name()
            )));
        }
        let role: Option<Role> = self.store.get(TreeId::Roles, &id_key(u.role_id))?;
        let held = role.is_some_and(|r| r.permissions.contains(permission_key));
        if !held {
            return Err(Error::Denied(format!(
                "{}'s role does not grant {permission_key}",
                u.full_name()
            )));
        }
        if u.aide && AIDE_FORBIDDEN.contains(&permission_key) {
            return Err(Error::Denied(format!(
                "{} is an aide; aides never hold {permission_key}",
                u.full_name()
            )));
        }
        if let Some(f) = facility {
            let f = resolve::facility(self, f)?;
            if f.archived || !u.can_access(f.id) {
                return Err(Error::Denied(format!(
                    "{} may not use facility {}",
                    u.full_name(),
                    f.name
                )));
            }
        }
        Ok(())
    }
}
