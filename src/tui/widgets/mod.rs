//! Reusable widgets: forms, tables with selection, pop-up helpers.

pub mod form;
pub mod list;

use ratatui::layout::{Constraint, Flex, Layout, Rect};

/// A rectangle of at most `w` x `h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

/// `text` in lines of at most `width` display columns, broken at spaces (a word longer than a
/// line is broken where the line ends), so nothing is lost past the edge of a window.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_hanging(text, width, 0)
}

/// Like [`wrap`]; the first line keeps the text's leading spaces and the lines after it start
/// with `hang` spaces, so a wrapped entry stays under its own indentation.
pub fn wrap_hanging(text: &str, width: usize, hang: usize) -> Vec<String> {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let width = width.max(1);
    let hang = hang.min(width / 2);
    let body = text.trim_start_matches(' ');
    let lead = (text.len() - body.len()).min(width / 2);
    let mut out = Vec::new();
    let mut line = " ".repeat(lead);
    let mut used = lead;
    // Whether the current line holds no word yet (only indentation).
    let mut fresh = true;
    for word in body.split(' ') {
        if !fresh && used + 1 + word.width() > width {
            out.push(std::mem::replace(&mut line, " ".repeat(hang)));
            used = hang;
            fresh = true;
        }
        if !fresh {
            line.push(' ');
            used += 1;
        }
        for c in word.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width && !line.trim().is_empty() {
                let indent = if hang + w <= width { hang } else { 0 };
                out.push(std::mem::replace(&mut line, " ".repeat(indent)));
                used = indent;
            }
            line.push(c);
            used += w;
        }
        fresh = false;
    }
    if !line.trim().is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// `text` cut to `width` display columns, ending in "…" when cut, so a table cell never hides
/// that it was shortened.
pub fn ellipsize(text: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// The widths ratatui's `Table` gives `constraints` inside a bordered block of `area`, with a
/// selection symbol `highlight` columns wide (one column between cells, columns from the left).
pub fn table_column_widths(area: Rect, constraints: &[Constraint], highlight: u16) -> Vec<usize> {
    let inner = area.width.saturating_sub(2);
    let [_, columns] = Layout::horizontal([Constraint::Length(highlight), Constraint::Fill(0)])
        .areas(Rect::new(0, 0, inner, 1));
    Layout::horizontal(constraints.iter().copied())
        .flex(Flex::Start)
        .spacing(1)
        .split(columns)
        .iter()
        .map(|r| usize::from(r.width))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn wraps_at_spaces_and_keeps_indentation() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(
            wrap_hanging("  Name  Ada Lovelace of London", 14, 4),
            vec!["  Name  Ada", "    Lovelace", "    of London"]
        );
        // Wide characters count two columns.
        assert_eq!(wrap("日本語 テキスト", 8), vec!["日本語", "テキスト"]);
        let long = "the mail command `sendmail -t` failed (exit status: 75): relay refused";
        for width in [10, 20, 33, 80] {
            let lines = wrap(long, width);
            assert!(
                lines.iter().all(|l| l.width() <= width),
                "{width}: {lines:?}"
            );
            assert_eq!(lines.join(" "), long, "{width}: nothing is lost");
        }
    }

    #[test]
    fn ellipsize_marks_what_it_cuts() {
        assert_eq!(ellipsize("user:41 alice", 20), "user:41 alice");
        assert_eq!(
            ellipsize("user:41 alice.kim39@riverside", 12),
            "user:41 ali…"
        );
        assert_eq!(
            ellipsize("user:41 alice.kim39@riverside", 12)
                .chars()
                .count(),
            12
        );
        // Wide characters count as two columns.
        assert_eq!(ellipsize("日本語テキスト", 7), "日本語…");
        assert_eq!(ellipsize("abc", 0), "");
    }

    #[test]
    fn column_widths_match_what_the_table_draws() {
        use ratatui::widgets::{Block, Borders, Row, Table, TableState};
        let constraints = [
            Constraint::Length(5),
            Constraint::Fill(1),
            Constraint::Fill(2),
        ];
        let area = Rect::new(0, 0, 40, 4);
        let widths = table_column_widths(area, &constraints, 2);
        // Fill the columns exactly; the drawn row must show every cell whole.
        let cells: Vec<String> = widths.iter().map(|w| "x".repeat(*w)).collect();
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(40, 4)).unwrap();
        terminal
            .draw(|f| {
                let table = Table::new([Row::new(cells.clone())], constraints)
                    .block(Block::default().borders(Borders::ALL))
                    .highlight_symbol("› ");
                let mut state = TableState::default().with_selected(Some(0));
                f.render_stateful_widget(table, area, &mut state);
            })
            .unwrap();
        let buffer = terminal.backend().buffer();
        let row: String = (0..40).map(|x| buffer[(x, 1)].symbol()).collect();
        assert_eq!(
            row.matches('x').count(),
            widths.iter().sum::<usize>(),
            "{row:?}"
        );
    }
}
