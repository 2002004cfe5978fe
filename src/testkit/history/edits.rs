//! Administrators at work: edits, facility access, refusals, facility updates, leaves and
//! departures, invitations sent again, exports. Each change is saved as the service saves it
//! (revision bumped, field changes from `diff`) and audited as the operator's.

use std::collections::BTreeSet;

use super::super::vocab::{
    DEACTIVATION_REASONS, Kind, LAST, LEAVE_REASONS, NOTES, PROVIDER_TAXONOMY, STREETS,
};
use super::staff::npi;
use super::{Due, Fate, Gen, changes};
use crate::audit::{Change, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::validate::SCHEDULING_STEPS;
use crate::model::{
    BillingCategory, DataScope, FacilityAccess, InviteStatus, LoginMethod, User, UserStatus,
};
use crate::service::label;
use crate::store::derived::email_key;

impl Gen {
    /// Saves `new` over user `i` as the service's `save` does and records `action`, with
    /// `extra` changes after the field changes.
    fn save(&mut self, i: usize, mut new: User, action: &str, extra: Vec<Change>) -> Result<()> {
        let Some(old) = self.users.get(i) else {
            return Ok(());
        };
        new.revision = old.revision + 1;
        new.updated_at = self.at();
        let mut recorded = changes(old, &new);
        recorded.extend(extra);
        let target = Target::new("user", new.id, label(&new));
        self.users[i] = new;
        self.admin_event(action, target, recorded)
    }

    /// Deactivates user `i` with `reason` (dated), revoking a pending invitation, as
    /// `user deactivate` does.
    pub(super) fn deactivate(&mut self, i: usize, reason: &str) -> Result<()> {
        let Some(old) = self.users.get(i) else {
            return Ok(());
        };
        if old.status == UserStatus::Deactivated {
            return Ok(());
        }
        let mut u = old.clone();
        let now = self.at();
        u.status = UserStatus::Deactivated;
        u.deactivated_at = Some(now);
        u.deactivation_reason = Some(format!("{reason} {}", now.strftime("%Y-%m-%d")));
        let mut extra = Vec::new();
        if let Some(inv) = self.invites.get_mut(i)
            && inv.status == InviteStatus::Pending
        {
            inv.status = InviteStatus::Revoked;
            extra.push(Change::new("invites_revoked", None, Some("1".into())));
        }
        self.save(i, u, "user.deactivate", extra)
    }

    /// Reactivates user `i`: active again if they had activated, else invited.
    pub(super) fn reactivate(&mut self, i: usize) -> Result<()> {
        let Some(old) = self.users.get(i) else {
            return Ok(());
        };
        if old.status != UserStatus::Deactivated {
            return Ok(());
        }
        let mut u = old.clone();
        u.status = if u.activated_at.is_some() {
            UserStatus::Active
        } else {
            UserStatus::Invited
        };
        u.deactivated_at = None;
        u.deactivation_reason = None;
        self.save(i, u, "user.reactivate", Vec::new())
    }

    /// Deactivates an active user for a leave, scheduling their return.
    pub(super) fn leave(&mut self, i: usize) -> Result<bool> {
        let Some(m) = self.meta.get(i) else {
            return Ok(false);
        };
        let eligible = m.fate == Fate::Active
            && !m.keep_active
            && self
                .users
                .get(i)
                .is_some_and(|u| u.status == UserStatus::Active);
        if !eligible {
            return Ok(false);
        }
        let reason = self.dice.pick(LEAVE_REASONS);
        self.deactivate(i, reason)?;
        let now = self.chain.appended;
        let left = self.main_events.saturating_sub(now + 1).clamp(1, 50_000);
        let back = now + 1 + self.dice.below(left);
        self.schedule(back, Due::Reactivate(i));
        Ok(true)
    }

    /// Sends an invitation that expired again (`invite resend`): a new code, the same record.
    pub(super) fn resend(&mut self, i: usize) -> Result<bool> {
        let (Some(u), Some(inv)) = (self.users.get(i), self.invites.get(i)) else {
            return Ok(false);
        };
        let now = self.at();
        let due = u.status == UserStatus::Invited
            && inv.status == InviteStatus::Pending
            && inv.expires_at <= now
            && now.duration_since(inv.last_sent_at) >= self.policy.invite_cooldown;
        if !due {
            return Ok(false);
        }
        self.send_again(i)?;
        Ok(true)
    }

    /// The planned late resend of someone who never activated (unless they left meanwhile).
    pub(super) fn resend_late(&mut self, i: usize) -> Result<()> {
        if self
            .users
            .get(i)
            .is_some_and(|u| u.status == UserStatus::Invited)
        {
            self.send_again(i)?;
        }
        Ok(())
    }

    /// Sends user `i`'s invitation again, whatever its state.
    pub(super) fn send_again(&mut self, i: usize) -> Result<()> {
        let now = self.at();
        let expiry = self.policy.invite_expiry;
        let (Some(u), Some(inv)) = (self.users.get(i), self.invites.get_mut(i)) else {
            return Ok(());
        };
        let target = Target::new("user", u.id, label(u));
        let before = inv.send_count;
        inv.send_count += 1;
        inv.last_sent_at = now;
        inv.expires_at = now.checked_add(expiry).unwrap_or(now);
        inv.status = InviteStatus::Pending;
        let recorded = vec![
            Change::secret("code"),
            Change::new(
                "send_count",
                Some(before.to_string()),
                Some(inv.send_count.to_string()),
            ),
            Change::new("expires_at", None, Some(inv.expires_at.to_string())),
        ];
        self.admin_event("invite.resend", target, recorded)
    }

    /// A departure that was planned (the user's fate).
    pub(super) fn depart(&mut self, i: usize) -> Result<()> {
        let reason = self.dice.pick(DEACTIVATION_REASONS);
        self.deactivate(i, reason)
    }

    /// One `user.update`; `false` when the drawn edit does not apply to this user.
    pub(super) fn update(&mut self, i: usize) -> Result<bool> {
        let Some(old) = self.users.get(i).cloned() else {
            return Ok(false);
        };
        let Some(m) = self.meta.get(i).copied() else {
            return Ok(false);
        };
        let mut u = old.clone();
        let clinical = matches!(m.kind, Kind::Provider | Kind::Assistant);
        match self.dice.below(15) {
            0 => {
                u.part_time = !u.part_time;
            }
            1 => {
                u.note = if u.note.is_empty() {
                    self.dice.pick(NOTES).to_string()
                } else {
                    String::new()
                };
            }
            2 => {
                u.public_name = match u.public_name {
                    Some(_) => None,
                    None => Some(format!("{} {}", u.first_name, u.last_name)),
                };
            }
            3 if clinical => {
                u.provider.capacity = 1 + (u.provider.capacity + self.dice.below(3) as u32) % 4;
            }
            4 if clinical => {
                u.provider.scheduling_step_minutes = self.dice.pick(&SCHEDULING_STEPS);
            }
            5 => {
                let n = &mut u.notifications;
                match self.dice.below(4) {
                    0 => {
                        n.secure_messaging = !n.secure_messaging;
                    }
                    1 => {
                        n.new_lead = !n.new_lead;
                    }
                    2 => {
                        n.new_intake = !n.new_intake;
                    }
                    _ => {
                        n.low_score_alert = !n.low_score_alert;
                    }
                }
            }
            6 if clinical => {
                u.notifications.dos_threshold = match u.notifications.dos_threshold {
                    Some(_) => None,
                    None => Some(1 + self.dice.below(5) as u8),
                };
            }
            7 => {
                u.email = self.email_for(u.id, &m);
            }
            8 if self.dice.percent(30) => {
                u.last_name = LAST[self.dice.index(LAST.len())].0.to_string();
            }
            9 if !u.aide => {
                let (to, billing) = match m.kind {
                    Kind::Assistant => ("Provider", BillingCategory::Provider),
                    Kind::Technician => ("Provider Assistant", BillingCategory::Assistant),
                    Kind::FrontDesk => ("Billing Manager", BillingCategory::None),
                    _ => return Ok(false),
                };
                let role = self.role(to);
                if u.role_id == role {
                    return Ok(false);
                }
                u.role_id = role;
                u.billing = billing;
            }
            10 => {
                u.primary_facility = self.random_facility();
            }
            11 if m.kind != Kind::Admin => {
                let scopes = [DataScope::Own, DataScope::Facility, DataScope::All];
                if self.dice.percent(50) {
                    u.data_scope = self.dice.pick(&scopes);
                } else {
                    u.nps_scope = self.dice.pick(&scopes);
                }
            }
            12 if clinical => {
                if self.dice.percent(50) {
                    u.provider.show_in_app = !u.provider.show_in_app;
                } else {
                    u.provider.can_sign_forms = !u.provider.can_sign_forms;
                }
            }
            13 if clinical && u.provider.npi.is_none() => {
                u.provider.npi = Some(npi(u.id, self.spec.seed));
                if u.provider.taxonomy.is_none() {
                    u.provider.taxonomy = Some(self.dice.pick(PROVIDER_TAXONOMY).to_string());
                }
            }
            _ => return Ok(false),
        }
        // What the service would refuse (a default location the new primary facility leaves
        // out of reach, an aide's messaging...) is not attempted.
        if u == old || u.validate().is_err() {
            return Ok(false);
        }
        if u.email != old.email {
            self.taken_logins.insert(email_key(&u.email));
        }
        self.save(i, u, "user.update", Vec::new())?;
        Ok(true)
    }

    /// One `access.*` change, as the access service computes it.
    pub(super) fn access_change(&mut self, i: usize) -> Result<bool> {
        let Some(old) = self.users.get(i).cloned() else {
            return Ok(false);
        };
        let everything = self.all_facility_ids();
        let pick = self.random_facility();
        let (action, mut access) = match (&old.access, self.dice.below(4)) {
            (FacilityAccess::Only(set), 0 | 1) => {
                let mut set = set.clone();
                set.insert(pick);
                ("access.grant", FacilityAccess::Only(set))
            }
            (FacilityAccess::Only(_), 2) => ("access.all", FacilityAccess::All),
            (FacilityAccess::Only(set), _) => {
                if pick == old.primary_facility {
                    return Ok(false);
                }
                let mut set = set.clone();
                set.remove(&pick);
                ("access.revoke", FacilityAccess::Only(set))
            }
            (FacilityAccess::All, 0 | 1) => {
                if pick == old.primary_facility {
                    return Ok(false);
                }
                let mut set = everything;
                set.remove(&pick);
                ("access.revoke", FacilityAccess::Only(set))
            }
            (FacilityAccess::All, _) => {
                let mut set = BTreeSet::new();
                set.insert(pick);
                ("access.set", FacilityAccess::Only(set))
            }
        };
        if let FacilityAccess::Only(set) = &mut access {
            set.remove(&old.primary_facility);
        }
        if access == old.access {
            return Ok(false);
        }
        let mut u = old.clone();
        u.access = access;
        if u.validate().is_err() {
            return Ok(false);
        }
        self.save(i, u, action, Vec::new())?;
        Ok(true)
    }

    /// A refused operator action, recorded as `record_refusal` records it.
    pub(super) fn rejection(&mut self, i: usize) -> Result<bool> {
        let Some(u) = self.users.get(i) else {
            return Ok(false);
        };
        let (action, target, error) = match (u.status, self.dice.below(3)) {
            (_, 0) if u.login_method == LoginMethod::Email => (
                "user.create",
                // A refused create names no record.
                Target::new("user", 0, u.email.clone()),
                Error::invalid(
                    "email",
                    format!(
                        "email {} is already used by user #{} ({}); use another email or log in by username",
                        u.email,
                        u.id,
                        u.full_name()
                    ),
                ),
            ),
            (UserStatus::Deactivated, _) => (
                "user.deactivate",
                Target::new("user", u.id, u.id.to_string()),
                Error::Conflict(format!(
                    "{} (#{}) is already deactivated",
                    u.full_name(),
                    u.id
                )),
            ),
            _ if u.activated_at.is_some() => (
                "user.delete",
                Target::new("user", u.id, u.id.to_string()),
                Error::Conflict(format!(
                    "{} (#{}) has activated their account, so it cannot be deleted; deactivate it instead (`staffctl user deactivate {} --reason ...`)",
                    u.full_name(),
                    u.id,
                    u.id
                )),
            ),
            _ => return Ok(false),
        };
        let (actor, origin) = self.operator();
        self.emit(
            actor,
            origin,
            action,
            Some(target),
            Vec::new(),
            Outcome::Rejected(error.to_string()),
        )?;
        Ok(true)
    }

    pub(super) fn facility_update(&mut self) -> Result<bool> {
        let i = self.dice.index(self.facilities.len());
        let Some((old, _)) = self.facilities.get(i) else {
            return Ok(false);
        };
        let mut f = old.clone();
        if self.dice.percent(50) {
            f.phone = Some(format!(
                "+1 555 02{} {:04}",
                self.dice.below(10),
                self.dice.below(10_000)
            ));
        } else {
            f.address = Some(format!(
                "{} {}, Springfield",
                100 + self.dice.below(9000),
                self.dice.pick(STREETS)
            ));
        }
        if &f == old {
            return Ok(false);
        }
        f.revision += 1;
        f.updated_at = self.at();
        let recorded = changes(old, &f);
        let target = Target::new("facility", f.id, f.name.clone());
        self.facilities[i] = (f, true);
        self.admin_event("facility.update", target, recorded)?;
        Ok(true)
    }

    pub(super) fn export_event(&mut self) -> Result<bool> {
        let format = if self.dice.percent(70) {
            "csv"
        } else {
            "jsonl"
        };
        let recorded = vec![
            Change::new("format", None, Some(format.into())),
            Change::new("events", None, Some(self.chain.seq.to_string())),
        ];
        self.admin_event(
            "audit.export",
            Target::new("audit", 0, "audit log"),
            recorded,
        )?;
        Ok(true)
    }
}
