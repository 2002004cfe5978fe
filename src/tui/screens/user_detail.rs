//! A user's details as the Users tab shows them, from the service's one reading of a user
//! ([`user_view::detail`]): the window `Enter` opens (every section, then the history) and the
//! pane beside or below the table (the sections flowed into its lines, a page at a time).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::security::sanitize::for_terminal;
use crate::service::user_view::{self, DetailSection};
use crate::service::{LocalTime, UserDetail, UserSummary};
use crate::tui::theme::Theme;
use crate::tui::widgets::wrap_hanging;

/// Widest line of the detail window that an 80-column terminal shows whole.
const WINDOW_WIDTH: usize = 76;

/// Width of the label column: the widest label, but never more than `most`.
fn label_width(sections: &[DetailSection], most: usize) -> usize {
    sections
        .iter()
        .flat_map(|s| s.rows.iter().map(|(label, _)| label.chars().count()))
        .max()
        .unwrap_or(10)
        .min(most)
}

/// `label value` in `width` columns, the value wrapped under itself.
fn row_lines(label: &str, value: &str, label_w: usize, width: usize) -> Vec<String> {
    let value = for_terminal(&value.replace('\n', " ")).into_owned();
    let line = format!("{label:<label_w$} {value}");
    wrap_hanging(&line, width, label_w + 1)
}

/// The detail window: every section of the user, then the history, newest first.
pub fn window_lines(d: &UserDetail, time: &LocalTime) -> Vec<String> {
    let sections = user_view::detail(d, time);
    let label_w = label_width(&sections, 24);
    let mut lines = Vec::new();
    for section in &sections {
        lines.push(section.title.to_uppercase());
        for (label, value) in &section.rows {
            for l in row_lines(label, value, label_w, WINDOW_WIDTH - 2) {
                lines.push(format!("  {l}"));
            }
        }
    }
    lines.push(format!("HISTORY ({} events)", d.history.len()));
    for h in d.history.iter().rev() {
        let when = time.minute(h.time);
        let line = format!(
            "  #{} {when} {} by {} [{}]",
            h.seq, h.action, h.actor, h.outcome
        );
        if line.chars().count() <= WINDOW_WIDTH - 2 {
            lines.push(line);
        } else {
            // A long actor (someone who logs in by email) goes below, so nothing is cut at
            // 80 columns.
            lines.push(format!("  #{} {when} {} [{}]", h.seq, h.action, h.outcome));
            lines.push(format!("      by {}", h.actor));
        }
        for c in h.changes.iter().take(12) {
            lines.push(format!("      {c}"));
        }
        if h.changes.len() > 12 {
            lines.push(format!(
                "      ... and {} more field(s)",
                h.changes.len() - 12
            ));
        }
    }
    lines
        .into_iter()
        .map(|l| for_terminal(&l).into_owned())
        .collect()
}

