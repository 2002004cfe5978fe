//! Styles. Selection and focus use REVERSED/BOLD so they read without colour; colour (the
//! terminal's own 16) is only added when `NO_COLOR` is unset and the terminal is not monochrome.

use ratatui::style::{Color, Modifier, Style};

/// The styles of one session.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// No colours at all.
    pub mono: bool,
}

impl Theme {
    /// Reads `NO_COLOR` and `TERM`.
    pub fn from_env() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let mono_term = std::env::var("TERM").is_ok_and(|t| t.ends_with("-mono") || t == "dumb");
        Self {
            mono: no_color || mono_term,
        }
    }

    fn fg(self, c: Color) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().fg(c)
        }
    }

    /// The selected row / focused field.
    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    /// Titles and headings.
    pub fn heading(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Errors.
    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Success messages.
    pub fn ok(self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    /// Less important text (hints, labels).
    pub fn dim(self) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().fg(Color::DarkGray)
        }
    }

    /// The filled part of a progress bar. Never REVERSED: the bar is drawn with full-block
    /// glyphs, which reverse video would paint in the background colour (an empty-looking bar).
    pub fn gauge(self) -> Style {
        self.fg(Color::Cyan)
    }

    /// Key names in hints.
    pub fn key(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// The active tab.
    pub fn active_tab(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }
}
