//! The one error type every layer returns, and how it maps to exit codes.
//!
//! Each variant carries a message written for the person at the keyboard: it names the problem
//! and, where there is one, the fix. Errors are serialisable so that a remote front end receives
//! exactly what an in-process one would.

use serde::{Deserialize, Serialize};

/// A problem with one input field, shown beside that field in forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's stable name (`email`, `npi`, ...).
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl FieldError {
    /// A field error from anything printable.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every failure staffctl reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Error {
    /// One or more fields failed validation; nothing was written.
    #[error("{}", join_fields(.0))]
    Invalid(Vec<FieldError>),
    /// The change conflicts with existing data (duplicate name, record in use, ...).
    #[error("{0}")]
    Conflict(String),
    /// The referenced user, role, facility or event does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Authentication failed or the operator lacks the privilege.
    #[error("{0}")]
    Denied(String),
    /// Another process owns the store.
    #[error("{0}")]
    Busy(String),
    /// The audit chain or a stored record failed an integrity check.
    #[error("{0}")]
    Integrity(String),
    /// The store or the file system failed.
    #[error("{0}")]
    Storage(String),
    /// The terminal could not be set up, drawn on or read.
    #[error("{0}")]
    Terminal(String),
    /// The connection to `staffctl serve` (or its socket) failed.
    #[error("{0}")]
    Connection(String),
    /// Something that should not happen did (a bug, or the operating system refused something
    /// staffctl cannot do without).
    #[error("{0}")]
    Internal(String),
    /// The program was started the wrong way (e.g. the interface without a terminal).
    #[error("{0}")]
    Usage(String),
    /// The request waits for an administrator (a login from a device awaiting approval).
    #[error("{0}")]
    Pending(String),
}

fn join_fields(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| f.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    /// The process exit code for this error (see `ExitCode` docs in the README).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Invalid(_) | Self::Conflict(_) => exit::INVALID,
            Self::NotFound(_) => exit::NOT_FOUND,
            Self::Denied(_) => exit::DENIED,
            Self::Busy(_) => exit::BUSY,
            Self::Integrity(_) => exit::INTEGRITY,
            Self::Storage(_) | Self::Terminal(_) | Self::Connection(_) | Self::Internal(_) => {
                exit::FAILURE
            }
            Self::Usage(_) => exit::USAGE,
            Self::Pending(_) => exit::PENDING,
        }
    }

    /// The field errors, when this is a validation error.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Invalid(f) => f,
            _ => &[],
        }
    }
}

/// Process exit codes that scripts can rely on.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Store or I/O failure.
    pub const FAILURE: u8 = 1;
    /// Bad command line (unknown flag, missing argument).
    pub const USAGE: u8 = 2;
    /// Invalid input or a conflict with existing data.
    pub const INVALID: u8 = 3;
    /// The referenced record does not exist.
    pub const NOT_FOUND: u8 = 4;
    /// Authentication or permission refused.
    pub const DENIED: u8 = 5;
    /// Another process holds the store.
    pub const BUSY: u8 = 6;
    /// The audit chain or a record failed verification.
    pub const INTEGRITY: u8 = 7;
    /// Waiting for an administrator's approval (a new device).
    pub const PENDING: u8 = 8;
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Storage(format!("I/O error: {e}"))
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
