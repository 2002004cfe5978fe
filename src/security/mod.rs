//! Secrets and untrusted text: argon2id password hashing, the password policy, sanitising of
//! data strings before they reach a terminal or a spreadsheet, and private output files.

pub mod blocklist;
pub mod code;
pub mod files;
pub mod json;
pub mod password;
pub mod sanitize;
