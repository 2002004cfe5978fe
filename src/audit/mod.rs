//! The tamper-evident audit log: event records, the SHA-256 hash chain, and exporters.
//!
//! Events are written by the service in the same transaction as the change they describe; this
//! module never touches the store. Events are never deleted.

pub mod event;
pub mod export;

pub use event::{Actor, AuditEvent, Change, EventDraft, Origin, Outcome, Target, ZERO_HASH};
