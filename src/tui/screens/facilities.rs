//! The Facilities tab: facilities with head counts; add, edit, archive/restore, and who can
//! access a facility.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Block, Borders, Row};

use super::{Effect, Look, Question, Screen};
use crate::security::sanitize::for_terminal;
use crate::service::Calls;
use crate::service::{FacilitySummary, Request, Response};
use crate::tui::action::Action;
use crate::tui::app::Ctx;
use crate::tui::forms::{self, Purpose};
use crate::tui::keymap::Section;
use crate::tui::widgets::list::{ListState, TableSpec};

/// State of the Facilities tab.
#[derive(Debug, Default)]
pub struct FacilitiesScreen {
    list: ListState<FacilitySummary>,
}

impl Screen for FacilitiesScreen {
    /// Reloads the facilities (archived ones included, marked).
    fn refresh(&mut self, ctx: &Ctx<'_>) -> crate::Result<()> {
        self.list.set_rows(ctx.facility_list(true)?.items);
        Ok(())
    }

    fn hints(&self) -> &'static [Action] {
        &[
            Action::FacilityAdd,
            Action::FacilityEdit,
            Action::FacilityArchive,
            Action::FacilityAccess,
        ]
    }

    fn handle(&mut self, action: Action, ctx: &Ctx<'_>) -> Effect {
        if self.list.navigate(action) {
            return Effect::None;
        }
        if action == Action::FacilityAdd {
            return Effect::Form(forms::facility(None), Purpose::FacilityAdd);
        }
        let Some(s) = self.list.selected().cloned() else {
            return Effect::None;
        };
        let f = &s.facility;
        let name = for_terminal(&f.name).into_owned();
        match action {
            Action::FacilityEdit => Effect::Form(
                forms::facility(Some(f)),
                Purpose::FacilityEdit(f.id, f.revision),
            ),
            Action::FacilityArchive if f.archived => Effect::Confirm {
                question: Question::new(
                    format!("Restore {name}?"),
                    vec!["Staff can be assigned to it again.".into()],
                    "restore",
                    "cancel",
                ),
                request: Request::FacilityRestore(f.id.to_string()),
                success: format!("Restored {name}."),
            },
            Action::FacilityArchive => Effect::Confirm {
                question: Question::new(
                    format!("Archive {name}?"),
                    vec![
                        "Its history is kept; no new staff can be assigned to it.".into(),
                        "Refused while it is anyone's primary facility.".into(),
                    ],
                    "archive",
                    "cancel",
                ),
                request: Request::FacilityArchive(f.id.to_string()),
                success: format!("Archived {name}."),
            },
            Action::Open | Action::FacilityAccess => {
                match ctx.call(Request::FacilityShow(f.id.to_string())) {
                    Ok(Response::Facility(d)) => {
                        let list = |v: &[crate::service::Person]| {
                            v.iter()
                                .map(|p| format!("  #{} {}", p.id, for_terminal(&p.name)))
                                .collect::<Vec<_>>()
                        };
                        let mut lines = vec![
                            format!(
                                "Code {}   Phone {}",
                                f.code.as_deref().unwrap_or("-"),
                                f.phone.as_deref().unwrap_or("-")
                            ),
                            format!("Address {}", f.address.as_deref().unwrap_or("-")),
                            String::new(),
                            format!("PRIMARY FACILITY OF ({})", d.primary_users.len()),
                        ];
                        lines.extend(list(&d.primary_users));
                        lines.push(String::new());
                        lines.push(format!("CAN ACCESS ({})", d.access_users.len()));
                        lines.extend(list(&d.access_users));
                        Effect::Detail {
                            title: format!("Facility {name}"),
                            lines: lines
                                .into_iter()
                                .map(|l| for_terminal(&l).into_owned())
                                .collect(),
                        }
                    }
                    Ok(_) => Effect::None,
                    Err(e) => Effect::from_error(&e),
                }
            }
            _ => Effect::None,
        }
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, look: &Look<'_>) {
        let row = |s: &FacilitySummary| {
            let f = &s.facility;
            Row::new(vec![
                format!("#{}", f.id),
                for_terminal(&f.name).into_owned(),
                for_terminal(f.code.as_deref().unwrap_or("-")).into_owned(),
                s.primary_users.to_string(),
                if f.archived {
                    "archived".into()
                } else {
                    "active".to_string()
                },
                for_terminal(f.phone.as_deref().unwrap_or("-")).into_owned(),
            ])
        };
        let spec = TableSpec {
            block: Block::default().borders(Borders::ALL).title(
                match look.keymap.key(Section::Facilities, Action::Open) {
                    Some(key) => format!(" Facilities ({key}: who can access) "),
                    None => " Facilities ".to_string(),
                },
            ),
            header: Row::new(vec!["Id", "Facility", "Code", "Staff", "Status", "Phone"]),
            widths: vec![
                Constraint::Length(5),
                Constraint::Fill(2),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(9),
                Constraint::Fill(1),
            ],
            row: &row,
            empty: None,
        };
        self.list.draw(frame, area, spec, look.theme);
    }
}
