//! The Users tab: a filterable, sortable table with a detail pane; add, edit, deactivate,
//! reactivate, delete, and facility access.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell as TCell, Paragraph, Row};

use std::cell::Cell;

use super::user_detail::{self, Pane};
use super::{Effect, Look, Question, Screen};
use crate::model::{Id, UserStatus};
use crate::security::sanitize::for_terminal;
use crate::service::Calls;
use crate::service::{Request, Response, UserDetail, UserFilter, UserSummary};
use crate::tui::action::Action;
use crate::tui::app::Ctx;
use crate::tui::forms::{self, Purpose};
use crate::tui::keymap::Section;
use crate::tui::widgets::list::{ListState, TableSpec};

/// Sortable columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Column {
    /// Name.
    #[default]
    Name,
    /// Role.
    Role,
    /// Primary facility.
    Facility,
    /// Status.
    Status,
    /// Billing.
    Billing,
    /// Last login.
    LastLogin,
}

impl Column {
    const ALL: [Column; 6] = [
        Column::Name,
        Column::Role,
        Column::Facility,
        Column::Status,
        Column::Billing,
        Column::LastLogin,
    ];

    fn title(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Role => "Role",
            Self::Facility => "Facility",
            Self::Status => "Status",
            Self::Billing => "Billing",
            Self::LastLogin => "Last login",
        }
    }
}

/// Narrowest table that shows every column (name, role, facility, status, billing, last
/// login) without crushing the names.
const FULL_TABLE_WIDTH: u16 = 90;
/// Width of the detail pane beside the table.
const DETAIL_WIDTH: u16 = 38;

/// State of the Users tab.
#[derive(Debug, Default)]
pub struct UsersScreen {
    list: ListState<UserSummary>,
    status: Option<UserStatus>,
    role: Option<(Id, String)>,
    facility: Option<(Id, String)>,
    roles: Vec<(Id, String)>,
    facilities: Vec<(Id, String)>,
    sort: Column,
    reverse: bool,
    unreadable: usize,
    /// The selected user's details for the pane, as last loaded.
    detail: Option<Box<UserDetail>>,
    /// The user whose details are being loaded, and the listing they were asked after.
    detail_loading: Option<(Id, u64)>,
    /// The loaded details may be out of date (the list was reloaded since they were asked for).
    detail_stale: bool,
    /// Counts the listings taken, so details asked for before the latest are known as stale.
    listings: u64,
    /// Page of the details the pane shows.
    pane_page: usize,
    /// Pages of details the pane had room for, as last drawn.
    pane_pages: Cell<usize>,
    /// A reload is running in the background.
    pub loading: bool,
    /// Bumped by every reload; a background result of an older reload is dropped.
    pub load_generation: u64,
}

/// The status as the table and the pane show it: "locked" while failed logins keep the account
/// locked (it fits the status column, where "active (locked)" did not).
fn status_text(u: &UserSummary) -> String {
    if u.locked {
        "locked".to_string()
    } else {
        u.status.as_str().to_string()
    }
}

impl UsersScreen {
    /// Reloads users (with the status/role/facility filters) and the filter choices.
    pub fn reload(&mut self, ctx: &Ctx<'_>) -> crate::Result<()> {
        self.refresh_choices(ctx)?;
        self.load_generation += 1;
        let listing = ctx.user_list(self.list_filter())?;
        self.apply_listing(listing);
        Ok(())
    }

    /// Reloads the role and facility choices of the filters (cheap: a handful of records).
    pub fn refresh_choices(&mut self, ctx: &Ctx<'_>) -> crate::Result<()> {
        self.roles = ctx
            .role_list()?
            .items
            .into_iter()
            .map(|r| (r.role.id, r.role.name))
            .collect();
        self.facilities = ctx
            .facility_list(true)?
            .items
            .into_iter()
            .map(|f| (f.facility.id, f.facility.name))
            .collect();
        Ok(())
    }

    /// The service filter matching the status/role/facility filters.
    pub fn list_filter(&self) -> UserFilter {
        UserFilter {
            status: self.status,
            role: self.role.as_ref().map(|(id, _)| format!("#{id}")),
            facility: self.facility.as_ref().map(|(id, _)| format!("#{id}")),
            search: None,
        }
    }