/// What the pane shows: the loaded details of the selected user, or (while they load) the
/// summary from the list.
pub enum Pane<'a> {
    /// Nobody is selected.
    Empty,
    /// The list row, while the details load.
    Summary(&'a UserSummary),
    /// The details.
    Detail(&'a UserDetail),
}

/// The sections flowed into lines of `width` columns, so a small pane shows many fields:
/// each section starts a line with its title, then `label: value` items follow one another,
/// two spaces apart, each kept whole on a line where it fits.
fn flowed(sections: &[DetailSection], width: usize, theme: Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    for section in sections {
        let mut line = vec![Span::styled(section.title, theme.heading())];
        let mut used = section.title.chars().count();
        for (label, value) in &section.rows {
            let value = for_terminal(&value.replace('\n', " ")).into_owned();
            let item = format!("{label}: {value}");
            let len = item.chars().count();
            if used > 0 && used + 2 + len > width {
                lines.push(Line::from(std::mem::take(&mut line)));
                used = 0;
            }
            if used > 0 {
                line.push(Span::raw("  "));
                used += 2;
            }
            if len <= width.saturating_sub(used) {
                line.push(Span::styled(format!("{label}:"), theme.dim()));
                line.push(Span::raw(format!(" {value}")));
                used += len;
                continue;
            }
            // Longer than a line: wrapped, its continuation indented.
            let mut parts = wrap_hanging(&item, width, 2).into_iter();
            if let Some(first) = parts.next() {
                line.push(Span::raw(first));
            }
            for part in parts {
                lines.push(Line::from(std::mem::take(&mut line)));
                line.push(Span::raw(part));
            }
            used = line.iter().map(Span::width).sum();
        }
        lines.push(Line::from(line));
    }
    lines
}

/// Draws the pane in `area`, showing page `page` of the details (clamped to the last);
/// `more` names the key that shows the next page. Returns the number of pages.
pub fn draw_pane(
    frame: &mut Frame<'_>,
    area: Rect,
    pane: &Pane<'_>,
    page: usize,
    more: Option<&str>,
    time: &LocalTime,
    theme: Theme,
) -> usize {
    let width = usize::from(area.width.saturating_sub(2)).max(10);
    let rows = usize::from(area.height.saturating_sub(2)).max(1);
    let lines: Vec<Line<'static>> = match pane {
        Pane::Empty => Vec::new(),
        Pane::Summary(u) => vec![
            Line::from(Span::styled(
                for_terminal(&u.name).into_owned(),
                theme.heading(),
            )),
            Line::from(format!(
                "#{}  {}",
                u.id,
                for_terminal(u.username.as_deref().unwrap_or("-"))
            )),
            Line::from(for_terminal(&u.email).into_owned()),
            Line::from(Span::styled("loading the details...", theme.dim())),
        ],
        Pane::Detail(d) => flowed(&user_view::detail(d, time), width, theme),
    };
    let pages = lines.len().div_ceil(rows).max(1);
    let page = page.min(pages - 1);
    let title = match (pages > 1, more) {
        (true, Some(key)) => format!(" Selected {}/{pages} ({key} next) ", page + 1),
        (true, None) => format!(" Selected {}/{pages} ", page + 1),
        _ => " Selected ".to_string(),
    };
    let shown: Vec<Line<'static>> = lines.into_iter().skip(page * rows).take(rows).collect();
    frame.render_widget(
        Paragraph::new(shown).block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pane_flows_fields_into_its_width_and_keeps_each_whole() {
        let sections = vec![
            DetailSection {
                title: "Identity",
                rows: vec![
                    ("Id", "#4".into()),
                    ("Status", "invited".into()),
                    ("Email", "chloe.adeyemi2@riverside-pt.example".into()),
                ],
            },
            DetailSection {
                title: "Role & flags",
                rows: vec![
                    ("Role", "Provider".into()),
                    ("Note", "x ".repeat(30).trim_end().into()),
                ],
            },
        ];
        let text: Vec<String> = flowed(&sections, 40, Theme { mono: true })
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(
            text,
            [
                "Identity  Id: #4  Status: invited",
                // Too long for a line: the value goes below its label.
                "Email:",
                "  chloe.adeyemi2@riverside-pt.example",
                "Role & flags  Role: Provider",
                "Note: x x x x x x x x x x x x x x x x x",
                "  x x x x x x x x x x x x x",
            ]
        );
    }

    #[test]
    fn a_long_value_wraps_under_itself() {
        let lines = row_lines(
            "Permissions",
            "calendar.view, calendar.create, clinical.view_charts",
            12,
            36,
        );
        assert_eq!(
            lines,
            [
                "Permissions  calendar.view,",
                "             calendar.create,",
                "             clinical.view_charts"
            ]
        );
        // Hostile text is cleaned before it is laid out.
        let lines = row_lines("Note", "a\u{1b}[2Jb\nc", 5, 30);
        assert_eq!(lines, ["Note  ab c"]);
    }
}
