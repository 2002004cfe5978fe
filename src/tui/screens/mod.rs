//! One module per tab. Each screen owns its state, reloads it from the service, turns actions
//! into [`Effect`]s, and draws itself.

pub mod audit;
pub mod devices;
pub mod facilities;
pub mod invites;
pub mod roles;
pub mod settings;
pub mod users;

use ratatui::layout::Rect;

use super::forms::Purpose;
use super::widgets::form::Form;
use crate::service::Request;

/// What a screen asks the application to do.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Nothing.
    None,
    /// Open a form.
    Form(Form, Purpose),
    /// Ask before sending a request.
    Confirm {
        /// Title.
        title: String,
        /// What will happen and what is kept.
        lines: Vec<String>,
        /// Request on yes.
        request: Request,
        /// Message on success.
        success: String,
    },
    /// Show read-only text.
    Detail {
        /// Title.
        title: String,
        /// Lines.
        lines: Vec<String>,
    },
    /// Status message.
    Info(String),
    /// Error message.
    Error(String),
}

impl Effect {
    /// An error effect from any error.
    pub fn from_error(e: &crate::error::Error) -> Self {
        Self::Error(e.to_string())
    }
}

/// Whether the area is wide enough to show a detail pane beside the table.
pub fn wide(area: Rect) -> bool {
    area.width >= 110
}

/// Rows of a table area available for data (minus border and header).
pub fn page_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(3)).max(1)
}