    /// The user whose details the pane needs loaded, if any and none is loading: the pane
    /// shows the selected user's, loaded in the background so moving never waits for them.
    pub fn wanted_detail(&self) -> Option<Id> {
        let id = self.selected()?.id;
        let have = self.detail.as_ref().map(|d| d.user.id);
        ((have != Some(id) || self.detail_stale) && self.detail_loading.is_none()).then_some(id)
    }

    /// Notes that the details of `id` are being loaded.
    pub fn loading_detail(&mut self, id: Id) {
        self.detail_loading = Some((id, self.listings));
    }

    /// Whether a user's details are being loaded.
    pub fn detail_loading(&self) -> bool {
        self.detail_loading.is_some()
    }

    /// Takes the loaded details of `id` (`None`: they could not be loaded).
    pub fn apply_detail(&mut self, id: Id, detail: Option<Box<UserDetail>>) {
        let asked_after = match self.detail_loading {
            Some((loading, listing)) if loading == id => {
                self.detail_loading = None;
                listing
            }
            _ => return,
        };
        if self.detail.as_ref().map(|d| d.user.id) != Some(id) {
            self.pane_page = 0;
        }
        self.detail_stale = asked_after != self.listings;
        self.detail = detail;
    }

    /// Takes a freshly loaded user list, keeping the selection on the same user.
    pub fn apply_listing(&mut self, l: crate::service::Listing<UserSummary>) {
        self.loading = false;
        self.listings += 1;
        self.detail_stale = true;
        let selected_id = self.selected().map(|u| u.id);
        self.unreadable = l.unreadable.len();
        // The `/` filter looks in the same text as `user list --search`.
        self.list
            .set_searchable_rows(l.items, UserSummary::search_text);
        self.sort_rows();
        if let Some(id) = selected_id {
            self.list.select_where(|u| u.id == id);
        }
    }

    /// Sorts the rows by the current column (on load and when the sort changes, not per key).
    fn sort_rows(&mut self) {
        let sort = self.sort;
        self.list.sort_by_key(
            |u| match sort {
                Column::Name => format!(
                    "{} {}",
                    u.name.split_whitespace().last().unwrap_or(""),
                    u.name
                )
                .to_lowercase(),
                Column::Role => u.role.to_lowercase(),
                Column::Facility => u.facility.to_lowercase(),
                Column::Status => u.status.as_str().to_string(),
                Column::Billing => u.billing.as_str().to_string(),
                Column::LastLogin => u.last_login_at.map(|t| t.to_string()).unwrap_or_default(),
            },
            self.reverse,
        );
    }

    /// Whether keys are typed into the `/` filter.
    pub fn filtering(&self) -> bool {
        self.list.filtering
    }

    /// Stops typing into the `/` filter; `keep` leaves its text applied, else it is cleared.
    pub fn end_filter(&mut self, keep: bool) {
        self.list.filtering = false;
        if !keep {
            self.list.clear_filter();
        }
    }

    /// Edits the `/` filter text and applies it.
    pub fn edit_filter(&mut self, request: tui_input::InputRequest) {
        self.list.filter.handle(request);
        self.list.apply_filter();
    }

    /// The selected user.
    pub fn selected(&self) -> Option<&UserSummary> {
        self.list.selected()
    }

    /// Number of users shown.
    pub fn shown(&self) -> usize {
        self.list.shown()
    }

    /// Moves the selection.
    pub fn move_selection(&mut self, action: Action) {
        self.list.navigate(action);
    }

    fn cycle<T: Clone + PartialEq>(current: &Option<T>, options: &[T]) -> Option<T> {
        match current {
            None => options.first().cloned(),
            Some(c) => options
                .iter()
                .position(|o| o == c)
                .and_then(|i| options.get(i + 1))
                .cloned(),
        }
    }

