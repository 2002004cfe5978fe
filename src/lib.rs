//! staffctl: staff, role, facility and access management for small clinics, with a
//! tamper-evident audit log.
//!
//! Layers (see ARCHITECTURE.md): the front ends, `cli` (clap) and `tui` (ratatui), call only
//! `service`, in this process or through `remote` (the `staffctl serve` socket); `service` uses
//! `model`, `audit`, `security` and `store`; only `store` touches sled.

pub mod audit;
pub mod cli;
pub mod demo;
pub mod error;
pub mod model;
pub mod notice;
pub mod remote;
pub mod security;
pub mod service;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod tui;

pub use error::{Error, Result};
#[doc(hidden)]
pub mod fuzzing;
