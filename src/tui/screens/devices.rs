//! The Devices tab: devices waiting for approval and approved ones; approve, decline, revoke.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Block, Borders, Row};

use super::{Effect, Look, Question, Screen};
use crate::model::DeviceStatus;
use crate::security::sanitize::for_terminal;
use crate::service::Calls;
use crate::service::{DeviceView, Request};
use crate::tui::action::Action;
use crate::tui::app::Ctx;
use crate::tui::widgets::list::{ListState, TableSpec};

/// State of the Devices tab.
#[derive(Debug, Default)]
pub struct DevicesScreen {
    list: ListState<DeviceView>,
}

impl DevicesScreen {
    /// Devices waiting for an administrator's approval.
    pub fn waiting(&self) -> usize {
        self.list
            .rows()
            .iter()
            .filter(|v| v.device.status == DeviceStatus::Pending)
            .count()
    }
}

impl Screen for DevicesScreen {
    /// Reloads the devices.
    fn refresh(&mut self, ctx: &Ctx<'_>) -> crate::Result<()> {
        self.list.set_rows(ctx.device_list()?.items);
        Ok(())
    }

    fn hints(&self) -> &'static [Action] {
        &[
            Action::DeviceApprove,
            Action::DeviceDecline,
            Action::DeviceRevoke,
        ]
    }

    fn handle(&mut self, action: Action, _ctx: &Ctx<'_>) -> Effect {
        if self.list.navigate(action) {
            return Effect::None;
        }
        let Some(row) = self.list.selected().cloned() else {
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
            question: Question::new(
                format!("{verb} device {what}?"),
                vec![after.into()],
                "yes",
                "cancel",
            ),
            request,
            success: format!("{verb}d device {what}."),
        }
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, look: &Look<'_>) {
        let when = |t: Option<jiff::Timestamp>| {
            t.map_or_else(|| "-".to_string(), |t| look.time.format(t, "%Y-%m-%d"))
        };
        let row = |v: &DeviceView| {
            let d = &v.device;
            Row::new(vec![
                for_terminal(&v.user).into_owned(),
                for_terminal(&d.fingerprint).into_owned(),
                d.status.as_str().to_string(),
                when(Some(d.first_seen)),
                when(d.decided_at),
            ])
        };
        let spec = TableSpec {
            block: Block::default()
                .borders(Borders::ALL)
                .title(format!(" Devices ({}) ", self.list.total()))
                .title(look.zone_title()),
            header: Row::new(vec!["User", "Device", "Status", "First seen", "Decided"]),
            widths: vec![
                Constraint::Fill(2),
                Constraint::Fill(2),
                Constraint::Length(9),
                Constraint::Length(10),
                Constraint::Length(10),
            ],
            row: &row,
            empty: None,
        };
        self.list.draw(frame, area, spec, look.theme);
    }
}