    fn user_action(&self, action: Action, u: &UserSummary, ctx: &Ctx<'_>) -> Effect {
        let name = for_terminal(&u.name).into_owned();
        match action {
            Action::Open => match ctx.call(Request::UserShow(u.id.to_string())) {
                Ok(Response::User(d)) => Effect::Detail {
                    title: format!("User #{} {name}", u.id),
                    lines: user_detail::window_lines(&d, ctx.time),
                },
                Ok(_) => Effect::None,
                Err(e) => Effect::from_error(&e),
            },
            Action::UserEdit => match ctx.call(Request::UserShow(u.id.to_string())) {
                Ok(Response::User(d)) => match forms::user(ctx, Some(&d.user)) {
                    Ok(f) => Effect::Form(f, Purpose::UserEdit(u.id, d.user.revision)),
                    Err(e) => Effect::from_error(&e),
                },
                Ok(_) => Effect::None,
                Err(e) => Effect::from_error(&e),
            },
            Action::UserDeactivate => {
                if u.status == UserStatus::Deactivated {
                    return Effect::Info(format!("{name} is already deactivated."));
                }
                Effect::Form(forms::deactivate(&name), Purpose::Deactivate(u.id))
            }
            Action::UserReactivate => {
                if u.status != UserStatus::Deactivated {
                    return Effect::Info(format!(
                        "{name} is {}, not deactivated.",
                        u.status.as_str()
                    ));
                }
                Effect::Confirm {
                    question: Question::new(
                        format!("Reactivate {name}?"),
                        vec!["They can log in again with their existing account.".into()],
                        "reactivate",
                        "cancel",
                    ),
                    request: Request::UserReactivate(u.id.to_string()),
                    success: format!("Reactivated {name}."),
                }
            }
            Action::UserUnlock => Effect::Confirm {
                question: Question::new(
                    format!("Unlock {name}?"),
                    vec!["Their failed logins are forgotten and they can log in again.".into()],
                    "unlock",
                    "cancel",
                ),
                request: Request::UserUnlock(u.id.to_string()),
                success: format!("Unlocked {name}."),
            },
            Action::UserDelete => Effect::Confirm {
                question: Question::new(
                    format!("Delete {name}?"),
                    vec![
                        "Only users who never activated their account can be deleted;".into(),
                        "others are deactivated instead. The audit log keeps the record.".into(),
                    ],
                    "delete",
                    "cancel",
                ),
                request: Request::UserDelete(u.id.to_string()),
                success: format!("Deleted {name}."),
            },
            Action::UserAccess => match ctx.call(Request::AccessShow(u.id.to_string())) {
                Ok(Response::Access(v)) => Effect::Form(forms::access(&v), Purpose::Access(u.id)),
                Ok(_) => Effect::None,
                Err(e) => Effect::from_error(&e),
            },
            _ => Effect::None,
        }
    }

