//! Audit event records and the hash chain.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Id;

/// The `prev_hash` of the first event.
pub const ZERO_HASH: [u8; 32] = [0; 32];

/// Domain separator mixed into every event hash.
const HASH_DOMAIN: &[u8] = b"staffctl.audit.v1\0";

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    /// A staffctl user (an operator, or the user logging in).
    User {
        /// User id.
        id: Id,
        /// Username or email at the time.
        label: String,
    },
    /// staffctl itself (init, migrations, break-glass recovery).
    System,
    /// Someone who has not authenticated; `label` is what they typed as login.
    Anonymous {
        /// The login they tried.
        label: String,
    },
}

impl Actor {
    /// Text shown in lists and exports.
    pub fn label(&self) -> String {
        match self {
            Self::User { id, label } => format!("{label} (#{id})"),
            Self::System => "system".to_string(),
            Self::Anonymous { label } => format!("{label} (unauthenticated)"),
        }
    }

    /// The acting user's id, if any.
    pub fn user_id(&self) -> Option<Id> {
        match self {
            Self::User { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// Where the action came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// Operating-system account.
    pub os_user: String,
    /// Process id.
    pub pid: u32,
    /// Client address from `SSH_CLIENT`, when over SSH.
    pub ssh_client: Option<String>,
    /// Terminal device, when interactive.
    pub tty: Option<String>,
}

impl Origin {
    /// The origin of the current process.
    pub fn current() -> Self {
        let uid = nix::unistd::getuid();
        let os_user = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map_or_else(|| format!("uid {uid}"), |u| u.name);
        let ssh_client = std::env::var("SSH_CLIENT")
            .ok()
            .and_then(|v| v.split_whitespace().next().map(str::to_string));
        let tty = std::fs::read_link("/proc/self/fd/0")
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|p| p.starts_with("/dev/pts/") || p.starts_with("/dev/tty"));
        Self {
            os_user,
            pid: std::process::id(),
            ssh_client,
            tty,
        }
    }

    /// Where a person sits, without the process: `os_user ssh=ADDR tty=DEV`. Two commands
    /// typed at the same terminal have the same place.
    pub fn place(&self) -> String {
        let mut s = self.os_user.clone();
        if let Some(a) = &self.ssh_client {
            s.push_str(&format!(" ssh={a}"));
        }
        if let Some(t) = &self.tty {
            s.push_str(&format!(" tty={t}"));
        }
        s
    }

    /// One-line form: `os_user pid=N ssh=ADDR tty=DEV`.
    pub fn label(&self) -> String {
        let mut s = format!("{} pid={}", self.os_user, self.pid);
        if let Some(a) = &self.ssh_client {
            s.push_str(&format!(" ssh={a}"));
        }
        if let Some(t) = &self.tty {
            s.push_str(&format!(" tty={t}"));
        }
        s
    }
}

/// The record an action was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `user`, `role`, `facility`, `practice`, `audit`, ...
    pub kind: String,
    /// Record id (0 for singletons such as the practice).
    pub id: Id,
    /// Human label at the time (name, username).
    pub label: String,
}

impl Target {
    /// A target from its parts.
    pub fn new(kind: &str, id: Id, label: impl Into<String>) -> Self {
        Self {
            kind: kind.to_string(),
            id,
            label: label.into(),
        }
    }

    /// `kind:id`, the form `--target` takes.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind, self.id)
    }
}

/// One field's change. Secrets are recorded as `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Field name.
    pub field: String,
    /// Value before (`None`: did not exist).
    pub old: Option<String>,
    /// Value after (`None`: removed).
    pub new: Option<String>,
}

/// Placeholder written instead of any secret.
pub const REDACTED: &str = "[redacted]";

impl Change {
    /// A change from displayable values.
    pub fn new(field: &str, old: Option<String>, new: Option<String>) -> Self {
        Self {
            field: field.to_string(),
            old,
            new,
        }
    }

    /// A change to a secret: both sides redacted.
    pub fn secret(field: &str) -> Self {
        Self::new(field, Some(REDACTED.into()), Some(REDACTED.into()))
    }
}

/// Whether the action happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused for authentication or authorisation; the reason is for auditors only.
    Denied(String),
    /// Refused as invalid or conflicting.
    Rejected(String),
}

impl Outcome {
    /// `success`, `denied` or `rejected`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied(_) => "denied",
            Self::Rejected(_) => "rejected",
        }
    }

    /// The reason for a refusal (empty on success).
    pub fn reason(&self) -> &str {
        match self {
            Self::Success => "",
            Self::Denied(r) | Self::Rejected(r) => r,
        }
    }
}

