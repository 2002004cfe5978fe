//! The Devices tab: devices waiting for approval and approved ones; approve, decline, revoke.

use std::cell::Cell;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Block, Borders, Row, Table, TableState};

use super::{Effect, page_rows};
use crate::security::sanitize::for_terminal;
use crate::service::{DeviceView, Request, Response};
use crate::tui::action::Action;
use crate::tui::app::Ctx;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::Selection;

/// State of the Devices tab.
#[derive(Debug, Default)]
pub struct DevicesScreen {
    rows: Vec<DeviceView>,
    sel: Selection,
    page: Cell<usize>,
}

impl DevicesScreen {
    /// Reloads the devices.
    pub fn refresh(&mut self, ctx: &Ctx<'_>) -> crate::Result<()> {
        if let Response::Devices(l) = ctx.call(Request::DeviceList)? {
            self.rows = l.items;
        }
        self.sel.clamp(self.rows.len());
        Ok(())
    }

    /// Turns an action into an effect.
    pub fn handle(&mut self, action: Action, _ctx: &Ctx<'_>) -> Effect {
        if self.sel.apply(action, self.rows.len(), self.page.get()) {
            return Effect::None;
        }
        let Some(row) = self.rows.get(self.sel.index).cloned() else {
            return Effect::None;
        };
        let d = &row.device;
        let what = format!(
            "{} of {}",
            for_terminal(&d.fingerprint),
            for_terminal(&row.user)
        );
        let (verb, request, after) = match action {
            Action::DeviceApprove => (
                "Approve",
                Request::DeviceApprove(d.id),
                "They can log in from it.",
            ),
            Action::DeviceDecline => (
                "Decline",
                Request::DeviceDecline(d.id),
                "Logins from it stay refused.",
            ),
            Action::DeviceRevoke => (
                "Revoke",
                Request::DeviceRevoke(d.id),
                "Logins from it are refused from now on.",
            ),
            _ => return Effect::None,
        };
        Effect::Confirm {
            title: format!("{verb} device {what}?"),
            lines: vec![after.into(), "y: yes   n: cancel".into()],
            request,
            success: format!("{verb}d device {what}."),
        }
    }

    /// Draws the tab.
    pub fn draw(&self, frame: &mut Frame<'_>, area: Rect, theme: Theme) {
        self.page.set(page_rows(area));
        let when = |t: Option<jiff::Timestamp>| {
            t.map_or_else(|| "-".to_string(), |t| t.strftime("%Y-%m-%d").to_string())
        };
        let rows: Vec<Row<'_>> = self
            .rows
            .iter()
            .map(|v| {
                let d = &v.device;
                Row::new(vec![
                    for_terminal(&v.user).into_owned(),
                    for_terminal(&d.fingerprint).into_owned(),
                    d.status.as_str().to_string(),
                    when(Some(d.first_seen)),
                    when(d.decided_at),
                ])
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Fill(2),
                Constraint::Fill(2),
                Constraint::Length(9),
                Constraint::Length(10),
                Constraint::Length(10),
            ],
        )
        .header(
            Row::new(vec!["User", "Device", "Status", "First seen", "Decided"])
                .style(theme.heading()),
        )
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Devices ({}) ", self.rows.len())),
        )
        .row_highlight_style(theme.selected())
        .highlight_symbol("› ");
        let mut state = TableState::default().with_selected(if self.rows.is_empty() {
            None
        } else {
            Some(self.sel.index)
        });
        frame.render_stateful_widget(table, area, &mut state);
    }
}
