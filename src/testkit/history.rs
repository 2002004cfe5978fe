//! The simulated history of a practice: who joins when, who activates, logs in, is edited,
//! leaves or is locked out, as one sequence of audit events in time order, with the records as
//! they end up. Each event carries what the service would record for it (field changes from
//! [`diff`]), and the records are changed as the service would change them.

mod edits;
mod records;
mod staff;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};

use super::Spec;
use super::chain::{Chain, Sink};
use super::dice::Dice;
use super::vocab::{KINDS, Kind, OS_OPERATORS};
use crate::audit::{Actor, AuditEvent, Change, EventDraft, Origin, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::{Facility, Id, Invite, Practice, User, UserStatus};
use crate::service::diff::diff;
use crate::service::label;
use crate::store::derived::{email_key, name_key};
use crate::store::{Store, TreeId, audit_log, key_id, meta};

pub(super) use records::Written;

/// How a generated user ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Activated and still active.
    Active,
    /// Never activated; the invitation is still out (or expired).
    Invited,
    /// Deactivated; `true` when they had activated first.
    Deactivated(bool),
}

/// Per-user generator state that is not part of the user record.
#[derive(Debug, Clone, Copy)]
struct Meta {
    first: usize,
    last: usize,
    fate: Fate,
    kind: Kind,
    /// Must stay active (administrators, the default doctor).
    keep_active: bool,
}

/// A user's login bookkeeping, as their `Credential` keeps it: failed-login counters, the
/// lock, the last login.
#[derive(Debug, Clone, Copy, Default)]
struct Failures {
    count: u32,
    window_start: Option<Timestamp>,
    locked_until: Option<Timestamp>,
    last_login_at: Option<Timestamp>,
}

/// A scheduled event that must happen, by user index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    Activate(usize),
    Deactivate(usize),
    Reactivate(usize),
    /// The invitation of someone who never activated, sent again in the last days.
    Resend(usize),
}

/// The practice's policies the simulation follows.
struct Policy {
    invite_expiry: SignedDuration,
    invite_cooldown: SignedDuration,
    lockout_threshold: u32,
    lockout_window: SignedDuration,
    lockout_duration: SignedDuration,
}

impl Policy {
    fn of(p: &Practice) -> Self {
        Self {
            invite_expiry: SignedDuration::from_hours(i64::from(p.invite_expiry_hours)),
            invite_cooldown: SignedDuration::from_mins(i64::from(p.invite_cooldown_minutes)),
            lockout_threshold: p.lockout_threshold.max(1),
            lockout_window: SignedDuration::from_mins(i64::from(p.lockout_window_minutes)),
            lockout_duration: SignedDuration::from_mins(i64::from(p.lockout_duration_minutes)),
        }
    }
}

/// When the events happen: the main history spread evenly (with jitter) from `first` to
/// `main_end`, then the lockouts of the last minutes up to `end`.
struct Clock {
    first: i64,
    main_end: i64,
    end: i64,
    /// Time of the current action, in microseconds since the epoch.
    now: i64,
}

/// The simulation.
pub(super) struct Gen {
    spec: Spec,
    dice: Dice,
    chain: Chain,
    clock: Clock,
    policy: Policy,
    /// Events of the main history (before the final lockouts).
    main_events: u64,
    /// All events to append.
    events: u64,
    roles: HashMap<&'static str, Id>,
    /// Every facility (the existing ones first), and whether it must be written.
    facilities: Vec<(Facility, bool)>,
    next_facility_id: Id,
    facilities_added: usize,
    /// Cumulative weights for drawing a primary facility.
    facility_weights: Vec<u64>,
    users: Vec<User>,
    meta: Vec<Meta>,
    invites: Vec<Invite>,
    failures: Vec<Failures>,
    first_user_id: Id,
    first_invite_id: Id,
    /// The shared argon2 hash of the invitation codes (a random code nobody knows).
    code_hash: String,
    /// Active administrators who may operate: (id, label).
    operators: Vec<(Id, String)>,
    taken_logins: HashSet<Vec<u8>>,
    /// Archetypes and fates of every user to create, drawn up front.
    plan: Vec<staff::Planned>,
    heap: BinaryHeap<Reverse<(u64, Due)>>,
    /// Mandatory events of users not created yet (activations, deactivations).
    future_mandatory: u64,
    /// Users locked out in the last minutes.
    locked: Vec<Id>,
}

