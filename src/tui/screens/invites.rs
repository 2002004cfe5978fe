//! The Invites tab: every invitation with its status, sends and expiry; send again (new code)
//! or withdraw.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Block, Borders, Row};

use super::{Effect, Look, Question, Screen};
use crate::security::sanitize::for_terminal;
use crate::service::Calls;
use crate::service::{InviteView, Request, Response};
use crate::tui::action::Action;
use crate::tui::app::Ctx;
use crate::tui::forms;
use crate::tui::widgets::list::{ListState, TableSpec};

/// State of the Invites tab.
#[derive(Debug, Default)]
pub struct InvitesScreen {
    list: ListState<InviteView>,
}

impl Screen for InvitesScreen {
    /// Reloads the invitations.
    fn refresh(&mut self, ctx: &Ctx<'_>) -> crate::Result<()> {
        self.list.set_rows(ctx.invite_list()?.items);
        Ok(())
    }

    fn hints(&self) -> &'static [Action] {
        &[Action::InviteResend, Action::InviteRevoke]
    }

    fn handle(&mut self, action: Action, ctx: &Ctx<'_>) -> Effect {
        if self.list.navigate(action) {
            return Effect::None;
        }
        let Some(row) = self.list.selected().cloned() else {
            return Effect::None;
        };
        let name = for_terminal(&row.name).into_owned();
        match action {
            Action::InviteResend => {
                match ctx.call(Request::InviteResend(row.user_id.to_string())) {
                    Ok(Response::User(d)) => {
                        let _ = self.refresh(ctx);
                        Effect::Detail {
                            title: format!("New invitation for {name}"),
                            lines: forms::invitation_lines(&d, ctx.keymap, ctx.time),
                        }
                    }
                    Ok(_) => Effect::None,
                    Err(e) => Effect::from_error(&e),
                }
            }
            Action::InviteRevoke => Effect::Confirm {
                question: Question::new(
                    format!("Withdraw the invitation of {name}?"),
                    vec![
                        "Their code stops working; the user stays invited and can get a new one."
                            .into(),
                    ],
                    "withdraw",
                    "cancel",
                ),
                request: Request::InviteRevoke(row.user_id.to_string()),
                success: format!("Withdrew the invitation of {name}."),
            },
            _ => Effect::None,
        }
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, look: &Look<'_>) {
        // At 80 columns the dates shrink to days, so names and emails stay readable.
        let narrow = area.width < 100;
        let when = |t: jiff::Timestamp| {
            look.time
                .format(t, if narrow { "%Y-%m-%d" } else { "%Y-%m-%d %H:%M" })
        };
        let row = |i: &InviteView| {
            Row::new(vec![
                for_terminal(&i.name).into_owned(),
                for_terminal(&i.email).into_owned(),
                i.status.as_str().to_string(),
                i.send_count.to_string(),
                when(i.last_sent_at),
                when(i.expires_at),
            ])
        };
        let spec = TableSpec {
            block: Block::default()
                .borders(Borders::ALL)
                .title(format!(" Invitations ({}) ", self.list.total()))
                .title(look.zone_title()),
            header: Row::new(vec![
                "Name",
                "Email",
                "Status",
                "Sent",
                "Last sent",
                "Expires",
            ]),
            widths: vec![
                Constraint::Fill(2),
                Constraint::Fill(3),
                Constraint::Length(9),
                Constraint::Length(5),
                Constraint::Length(if narrow { 10 } else { 16 }),
                Constraint::Length(if narrow { 10 } else { 16 }),
            ],
            row: &row,
            empty: None,
        };
        self.list.draw(frame, area, spec, look.theme);
    }
}
