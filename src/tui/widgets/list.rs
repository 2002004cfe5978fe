//! Selection and scrolling for tables.

use crate::tui::action::Action;

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
}
