//! The one API every front end uses. Each mutation authorises the operator, validates, writes
//! the record, its indexes and its audit event in one store transaction, flushes, and returns.
//! Refused attempts are audited too. Front ends never write the store directly and never repeat
//! a rule enforced here.

mod access;
pub mod api;
mod audit_ops;
mod auth;
mod authority;
pub mod backup;
pub mod calls;
mod check;
pub mod clock;
mod device;
pub mod diff;
mod facility;
mod fields;
mod history;
pub mod import;
mod invite;
pub mod mail;
mod names;
mod practice;
mod resolve;
mod role;
mod user;
pub mod user_field;
pub mod user_view;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;

/// Re-exported so front ends need nothing from the store or audit layers to open and export.
pub use crate::audit::Origin;
pub use crate::audit::export::Format as ExportFormat;
pub use crate::store::OpenOptions;
pub use api::*;
pub use auth::InitRequest;
/// The permission a request needs beyond being an operator (front ends offer only what the
/// operator may do).
pub use authority::required as required_permission;
pub use calls::{Bound, Call, Calls};
pub use clock::LocalTime;
pub use mail::MailSetting;
pub use user::label;

use crate::audit::{Actor, AuditEvent, Change, EventDraft, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::{Id, User, UserStatus};
pub(crate) use crate::store::audit_log::{append_draft as append_event, decode_head};
use crate::store::{Store, TreeId, id_key};

/// The store reports a damaged record; front ends hear of it in the service's words.
impl From<crate::store::CorruptRecord> for UnreadableRecord {
    fn from(c: crate::store::CorruptRecord) -> Self {
        Self {
            tree: c.tree,
            key: c.key,
            problem: c.problem,
        }
    }
}

/// An authenticated user, as returned by [`Service::login`]. Only the service creates one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    user_id: Id,
    label: String,
    origin: Origin,
}

impl Session {
    /// The authenticated user's id.
    pub fn user_id(&self) -> Id {
        self.user_id
    }

    /// The username or email the user logged in with.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Where the session comes from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// A session handle for a connection to `staffctl serve`. The server never trusts it: the
    /// connection carries the real session; this only lets front ends share one code path.
    pub(crate) fn remote(user_id: Id, label: String, origin: Origin) -> Self {
        Self {
            user_id,
            label,
            origin,
        }
    }

    fn actor(&self) -> Actor {
        Actor::User {
            id: self.user_id,
            label: self.label.clone(),
        }
    }
}

/// The service over one open store.
pub struct Service {
    store: Store,
    /// Serialises mutations, so checks made by scanning (who uses this role?) still hold when
    /// the transaction commits.
    write_lock: Mutex<()>,
    /// The server owner's mail command (never set by a request).
    mail: MailSetting,
    /// The time operations happen at, in microseconds since the epoch, when pinned
    /// ([`Service::pin_clock`]); [`NOT_PINNED`] otherwise.
    pinned_clock: AtomicI64,
}

/// `Service::pinned_clock` when the system clock is used.
const NOT_PINNED: i64 = i64::MIN;

/// Context of one mutation: who, from where, when.
pub(crate) struct Op<'a> {
    svc: &'a Service,
    actor: Actor,
    origin: Origin,
    now: Timestamp,
    operator: User,
    /// What the operator's role lets them do.
    permissions: std::collections::BTreeSet<String>,
}

/// The operator of a session: their record and what their role lets them do.
struct Operator {
    user: User,
    role: String,
    permissions: std::collections::BTreeSet<String>,
}

impl Op<'_> {
    fn draft(&self, action: &str, target: Target, changes: Vec<Change>) -> EventDraft {
        EventDraft {
            at: self.now,
            actor: self.actor.clone(),
            origin: self.origin.clone(),
            action: action.to_string(),
            target: Some(target),
            changes,
            outcome: Outcome::Success,
        }
    }
}

