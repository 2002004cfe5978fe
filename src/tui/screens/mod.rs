//! One module per tab. Each screen implements [`Screen`]: it owns its state, reloads it from
//! the service, turns actions into [`Effect`]s, draws itself and lists the actions it offers
//! (the hint line is built from that list). The list screens keep their rows in the shared
//! [`ListState`](super::widgets::list::ListState) skeleton.

pub mod audit;
pub mod devices;
pub mod facilities;
pub mod invites;
pub mod roles;
pub mod settings;
pub mod user_detail;
pub mod users;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::action::Action;
use super::app::Ctx;
use super::authority::Authority;
use super::forms::Purpose;
use super::keymap::{Keymap, Section};
use super::theme::Theme;
use super::widgets::form::Form;
use crate::service::{LocalTime, PracticeView, Request};

/// A tab of the interface, after gitui's components: it owns its state, reloads it, handles
/// actions, draws itself and says which actions it offers.
pub trait Screen {
    /// Reloads from the service. A screen whose rows can take longer than a frame to load
    /// (Users) reloads only its small data here; the application loads its rows on a thread.
    fn refresh(&mut self, ctx: &Ctx<'_>) -> crate::Result<()>;

    /// Turns an action into an effect.
    fn handle(&mut self, action: Action, ctx: &Ctx<'_>) -> Effect;

    /// Draws the screen in `area`.
    fn draw(&self, frame: &mut Frame<'_>, area: Rect, look: &Look<'_>);

    /// The actions the screen offers, in the order the hint line shows them.
    fn hints(&self) -> &'static [Action];
}

impl Look<'_> {
    /// The key that runs `action` in `section`, if one is bound and the operator may run it:
    /// texts name the operator's own keys and offer nothing they would be refused.
    pub fn offer(&self, section: Section, action: Action) -> Option<String> {
        if !self.authority.allows(action) {
            return None;
        }
        self.keymap.keys_for(section, action).into_iter().next()
    }

    /// The zone times are shown in, for the right of a table's top border: named once per
    /// screen rather than beside every time.
    pub fn zone_title(&self) -> Line<'static> {
        Line::from(format!(" times in {} ", self.time.name())).right_aligned()
    }
}

/// What screens read while drawing, besides their own state.
pub struct Look<'a> {
    /// Styles.
    pub theme: Theme,
    /// The active key bindings, for texts that name keys.
    pub keymap: &'a Keymap,
    /// What the operator may do (texts offer only that).
    pub authority: &'a Authority,
    /// How times are shown.
    pub time: &'a LocalTime,
    /// The practice, as the Settings tab last loaded it.
    pub practice: Option<&'a PracticeView>,
}

/// A yes/no question: what it asks, what will happen, and the words of its two answers. The
/// keys that give them come from the keymap when it is drawn (`y: delete   n: cancel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Title.
    pub title: String,
    /// What will happen (and what is kept).
    pub lines: Vec<String>,
    /// What answering yes does ("delete").
    pub yes: String,
    /// What answering no does ("cancel").
    pub no: String,
}

impl Question {
    /// A question whose answers read `yes` and `no`.
    pub fn new(title: impl Into<String>, lines: Vec<String>, yes: &str, no: &str) -> Self {
        Self {
            title: title.into(),
            lines,
            yes: yes.into(),
            no: no.into(),
        }
    }
}

/// What a screen asks the application to do.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Nothing.
    None,
    /// Open a form.
    Form(Form, Purpose),
    /// Ask before sending a request.
    Confirm {
        /// The question.
        question: Question,
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
