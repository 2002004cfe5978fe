//! Operational notices: something went wrong that did not stop the operation (a login answered
//! although its audit event could not be written, the store reopened after a write failure),
//! and the person running staffctl should hear about it.
//!
//! The library never prints. A front end installs a sink with [`set_sink`] (the command line
//! writes to standard error, `staffctl serve` to its log, the interface keeps its screen
//! clean); until one is installed, notices go to standard error. Every notice is sanitised
//! before it reaches a sink.

use std::sync::RwLock;

/// Where notices go.
pub type Sink = fn(&str);

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Sends every later notice to `sink`.
pub fn set_sink(sink: Sink) {
    *SINK
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sink);
}

/// Reports `message` (sanitised) to the installed sink, or standard error without one.
pub fn emit(message: &str) {
    let clean = crate::security::sanitize::for_terminal(message);
    let sink = *SINK
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match sink {
        Some(sink) => sink(&clean),
        None => eprintln!("staffctl: {clean}"),
    }
}

/// A sink that drops notices (the interface, whose terminal belongs to the screen).
pub fn discard(_: &str) {}

/// A sink that writes notices to the log (`staffctl serve`, whose log is the journal).
pub fn log(message: &str) {
    tracing::warn!("{message}");
}
