//! Staff joining and using their accounts: facilities and users created (with their
//! invitations), activations, logins, failed logins and the lockouts they lead to.

use std::collections::BTreeSet;

use super::super::dice::Dice;
use super::super::vocab::{
    ASSISTANT_TAXONOMY, BIOS, DOMAINS, FACILITY_NAMES, FIRST, KINDS, Kind, LAST, NOTES,
    PROVIDER_TAXONOMY, STREETS,
};
use super::{Due, Failures, Fate, Gen, Meta, changes};
use crate::audit::{Actor, Change, EventDraft, Outcome, Target};
use crate::error::Result;
use crate::model::validate::{SCHEDULING_STEPS, complete_npi};
use crate::model::{
    BillingCategory, DataScope, Facility, FacilityAccess, Id, Invite, InviteStatus, LoginMethod,
    NotificationPrefs, ProviderProfile, User, UserStatus,
};
use crate::service::diff::diff;
use crate::service::label;
use crate::store::derived::{email_key, name_key, username_key};

/// What is decided about a user before the history starts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Planned {
    pub(super) kind: Kind,
    pub(super) fate: Fate,
    /// The practice's default doctor (the first provider).
    pub(super) doctor: bool,
}

/// Archetype and fate of every user, drawn up front: the first provider is the default
/// doctor, and administrators and the default doctor stay active.
pub(super) fn plan(dice: &mut Dice, users: usize) -> Vec<Planned> {
    let mut have_doctor = false;
    (0..users)
        .map(|_| {
            let r = dice.below(1000);
            let mut acc = 0;
            let mut kind = Kind::FrontDesk;
            for (k, _, w) in KINDS {
                acc += w;
                if r < acc {
                    kind = *k;
                    break;
                }
            }
            let fate = match dice.below(100) {
                0..80 => Fate::Active,
                80..85 => Fate::Invited,
                85..97 => Fate::Deactivated(true),
                _ => Fate::Deactivated(false),
            };
            let doctor = kind == Kind::Provider && !have_doctor;
            have_doctor |= doctor;
            let keep = kind == Kind::Admin || doctor;
            Planned {
                kind,
                fate: if keep { Fate::Active } else { fate },
                doctor,
            }
        })
        .collect()
}

/// Events a user of this fate owes after being created, at most: an activation, a
/// deactivation, or (never activating) the invitation sent again in the last days.
pub(super) fn mandatory(fate: Fate) -> u64 {
    match fate {
        Fate::Active | Fate::Invited => 1,
        Fate::Deactivated(activated) => 1 + u64::from(activated),
    }
}

/// A valid NPI, unique per `n`, starting with 1 or 2 as real ones do.
pub(super) fn npi(n: u64, salt: u64) -> String {
    let base = 100_000_000 + (n.wrapping_mul(104_729).wrapping_add(salt)) % 200_000_000;
    complete_npi(u32::try_from(base).unwrap_or(100_000_000))
}

impl Gen {
    pub(super) fn create_facility(&mut self) -> Result<()> {
        let n = self.facilities_added;
        let base = FACILITY_NAMES[n % FACILITY_NAMES.len()];
        let round = n / FACILITY_NAMES.len();
        let mut name = if round == 0 {
            base.to_string()
        } else {
            format!("{base} {}", round + 1)
        };
        while self
            .facilities
            .iter()
            .any(|(f, _)| name_key(&f.name) == name_key(&name))
        {
            name.push_str(" Annex");
        }
        let code: String = name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .collect::<String>()
            .to_uppercase();
        let now = self.at();
        let f = Facility {
            id: self.next_facility_id,
            name,
            code: Some(format!("{code}{}", n + 1)),
            address: Some(format!(
                "{} {}, Springfield",
                100 + self.dice.below(9000),
                self.dice.pick(STREETS)
            )),
            phone: Some(format!(
                "+1 555 01{} {:04}",
                self.dice.below(10),
                self.dice.below(10_000)
            )),
            archived: false,
            created_at: now,
            updated_at: now,
            revision: 1,
        };
        f.validate()?;
        self.next_facility_id += 1;
        self.facilities_added += 1;
        let changes = diff(None, Some(&f));
        let target = Target::new("facility", f.id, f.name.clone());
        self.facilities.push((f, true));
        self.reweigh();
        self.admin_event("facility.create", target, changes)
    }