impl Service {
    /// Opens the store in `dir` (creating it when missing).
    pub fn open(dir: &Path, opts: &OpenOptions) -> Result<Self> {
        Ok(Self {
            store: Store::open(dir, opts)?,
            write_lock: Mutex::new(()),
            mail: MailSetting::from_environment(),
            pinned_clock: AtomicI64::new(NOT_PINNED),
        })
    }

    /// Uses `mail` instead of the mail command of this process's configuration (for programs
    /// that embed the service, and tests).
    pub fn with_mail(mut self, mail: MailSetting) -> Self {
        self.mail = mail;
        self
    }

    /// The mail command in effect and where it comes from.
    pub fn mail_setting(&self) -> &MailSetting {
        &self.mail
    }

    /// The practice's way of showing times (UTC before `init`).
    pub fn local_time(&self) -> LocalTime {
        match practice::show(self) {
            Ok(p) => LocalTime::of(&p),
            Err(_) => LocalTime::utc(),
        }
    }

    /// `t` as the practice reads it, to the minute with the zone.
    pub(crate) fn clock_text(&self, t: Timestamp) -> String {
        self.local_time().minute(t)
    }

    /// The time operations happen at: the system clock, unless pinned.
    pub(crate) fn now(&self) -> Timestamp {
        match self.pinned_clock.load(Ordering::Relaxed) {
            NOT_PINNED => Timestamp::now(),
            micros => Timestamp::from_microsecond(micros).unwrap_or_else(|_| Timestamp::now()),
        }
    }

    /// The service's clock: makes every following operation happen at `at` (`None`: the
    /// system clock again). Sample practices (the demo, benchmark fixtures) use it to write a
    /// history that lies in the past in time order, and tests to reach an expiry or a window
    /// without waiting; no command calls it.
    pub fn pin_clock(&self, at: Option<Timestamp>) {
        let micros = at.map_or(NOT_PINNED, |t| t.as_microsecond());
        self.pinned_clock.store(micros, Ordering::Relaxed);
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.store.dir()
    }

    /// Forces everything written so far to disk (every mutation already does this before it
    /// returns; this is for emergency shutdown paths).
    pub fn flush(&self) -> Result<()> {
        self.store.flush()
    }

    /// Whether `init` has run.
    pub fn is_initialised(&self) -> Result<bool> {
        self.store.is_initialised()
    }

