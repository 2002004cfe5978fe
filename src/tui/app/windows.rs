//! Where the operator is (setup, login, the tabs) and what can be drawn over the tabs.

use super::*;

/// Where the user is.
#[derive(Debug, Clone)]
pub enum Phase {
    /// First run: create the practice and the first administrator.
    Setup(Form),
    /// Log in (also after the lock, see [`App::locked`]). `checking` while argon2 runs.
    Login {
        /// Username and password.
        form: Form,
        /// A login check is running.
        checking: bool,
    },
    /// Activating an invited account from the login screen.
    Activate(Form),
    /// Logged in.
    Main,
}

/// What to do when a confirmation is accepted.
#[derive(Debug, Clone)]
pub enum Pending {
    /// Send this request; show `success` when it works.
    Call(Box<Request>, String),
    /// Close the form under the confirmation, dropping its input.
    DiscardForm,
    /// Quit.
    Quit,
}

/// A running or finished export.
#[derive(Debug, Clone)]
pub struct ExportJob {
    /// Destination.
    pub path: PathBuf,
    /// Events written so far.
    pub written: Arc<AtomicU64>,
    /// Events in the log when it started (for the progress bar).
    pub total: u64,
    /// Result when finished.
    pub done: Option<std::result::Result<u64, String>>,
}

/// Something drawn over the screen; modals stack.
#[derive(Debug, Clone)]
pub enum Modal {
    /// A form.
    Form {
        /// The form.
        form: Form,
        /// What saving does.
        purpose: Purpose,
    },
    /// A yes/no question.
    Confirm {
        /// What is asked.
        question: Question,
        /// On yes.
        then: Pending,
    },
    /// Read-only text (user details, event details, facility access).
    Detail {
        /// Title.
        title: String,
        /// Lines (already sanitised).
        lines: Vec<String>,
        /// First visible line.
        scroll: usize,
    },
    /// Help generated from the keymap.
    Help {
        /// First visible line.
        scroll: usize,
    },
    /// Command palette.
    Palette {
        /// Typed text.
        input: Input,
        /// Selected match.
        selected: usize,
    },
    /// Export progress.
    Export(ExportJob),
}

/// A message in the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Something worked.
    Info(String),
    /// Something failed.
    Error(String),
}