    /// Primary-facility weights: the first facilities are the big ones.
    pub(super) fn reweigh(&mut self) {
        self.facility_weights = self
            .facilities
            .iter()
            .enumerate()
            .scan(0, |acc, (i, _)| {
                *acc += 100 + 900 / (i as u64 + 1);
                Some(*acc)
            })
            .collect();
    }

    pub(super) fn random_facility(&mut self) -> Id {
        let total = self.facility_weights.last().copied().unwrap_or(0);
        let x = self.dice.below(total);
        let i = self.facility_weights.partition_point(|w| *w <= x);
        self.facilities
            .get(i)
            .or(self.facilities.first())
            .map_or(0, |(f, _)| f.id)
    }

    pub(super) fn all_facility_ids(&self) -> BTreeSet<Id> {
        self.facilities
            .iter()
            .filter(|(f, _)| !f.archived)
            .map(|(f, _)| f.id)
            .collect()
    }

    /// An email nobody logs in with yet.
    pub(super) fn email_for(&mut self, id: Id, m: &Meta) -> String {
        let (_, first) = FIRST[m.first];
        let (_, last) = LAST[m.last];
        let domain = self.dice.pick(DOMAINS);
        let mut local = format!("{first}.{last}{id}");
        while self
            .taken_logins
            .contains(&email_key(&format!("{local}@{domain}")))
        {
            local.push('x');
        }
        format!("{local}@{domain}")
    }

    /// Adds the next planned user, invited, with the invitation's event, as `user add` does.
    pub(super) fn create_user(&mut self) -> Result<()> {
        let i = self.users.len();
        let id = self.first_user_id + i as u64;
        let Some(Planned { kind, fate, doctor }) = self.plan.get(i).copied() else {
            return Ok(());
        };
        let m = Meta {
            first: self.dice.index(FIRST.len()),
            last: self.dice.index(LAST.len()),
            fate,
            kind,
            keep_active: kind == Kind::Admin || doctor,
        };
        let u = self.new_user(id, &m, doctor)?;
        let now = self.at();
        let invite = Invite {
            id: self.first_invite_id + i as u64,
            user_id: id,
            code_hash: self.code_hash.clone(),
            created_at: now,
            expires_at: now.checked_add(self.policy.invite_expiry).unwrap_or(now),
            last_sent_at: now,
            send_count: 1,
            status: InviteStatus::Pending,
        };
        for key in crate::store::derived::login_keys(&u) {
            self.taken_logins.insert(key.key);
        }
        self.future_mandatory = self.future_mandatory.saturating_sub(mandatory(fate));
        self.schedule_fate(i, fate);
        let target = Target::new("user", id, label(&u));
        let created = diff(None, Some(&u));
        let invited = vec![
            Change::secret("code"),
            Change::new("expires_at", None, Some(invite.expires_at.to_string())),
        ];
        self.users.push(u);
        self.meta.push(m);
        self.invites.push(invite);
        self.failures.push(Failures::default());
        // One request: the same operator records both events.
        let (actor, origin) = self.operator();
        self.emit(
            actor.clone(),
            origin.clone(),
            "user.create",
            Some(target.clone()),
            created,
            Outcome::Success,
        )?;
        self.emit(
            actor,
            origin,
            "invite.create",
            Some(target),
            invited,
            Outcome::Success,
        )
    }