    /// The underlying store, for benchmark generators and integrity tests only.
    #[doc(hidden)]
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn lock_writes(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while holding the lock cannot leave the store half-written (sled transactions
        // are atomic), so a poisoned lock is safe to take over.
        self.write_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs one request for an authenticated session.
    pub fn call(&self, session: &Session, request: Request) -> Result<Response> {
        let action = request.action();
        let _guard = action.map(|_| self.lock_writes());
        let result = self.operator(session).and_then(|operator| {
            authority::check(
                &session.label,
                &operator.role,
                &operator.permissions,
                &request,
            )?;
            self.dispatch(session, operator, request.clone())
        });
        if let (Some(action), Err(e)) = (action, &result) {
            self.record_refusal(
                session.actor(),
                &session.origin,
                action,
                request.target_hint(),
                e,
            )?;
        }
        result
    }

    /// Loads the session's user and what their role lets them do; refuses inactive accounts.
    fn operator(&self, session: &Session) -> Result<Operator> {
        let user: User = self
            .store
            .get(TreeId::Users, &id_key(session.user_id))?
            .ok_or_else(|| Error::Denied("your account no longer exists; log in again".into()))?;
        if user.status != UserStatus::Active {
            return Err(Error::Denied(format!(
                "account {} is {}; only active staff may operate staffctl",
                session.label,
                user.status.as_str()
            )));
        }
        let role: Option<crate::model::Role> =
            self.store.get(TreeId::Roles, &id_key(user.role_id))?;
        let permissions = authority::effective(role.as_ref(), &user);
        Ok(Operator {
            role: role.map_or_else(|| format!("#{}", user.role_id), |r| r.name),
            user,
            permissions,
        })
    }

    fn dispatch(
        &self,
        session: &Session,
        operator: Operator,
        request: Request,
    ) -> Result<Response> {
        let role = operator.role.clone();
        let op = Op {
            svc: self,
            actor: session.actor(),
            origin: session.origin.clone(),
            now: self.now(),
            operator: operator.user,
            permissions: operator.permissions,
        };
        use Request as R;
        match request {
            R::WhoAmI => Ok(Response::Operator(OperatorView {
                id: op.operator.id,
                login: session.label.clone(),
                name: op.operator.full_name(),
                role,
                permissions: op.permissions.iter().cloned().collect(),
                time_zone: self.local_time().name().to_string(),
            })),
            R::PracticeShow => practice::view(self).map(|v| Response::Practice(Box::new(v))),
            R::PracticeEdit(fields) => practice::edit(&op, fields)
                .and_then(|_| practice::view(self))
                .map(|v| Response::Practice(Box::new(v))),
            R::FacilityList { include_archived } => {
                facility::list(self, include_archived).map(Response::Facilities)
            }
            R::FacilityShow(r) => facility::show(self, &r).map(Response::Facility),
            R::FacilityAdd(fields) => facility::add(&op, fields).map(Response::Facility),
            R::FacilityEdit(r, fields) => facility::edit(&op, &r, fields).map(Response::Facility),
            R::FacilityArchive(r) => facility::set_archived(&op, &r, true).map(Response::Facility),
            R::FacilityRestore(r) => facility::set_archived(&op, &r, false).map(Response::Facility),
            R::RoleList => role::list(self).map(Response::Roles),
            R::RoleShow(r) => role::show(self, &r).map(Response::Role),
            R::RoleAdd {
                name,
                description,
                permissions,
            } => role::add(&op, name, description, permissions).map(Response::Role),
            R::RoleEdit {
                role: r,
                rename,
                description,
                grant,
                revoke,
            } => role::edit(&op, &r, rename, description, grant, revoke).map(Response::Role),
            R::RoleDelete(r) => role::delete(&op, &r).map(|(id, name)| Response::Deleted(id, name)),
            R::PermissionList => Ok(Response::Permissions(role::permissions())),
            R::UserList(filter) => user::list(self, &filter).map(Response::Users),
            R::UserShow(r) => user::show(self, &r).map(|d| Response::User(Box::new(d))),
            R::UserAdd(fields) => user::add(&op, fields).map(|d| Response::User(Box::new(d))),
            R::UserEdit(r, fields) => {
                user::edit(&op, &r, fields).map(|d| Response::User(Box::new(d)))
            }
            R::UserDeactivate { user: r, reason } => {
                user::deactivate(&op, &r, &reason).map(|d| Response::User(Box::new(d)))
            }
            R::UserReactivate(r) => user::reactivate(&op, &r).map(|d| Response::User(Box::new(d))),
            R::UserDelete(r) => user::delete(&op, &r).map(|(id, name)| Response::Deleted(id, name)),
            R::UserUnlock(r) => user::unlock(&op, &r).map(|d| Response::User(Box::new(d))),
            R::InviteList => invite::list(self).map(Response::Invites),
            R::InviteResend(r) => invite::resend(&op, &r).map(|d| Response::User(Box::new(d))),
            R::InviteRevoke(r) => invite::revoke(&op, &r).map(|d| Response::User(Box::new(d))),
            R::DeviceList => device::list(self).map(Response::Devices),
            R::DeviceApprove(id) => {
                device::decide(&op, id, crate::model::DeviceStatus::Approved).map(Response::Device)
            }
            R::DeviceDecline(id) | R::DeviceRevoke(id) => {
                device::decide(&op, id, crate::model::DeviceStatus::Declined).map(Response::Device)
            }
            R::AccessShow(r) => access::show(self, &r).map(Response::Access),
            R::AccessGrant {
                user: u,
                facilities,
            } => access::grant(&op, &u, &facilities).map(Response::Access),
            R::AccessRevoke {
                user: u,
                facilities,
            } => access::revoke(&op, &u, &facilities).map(Response::Access),
            R::AccessAll(u) => access::all(&op, &u).map(Response::Access),
            R::AccessOnly {
                user: u,
                facilities,
            } => access::only(&op, &u, &facilities).map(Response::Access),
            R::AuditList(q) => audit_ops::list(self, &q).map(Response::Audit),
            R::AuditVerify { expect } => {
                audit_ops::verify(self, expect.as_deref()).map(Response::Verify)
            }
            R::AuditHead => audit_ops::head(self).map(Response::Head),
            R::AuditQuarantine => audit_ops::quarantine(self).map(Response::Quarantine),
            R::ImportPreview { file_name, content } => import::preview(&op, &file_name, &content.0)
                .map(|r| Response::ImportPreview(Box::new(r))),
            R::ImportCommit {
                file_name,
                content,
                invite,
            } => import::commit(&op, &file_name, &content.0, invite)
                .map(|r| Response::ImportCommit(Box::new(r))),
            R::Expect { revision, request } => {
                if matches!(*request, R::Expect { .. }) {
                    return Err(Error::invalid(
                        "revision",
                        "a revision check wraps one request, not another revision check",
                    ));
                }
                self.check_revision(&request, revision)?;
                let operator = Operator {
                    user: op.operator,
                    role,
                    permissions: op.permissions,
                };
                self.dispatch(session, operator, *request)
            }
        }
    }

    /// Refuses with "changed by X at T" when the target of `request` is no longer at `revision`.
    fn check_revision(&self, request: &Request, revision: u64) -> Result<()> {
        let Some((kind, reference)) = request.target_hint() else {
            return Err(Error::invalid(
                "revision",
                "this request has no record to check a revision against",
            ));
        };
        let (id, label, current) = match kind {
            "user" => resolve::user(self, &reference).map(|u| (u.id, u.full_name(), u.revision))?,
            "role" => resolve::role(self, &reference).map(|r| (r.id, r.name, r.revision))?,
            "facility" => {
                resolve::facility(self, &reference).map(|f| (f.id, f.name, f.revision))?
            }
            "practice" => practice::show(self).map(|p| (0, p.name, p.revision))?,
            other => {
                return Err(Error::invalid(
                    "revision",
                    format!("records of kind {other} have no revision"),
                ));
            }
        };
        if current == revision {
            return Ok(());
        }
        let last = history::of(self, kind, id)?
            .into_iter()
            .rev()
            .find(|h| h.outcome == "success" && !h.action.starts_with("auth."));
        let by = last.map_or_else(
            || "someone".to_string(),
            |h| format!("{} at {}", h.actor, self.clock_text(h.time)),
        );
        Err(Error::Conflict(format!(
            "{kind} {label} was changed by {by} after you opened it; reload to see the change, then make yours again"
        )))
    }

    /// Records a refused mutation in its own transaction.
    fn record_refusal(
        &self,
        actor: Actor,
        origin: &Origin,
        action: &str,
        target: Option<(&'static str, String)>,
        error: &Error,
    ) -> Result<()> {
        let outcome = match error {
            Error::Denied(m) => Outcome::Denied(m.clone()),
            Error::Storage(_)
            | Error::Busy(_)
            | Error::Terminal(_)
            | Error::Connection(_)
            | Error::Internal(_) => return Ok(()),
            other => Outcome::Rejected(other.to_string()),
        };
        let creating = action.ends_with(".create");
        let target = target.map(|(kind, label)| {
            // A refused create has no record yet; anything else names the record it aimed at.
            let id = if creating {
                0
            } else {
                self.target_id(kind, &label)
            };
            Target::new(kind, id, label)
        });
        let draft = EventDraft {
            at: self.now(),
            actor,
            origin: origin.clone(),
            action: action.to_string(),
            target,
            changes: Vec::new(),
            outcome,
        };
        self.store
            .transact(|tx| append_event(tx, &draft).map(|_| ()))
    }

    /// Best-effort id of a refused action's target, so it shows in that record's history.
    fn target_id(&self, kind: &str, reference: &str) -> Id {
        let found = match kind {
            "user" => resolve::user(self, reference).map(|u| u.id),
            "role" => resolve::role(self, reference).map(|r| r.id),
            "facility" => resolve::facility(self, reference).map(|f| f.id),
            _ => return 0,
        };
        found.unwrap_or(0)
    }

    /// Streams audit events matching `query` to `out` (oldest first) and audits the export.
    /// Returns the number of events written.
    pub fn audit_export(
        &self,
        session: &Session,
        query: &AuditQuery,
        format: crate::audit::export::Format,
        out: &mut dyn std::io::Write,
    ) -> Result<u64> {
        let allowed = self
            .operator(session)
            .and_then(|o| authority::check_export(&session.label, &o.role, &o.permissions));
        if let Err(e) = allowed {
            self.record_refusal(session.actor(), &session.origin, "audit.export", None, &e)?;
            return Err(e);
        }
        audit_ops::export(self, session, query, format, out)
    }

    /// Lets a login check (or an export) answer although its audit event (or its effect on the
    /// account: last login, failed-attempt count) could not be saved, on a full disk or a store
    /// that refuses changes: refusing every login would stop the practice's other programs, and
    /// the answer itself depends only on what is stored. `what` says who did what and how it
    /// went; it goes to the notice log with the reason. Other errors pass through.
    fn answer_unaudited(&self, what: &str, saved: Result<()>) -> Result<()> {
        match saved {
            Err(e @ (Error::Storage(_) | Error::Integrity(_))) => {
                crate::notice::emit(&format!(
                    "{what}, but the audit log could not record it: {e}"
                ));
                Ok(())
            }
            other => other,
        }
    }

    /// Appends an event outside any other change (login results, exports).
    pub(crate) fn record(&self, draft: EventDraft) -> Result<AuditEvent> {
        self.store.transact(|tx| append_event(tx, &draft))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_clock_dates_every_operation_until_it_is_released() {
        let tmp = tempfile::tempdir().unwrap();
        let svc = Service::open(tmp.path(), &OpenOptions::default()).unwrap();
        let past = Timestamp::from_second(1_700_000_000).unwrap();
        svc.pin_clock(Some(past));
        let session = svc
            .init(
                &InitRequest {
                    practice_name: "Clock Clinic".into(),
                    practice_email: "office@clock.example".into(),
                    facility: "Main".into(),
                    admin_username: "admin".into(),
                    admin_email: "it@clock.example".into(),
                    admin_first: "Ada".into(),
                    admin_last: "Admin".into(),
                    admin_password: "correct horse battery staple".into(),
                },
                &Origin::default(),
            )
            .unwrap();
        let later = past
            .checked_add(jiff::SignedDuration::from_hours(30))
            .unwrap();
        svc.pin_clock(Some(later));
        svc.call(
            &session,
            Request::FacilityAdd(vec![(FacilityField::Name, "Annex".into())]),
        )
        .unwrap();
        svc.pin_clock(None);
        let refused = svc.call(
            &session,
            Request::FacilityAdd(vec![(FacilityField::Name, "annex".into())]),
        );
        assert!(refused.is_err());
        let times: Vec<Timestamp> = crate::store::audit_log::chunks(&svc.store, 100, false)
            .flat_map(|c| crate::store::audit_log::decode(&c.unwrap().1).unwrap())
            .map(|e| e.at())
            .collect();
        let (last, pinned) = times.split_last().unwrap();
        assert!(
            pinned[..pinned.len() - 1].iter().all(|t| *t == past),
            "{times:?}"
        );
        assert_eq!(pinned[pinned.len() - 1], later);
        assert!(*last > later, "the refusal is dated by the system clock");
    }
}
