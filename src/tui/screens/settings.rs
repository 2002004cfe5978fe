//! The Settings tab: practice settings and policies.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{Effect, Look, Screen};

use crate::security::sanitize::for_terminal;
use crate::service::Calls;
use crate::service::PracticeView;
use crate::tui::action::Action;
use crate::tui::app::Ctx;
use crate::tui::forms::{self, Purpose};
use crate::tui::keymap::Section;

/// State of the Settings tab.
#[derive(Debug, Default)]
pub struct SettingsScreen {
    practice: Option<PracticeView>,
}

impl SettingsScreen {
    /// The practice name, for the header.
    pub fn practice_name(&self) -> Option<&str> {
        self.practice.as_ref().map(|p| p.settings.name.as_str())
    }

    /// The practice as last loaded (for other screens' headers: the seat count).
    pub fn practice(&self) -> Option<&PracticeView> {
        self.practice.as_ref()
    }
}

impl Screen for SettingsScreen {
    /// Reloads the settings.
    fn refresh(&mut self, ctx: &Ctx<'_>) -> crate::Result<()> {
        self.practice = Some(ctx.practice()?);
        Ok(())
    }

    fn hints(&self) -> &'static [Action] {
        &[Action::SettingsEdit]
    }

    fn handle(&mut self, action: Action, ctx: &Ctx<'_>) -> Effect {
        match (action, &self.practice) {
            // Enter edits too, so it asks the same as the edit key.
            (Action::Open, _) if !ctx.authority.allows(Action::SettingsEdit) => Effect::Error(
                ctx.authority
                    .refusal(Action::SettingsEdit)
                    .unwrap_or_default(),
            ),
            (Action::SettingsEdit | Action::Open, Some(p)) => Effect::Form(
                forms::settings(&p.settings),
                Purpose::Settings(p.settings.revision),
            ),
            _ => Effect::None,
        }
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, look: &Look<'_>) {
        let theme = look.theme;
        let Some(view) = &self.practice else { return };
        let p = &view.settings;
        let row = |k: &str, v: String| {
            Line::from(vec![
                Span::styled(format!("{k:<28}"), theme.dim()),
                Span::raw(for_terminal(&v).into_owned()),
            ])
        };
        let lines = vec![
            Line::from(Span::styled("Practice", theme.heading())),
            row("Name", p.name.clone()),
            row("Contact email", p.email.clone()),
            Line::from(Span::styled("Invitations", theme.heading())),
            row(
                "Invite valid for",
                format!("{} hours", p.invite_expiry_hours),
            ),
            row(
                "Resend cool-down",
                format!("{} minutes", p.invite_cooldown_minutes),
            ),
            row(
                "Mail command",
                match (&view.mail.command, &view.mail.problem) {
                    (_, Some(problem)) => format!("none: {problem}"),
                    (Some(cmd), None) => format!(
                        "{cmd} (set by the server's administrator in {})",
                        view.mail.source
                    ),
                    (None, None) => {
                        format!("none: codes are shown once (set in {})", view.mail.source)
                    }
                },
            ),
            row(
                "Billable seats",
                format!(
                    "{} ({} provider, {} assistant; {} technician, free)",
                    view.seats.billable(),
                    view.seats.provider,
                    view.seats.assistant,
                    view.seats.technician
                ),
            ),
            row("Times shown in", view.time_zone.clone()),
            Line::from(Span::styled("Login policy", theme.heading())),
            row(
                "Lockout",
                format!(
                    "after {} failures within {} min, for {} min",
                    p.lockout_threshold, p.lockout_window_minutes, p.lockout_duration_minutes
                ),
            ),
            row("Idle lock", format!("{} minutes", p.idle_timeout_minutes)),
            row(
                "Password minimum length",
                format!("{} characters", p.password_min_length),
            ),
            row(
                "New-device approval",
                if p.device_approval { "on" } else { "off" }.into(),
            ),
        ];
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(
                match look.offer(Section::Settings, Action::SettingsEdit) {
                    Some(key) => format!(" Practice settings ({key} edits) "),
                    None => " Practice settings ".to_string(),
                },
            )),
            area,
        );
    }
}
