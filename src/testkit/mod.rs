//! Generated practices for benchmarks, examples and tests (the `testkit` cargo feature, which
//! the examples, benchmarks and tests turn on; the `staffctl` binary does not include it, and
//! `staffctl demo` has its own small generator that goes through the service).
//!
//! [`generate`] turns an empty store into a practice whose history spans [`Spec::span_days`]
//! and ends at [`Spec::end`] (now, by default). The practice is initialised through the
//! service, dated at the start of the history; then facilities join, staff are invited (most
//! activate within days, a few never do), log in, mistype passwords, are edited, moved, given
//! access, go on leave and leave, and the last minutes lock a few accounts out. The events are
//! sealed in memory with the field changes the service records ([`diff`](crate::service::diff))
//! and written in bulk with the primary records (facilities, users, credentials,
//! invitations), on two writer threads; then the store derives every index
//! ([`Store::rebuild_indexes`](crate::store::Store::rebuild_indexes)), and the id counters and
//! the audit head are written last. 100,000 users and 1,000,000 events take about 13 s on two
//! cores.
//!
//! The result is meant to be what the service would have stored: every record has its
//! `*.create` event and every change an event, the chain continues `init`'s, event times never
//! decrease and none lies after the end. What is simplified: activated staff share one password
//! ([`Spec::staff_password`]) and the invitations one code hash (of a code nobody knows), and no
//! devices are generated. Generate into a store nothing else uses: an interrupted generation
//! leaves a partial store.

mod chain;
mod dice;
mod history;
mod vocab;

use std::sync::mpsc;

use jiff::{SignedDuration, Timestamp};

use crate::audit::Origin;
use crate::error::{Error, Result};
use crate::model::Id;
use crate::security::{code, password};
use crate::service::{AuditHead, InitRequest, Service, Session};
use crate::store::TreeId;
use chain::{Job, Sink, write_jobs};

/// Password of every generated staff member who activated, when [`Spec::staff_password`] is
/// left at its default. Generated stores are fixtures: never use one for a real practice.
pub const DEFAULT_STAFF_PASSWORD: &str = "generated staff fixture passphrase";

/// What to generate.
#[derive(Clone, PartialEq, Eq)]
pub struct Spec {
    /// Facilities to add besides `init`'s (default 20).
    pub facilities: usize,
    /// Users to add besides `init`'s administrator (default 100,000).
    pub users: usize,
    /// Audit events to append after `init`'s (default 1,000,000). A smaller number is raised
    /// to what the creations, activations, departures and lockouts need.
    pub events: u64,
    /// Seed of the random choices: the same seed and end give the same records and events
    /// (only the salted password and code hashes differ).
    pub seed: u64,
    /// Days the history spans, ending at `end` (default 365).
    pub span_days: u32,
    /// When the history ends; `None` is the moment of generation.
    pub end: Option<Timestamp>,
    /// Accounts locked out by failed logins in the last minutes (default 3), when there are
    /// active staff to lock.
    pub lockouts: usize,
    /// Password hashed once and stored for every generated user who activated; `None` stores
    /// none (their logins in the history then could not have happened).
    pub staff_password: Option<String>,
    /// Records per write batch (default 20,000).
    pub batch: usize,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("facilities", &self.facilities)
            .field("users", &self.users)
            .field("events", &self.events)
            .field("seed", &self.seed)
            .field("span_days", &self.span_days)
            .field("end", &self.end)
            .field("lockouts", &self.lockouts)
            .field(
                "staff_password",
                &self.staff_password.as_ref().map(|_| "[redacted]"),
            )
            .field("batch", &self.batch)
            .finish()
    }
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            facilities: 20,
            users: 100_000,
            events: 1_000_000,
            seed: 0x5eed_c111,
            span_days: 365,
            end: None,
            lockouts: 3,
            staff_password: Some(DEFAULT_STAFF_PASSWORD.to_string()),
            batch: 20_000,
        }
    }
}