    /// The line above the table: how many users, loading, every filter, skipped records.
    fn draw_bar(&self, frame: &mut Frame<'_>, bar: Rect, look: &Look<'_>) {
        let theme = look.theme;
        let mut chips = Vec::new();
        if self.loading {
            chips.push(Span::styled(" loading users... ", theme.dim()));
        }
        chips.push(Span::styled(
            format!(" {} of {} users ", self.list.shown(), self.list.total()),
            theme.heading(),
        ));

        // Every filter in one format: `filter: status=invited · role=Provider · /garcia`.
        let mut filters: Vec<Span<'_>> = [
            ("status", self.status.map(|s| s.as_str().to_string())),
            ("role", self.role.as_ref().map(|r| r.1.clone())),
            ("facility", self.facility.as_ref().map(|f| f.1.clone())),
        ]
        .into_iter()
        .filter_map(|(label, value)| {
            value.map(|v| Span::raw(format!("{label}={}", for_terminal(&v))))
        })
        .collect();
        let filter_text = self.list.filter.value();
        if self.list.filtering || !filter_text.is_empty() {
            let cursor = if self.list.filtering { "▏" } else { "" };
            let text = format!("/{}{cursor}", for_terminal(filter_text));
            // Typing into it shows as a field being edited.
            filters.push(if self.list.filtering {
                Span::styled(text, theme.selected())
            } else {
                Span::raw(text)
            });
        }
        if !filters.is_empty() {
            chips.push(Span::raw(" filter: "));
            for (i, f) in filters.into_iter().enumerate() {
                if i > 0 {
                    chips.push(Span::raw(" · "));
                }
                chips.push(f);
            }
            chips.push(Span::raw(" "));
        }
        if self.unreadable > 0 {
            chips.push(Span::styled(
                format!(" {} unreadable record(s) skipped ", self.unreadable),
                theme.error(),
            ));
        }
        // The billable seats go on the right, where they never push a filter out of view.
        if let Some(p) = look.practice {
            let seats = format!(" seats {} billable ", p.seats.billable());
            let used: usize = chips.iter().map(Span::width).sum();
            let room = usize::from(bar.width).saturating_sub(used);
            if seats.chars().count() <= room {
                chips.push(Span::raw(" ".repeat(room - seats.chars().count())));
                chips.push(Span::styled(seats, theme.dim()));
            }
        }
        frame.render_widget(Paragraph::new(Line::from(chips)), bar);
    }

    /// The pane with the selected user's details (their summary until those are loaded).
    fn draw_pane(&self, frame: &mut Frame<'_>, area: Rect, look: &Look<'_>) {
        let pane = match (self.selected(), &self.detail) {
            (None, _) => Pane::Empty,
            (Some(u), Some(d)) if d.user.id == u.id => Pane::Detail(d),
            (Some(u), _) => Pane::Summary(u),
        };
        let more = look.offer(Section::Users, Action::UserDetailsNext);
        let pages = user_detail::draw_pane(
            frame,
            area,
            &pane,
            self.pane_page,
            more.as_deref(),
            look.time,
            look.theme,
        );
        self.pane_pages.set(pages);
    }
}

impl Screen for UsersScreen {
    /// Reloads the role and facility choices; the application loads the users on a thread.
    fn refresh(&mut self, ctx: &Ctx<'_>) -> crate::Result<()> {
        self.refresh_choices(ctx)
    }

