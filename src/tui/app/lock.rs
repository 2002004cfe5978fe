//! The idle lock and `app.lock`.

use super::*;

impl App {
    pub(super) fn lock(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let user = session.label().to_string();
        self.phase = Phase::Login {
            form: forms::login(&user),
            checking: false,
            locked_user: Some(session.user_id()),
        };
        self.pending.clear();
        self.info("Locked. Log in again to continue where you were.");
    }

    /// Locks the screen after the practice's idle timeout; returns whether it did.
    pub fn check_idle(&mut self) -> bool {
        if matches!(self.phase, Phase::Main) && self.last_input.elapsed() >= self.idle_timeout {
            self.lock();
            self.message = Some(Message::Info(
                "Locked after inactivity. Log in again to continue.".into(),
            ));
            return true;
        }
        false
    }

    /// Sets the idle timeout (tests).
    pub fn set_idle_timeout(&mut self, d: Duration) {
        self.idle_timeout = d;
    }
}