/// An event before it is sealed into the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// From where.
    pub origin: Origin,
    /// What (`user.create`, `auth.login_failed`, ...).
    pub action: String,
    /// On what.
    pub target: Option<Target>,
    /// Field-level changes.
    pub changes: Vec<Change>,
    /// Result.
    pub outcome: Outcome,
}

/// A sealed audit event: its hash covers every other field including `prev_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// UTC time in microseconds since the Unix epoch.
    pub at_micros: i64,
    /// Who.
    pub actor: Actor,
    /// From where.
    pub origin: Origin,
    /// What.
    pub action: String,
    /// On what.
    pub target: Option<Target>,
    /// Field-level changes.
    pub changes: Vec<Change>,
    /// Result.
    pub outcome: Outcome,
    /// Hash of the previous event (zeros for the first).
    pub prev_hash: [u8; 32],
    /// SHA-256 over the domain tag and the canonical encoding of every field above.
    pub hash: [u8; 32],
}

/// The hashed part of an event, borrowed; its bincode encoding is the canonical form.
#[derive(Serialize)]
struct Canonical<'a> {
    seq: u64,
    at_micros: i64,
    actor: &'a Actor,
    origin: &'a Origin,
    action: &'a str,
    target: &'a Option<Target>,
    changes: &'a [Change],
    outcome: &'a Outcome,
    prev_hash: &'a [u8; 32],
}

impl AuditEvent {
    /// Seals a draft as event `seq` following `prev_hash`.
    pub fn seal(draft: EventDraft, seq: u64, prev_hash: [u8; 32]) -> Self {
        let at_micros = draft.at.as_microsecond();
        let mut event = Self {
            seq,
            at_micros,
            actor: draft.actor,
            origin: draft.origin,
            action: draft.action,
            target: draft.target,
            changes: draft.changes,
            outcome: draft.outcome,
            prev_hash,
            hash: ZERO_HASH,
        };
        event.hash = event.compute_hash();
        event
    }

    /// Recomputes the hash from the other fields.
    pub fn compute_hash(&self) -> [u8; 32] {
        let canonical = Canonical {
            seq: self.seq,
            at_micros: self.at_micros,
            actor: &self.actor,
            origin: &self.origin,
            action: &self.action,
            target: &self.target,
            changes: &self.changes,
            outcome: &self.outcome,
            prev_hash: &self.prev_hash,
        };
        let mut hasher = Sha256::new();
        hasher.update(HASH_DOMAIN);
        // Encoding plain data into a Vec cannot fail; an empty body would still be hashed.
        let body = bincode::serde::encode_to_vec(&canonical, bincode::config::standard())
            .unwrap_or_default();
        hasher.update(&body);
        hasher.finalize().into()
    }

    /// The event time.
    pub fn at(&self) -> Timestamp {
        Timestamp::from_microsecond(self.at_micros).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The hash as lowercase hex.
    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }
}

/// A borrowed view of an [`Actor`], with the same serde layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorView<'a> {
    /// See [`Actor::User`].
    User {
        /// User id.
        id: Id,
        /// Username or email at the time.
        label: &'a str,
    },
    /// See [`Actor::System`].
    System,
    /// See [`Actor::Anonymous`].
    Anonymous {
        /// The login they tried.
        label: &'a str,
    },
}

impl ActorView<'_> {
    /// The acting user's id, if any.
    pub fn user_id(&self) -> Option<Id> {
        match self {
            Self::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The owned actor.
    pub fn to_actor(&self) -> Actor {
        match *self {
            Self::User { id, label } => Actor::User {
                id,
                label: label.to_string(),
            },
            Self::System => Actor::System,
            Self::Anonymous { label } => Actor::Anonymous {
                label: label.to_string(),
            },
        }
    }
}

/// A borrowed view of an [`Origin`], with the same serde layout (and the same JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginView<'a> {
    /// Operating-system account.
    pub os_user: &'a str,
    /// Process id.
    pub pid: u32,
    /// Client address from `SSH_CLIENT`, when over SSH.
    #[serde(borrow)]
    pub ssh_client: Option<&'a str>,
    /// Terminal device, when interactive.
    #[serde(borrow)]
    pub tty: Option<&'a str>,
}

/// A borrowed view of a [`Target`], with the same serde layout (and the same JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetView<'a> {
    /// Record kind.
    pub kind: &'a str,
    /// Record id.
    pub id: Id,
    /// Human label at the time.
    pub label: &'a str,
}