/// Events of the final lockouts: `threshold` failed logins and the lock, per locked user.
fn lockout_events(spec: &Spec, threshold: u32) -> u64 {
    spec.lockouts as u64 * (u64::from(threshold.max(1)) + 1)
}

impl Gen {
    /// Reads what `init` wrote (head, roles, facility, administrator, policies) and plans the
    /// history from `start` to `end`.
    pub(super) fn load(
        store: &Store,
        spec: &Spec,
        sink: Sink,
        start: Timestamp,
        end: Timestamp,
        code_hash: String,
    ) -> Result<Self> {
        let (seq, prev) = read_head(store)?;
        // The newest chunk, when incomplete, is carried on rather than overwritten.
        let open: Vec<AuditEvent> =
            match store.get_raw(TreeId::Audit, &audit_log::chunk_key(seq))? {
                Some(bytes) if seq > 0 && !seq.is_multiple_of(audit_log::CHUNK) => {
                    audit_log::decode(&bytes).map_err(|problem| {
                        audit_log::unreadable(audit_log::chunk_number(seq), &problem)
                    })?
                }
                _ => Vec::new(),
            };
        let practice: Practice = store.get(TreeId::Meta, meta::PRACTICE)?.ok_or_else(|| {
            Error::NotFound("the store has no practice record; initialise it first".into())
        })?;
        let policy = Policy::of(&practice);
        let mut roles = HashMap::new();
        for (_, name, _) in KINDS {
            let id = store
                .get_id(TreeId::RolesByName, &name_key(name))?
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "built-in role '{name}' is missing; generate into a freshly initialised store"
                    ))
                })?;
            roles.insert(*name, id);
        }
        let mut facilities = Vec::new();
        for f in store.scan::<Facility>(TreeId::Facilities) {
            if let Ok(f) = f? {
                facilities.push((f, false));
            }
        }
        let admin_role = roles.get("Administrator").copied();
        let mut operators = Vec::new();
        for u in store.scan::<User>(TreeId::Users) {
            if let Ok(u) = u?
                && Some(u.role_id) == admin_role
                && u.status == UserStatus::Active
            {
                operators.push((u.id, label(&u)));
            }
        }
        if operators.is_empty() {
            return Err(Error::NotFound(
                "the store has no active administrator to act as operator".into(),
            ));
        }
        let mut taken_logins = HashSet::new();
        for item in store.scan_raw(TreeId::UsersByLogin) {
            taken_logins.insert(item?.0.to_vec());
        }
        taken_logins.insert(email_key(&practice.email));
        let next = |kind: &str| -> Result<Id> {
            let key = format!("{}{kind}", meta::NEXT_ID);
            Ok(store.get_id(TreeId::Meta, key.as_bytes())?.unwrap_or(1))
        };
        let mut dice = Dice::seeded(spec.seed);
        let plan = staff::plan(&mut dice, spec.users);
        let future_mandatory = plan.iter().map(|p| staff::mandatory(p.fate)).sum();
        let mandatory = spec.facilities as u64 + 2 * spec.users as u64 + future_mandatory;
        let locks = lockout_events(spec, policy.lockout_threshold);
        let events = spec.events.max(mandatory + locks);
        // The lockouts happen within the last minutes, so the accounts are still locked at
        // the end; the rest of the history ends before them.
        let end_us = end.as_microsecond();
        let first = start.as_microsecond() + 60_000_000;
        let final_span = if locks > 0 {
            (policy.lockout_duration.as_micros() as i64 * 4 / 5).max(1)
        } else {
            0
        };
        let main_end = (end_us - final_span).max(first);
        let mut generator = Self {
            spec: spec.clone(),
            dice,
            chain: Chain {
                sink,
                seq,
                prev,
                open,
                audit: Vec::new(),
                batch: spec.batch.max(1),
                appended: 0,
            },
            clock: Clock {
                first,
                main_end,
                end: end_us,
                now: first,
            },
            policy,
            main_events: events - locks,
            events,
            roles,
            next_facility_id: next("facility")?,
            facilities_added: 0,
            facilities,
            facility_weights: Vec::new(),
            users: Vec::with_capacity(spec.users),
            meta: Vec::with_capacity(spec.users),
            invites: Vec::with_capacity(spec.users),
            failures: Vec::with_capacity(spec.users),
            first_user_id: next("user")?,
            first_invite_id: next("invite")?,
            code_hash,
            operators,
            taken_logins,
            plan,
            heap: BinaryHeap::new(),
            future_mandatory,
            locked: Vec::new(),
        };
        generator.reweigh();
        Ok(generator)
    }

    /// Runs the whole history.
    pub(super) fn run(&mut self) -> Result<()> {
        self.main_history()?;
        self.lockouts()
    }

    /// The time of the current action.
    fn at(&self) -> Timestamp {
        // `generate` checked that the whole history lies in jiff's range.
        Timestamp::from_microsecond(self.clock.now).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Moves the clock to the next action of the main history: events are spread evenly over
    /// it, each a little after its share begins.
    fn tick(&mut self) {
        let done = self.chain.appended;
        let total = self.main_events.max(1);
        let span = u128::try_from(self.clock.main_end - self.clock.first).unwrap_or(0);
        let share = (span / u128::from(total)) as u64;
        let offset = (span * u128::from(done) / u128::from(total)) as i64;
        let jitter = self.dice.below(share) as i64;
        let t = self.clock.first + offset + jitter;
        self.clock.now = self.clock.now.max(t).min(self.clock.main_end);
    }

    fn role(&self, name: &str) -> Id {
        self.roles.get(name).copied().unwrap_or_default()
    }

    /// A random active administrator and where they work from.
    fn operator(&mut self) -> (Actor, Origin) {
        let i = self.dice.index(self.operators.len());
        let (id, label) = self.operators[i].clone();
        let origin = Origin {
            os_user: OS_OPERATORS[(id as usize) % OS_OPERATORS.len()].to_string(),
            pid: 1000 + self.dice.below(60_000) as u32,
            ssh_client: self.dice.percent(60).then(|| {
                format!(
                    "10.{}.{}.{}",
                    self.dice.below(4),
                    self.dice.below(256),
                    1 + self.dice.below(254)
                )
            }),
            tty: Some(format!("/dev/pts/{}", self.dice.below(8))),
        };
        (Actor::User { id, label }, origin)
    }

    /// The origin of a staff member's own session (the interface on the practice server).
    fn staff_origin(&mut self) -> Origin {
        Origin {
            os_user: "staff".into(),
            pid: 1000 + self.dice.below(60_000) as u32,
            ssh_client: Some(format!(
                "192.168.{}.{}",
                self.dice.below(8),
                2 + self.dice.below(250)
            )),
            tty: Some(format!("/dev/pts/{}", self.dice.below(32))),
        }
    }

    fn emit(
        &mut self,
        actor: Actor,
        origin: Origin,
        action: &str,
        target: Option<Target>,
        changes: Vec<Change>,
        outcome: Outcome,
    ) -> Result<()> {
        let draft = EventDraft {
            at: self.at(),
            actor,
            origin,
            action: action.to_string(),
            target,
            changes,
            outcome,
        };
        self.chain.push(draft)
    }

    /// An operator's successful change.
    fn admin_event(&mut self, action: &str, target: Target, changes: Vec<Change>) -> Result<()> {
        let (actor, origin) = self.operator();
        self.emit(
            actor,
            origin,
            action,
            Some(target),
            changes,
            Outcome::Success,
        )
    }

    /// An event user `i` causes about their own account.
    fn own_event(
        &mut self,
        i: usize,
        action: &str,
        changes: Vec<Change>,
        outcome: Outcome,
    ) -> Result<()> {
        let Some(u) = self.users.get(i) else {
            return Ok(());
        };
        let who = label(u);
        let actor = Actor::User {
            id: u.id,
            label: who.clone(),
        };
        let target = Some(Target::new("user", u.id, who));
        let origin = self.staff_origin();
        self.emit(actor, origin, action, target, changes, outcome)
    }

    /// Events still owed: facilities and users to create (two events each: the user and
    /// the invitation), and the scheduled and future activations and deactivations.
    fn mandatory(&self) -> u64 {
        let facilities = (self.spec.facilities - self.facilities_added) as u64;
        let users = 2 * (self.spec.users - self.users.len()) as u64;
        facilities + users + self.future_mandatory + self.heap.len() as u64
    }

    fn schedule(&mut self, due: u64, what: Due) {
        self.heap.push(Reverse((due, what)));
    }

    /// Facilities first, then staff joining over the first 90% of the history, with their
    /// activations, edits, logins and departures in between.
    fn main_history(&mut self) -> Result<()> {
        let total = self.main_events;
        let f_count = self.spec.facilities as u64;
        let u_count = self.spec.users as u64;
        let create_window = (total.saturating_sub(f_count) * 9 / 10).max(1);
        while self.chain.appended < total {
            self.tick();
            let done = self.chain.appended;
            if (self.facilities_added as u64) < f_count {
                self.create_facility()?;
                continue;
            }
            let created = self.users.len() as u64;
            let remaining = total - done;
            let mandatory = self.mandatory();
            let create_due = created < u_count
                && u128::from(done - f_count) * u128::from(u_count)
                    >= u128::from(created) * u128::from(create_window);
            let forced = remaining <= mandatory;
            if created < u_count && (create_due || forced) && remaining >= 2 {
                self.create_user()?;
            } else if let Some(Reverse((due, what))) = self.heap.peek().copied()
                && (due <= done || forced)
            {
                self.heap.pop();
                self.run_due(what)?;
            } else {
                let room = remaining > mandatory + 2;
                self.filler(room)?;
            }
        }
        Ok(())
    }

    fn run_due(&mut self, what: Due) -> Result<()> {
        match what {
            Due::Activate(i) => self.activate(i),
            Due::Deactivate(i) => self.depart(i),
            Due::Reactivate(i) => self.reactivate(i),
            Due::Resend(i) => self.resend_late(i),
        }
    }

    /// A random action: mostly logins, then edits, access changes, refusals and the rest.
    fn filler(&mut self, room: bool) -> Result<()> {
        if self.users.is_empty() {
            return self.anonymous_failure();
        }
        let i = self.dice.index(self.users.len());
        let done = match self.dice.below(10_000) {
            0..4_400 => false,
            4_400..4_600 => return self.anonymous_failure(),
            4_600..7_400 => self.update(i)?,
            7_400..8_200 => self.access_change(i)?,
            8_200..8_300 => self.rejection(i)?,
            8_300..8_400 => self.facility_update()?,
            8_400..8_460 if room => self.leave(i)?,
            8_460..8_466 => self.export_event()?,
            8_466..8_700 => self.resend(i)?,
            _ => false,
        };
        if done { Ok(()) } else { self.login(i) }
    }

    /// Lockouts in the last minutes: each of `spec.lockouts` active staff members mistypes
    /// their password until the account locks.
    fn lockouts(&mut self) -> Result<()> {
        let per_lock = u64::from(self.policy.lockout_threshold) + 1;
        let mut candidates: Vec<usize> = (0..self.users.len())
            .filter(|&i| {
                self.users[i].status == UserStatus::Active
                    && self.meta[i].kind != Kind::Admin
                    && self.users[i].activated_at.is_some()
            })
            .collect();
        let span = self.clock.end - self.clock.main_end;
        let steps = (self.events - self.main_events).max(1);
        let mut step = 0;
        while self.chain.appended + per_lock <= self.events && !candidates.is_empty() {
            let pick = self.dice.index(candidates.len());
            let i = candidates.swap_remove(pick);
            for _ in 0..self.policy.lockout_threshold {
                step += 1;
                self.clock.now = self.clock.main_end + span * step as i64 / steps as i64;
                self.failed_login(i)?;
            }
            step += 1;
            let now = self.at();
            if let Some(u) = self.users.get(i)
                && self.failures[i].locked_until.is_some_and(|t| t > now)
            {
                self.locked.push(u.id);
            }
        }
        // Nobody could be locked out: the budget goes to logins instead.
        while self.chain.appended < self.events {
            step += 1;
            self.clock.now = self.clock.main_end + span * step.min(steps) as i64 / steps as i64;
            let i = self.dice.index(self.users.len());
            if self.users.is_empty() {
                self.anonymous_failure()?;
            } else {
                self.login(i)?;
            }
        }
        Ok(())
    }

    /// Ends the simulation: the records and meta entries to write.
    pub(super) fn finish(self) -> Result<Written> {
        records::write(self)
    }
}

/// The audit head `init` left.
fn read_head(store: &Store) -> Result<(u64, [u8; 32])> {
    let Some(raw) = store.get_raw(TreeId::Meta, meta::AUDIT_HEAD)? else {
        return Err(Error::NotFound(
            "the store has no audit head; initialise it first".into(),
        ));
    };
    let seq = key_id(&raw);
    let hash: Option<[u8; 32]> = raw.get(8..40).and_then(|h| h.try_into().ok());
    match (seq, hash) {
        (Some(s), Some(h)) => Ok((s, h)),
        _ => Err(Error::Integrity("meta/audit_head is unreadable".into())),
    }
}

/// Changes of `old` into `new` as the service records them.
fn changes<T: serde::Serialize>(old: &T, new: &T) -> Vec<Change> {
    diff(Some(old), Some(new))
}