    /// Schedules what user `i`'s fate holds: activation within days of the invitation (about
    /// a day on average), and a departure some time after.
    fn schedule_fate(&mut self, i: usize, fate: Fate) {
        // The user's two events are about to be appended.
        let now = self.chain.appended + 2;
        let end = self.main_events.max(now + 1);
        let day = (self.main_events / u64::from(self.spec.span_days.max(1))).max(1);
        let delay = 1 + self.dice.below(2 * day).min(self.dice.below(6 * day));
        let activation = (now + delay).min(end);
        let later =
            |dice: &mut Dice, from: u64| from + 1 + dice.below(end.saturating_sub(from + 1).max(1));
        match fate {
            Fate::Active => self.schedule(activation, Due::Activate(i)),
            // Most are sent again within the last five days, so they are still pending at
            // the end; the others have expired.
            Fate::Invited if self.dice.percent(75) => {
                let window = (5 * day).min(end - now).max(1);
                let at = end - window + self.dice.below(window);
                self.schedule(at.max(now), Due::Resend(i));
            }
            Fate::Invited => {}
            Fate::Deactivated(true) => {
                self.schedule(activation, Due::Activate(i));
                let leaves = later(&mut self.dice, activation);
                self.schedule(leaves, Due::Deactivate(i));
            }
            Fate::Deactivated(false) => {
                let leaves = later(&mut self.dice, now);
                self.schedule(leaves, Due::Deactivate(i));
            }
        }
    }