/// A borrowed view of a [`Change`], with the same serde layout (and the same JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeView<'a> {
    /// Field name.
    pub field: &'a str,
    /// Value before.
    #[serde(borrow)]
    pub old: Option<&'a str>,
    /// Value after.
    #[serde(borrow)]
    pub new: Option<&'a str>,
}

/// A borrowed view of an [`Outcome`], with the same serde layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutcomeView<'a> {
    /// Done.
    Success,
    /// Refused for authentication or authorisation.
    Denied(&'a str),
    /// Refused as invalid or conflicting.
    Rejected(&'a str),
}

impl<'a> OutcomeView<'a> {
    /// `success`, `denied` or `rejected`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied(_) => "denied",
            Self::Rejected(_) => "rejected",
        }
    }

    /// The reason for a refusal (empty on success).
    pub fn reason(&self) -> &'a str {
        match *self {
            Self::Success => "",
            Self::Denied(r) | Self::Rejected(r) => r,
        }
    }
}

/// An [`AuditEvent`] whose strings borrow from somewhere else: from the stored bytes when
/// decoded with `store::codec::decode_borrowed` (no copy, no allocation per string), or from an
/// owned event ([`AuditEvent::view`]). Its serde layout is the event's, field for field, so it
/// decodes the same records and hashes to the same value. Readers that only look at events
/// (verification, exports) use it to avoid allocating every string of a million events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView<'a> {
    /// Position in the log.
    pub seq: u64,
    /// UTC time in microseconds since the Unix epoch.
    pub at_micros: i64,
    /// Who.
    #[serde(borrow)]
    pub actor: ActorView<'a>,
    /// From where.
    #[serde(borrow)]
    pub origin: OriginView<'a>,
    /// What.
    pub action: &'a str,
    /// On what.
    #[serde(borrow)]
    pub target: Option<TargetView<'a>>,
    /// Field-level changes.
    #[serde(borrow)]
    pub changes: Vec<ChangeView<'a>>,
    /// Result.
    #[serde(borrow)]
    pub outcome: OutcomeView<'a>,
    /// Hash of the previous event.
    pub prev_hash: [u8; 32],
    /// The stored hash.
    pub hash: [u8; 32],
}

/// [`Canonical`] over a view: the same fields, so the same bytes.
#[derive(Serialize)]
struct CanonicalView<'v, 'a> {
    seq: u64,
    at_micros: i64,
    actor: &'v ActorView<'a>,
    origin: &'v OriginView<'a>,
    action: &'a str,
    target: &'v Option<TargetView<'a>>,
    changes: &'v [ChangeView<'a>],
    outcome: &'v OutcomeView<'a>,
    prev_hash: &'v [u8; 32],
}

