//! The Roles tab: roles with user counts; add, rename, delete, and the permission matrix.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row};

use super::{Effect, Look, Question, Screen, wide};
use crate::model::permission::{CATALOGUE, modules};
use crate::security::sanitize::for_terminal;
use crate::service::Calls;
use crate::service::{Request, Response, RoleSummary};
use crate::tui::action::Action;
use crate::tui::app::Ctx;
use crate::tui::forms::{self, Purpose};
use crate::tui::keymap::Section;
use crate::tui::widgets::list::{ListState, TableSpec};

/// Columns of the widest line of the permission matrix (`module` then ` [x]action` each).
fn matrix_width() -> u16 {
    let widest = modules()
        .into_iter()
        .map(|module| {
            10 + CATALOGUE
                .iter()
                .filter(|p| p.module == module)
                .map(|p| 4 + p.key.split_once('.').map_or(p.key, |(_, a)| a).len())
                .sum::<usize>()
        })
        .max()
        .unwrap_or(50);
    u16::try_from(widest).unwrap_or(u16::MAX)
}

/// Puts consecutive lines side by side (two spaces apart) while they fit in `width` columns.
fn pack(lines: Vec<Line<'_>>, width: usize) -> Vec<Line<'_>> {
    let mut out: Vec<Line<'_>> = Vec::new();
    for line in lines {
        match out.last_mut() {
            Some(last) if last.width() + 2 + line.width() <= width => {
                last.spans.push(Span::raw("  "));
                last.spans.extend(line.spans);
            }
            _ => out.push(line),
        }
    }
    out
}

/// State of the Roles tab.
#[derive(Debug, Default)]
pub struct RolesScreen {
    list: ListState<RoleSummary>,
}

impl RolesScreen {
    /// The selected role.
    pub fn selected(&self) -> Option<&RoleSummary> {
        self.list.selected()
    }
}

impl Screen for RolesScreen {
    /// Reloads the roles.
    fn refresh(&mut self, ctx: &Ctx<'_>) -> crate::Result<()> {
        self.list.set_rows(ctx.role_list()?.items);
        Ok(())
    }

    fn hints(&self) -> &'static [Action] {
        &[
            Action::RoleAdd,
            Action::RoleEdit,
            Action::RoleRename,
            Action::RoleDelete,
            Action::Open,
        ]
    }

    fn handle(&mut self, action: Action, ctx: &Ctx<'_>) -> Effect {
        if self.list.navigate(action) {
            return Effect::None;
        }
        if action == Action::RoleAdd {
            return Effect::Form(forms::role_add(), Purpose::RoleAdd);
        }
        let Some(r) = self.selected().cloned() else {
            return Effect::None;
        };
        let name = for_terminal(&r.role.name).into_owned();
        match action {
            Action::Open => match ctx.call(Request::RoleShow(r.role.id.to_string())) {
                Ok(Response::Role(d)) => {
                    let mut lines = vec![
                        for_terminal(&d.role.description).into_owned(),
                        String::new(),
                        "PERMISSIONS".into(),
                    ];
                    for p in CATALOGUE {
                        let mark = if d.role.permissions.contains(p.key) {
                            "[x]"
                        } else {
                            "[ ]"
                        };
                        lines.push(format!("  {mark} {:<30} {}", p.key, p.description));
                    }
                    lines.push(String::new());
                    lines.push(format!("USERS ({})", d.users.len()));
                    lines.extend(
                        d.users
                            .iter()
                            .map(|p| format!("  #{} {}", p.id, for_terminal(&p.name))),
                    );
                    Effect::Detail {
                        title: format!("Role {name}"),
                        lines,
                    }
                }
                Ok(_) => Effect::None,
                Err(e) => Effect::from_error(&e),
            },
            Action::RoleEdit => Effect::Form(
                forms::role_permissions(&r.role, ctx.keymap),
                Purpose::RolePermissions(r.role.id, r.role.revision),
            ),
            Action::RoleRename => Effect::Form(
                forms::role_rename(&r.role),
                Purpose::RoleRename(r.role.id, r.role.revision),
            ),
            Action::RoleDelete => Effect::Confirm {
                question: Question::new(
                    format!("Delete role {name}?"),
                    vec!["A role still assigned to users, or built in, is not deleted.".into()],
                    "delete",
                    "cancel",
                ),
                request: Request::RoleDelete(r.role.id.to_string()),
                success: format!("Deleted role {name}."),
            },
            _ => Effect::None,
        }
    }

    /// Draws the tab: the table and a compact permission matrix of the selected role.
    fn draw(&self, frame: &mut Frame<'_>, area: Rect, look: &Look<'_>) {
        let theme = look.theme;
        let (list_area, matrix_area) = if wide(area) {
            let [l, m] =
                Layout::horizontal([Constraint::Min(40), Constraint::Length(matrix_width() + 2)])
                    .areas(area);
            (l, m)
        } else {
            let rows = u16::try_from(self.list.total()).unwrap_or(u16::MAX);
            let [l, m] = Layout::vertical([
                Constraint::Length(rows.saturating_add(3).min(area.height / 2)),
                Constraint::Min(4),
            ])
            .areas(area);
            (l, m)
        };
        let row = |r: &RoleSummary| {
            Row::new(vec![
                for_terminal(&r.role.name).into_owned(),
                r.users.to_string(),
                format!("{}/{}", r.role.permissions.len(), CATALOGUE.len()),
                if r.role.builtin {
                    "built-in".into()
                } else {
                    String::new()
                },
            ])
        };
        let spec = TableSpec {
            block: Block::default().borders(Borders::ALL).title(" Roles "),
            header: Row::new(vec!["Role", "Users", "Perms", ""]),
            widths: vec![
                Constraint::Fill(1),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(9),
            ],
            row: &row,
            empty: None,
        };
        self.list.draw(frame, list_area, spec, theme);
        let mut lines: Vec<Line<'_>> = Vec::new();
        if let Some(r) = self.selected() {
            for module in modules() {
                let mut spans = vec![Span::styled(format!("{module:<10}"), theme.heading())];
                for p in CATALOGUE.iter().filter(|p| p.module == module) {
                    let action = p.key.split_once('.').map_or(p.key, |(_, a)| a);
                    let on = r.role.permissions.contains(p.key);
                    spans.push(Span::styled(
                        format!(" [{}]{action}", if on { "x" } else { " " }),
                        if on { theme.ok() } else { theme.dim() },
                    ));
                }
                lines.push(Line::from(spans));
            }
        }
        // A short pane (80x24) would cut the last modules off: share lines between modules.
        let inner = matrix_area.height.saturating_sub(2);
        if lines.len() > usize::from(inner) {
            lines = pack(lines, usize::from(matrix_area.width.saturating_sub(2)));
        }
        let edits = look
            .offer(Section::Roles, Action::RoleEdit)
            .map(|key| format!("({key} edits) "))
            .unwrap_or_default();
        let title = self.selected().map_or(" Permissions ".to_string(), |r| {
            format!(" Permissions of {} {edits}", for_terminal(&r.role.name))
        });
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
            matrix_area,
        );
    }
}