    /// The record of a new user, as `user add` stores it (invited).
    fn new_user(&mut self, id: Id, m: &Meta, doctor: bool) -> Result<User> {
        let kind = m.kind;
        let now = self.at();
        let email = self.email_for(id, m);
        let with_username = kind == Kind::Admin || self.dice.percent(65);
        let username = with_username.then(|| {
            let (_, first) = FIRST[m.first];
            let (_, last) = LAST[m.last];
            let mut u = format!("{}{}{id}", &first[..1], &last[..last.len().min(20)]);
            while self.taken_logins.contains(&username_key(&u)) {
                u.push('x');
            }
            u
        });
        let login_method = if username.is_some() && self.dice.percent(60) {
            LoginMethod::Username
        } else {
            LoginMethod::Email
        };
        let role_name = KINDS
            .iter()
            .find(|(k, _, _)| *k == kind)
            .map_or("Front Desk", |(_, n, _)| *n);
        let primary = self.random_facility();
        let access = if kind == Kind::Admin || self.dice.percent(15) {
            FacilityAccess::All
        } else if self.dice.percent(30) {
            let mut set = BTreeSet::new();
            for _ in 0..1 + self.dice.below(2) {
                let f = self.random_facility();
                if f != primary {
                    set.insert(f);
                }
            }
            FacilityAccess::Only(set)
        } else {
            FacilityAccess::Only(BTreeSet::new())
        };
        let clinical = matches!(kind, Kind::Provider | Kind::Assistant);
        let (billing, aide) = match kind {
            Kind::Provider => (BillingCategory::Provider, false),
            Kind::Assistant => (BillingCategory::Assistant, false),
            Kind::Technician => (BillingCategory::Technician, false),
            Kind::Aide => (
                if self.dice.percent(40) {
                    BillingCategory::Technician
                } else {
                    BillingCategory::None
                },
                true,
            ),
            Kind::Admin | Kind::FrontDesk | Kind::Billing => (BillingCategory::None, false),
        };
        let (first_name, _) = FIRST[m.first];
        let (last_name, _) = LAST[m.last];
        let seed = self.spec.seed;
        let provider = ProviderProfile {
            npi: match kind {
                Kind::Provider if self.dice.percent(92) => Some(npi(id, seed)),
                Kind::Assistant if self.dice.percent(35) => Some(npi(id, seed)),
                _ => None,
            },
            taxonomy: match kind {
                Kind::Provider if self.dice.percent(85) => {
                    Some(self.dice.pick(PROVIDER_TAXONOMY).to_string())
                }
                Kind::Assistant if self.dice.percent(50) => {
                    Some(self.dice.pick(ASSISTANT_TAXONOMY).to_string())
                }
                _ => None,
            },
            bio: if kind == Kind::Provider && self.dice.percent(50) {
                self.dice.pick(BIOS).to_string()
            } else {
                String::new()
            },
            pms_provider_id: (clinical && self.dice.percent(40)).then(|| format!("PMS-{id:06}")),
            capacity: if clinical {
                1 + self.dice.below(3) as u32
            } else {
                1
            },
            scheduling_step_minutes: if clinical {
                self.dice.pick(&SCHEDULING_STEPS)
            } else {
                15
            },
            default_doctor: doctor,
            can_sign_forms: kind == Kind::Provider && self.dice.percent(60),
            show_in_app: clinical && self.dice.percent(70),
            screen_pop_extension: (kind == Kind::FrontDesk && self.dice.percent(50))
                .then(|| format!("{}", 200 + self.dice.below(300))),
            rtm_default: true,
            location_popup: kind == Kind::FrontDesk && self.dice.percent(30),
        };
        let notifications = NotificationPrefs {
            secure_messaging: clinical && self.dice.percent(50),
            billable_codes_email: kind == Kind::Provider && self.dice.percent(30),
            new_lead: kind == Kind::FrontDesk && self.dice.percent(40),
            new_intake: kind == Kind::FrontDesk && self.dice.percent(40),
            low_score_alert: clinical && self.dice.percent(25),
            passive_score_alert: false,
            promoter_score_alert: kind == Kind::Provider && self.dice.percent(10),
            dos_threshold: (kind == Kind::Provider && self.dice.percent(20)).then_some(2),
            default_location: self.dice.percent(20).then_some(primary),
        };
        let u = User {
            id,
            username,
            email,
            contact_email: None,
            login_method,
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
            public_name: (kind == Kind::Provider && self.dice.percent(30))
                .then(|| format!("Dr. {last_name}")),
            status: UserStatus::Invited,
            role_id: self.role(role_name),
            billing,
            part_time: self.dice.percent(20),
            aide,
            chat_user: !aide && self.dice.percent(60),
            primary_facility: primary,
            access,
            data_scope: match kind {
                Kind::Admin | Kind::Billing => DataScope::All,
                Kind::Provider | Kind::Assistant if self.dice.percent(50) => DataScope::Own,
                _ => DataScope::Facility,
            },
            nps_scope: if kind == Kind::Admin {
                DataScope::All
            } else {
                DataScope::Own
            },
            provider,
            notifications,
            note: if self.dice.percent(5) {
                self.dice.pick(NOTES).to_string()
            } else {
                String::new()
            },
            created_at: now,
            updated_at: now,
            activated_at: None,
            deactivated_at: None,
            deactivation_reason: None,
            revision: 1,
        };
        u.validate()?;
        Ok(u)
    }

    /// The person activates their account with the invitation (`staffctl activate`); an
    /// invitation that expired meanwhile is sent again first.
    pub(super) fn activate(&mut self, i: usize) -> Result<()> {
        let (Some(old), Some(inv)) = (self.users.get(i).cloned(), self.invites.get(i).cloned())
        else {
            return Ok(());
        };
        if old.status != UserStatus::Invited {
            return Ok(());
        }
        if inv.status != InviteStatus::Pending || inv.expires_at <= self.at() {
            // The person asks for a new code and uses it straight away.
            self.send_again(i)?;
            let now = self.at();
            let usable = self
                .invites
                .get(i)
                .is_some_and(|inv| inv.status == InviteStatus::Pending && inv.expires_at > now);
            if !usable {
                return Ok(());
            }
        }
        let now = self.at();
        let mut active = old.clone();
        active.status = UserStatus::Active;
        active.activated_at = Some(now);
        active.revision += 1;
        active.updated_at = now;
        let mut recorded = changes(&old, &active);
        recorded.push(Change::secret("password"));
        if self.meta[i].kind == Kind::Admin {
            self.operators.push((active.id, label(&active)));
        }
        self.users[i] = active;
        self.invites[i].status = InviteStatus::Accepted;
        self.own_event(i, "user.activate", recorded, Outcome::Success)
    }

