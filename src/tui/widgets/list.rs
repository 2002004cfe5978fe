//! The skeleton every list screen shares: its rows, the order they are shown in, the `/`
//! filter, the selection and paging, and drawing the rows in view as a table.

use std::cell::Cell;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use tui_input::Input;

use crate::tui::action::Action;
use crate::tui::theme::Theme;

/// Selected row of a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selection {
    /// Index of the selected row.
    pub index: usize,
}

impl Selection {
    /// Applies a movement action to a list of `len` rows with `page` visible rows; returns
    /// whether the action was a movement.
    pub fn apply(&mut self, action: Action, len: usize, page: usize) -> bool {
        let last = len.saturating_sub(1);
        let page = page.max(1);
        self.index = match action {
            Action::Up => self.index.saturating_sub(1),
            Action::Down => (self.index + 1).min(last),
            Action::PageUp => self.index.saturating_sub(page),
            Action::PageDown => (self.index + page).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            _ => return false,
        };
        true
    }

    /// Keeps the index inside a list of `len` rows.
    pub fn clamp(&mut self, len: usize) {
        self.index = self.index.min(len.saturating_sub(1));
    }
}

/// Rows of a table area available for data (minus border and header).
pub fn page_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(3)).max(1)
}

/// How a list's rows become a table: everything but the rows in view, which the list picks.
pub struct TableSpec<'a, R> {
    /// The border with its titles.
    pub block: Block<'a>,
    /// The column titles.
    pub header: Row<'a>,
    /// Column widths.
    pub widths: Vec<Constraint>,
    /// One row's cells.
    pub row: &'a dyn Fn(&R) -> Row<'a>,
    /// Said inside the table when no row is shown.
    pub empty: Option<String>,
}

/// A list screen's rows with their order, the `/` filter, the selection and paging.
#[derive(Debug)]
pub struct ListState<R> {
    rows: Vec<R>,
    /// Lowercase text the filter looks in, one per row (empty when the list has no filter).
    haystacks: Vec<String>,
    /// Indices into `rows` in display order (set when rows or the sort change).
    order: Vec<usize>,
    /// Indices into `rows` after the filter, in display order.
    visible: Vec<usize>,
    sel: Selection,
    /// Rows that fit in the table, as last drawn (paging moves by this much).
    page: Cell<usize>,
    /// The `/` filter text.
    pub filter: Input,
    /// Typing into the filter.
    pub filtering: bool,
}

impl<R> Default for ListState<R> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            haystacks: Vec::new(),
            order: Vec::new(),
            visible: Vec::new(),
            sel: Selection::default(),
            page: Cell::new(0),
            filter: Input::default(),
            filtering: false,
        }
    }
}

impl<R> ListState<R> {
    /// Replaces the rows, in the order given; the selection keeps its place.
    pub fn set_rows(&mut self, rows: Vec<R>) {
        self.haystacks = Vec::new();
        self.rows = rows;
        self.order = (0..self.rows.len()).collect();
        self.apply_filter();
    }

    /// Replaces the rows of a list the `/` filter searches, with each row's search text
    /// (lowercase, computed once here rather than on every keystroke).
    pub fn set_searchable_rows(&mut self, rows: Vec<R>, text: impl Fn(&R) -> String) {
        self.haystacks = rows.iter().map(text).collect();
        self.rows = rows;
        self.order = (0..self.rows.len()).collect();
        self.apply_filter();
    }

    /// Orders the rows by `key` (reversed when `reverse`), on load and when the sort changes,
    /// never per keystroke.
    pub fn sort_by_key<K: Ord>(&mut self, key: impl Fn(&R) -> K, reverse: bool) {
        let rows = &self.rows;
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_cached_key(|i| key(&rows[*i]));
        if reverse {
            order.reverse();
        }
        self.order = order;
        self.apply_filter();
    }

    /// Selects the shown row for which `is` holds, if there is one.
    pub fn select_where(&mut self, is: impl Fn(&R) -> bool) {
        if let Some(pos) = self.visible.iter().position(|i| is(&self.rows[*i])) {
            self.sel.index = pos;
        }
    }

    /// Re-applies the `/` filter (one pass over the precomputed search text).
    pub fn apply_filter(&mut self) {
        let needle = self.filter.value().trim().to_lowercase();
        self.visible = if needle.is_empty() || self.haystacks.len() != self.rows.len() {
            self.order.clone()
        } else {
            // One substring searcher for all rows: this runs on every keystroke over every row.
            let finder = memchr::memmem::Finder::new(needle.as_bytes());
            self.order
                .iter()
                .copied()
                .filter(|i| finder.find(self.haystacks[*i].as_bytes()).is_some())
                .collect()
        };
        self.sel.clamp(self.visible.len());
    }

