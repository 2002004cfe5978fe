//! The keyboard-driven terminal interface. It talks only to the service layer: every change
//! goes through `Service::call`, so the interface holds no business rule of its own.
//!
//! Shape (after ratatui's component pattern): a key becomes an [`action::Action`] through the
//! [`keymap`]; [`app::App::update`] changes state; [`ui::draw`] renders state. Screens are tested
//! by feeding actions and snapshotting a `TestBackend` buffer.

pub mod action;
pub mod app;
pub mod authority;
pub mod forms;
pub mod keymap;
pub mod messages;
pub mod screens;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod widgets;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event};

use crate::error::{Error, Result};
use crate::remote::backend::Backend;
use app::App;

/// Options for starting the interface.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    /// `default`, `vim` or a keymap file path (else the config file's choice).
    pub keymap: Option<String>,
    /// Log in automatically with these credentials (the demo).
    pub auto_login: Option<(String, String)>,
}

/// Loads the keymap named by the options or the config file, plus the user's overrides. Files
/// with problems are left out; the problems come back for the interface to show.
pub fn load_keymap(choice: Option<&str>) -> keymap::Startup {
    keymap::startup(choice)
}

/// How the interface ended, for what its caller does once the store is let go.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    /// Whether the store holds a practice (it did already, or the setup wizard created it).
    pub initialised: bool,
}

/// Runs the interface until the user quits or a termination signal arrives.
pub fn run(backend: Arc<Backend>, opts: &TuiOptions) -> Result<()> {
    run_then(backend, opts, |_| {})
}

/// Like [`run`]; `after` runs once the interface has dropped its hold on the store (also when a
/// termination signal ends it), told whether the store holds a practice.
pub fn run_then(backend: Arc<Backend>, opts: &TuiOptions, after: impl FnOnce(Ended)) -> Result<()> {
    let loaded = load_keymap(opts.keymap.as_deref());
    let warning = loaded.warning();
    let mut app = App::with_backend(backend, loaded.keymap, theme::Theme::from_env())?;
    if let Some(w) = warning {
        app.set_startup_warning(w);
    }
    let result = match &opts.auto_login {
        Some((user, password)) => app.login_now(user, password),
        None => Ok(()),
    }
    .and_then(|()| event_loop(&mut app));
    let ended = Ended {
        initialised: app.backend.is_initialised().unwrap_or(true),
    };
    drop(app);
    after(ended);
    match result {
        // Stopped by SIGTERM/SIGHUP: everything saved is on disk and the store is closed; tell
        // the caller how we ended, as a shell would.
        Ok(true) => std::process::exit(SIGNALLED_EXIT),
        Ok(false) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Draws and handles input until the user quits (`false`) or a termination signal arrives
/// (`true`). The terminal is restored when it returns.
fn event_loop(app: &mut App) -> Result<bool> {
    let mut guard = terminal::TerminalGuard::enter()?;
    let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
    watch_for_hangup(
        Arc::clone(&guard.stop),
        Arc::clone(&finished),
        Arc::downgrade(&app.backend),
    );
    let result = (|| {
        let mut dirty = true;
        loop {
            if dirty {
                guard
                    .terminal
                    .draw(|f| ui::draw(f, app))
                    .map_err(|e| Error::Terminal(format!("cannot draw: {e}")))?;
                dirty = false;
            }
            if app.quit || guard.should_stop() {
                return Ok(guard.should_stop());
            }
            if event::poll(Duration::from_millis(200))
                .map_err(|e| Error::Terminal(format!("terminal input failed: {e}")))?
            {
                let ev = event::read()
                    .map_err(|e| Error::Terminal(format!("terminal input failed: {e}")))?;
                match ev {
                    Event::Key(key) => app.on_key(key),
                    Event::Paste(text) => app.on_paste(&text),
                    Event::Resize(..) => {}
                    _ => continue,
                }
                dirty = true;
            }
            if app.poll_jobs() {
                dirty = true;
            }
            if app.check_idle() {
                dirty = true;
            }
            if app.check_live() {
                dirty = true;
            }
        }
    })();
    finished.store(true, Ordering::SeqCst);
    drop(guard);
    result
}

/// Exit code after a termination signal forced the shutdown.
const SIGNALLED_EXIT: i32 = 143;

/// Makes SIGTERM/SIGHUP always end the process cleanly. The event loop notices the signal flag
/// within 200 ms; but when the terminal is gone (a dropped SSH session) the terminal library can
/// spin inside its read and never return to the loop. This watcher gives the loop a second,
/// then restores the terminal, flushes the store and exits; the owner lock is released with the
/// process.
fn watch_for_hangup(stop: Arc<AtomicBool>, finished: Arc<AtomicBool>, svc: Weak<Backend>) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(100));
            if finished.load(Ordering::SeqCst) {
                return;
            }
            if stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_secs(1));
                if finished.load(Ordering::SeqCst) {
                    return;
                }
                terminal::restore();
                if let Some(svc) = svc.upgrade() {
                    let _ = svc.flush();
                }
                std::process::exit(SIGNALLED_EXIT);
            }
        }
    });
}