    /// One login by user `i`, as `Service::login` records it: mostly successful for active
    /// users, sometimes a mistyped password.
    pub(super) fn login(&mut self, i: usize) -> Result<()> {
        let Some(u) = self.users.get(i) else {
            return Ok(());
        };
        let now = self.at();
        let has_password = u.activated_at.is_some();
        if !has_password || self.dice.percent(7) {
            return self.failed_login(i);
        }
        let refused = if u.status != UserStatus::Active {
            Some(format!("account is {}", u.status.as_str()))
        } else if self.failures[i].locked_until.is_some_and(|t| t > now) {
            Some("account is locked".to_string())
        } else {
            None
        };
        match refused {
            Some(why) => self.own_event(i, "auth.login_failed", Vec::new(), Outcome::Denied(why)),
            None => {
                self.failures[i] = Failures {
                    last_login_at: Some(now),
                    ..Failures::default()
                };
                self.own_event(i, "auth.login", Vec::new(), Outcome::Success)
            }
        }
    }

    /// A wrong password for user `i`. It counts towards the lockout of an activated account
    /// that is not locked already; reaching the practice's threshold within its window locks
    /// the account (`auth.lock`, by the system, in the same transaction).
    pub(super) fn failed_login(&mut self, i: usize) -> Result<()> {
        let Some(u) = self.users.get(i) else {
            return Ok(());
        };
        let now = self.at();
        let counting =
            u.activated_at.is_some() && self.failures[i].locked_until.is_none_or(|t| t <= now);
        let who = label(u);
        let actor = Actor::User {
            id: u.id,
            label: who.clone(),
        };
        let target = Target::new("user", u.id, who);
        let origin = self.staff_origin();
        self.emit(
            actor,
            origin.clone(),
            "auth.login_failed",
            Some(target.clone()),
            Vec::new(),
            Outcome::Denied("wrong password".into()),
        )?;
        if !counting {
            return Ok(());
        }
        let window = self.policy.lockout_window;
        let f = &mut self.failures[i];
        if f.window_start
            .is_none_or(|start| now.duration_since(start) > window)
        {
            f.count = 1;
            f.window_start = Some(now);
        } else {
            f.count += 1;
        }
        if f.count < self.policy.lockout_threshold {
            return Ok(());
        }
        let until = now.checked_add(self.policy.lockout_duration).unwrap_or(now);
        *f = Failures {
            locked_until: Some(until),
            last_login_at: f.last_login_at,
            ..Failures::default()
        };
        self.chain.push(EventDraft {
            at: now,
            actor: Actor::System,
            origin,
            action: "auth.lock".into(),
            target: Some(target),
            changes: vec![Change::new("locked_until", None, Some(until.to_string()))],
            outcome: Outcome::Success,
        })
    }

    /// A login attempt with a name nobody has.
    pub(super) fn anonymous_failure(&mut self) -> Result<()> {
        let label = self.dice.pick(super::super::vocab::ANON_LOGINS).to_string();
        let origin = self.staff_origin();
        self.emit(
            Actor::Anonymous { label },
            origin,
            "auth.login_failed",
            None,
            Vec::new(),
            Outcome::Denied("no such user".into()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validate;

    #[test]
    fn generated_npis_pass_the_validator_and_differ() {
        let all: std::collections::HashSet<String> = (0..2_000).map(|n| npi(n, 77)).collect();
        assert_eq!(all.len(), 2_000);
        for v in &all {
            assert!(validate::npi(v).is_ok(), "{v}");
            assert!(v.starts_with('1') || v.starts_with('2'), "{v}");
        }
    }
}