impl AuditEvent {
    /// A view borrowing this event's strings.
    pub fn view(&self) -> EventView<'_> {
        EventView {
            seq: self.seq,
            at_micros: self.at_micros,
            actor: match &self.actor {
                Actor::User { id, label } => ActorView::User { id: *id, label },
                Actor::System => ActorView::System,
                Actor::Anonymous { label } => ActorView::Anonymous { label },
            },
            origin: OriginView {
                os_user: &self.origin.os_user,
                pid: self.origin.pid,
                ssh_client: self.origin.ssh_client.as_deref(),
                tty: self.origin.tty.as_deref(),
            },
            action: &self.action,
            target: self.target.as_ref().map(|t| TargetView {
                kind: &t.kind,
                id: t.id,
                label: &t.label,
            }),
            changes: self
                .changes
                .iter()
                .map(|c| ChangeView {
                    field: &c.field,
                    old: c.old.as_deref(),
                    new: c.new.as_deref(),
                })
                .collect(),
            outcome: match &self.outcome {
                Outcome::Success => OutcomeView::Success,
                Outcome::Denied(r) => OutcomeView::Denied(r),
                Outcome::Rejected(r) => OutcomeView::Rejected(r),
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

impl EventView<'_> {
    /// The owned event (what decoding the same record as an [`AuditEvent`] gives).
    pub fn to_event(&self) -> AuditEvent {
        AuditEvent {
            seq: self.seq,
            at_micros: self.at_micros,
            actor: self.actor.to_actor(),
            origin: Origin {
                os_user: self.origin.os_user.to_string(),
                pid: self.origin.pid,
                ssh_client: self.origin.ssh_client.map(str::to_string),
                tty: self.origin.tty.map(str::to_string),
            },
            action: self.action.to_string(),
            target: self.target.map(|t| Target::new(t.kind, t.id, t.label)),
            changes: self
                .changes
                .iter()
                .map(|c| {
                    Change::new(
                        c.field,
                        c.old.map(str::to_string),
                        c.new.map(str::to_string),
                    )
                })
                .collect(),
            outcome: match self.outcome {
                OutcomeView::Success => Outcome::Success,
                OutcomeView::Denied(r) => Outcome::Denied(r.to_string()),
                OutcomeView::Rejected(r) => Outcome::Rejected(r.to_string()),
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }

    /// [`AuditEvent::compute_hash`] for the viewed event, encoding into `scratch` (reused
    /// between calls, so hashing a long log allocates nothing per event).
    pub fn compute_hash_with(&self, scratch: &mut Vec<u8>) -> [u8; 32] {
        let canonical = CanonicalView {
            seq: self.seq,
            at_micros: self.at_micros,
            actor: &self.actor,
            origin: &self.origin,
            action: self.action,
            target: &self.target,
            changes: &self.changes,
            outcome: &self.outcome,
            prev_hash: &self.prev_hash,
        };
        scratch.clear();
        // As in `compute_hash`: encoding plain data into a Vec cannot fail, and an empty body
        // would still be hashed.
        if bincode::serde::encode_into_std_write(&canonical, scratch, bincode::config::standard())
            .is_err()
        {
            scratch.clear();
        }
        let mut hasher = Sha256::new();
        hasher.update(HASH_DOMAIN);
        hasher.update(&scratch[..]);
        hasher.finalize().into()
    }

    /// The event time.
    pub fn at(&self) -> Timestamp {
        Timestamp::from_microsecond(self.at_micros).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// Checks events in sequence order, remembering where the chain breaks.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    expected_seq: u64,
    prev_hash: [u8; 32],
    /// Number of events checked.
    pub checked: u64,
    /// Encoding buffer reused by [`ChainVerifier::check_view`].
    scratch: Vec<u8>,
}

impl ChainVerifier {
    /// A verifier expecting event 1.
    pub fn new() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: ZERO_HASH,
            checked: 0,
            scratch: Vec::with_capacity(4096),
        }
    }

    /// Checks the next event; the error says what is wrong with it.
    pub fn check(&mut self, event: &AuditEvent) -> Result<(), String> {
        self.check_view(&event.view())
    }

    /// [`ChainVerifier::check`] for a borrowed view, without allocating.
    pub fn check_view(&mut self, event: &EventView<'_>) -> Result<(), String> {
        if event.seq != self.expected_seq {
            return Err(format!(
                "event #{} found where #{} was expected (an event is missing or was inserted)",
                event.seq, self.expected_seq
            ));
        }
        if event.prev_hash != self.prev_hash {
            return Err(format!(
                "event #{} does not link to the event before it (prev_hash mismatch)",
                event.seq
            ));
        }
        if event.compute_hash_with(&mut self.scratch) != event.hash {
            return Err(format!(
                "event #{} was altered after it was written (hash mismatch)",
                event.seq
            ));
        }
        self.prev_hash = event.hash;
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// The hash of the last good event.
    pub fn head_hash(&self) -> [u8; 32] {
        self.prev_hash
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn draft(action: &str) -> EventDraft {
        EventDraft {
            at: Timestamp::from_second(1_700_000_000).unwrap(),
            actor: Actor::System,
            origin: Origin::default(),
            action: action.into(),
            target: Some(Target::new("user", 7, "alice")),
            changes: vec![Change::new(
                "email",
                Some("a@x.co".into()),
                Some("b@x.co".into()),
            )],
            outcome: Outcome::Success,
        }
    }

    #[test]
    fn chain_verifies_and_detects_edits() {
        let e1 = AuditEvent::seal(draft("user.create"), 1, ZERO_HASH);
        let e2 = AuditEvent::seal(draft("user.update"), 2, e1.hash);
        let mut v = ChainVerifier::new();
        assert!(v.check(&e1).is_ok());
        assert!(v.check(&e2).is_ok());

        let mut edited = e2.clone();
        edited.changes[0].new = Some("evil@x.co".into());
        let mut v = ChainVerifier::new();
        v.check(&e1).unwrap();
        assert!(v.check(&edited).unwrap_err().contains("altered"));

        let mut v = ChainVerifier::new();
        assert!(v.check(&e2).unwrap_err().contains("#1 was expected"));
    }

    #[test]
    fn hash_is_deterministic() {
        let a = AuditEvent::seal(draft("x"), 1, ZERO_HASH);
        let b = AuditEvent::seal(draft("x"), 1, ZERO_HASH);
        assert_eq!(a.hash, b.hash);
        assert_ne!(a.hash, AuditEvent::seal(draft("y"), 1, ZERO_HASH).hash);
    }

    /// Events covering every variant and every optional field, for layout tests.
    pub(crate) fn varied_events() -> Vec<AuditEvent> {
        let actors = [
            Actor::User {
                id: 300,
                label: "zoë".into(),
            },
            Actor::System,
            Actor::Anonymous {
                label: "=cmd\u{1b}[2J".into(),
            },
        ];
        let outcomes = [
            Outcome::Success,
            Outcome::Denied("wrong password".into()),
            Outcome::Rejected("-already used, \"quoted\"\nnext line".into()),
        ];
        let mut out = Vec::new();
        let mut prev = ZERO_HASH;
        for (i, actor) in actors.iter().enumerate() {
            for (j, outcome) in outcomes.iter().enumerate() {
                let n = (i * 3 + j) as u64;
                let e = AuditEvent::seal(
                    EventDraft {
                        at: Timestamp::from_microsecond(1_700_000_000_123_456 + n as i64 * 977)
                            .unwrap(),
                        actor: actor.clone(),
                        origin: Origin {
                            os_user: "it\tops".into(),
                            pid: 70_000 + n as u32,
                            ssh_client: n.is_multiple_of(2).then(|| "10.0.0.7".into()),
                            tty: n.is_multiple_of(3).then(|| "/dev/pts/3".into()),
                        },
                        action: format!("user.update{n}"),
                        target: (n % 4 != 1).then(|| Target::new("user", 250 + n, "@alice")),
                        changes: (0..n)
                            .map(|k| {
                                Change::new(
                                    &format!("f{k}"),
                                    (k % 2 == 0).then(|| format!("old {k}")),
                                    (k % 3 != 0).then(|| "\u{202e}new".to_string()),
                                )
                            })
                            .collect(),
                        outcome: outcome.clone(),
                    },
                    n + 1,
                    prev,
                );
                prev = e.hash;
                out.push(e);
            }
        }
        out
    }

    #[test]
    fn views_decode_and_hash_like_events() {
        let mut scratch = Vec::new();
        let mut v = ChainVerifier::new();
        let mut w = ChainVerifier::new();
        for e in varied_events() {
            let bytes = crate::store::codec::encode(&e).unwrap();
            let view: EventView<'_> =
                crate::store::codec::decode_borrowed::<AuditEvent, _>(&bytes).unwrap();
            assert_eq!(view, e.view());
            assert_eq!(view.to_event(), e);
            assert_eq!(view.compute_hash_with(&mut scratch), e.compute_hash());
            assert_eq!(
                scratch,
                bincode::serde::encode_to_vec(
                    Canonical {
                        seq: e.seq,
                        at_micros: e.at_micros,
                        actor: &e.actor,
                        origin: &e.origin,
                        action: &e.action,
                        target: &e.target,
                        changes: &e.changes,
                        outcome: &e.outcome,
                        prev_hash: &e.prev_hash,
                    },
                    bincode::config::standard()
                )
                .unwrap()
            );
            v.check_view(&view).unwrap();
            w.check(&e).unwrap();
            // A tampered copy fails the view check as it fails the owned one, and changes nothing.
            let mut bad = view.clone();
            bad.action = "user.delete";
            let before = v.checked;
            let mut forged = e.clone();
            forged.action = "user.delete".into();
            let mut x = ChainVerifier::new();
            x.prev_hash = e.prev_hash;
            x.expected_seq = e.seq;
            assert_eq!(x.check_view(&bad), x.check(&forged));
            assert_eq!(v.checked, before);
        }
        assert_eq!(v.head_hash(), w.head_hash());
        // Other layout versions and damaged records are left to `decode`.
        let e = &varied_events()[4];
        let mut bytes = crate::store::codec::encode(e).unwrap();
        bytes.push(0);
        assert!(
            crate::store::codec::decode_borrowed::<AuditEvent, EventView<'_>>(&bytes).is_none()
        );
        bytes.pop();
        bytes[1] = 0;
        assert!(
            crate::store::codec::decode_borrowed::<AuditEvent, EventView<'_>>(&bytes).is_none()
        );
    }
}