/// What [`generate`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The administrator `init` created, logged in.
    pub session: Session,
    /// Facilities added.
    pub facilities: usize,
    /// Users added.
    pub users: usize,
    /// Audit events appended after `init`'s.
    pub events: u64,
    /// The audit head.
    pub head: AuditHead,
    /// When the history starts (`init`) and ends.
    pub span: (Timestamp, Timestamp),
    /// Users who ended deactivated.
    pub deactivated: Vec<Id>,
    /// Users locked out at the end.
    pub locked: Vec<Id>,
}

/// Releases a pinned service clock however generation ends.
struct Unpin<'a>(&'a Service);

impl Drop for Unpin<'_> {
    fn drop(&mut self) {
        self.0.pin_clock(None);
    }
}

/// Where `init` is run from in a generated history.
fn setup_origin() -> Origin {
    Origin {
        os_user: "admin".into(),
        pid: 1000,
        ssh_client: None,
        tty: Some("/dev/pts/0".into()),
    }
}

/// Initialises the empty store of `svc` with `init`, dated at the start of the history, and
/// generates the practice described by `spec`.
pub fn generate(svc: &Service, init: &InitRequest, spec: &Spec) -> Result<Generated> {
    let store = svc.store();
    if store.is_initialised()? {
        return Err(Error::Conflict(format!(
            "the store in {} is already initialised; generate into an empty directory",
            store.dir().display()
        )));
    }
    if spec.span_days == 0 || spec.span_days > 36_500 {
        return Err(Error::invalid(
            "span_days",
            "the generated history must span 1 to 36,500 days",
        ));
    }
    let end = spec.end.unwrap_or_else(Timestamp::now);
    let start = end
        .checked_sub(SignedDuration::from_hours(24 * i64::from(spec.span_days)))
        .map_err(|_| {
            Error::invalid(
                "span_days",
                format!("a history of {} days cannot end at {end}", spec.span_days),
            )
        })?;
    let session = {
        let _unpin = Unpin(svc);
        svc.pin_clock(Some(start));
        svc.init(init, &setup_origin())?
    };
    let code_hash = password::hash_code(&code::normalise(&code::generate()?));
    // The simulation (drafting, sealing, encoding) runs here; sled inserts run on two writer
    // threads, one for the audit tree and one for everything else, so a 2-core machine keeps
    // both cores busy.
    let written = std::thread::scope(|scope| {
        let (audit_tx, audit_rx) = mpsc::sync_channel::<Job>(2);
        let (other_tx, other_rx) = mpsc::sync_channel::<Job>(2);
        let writers = [
            scope.spawn(move || write_jobs(store, audit_rx)),
            scope.spawn(move || write_jobs(store, other_rx)),
        ];
        let sink = Sink {
            audit: audit_tx,
            other: other_tx,
        };
        let generated =
            history::Gen::load(store, spec, sink, start, end, code_hash).and_then(|mut g| {
                g.run()?;
                g.finish()
            });
        // The senders are gone with the generator: the writers drain their queues and stop.
        let mut written = Ok(());
        for w in writers {
            let outcome = w
                .join()
                .unwrap_or_else(|_| Err(Error::Storage("a bulk writer thread panicked".into())));
            written = written.and(outcome);
        }
        // A writer's own error explains a failed send better than the send does.
        written.and(generated)
    })?;
    let report = store.rebuild_indexes()?;
    if !report.problems.is_empty() {
        return Err(Error::Integrity(format!(
            "the generated records are inconsistent: {}",
            report.problems.join("; ")
        )));
    }
    // Counters and the head last, atomically, once everything they describe is written.
    store.batch_put(TreeId::Meta, written.meta)?;
    store.flush()?;
    Ok(Generated {
        session,
        facilities: written.facilities,
        users: written.users,
        events: written.events,
        head: AuditHead {
            seq: written.head.0,
            hash: hex::encode(written.head.1),
        },
        span: (start, end),
        deactivated: written.deactivated,
        locked: written.locked,
    })
}

#[cfg(test)]
mod tests;