    fn hints(&self) -> &'static [Action] {
        &[
            Action::UserAdd,
            Action::UserEdit,
            Action::Open,
            Action::UserDeactivate,
            Action::UserReactivate,
            Action::UserDelete,
            Action::UserAccess,
            Action::Filter,
            Action::FilterStatus,
            Action::FilterRole,
            Action::FilterFacility,
            Action::Sort,
        ]
    }

    fn handle(&mut self, action: Action, ctx: &Ctx<'_>) -> Effect {
        if self.list.navigate(action) {
            return Effect::None;
        }
        let pages = self.pane_pages.get().max(1);
        match action {
            Action::UserDetailsNext => {
                self.pane_page = (self.pane_page.min(pages - 1) + 1) % pages;
                return Effect::None;
            }
            Action::UserDetailsPrev => {
                self.pane_page = (self.pane_page.min(pages - 1) + pages - 1) % pages;
                return Effect::None;
            }
            _ => {}
        }
        let selected = self.selected().cloned();
        let reload = |s: &mut Self| match s.reload(ctx) {
            Ok(()) => Effect::None,
            Err(e) => Effect::from_error(&e),
        };
        match action {
            Action::Filter => {
                self.list.filtering = true;
                Effect::None
            }
            Action::Back => {
                self.list.clear_filter();
                Effect::None
            }
            Action::Sort => {
                let i = Column::ALL
                    .iter()
                    .position(|c| *c == self.sort)
                    .unwrap_or(0);
                self.sort = Column::ALL[(i + 1) % Column::ALL.len()];
                self.sort_rows();
                Effect::Info(format!("Sorted by {}.", self.sort.title()))
            }
            Action::SortReverse => {
                self.reverse = !self.reverse;
                self.sort_rows();
                Effect::None
            }
            Action::FilterStatus => {
                self.status = Self::cycle(
                    &self.status,
                    &[
                        UserStatus::Invited,
                        UserStatus::Active,
                        UserStatus::Deactivated,
                    ],
                );
                reload(self)
            }
            Action::FilterRole => {
                self.role = Self::cycle(&self.role, &self.roles.clone());
                reload(self)
            }
            Action::FilterFacility => {
                self.facility = Self::cycle(&self.facility, &self.facilities.clone());
                reload(self)
            }
            Action::FilterClear => {
                self.status = None;
                self.role = None;
                self.facility = None;
                self.list.filter = tui_input::Input::default();
                reload(self)
            }
            Action::UserAdd => match forms::user(ctx, None) {
                Ok(f) => Effect::Form(f, Purpose::UserAdd),
                Err(e) => Effect::from_error(&e),
            },
            Action::Open
            | Action::UserUnlock
            | Action::UserEdit
            | Action::UserDeactivate
            | Action::UserReactivate
            | Action::UserDelete
            | Action::UserAccess => {
                let Some(u) = selected else {
                    return Effect::Info("No user selected.".into());
                };
                self.user_action(action, &u, ctx)
            }
            _ => Effect::None,
        }
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, look: &Look<'_>) {
        let theme = look.theme;
        let [bar, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
        self.draw_bar(frame, bar, look);
        // The detail pane goes beside the table only when the table keeps every column there;
        // otherwise below it, as long as the table keeps room for rows.
        let (table_area, detail_area) = if body.width >= FULL_TABLE_WIDTH + DETAIL_WIDTH {
            let [t, d] = Layout::horizontal([
                Constraint::Min(FULL_TABLE_WIDTH),
                Constraint::Length(DETAIL_WIDTH),
            ])
            .areas(body);
            (t, Some(d))
        } else if body.height >= 16 {
            let [t, d] = Layout::vertical([Constraint::Min(6), Constraint::Length(8)]).areas(body);
            (t, Some(d))
        } else {
            (body, None)
        };
        let narrow = table_area.width < FULL_TABLE_WIDTH;
        let header: Vec<String> = Column::ALL
            .iter()
            .filter(|c| !(narrow && matches!(c, Column::Billing | Column::LastLogin)))
            .map(|c| {
                let arrow = if *c == self.sort {
                    if self.reverse { " ▼" } else { " ▲" }
                } else {
                    ""
                };
                format!("{}{arrow}", c.title())
            })
            .collect();
        let row = |u: &UserSummary| {
            let mut cells = vec![
                TCell::from(for_terminal(&u.name).into_owned()),
                TCell::from(for_terminal(&u.role).into_owned()),
                TCell::from(for_terminal(&u.facility).into_owned()),
                TCell::from(status_text(u)),
            ];
            if !narrow {
                cells.push(TCell::from(u.billing.as_str()));
                cells.push(TCell::from(
                    u.last_login_at
                        .map_or_else(|| "-".into(), |t| look.time.format(t, "%Y-%m-%d")),
                ));
            }
            Row::new(cells)
        };
        let widths: Vec<Constraint> = if narrow {
            vec![
                Constraint::Fill(3),
                Constraint::Fill(2),
                Constraint::Fill(2),
                Constraint::Length(12),
            ]
        } else {
            vec![
                Constraint::Fill(3),
                Constraint::Fill(2),
                Constraint::Fill(2),
                Constraint::Length(12),
                Constraint::Length(10),
                Constraint::Length(10),
            ]
        };
        let empty = if self.list.total() == 0 {
            match look.offer(Section::Users, Action::UserAdd) {
                Some(key) => format!("No users yet. Press {key} to add one."),
                None => "No users yet.".to_string(),
            }
        } else {
            match look.offer(Section::Users, Action::Back) {
                Some(key) => format!("No user matches the filter. {key} clears it."),
                None => "No user matches the filter.".to_string(),
            }
        };
        let block = Block::default().borders(Borders::ALL).title(" Users ");
        let spec = TableSpec {
            // The zone is named where a time column shows.
            block: if narrow {
                block
            } else {
                block.title(look.zone_title())
            },
            header: Row::new(header),
            widths,
            row: &row,
            empty: Some(empty),
        };
        self.list.draw(frame, table_area, spec, theme);
        if let Some(d) = detail_area {
            self.draw_pane(frame, d, look);
        }
    }
}