    /// Empties the `/` filter.
    pub fn clear_filter(&mut self) {
        self.filter = Input::default();
        self.apply_filter();
    }

    /// Every row, filtered or not, in load order.
    pub fn rows(&self) -> &[R] {
        &self.rows
    }

    /// The selected row.
    pub fn selected(&self) -> Option<&R> {
        self.visible.get(self.sel.index).map(|i| &self.rows[*i])
    }

    /// Number of rows shown (after the filter).
    pub fn shown(&self) -> usize {
        self.visible.len()
    }

    /// Number of rows loaded.
    pub fn total(&self) -> usize {
        self.rows.len()
    }

    /// Applies a movement action; returns whether it was one.
    pub fn navigate(&mut self, action: Action) -> bool {
        self.sel.apply(action, self.visible.len(), self.page.get())
    }

    /// Draws the rows in view (never all of them: a list may hold 100,000) as a table in
    /// `area`, the selected one highlighted.
    pub fn draw(&self, frame: &mut Frame<'_>, area: Rect, spec: TableSpec<'_, R>, theme: Theme) {
        self.page.set(page_rows(area));
        let page = self.page.get();
        let offset = self.sel.index.saturating_sub(page.saturating_sub(1));
        let rows: Vec<Row<'_>> = self
            .visible
            .iter()
            .skip(offset)
            .take(page)
            .map(|i| (spec.row)(&self.rows[*i]))
            .collect();
        let table = Table::new(rows, spec.widths)
            .header(spec.header.style(theme.heading()))
            .block(spec.block)
            .row_highlight_style(theme.selected())
            .highlight_symbol("› ");
        let mut state = TableState::default().with_selected(if self.visible.is_empty() {
            None
        } else {
            Some(self.sel.index - offset)
        });
        frame.render_stateful_widget(table, area, &mut state);
        if let Some(hint) = spec.empty.filter(|_| self.visible.is_empty()) {
            let inner = Rect {
                x: area.x + 2,
                y: area.y + 2,
                width: area.width.saturating_sub(4),
                height: 1.min(area.height.saturating_sub(2)),
            };
            frame.render_widget(Paragraph::new(Span::styled(hint, theme.dim())), inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_within_bounds() {
        let mut s = Selection::default();
        assert!(s.apply(Action::Up, 10, 3));
        assert_eq!(s.index, 0);
        s.apply(Action::PageDown, 10, 3);
        assert_eq!(s.index, 3);
        s.apply(Action::Bottom, 10, 3);
        assert_eq!(s.index, 9);
        s.apply(Action::Down, 10, 3);
        assert_eq!(s.index, 9);
        assert!(!s.apply(Action::Open, 10, 3));
        s.clamp(4);
        assert_eq!(s.index, 3);
        s.clamp(0);
        assert_eq!(s.index, 0);
    }

    #[test]
    fn filter_sort_and_selection_work_together() {
        let mut list: ListState<&str> = ListState::default();
        list.set_searchable_rows(vec!["Cleo", "ada", "Bea", "Abe"], |r| r.to_lowercase());
        assert_eq!(list.selected(), Some(&"Cleo"));
        list.sort_by_key(|r| r.to_lowercase(), false);
        assert_eq!(list.selected(), Some(&"Abe"));
        list.navigate(Action::Bottom);
        assert_eq!(list.selected(), Some(&"Cleo"));
        for c in "a".chars() {
            list.filter.handle(tui_input::InputRequest::InsertChar(c));
        }
        list.apply_filter();
        assert_eq!((list.shown(), list.total()), (3, 4));
        // The selection stays inside what is shown.
        assert_eq!(list.selected(), Some(&"Bea"));
        list.select_where(|r| *r == "ada");
        assert_eq!(list.selected(), Some(&"ada"));
        list.sort_by_key(|r| r.to_lowercase(), true);
        list.clear_filter();
        assert_eq!(list.shown(), 4);
        // A list without search text ignores the filter.
        let mut plain: ListState<u8> = ListState::default();
        plain
            .filter
            .handle(tui_input::InputRequest::InsertChar('x'));
        plain.set_rows(vec![1, 2]);
        assert_eq!(plain.shown(), 2);
    }
}
