//! Terminal setup and restore, in one place: raw mode and the alternate screen are entered by
//! [`TerminalGuard::enter`] and always left again, on return, on panic (a hook restores the
//! terminal before the message prints) and on SIGTERM/SIGHUP/SIGINT (the event loop sees the
//! flag and shuts down cleanly, closing the store).

use std::io::{self, Stdout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

use crate::error::{Error, Result};

/// The terminal type the interface draws on.
pub type Tty = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct TerminalGuard {
    /// The ratatui terminal.
    pub terminal: Tty,
    /// Set when SIGTERM, SIGHUP or SIGINT arrives.
    pub stop: Arc<AtomicBool>,
}

/// Leaves raw mode and the alternate screen; safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, installs the panic hook and signal flags.
    pub fn enter() -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        for sig in [
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
            signal_hook::consts::SIGINT,
        ] {
            signal_hook::flag::register(sig, Arc::clone(&stop))
                .map_err(|e| Error::Internal(format!("cannot install signal handler: {e}")))?;
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        enable_raw_mode()
            .map_err(|e| Error::Terminal(format!("cannot switch the terminal to raw mode: {e}")))?;
        if let Err(e) = execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste) {
            restore();
            return Err(Error::Terminal(format!(
                "cannot open the alternate screen: {e}"
            )));
        }
        let terminal = match Terminal::new(CrosstermBackend::new(io::stdout())) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(Error::Terminal(format!(
                    "cannot start the terminal interface: {e}"
                )));
            }
        };
        Ok(Self { terminal, stop })
    }

    /// Whether a termination signal arrived.
    pub fn should_stop(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}
