//! The lock: after the practice's idle timeout, or at once with `app.lock` (Ctrl-L), the session
//! ends and every window of it (forms with what was typed, details, help, the palette,
//! questions) is put away with it, so nothing of it stays on screen. The login form takes its
//! place; the same operator logging in again gets the windows back exactly as they were, anyone
//! else starts afresh and the windows are discarded.

use super::*;

/// A session put away by the lock.
#[derive(Debug, Clone)]
pub struct Locked {
    /// The operator whose session it was: only they get its windows back.
    pub user_id: u64,
    /// Their windows, bottom first, hidden until they log in again.
    windows: Vec<Modal>,
}

impl Locked {
    /// Whether a form put away holds input that discarding it would lose.
    pub fn has_unsaved_input(&self) -> bool {
        self.windows
            .iter()
            .any(|m| matches!(m, Modal::Form { form, .. } if form.is_dirty()))
    }

    /// The export running under the lock, if one was open.
    pub(super) fn export_mut(&mut self) -> Option<&mut ExportJob> {
        self.windows.iter_mut().rev().find_map(|m| match m {
            Modal::Export(job) => Some(job),
            _ => None,
        })
    }

    /// Whether an export put away is still running.
    pub fn export_running(&self) -> bool {
        self.windows
            .iter()
            .any(|m| matches!(m, Modal::Export(j) if j.done.is_none()))
    }
}

/// Status line after the idle timeout locked the screen.
pub(super) const IDLE_LOCKED: &str = "Locked after inactivity. Log in again to continue.";
/// Status line after `app.lock`.
pub(super) const LOCKED_NOW: &str = "Locked. Log in again to continue where you were.";

impl App {
    /// Ends the session and hides every window of it behind the login form; `why` goes to the
    /// status line.
    pub(super) fn lock(&mut self, why: &str) {
        let Some(session) = self.session.take() else {
            return;
        };
        let user = session.label().to_string();
        self.locked = Some(Locked {
            user_id: session.user_id(),
            windows: std::mem::take(&mut self.modals),
        });
        self.phase = Phase::Login {
            form: forms::login(&user, true),
            checking: false,
        };
        self.pending.clear();
        self.message = Some(Message::Info(why.to_string()));
    }

    /// After a login: the windows of a locked session come back if it was this operator's;
    /// otherwise they are dropped and every tab starts afresh. Returns whether they came back.
    pub(super) fn unlock_for(&mut self, session: &Session) -> bool {
        match self.locked.take() {
            Some(locked) if locked.user_id == session.user_id() => {
                self.modals = locked.windows;
                true
            }
            _ => false,
        }
    }

    /// Locks the screen after the practice's idle timeout; returns whether it did.
    pub fn check_idle(&mut self) -> bool {
        if matches!(self.phase, Phase::Main)
            && self.clock.now().saturating_duration_since(self.last_input) >= self.idle_timeout
        {
            self.lock(IDLE_LOCKED);
            return true;
        }
        false
    }

    /// Sets the idle timeout until the next login reads the practice's (tests).
    pub fn set_idle_timeout(&mut self, d: Duration) {
        self.idle_timeout = d;
    }

    /// Reads time from `clock` from now on (tests move a [`ManualClock`]); the idle time and
    /// the wait for the next check for others' changes start again.
    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.last_input = clock.now();
        self.last_live_check = clock.now();
        self.clock = clock;
    }

    /// The idle timeout in force (the practice's, read at login).
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }
}
