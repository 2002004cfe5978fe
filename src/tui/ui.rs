//! Drawing: a pure function of the application state.

use std::sync::atomic::Ordering;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Wrap};

use super::action::Action;
use super::app::{App, Message, Modal, Phase, Tab, palette_matches};
use super::authority::Authority;
use super::keymap::Section;
use super::screens::Look;
use super::widgets::form::Form;
use super::widgets::{centered, ellipsize, wrap_hanging};
use crate::security::sanitize::for_terminal;

/// The short label of an action in hints (`user.deactivate` -> `deactivate`).
fn short(action: Action) -> &'static str {
    match action {
        Action::Open => "open",
        Action::Filter => "filter",
        Action::FilterStatus => "status",
        Action::FilterRole => "role",
        Action::FilterFacility => "facility",
        Action::FacilityArchive => "archive",
        Action::FacilityAccess => "who",
        Action::RoleEdit => "permissions",
        Action::InviteResend => "send again",
        Action::InviteRevoke => "withdraw",
        Action::DeviceApprove => "approve",
        Action::DeviceDecline => "decline",
        Action::DeviceRevoke => "revoke",
        Action::Help => "help",
        Action::Palette => "commands",
        Action::Quit => "quit",
        Action::NextTab => "next tab",
        a => a.name().split_once('.').map_or(a.name(), |(_, s)| s),
    }
}

fn hint_line(app: &App, section: Section, actions: &[Action], width: u16) -> Line<'static> {
    let theme = app.theme;
    let hint = |a: Action| {
        app.keymap
            .keys_for(section, a)
            .into_iter()
            .next()
            .map(|k| (k, short(a)))
    };
    let tail: Vec<(String, &str)> = [Action::Help, Action::Palette, Action::Quit]
        .into_iter()
        .filter_map(hint)
        .collect();
    let len = |(k, l): &(String, &str)| k.chars().count() + l.len() + 3;
    let mut room = usize::from(width).saturating_sub(tail.iter().map(len).sum());
    let mut chosen = Vec::new();
    // Only what the operator's role allows is offered.
    for h in actions
        .iter()
        .copied()
        .filter(|a| app.authority.allows(*a))
        .filter_map(hint)
    {
        if len(&h) > room {
            break;
        }
        room -= len(&h);
        chosen.push(h);
    }
    let mut spans = Vec::new();
    for (key, label) in chosen.into_iter().chain(tail) {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    Line::from(spans)
}

/// The keys of the form section, as the footers of forms name them.
struct FormKeys {
    next: String,
    prev: String,
    submit: String,
    cancel: String,
    toggle: String,
    pick: String,
    activate: String,
}

impl FormKeys {
    fn of(app: &App) -> Self {
        let key = |a: Action| app.keymap.key_or_name(Section::Form, a);
        Self {
            next: key(Action::FormNext),
            prev: key(Action::FormPrev),
            submit: key(Action::FormSubmit),
            cancel: key(Action::FormCancel),
            toggle: key(Action::FormToggle),
            pick: format!(
                "{}/{}",
                key(Action::FormChoicePrev),
                key(Action::FormChoiceNext)
            ),
            activate: key(Action::Activate),
        }
    }
}

/// Draws the whole interface.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let k = FormKeys::of(app);
    match &app.phase {
        Phase::Setup(form) => draw_gate(
            frame,
            app,
            " staffctl: first-run setup ".to_string(),
            form,
            78,
            &format!(
                "{}/{} next  {} previous  {} on the last field creates  {} quit",
                k.next, k.submit, k.prev, k.submit, k.cancel
            ),
        ),
        Phase::Login { form, checking, .. } => draw_gate(
            frame,
            app,
            format!(" staffctl  {}", app.backend.describe()),
            form,
            64,
            &if *checking {
                "checking...".to_string()
            } else {
                format!(
                    "{} log in  {} activate an invitation  {} quit",
                    k.submit, k.activate, k.cancel
                )
            },
        ),
        Phase::Activate(form) => draw_gate(
            frame,
            app,
            format!(" staffctl  {}", app.backend.describe()),
            form,
            72,
            &format!(
                "{}/{} next  {} on the last field activates  {}/{} back",
                k.next, k.submit, k.submit, k.activate, k.cancel
            ),
        ),
        Phase::Main => {
            let rows = message_rows(app, area.width, Some(app.tab.section()));
            let [head, body, status] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Min(5),
                Constraint::Length(height_of(&rows) + 1),
            ])
            .areas(area);
            draw_tabs(frame, app, head);
            let look = Look {
                theme: app.theme,
                keymap: &app.keymap,
                authority: &app.authority,
                time: &app.time,
                practice: app.screens.settings.practice(),
            };
            app.screen().draw(frame, body, &look);
            draw_status(frame, app, status, rows, Some(app.tab));
        }
    }
    for modal in &app.modals {
        draw_modal(frame, app, modal, area);
    }
}

/// The screens before login (setup, login, activation): a title line, one centred form, the
/// status line.
fn draw_gate(
    frame: &mut Frame<'_>,
    app: &App,
    title: String,
    form: &Form,
    width: u16,
    footer: &str,
) {
    let rows = message_rows(app, frame.area().width, None);
    let [head, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(height_of(&rows) + 1),
    ])
    .areas(frame.area());
    frame.render_widget(
        Paragraph::new(Span::styled(title, app.theme.heading())),
        head,
    );
    let body = match &app.warning {
        Some(w) => draw_banner(frame, app, body, w, form.height()),
        None => body,
    };
    let area = centered(body, body.width.min(width), form.height().min(body.height));
    form.draw(frame, area, app.theme, footer);
    draw_status(frame, app, status, rows, None);
}

/// What start-up found wrong, in a box at the top of `body` that leaves `keep` rows below it;
/// returns the rest of `body`.
fn draw_banner(frame: &mut Frame<'_>, app: &App, body: Rect, text: &str, keep: u16) -> Rect {
    let w = body.width.min(100);
    let inner = usize::from(w.saturating_sub(2));
    let mut lines = wrapped(&[text.to_string()], inner);
    let room = usize::from(body.height.saturating_sub(keep.saturating_add(1))).saturating_sub(2);
    if room == 0 {
        return body;
    }
    if lines.len() > room {
        lines.truncate(room);
        if let Some(last) = lines.last_mut() {
            *last = ellipsize("… more: `staffctl keymap check` lists them all", inner);
        }
    }
    let h = u16::try_from(lines.len() + 2).unwrap_or(body.height);
    let [top, rest] = Layout::vertical([Constraint::Length(h), Constraint::Min(0)]).areas(body);
    let [banner] = Layout::horizontal([Constraint::Length(w)])
        .flex(ratatui::layout::Flex::Center)
        .areas(top);
    let shown: Vec<Line<'_>> = lines
        .into_iter()
        .map(|l| Line::from(Span::styled(l, app.theme.error())))
        .collect();
    frame.render_widget(
        Paragraph::new(shown).block(Block::default().borders(Borders::ALL).title(Span::styled(
            " Problems in your keymap or config file ",
            app.theme.heading(),
        ))),
        banner,
    );
    rest
}

fn draw_tabs(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let theme = app.theme;
    let mut spans = Vec::new();
    // Narrow terminals get tighter tabs, leaving room for who is logged in where; there the
    // count of devices waiting for approval goes on their tab instead of in words.
    let narrow = area.width < 100;
    let waiting = app.screens.devices.waiting();
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let title = match tab {
            Tab::Devices if narrow && waiting > 0 => format!("{} ({waiting})", tab.title()),
            _ => tab.title().to_string(),
        };
        let text = if narrow {
            format!("{} {title}", i + 1)
        } else {
            format!(" {} {title} ", i + 1)
        };
        if narrow {
            spans.push(Span::raw(" "));
        }
        spans.push(if *tab == app.tab {
            Span::styled(text, theme.active_tab())
        } else {
            Span::raw(text)
        });
    }
    let who = app
        .session
        .as_ref()
        .map(|s| for_terminal(s.label()).into_owned())
        .unwrap_or_default();
    let practice = app
        .screens
        .settings
        .practice_name()
        .map(|p| for_terminal(p).into_owned())
        .unwrap_or_default();
    let badge = match waiting {
        0 => String::new(),
        1 => " 1 device waiting ".to_string(),
        n => format!(" {n} devices waiting "),
    };
    let badge = if narrow { String::new() } else { badge };
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let room = usize::from(area.width).saturating_sub(used + badge.chars().count());
    let full = format!(" {who} @ {practice} ");
    let right = if full.chars().count() <= room {
        full
    } else {
        format!(" {who} ")
    };
    let right = if right.chars().count() <= room {
        right
    } else {
        String::new()
    };
    spans.push(Span::raw(
        " ".repeat(room.saturating_sub(right.chars().count())),
    ));
    if !badge.is_empty() {
        spans.push(Span::styled(badge, theme.key()));
    }
    spans.push(Span::styled(right, theme.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Most rows a status message takes; a longer one ends saying how to read all of it.
const MESSAGE_ROWS: usize = 3;

fn height_of(rows: &[Line<'_>]) -> u16 {
    u16::try_from(rows.len()).unwrap_or(1)
}

/// The status message wrapped to `width`: at most [`MESSAGE_ROWS`] rows, the last of them
/// ending with the key that shows all of it (looked up in `section`) when it is longer.
fn message_rows(app: &App, width: u16, section: Option<Section>) -> Vec<Line<'static>> {
    let theme = app.theme;
    let (text, style, hang) = match &app.message {
        // Messages quoting a command's output may hold line breaks: they read as spaces.
        Some(Message::Info(m)) => (
            for_terminal(&m.replace('\n', " ")).into_owned(),
            theme.ok(),
            0,
        ),
        Some(Message::Error(m)) => (
            format!("! {}", for_terminal(&m.replace('\n', " "))),
            theme.error(),
            2,
        ),
        None => {
            return vec![Line::from(Span::styled(
                format!(" {}", app.backend.describe()),
                theme.dim(),
            ))];
        }
    };
    let width = usize::from(width).max(20);
    let mut rows = wrap_hanging(&text, width, hang);
    if rows.len() > MESSAGE_ROWS {
        rows.truncate(MESSAGE_ROWS);
        let more = match section.and_then(|s| {
            app.keymap
                .keys_for(s, Action::ShowMessage)
                .into_iter()
                .next()
        }) {
            Some(key) => format!(" … {key} shows all"),
            None => " …".to_string(),
        };
        if let Some(last) = rows.last_mut() {
            use unicode_width::UnicodeWidthStr;
            let room = width.saturating_sub(more.width());
            *last = format!("{}{more}", ellipsize(last, room).trim_end_matches('…'));
        }
    }
    rows.into_iter()
        .map(|r| Line::from(Span::styled(r, style)))
        .collect()
}

fn draw_status(
    frame: &mut Frame<'_>,
    app: &App,
    area: Rect,
    rows: Vec<Line<'static>>,
    tab: Option<Tab>,
) {
    let [msg, hints] =
        Layout::vertical([Constraint::Length(height_of(&rows)), Constraint::Length(1)]).areas(area);
    frame.render_widget(Paragraph::new(rows), msg);
    if let Some(tab) = tab {
        frame.render_widget(
            Paragraph::new(hint_line(
                app,
                tab.section(),
                app.screens.get(tab).hints(),
                hints.width,
            )),
            hints,
        );
    }
}

fn draw_modal(frame: &mut Frame<'_>, app: &App, modal: &Modal, area: Rect) {
    let theme = app.theme;
    match modal {
        Modal::Form { form, .. } => {
            let w = area.width.min(92);
            let h = form.height().min(area.height.saturating_sub(2)).max(5);
            let k = FormKeys::of(app);
            form.draw(
                frame,
                centered(area, w, h),
                theme,
                &format!(
                    "{} next  {} toggle  {} choose  {} save  {} cancel",
                    k.next, k.toggle, k.pick, k.submit, k.cancel
                ),
            );
        }
        Modal::Confirm { question, .. } => {
            let w = area.width.min(76);
            let title = &question.title;
            // The answers with the keys that give them.
            let key = |a: Action| app.keymap.key_or_name(Section::Confirm, a);
            let mut lines = question.lines.clone();
            lines.push(format!(
                "{}: {}   {}: {}",
                key(Action::ConfirmYes),
                question.yes,
                key(Action::ConfirmNo),
                question.no
            ));
            let text: Vec<Line<'_>> = wrapped(&lines, usize::from(w.saturating_sub(2)))
                .into_iter()
                .map(Line::from)
                .collect();
            let h = (height_of(&text) + 4).min(area.height);
            let r = centered(area, w, h);
            frame.render_widget(Clear, r);
            frame.render_widget(
                Paragraph::new(text).block(Block::default().borders(Borders::ALL).title(
                    Span::styled(format!(" {} ", for_terminal(title)), theme.heading()),
                )),
                r,
            );
        }
        Modal::Detail {
            title,
            lines,
            scroll,
        } => {
            // Short texts get a short window, so the status line stays in view.
            let w = area.width.saturating_sub(2).min(110);
            let lines = wrapped(lines, usize::from(w.saturating_sub(2)));
            let needed = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
            let r = centered(area, w, needed.min(area.height.saturating_sub(2)));
            draw_scrolling(frame, app, r, title, &lines, *scroll);
        }
        Modal::Help { scroll } => {
            let r = centered(
                area,
                area.width.saturating_sub(2).min(100),
                area.height.saturating_sub(2),
            );
            let section = app.tab.section();
            let width = usize::from(r.width.saturating_sub(2));
            let mut lines = vec![format!("Keymap: {}. Keys of this screen:", app.keymap.name)];
            for s in
                section
                    .chain()
                    .into_iter()
                    .chain([Section::Form, Section::Confirm, Section::Input])
            {
                for (keys, action) in app.keymap.section_bindings(s) {
                    let head = format!("  {keys:<12} {:<20} ", action.name());
                    lines.extend(wrap_entry(&head, &help_doc(app, action), width));
                }
            }
            lines.push(String::new());
            lines.push("Every action (run any of them from the palette with :)".into());
            for a in Action::ALL {
                let head = format!("  {:<20} ", a.name());
                lines.extend(wrap_entry(&head, &help_doc(app, *a), width));
            }
            lines.push(String::new());
            lines.push("Inside tmux, set `escape-time 10` so Esc responds at once.".into());
            let key = |a: Action| app.keymap.key_or_name(Section::List, a);
            draw_scrolling(
                frame,
                app,
                r,
                &format!(
                    "Help ({}/{} scroll, {} closes)",
                    key(Action::Up),
                    key(Action::Down),
                    key(Action::Back)
                ),
                &lines,
                *scroll,
            );
        }
        Modal::Palette { input, selected } => {
            let w = area.width.min(80);
            let r = Rect {
                y: area.y + 1,
                ..centered(area, w, area.height.saturating_sub(2).min(16))
            };
            frame.render_widget(Clear, r);
            let matches = palette_matches(input.value(), &app.authority);
            let sel = (*selected).min(matches.len().saturating_sub(1));
            let mut lines = vec![Line::from(vec![
                Span::styled(": ", theme.key()),
                Span::raw(format!("{}▏", for_terminal(input.value()))),
            ])];
            for (i, a) in matches
                .iter()
                .enumerate()
                .take(usize::from(r.height.saturating_sub(3)))
            {
                let text = format!("{:<20} {}", a.name(), a.doc());
                lines.push(Line::from(Span::styled(
                    text,
                    if i == sel {
                        theme.selected()
                    } else {
                        ratatui::style::Style::default()
                    },
                )));
            }
            frame.render_widget(
                Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(format!(
                    " Command palette ({} runs, {} closes) ",
                    app.keymap.key_or_name(Section::Input, Action::InputAccept),
                    app.keymap.key_or_name(Section::Input, Action::InputCancel)
                ))),
                r,
            );
        }
        Modal::Export(job) => {
            let r = centered(area, area.width.min(72), 7);
            frame.render_widget(Clear, r);
            let block = Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" Exporting the audit log ", theme.heading()));
            let inner = block.inner(r);
            frame.render_widget(block, r);
            let [path, gauge, status] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Length(1),
                Constraint::Length(2),
            ])
            .areas(inner);
            frame.render_widget(Paragraph::new(format!("to {}", job.path.display())), path);
            let written = job.written.load(Ordering::Relaxed);
            // The CSV header line is not an event.
            let events = written.saturating_sub(1).min(job.total.max(1));
            let ratio = match &job.done {
                Some(_) => 1.0,
                None => (events as f64 / job.total.max(1) as f64).clamp(0.0, 1.0),
            };
            frame.render_widget(
                Gauge::default()
                    .ratio(ratio)
                    .label(format!("{:.0}%", ratio * 100.0))
                    .gauge_style(theme.gauge()),
                gauge,
            );
            let close = app.keymap.key_or_name(Section::List, Action::Open);
            let text = match &job.done {
                None => Line::from("working... (you can keep this open)"),
                Some(Ok(n)) => Line::from(Span::styled(
                    format!("Done: {n} events written. {close} closes."),
                    theme.ok(),
                )),
                Some(Err(e)) => Line::from(Span::styled(
                    format!("Failed: {}. {close} closes.", for_terminal(e)),
                    theme.error(),
                )),
            };
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), status);
        }
    }
}

/// An action's description in help, marked when the operator's role does not allow it.
fn help_doc(app: &App, action: Action) -> String {
    match Authority::needs(action).filter(|_| !app.authority.allows(action)) {
        Some(key) => format!("[your role lacks {key}] {}", action.doc()),
        None => action.doc().to_string(),
    }
}

/// `head` followed by `text`, wrapped at word boundaries to `width` columns with continuation
/// lines indented under the text (or, when `head` leaves too little room, under `head`), so
/// that nothing is cut off in a narrow terminal.
fn wrap_entry(head: &str, text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let head_width = head.width();
    let indent = if width.saturating_sub(head_width) >= 24 {
        head_width
    } else {
        6
    };
    let room = width.saturating_sub(indent).max(10);
    let mut lines = Vec::new();
    let mut current = if indent == head_width {
        head.to_string()
    } else {
        // Too narrow for text beside the head: it starts on the next line.
        lines.push(head.trim_end().to_string());
        " ".repeat(indent)
    };
    let mut used = 0;
    for word in text.split_whitespace() {
        let w = word.width();
        if used > 0 && used + 1 + w > room {
            lines.push(current);
            current = " ".repeat(indent);
            used = 0;
        }
        if used > 0 {
            current.push(' ');
            used += 1;
        }
        current.push_str(word);
        used += w;
    }
    lines.push(current);
    lines
}

/// Lines of text sanitised and wrapped to `width` (a line break inside one starts a new line),
/// each continuing two columns in from where it starts, so nothing is cut off at the border.
fn wrapped(lines: &[String], width: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        for part in line.split('\n') {
            let clean = for_terminal(part);
            let lead = clean.len() - clean.trim_start_matches(' ').len();
            out.extend(wrap_hanging(&clean, width, lead + 2));
        }
    }
    out
}

fn draw_scrolling(
    frame: &mut Frame<'_>,
    app: &App,
    r: Rect,
    title: &str,
    lines: &[String],
    scroll: usize,
) {
    frame.render_widget(Clear, r);
    let height = usize::from(r.height.saturating_sub(2));
    let max_scroll = lines.len().saturating_sub(height);
    let top = scroll.min(max_scroll);
    let shown: Vec<Line<'_>> = lines
        .iter()
        .skip(top)
        .take(height)
        .map(|l| Line::from(for_terminal(l).into_owned()))
        .collect();
    let more = if max_scroll > 0 {
        format!(
            " [{}-{} of {}]",
            top + 1,
            (top + height).min(lines.len()),
            lines.len()
        )
    } else {
        String::new()
    };
    frame.render_widget(
        Paragraph::new(shown).block(Block::default().borders(Borders::ALL).title(Span::styled(
            format!(" {}{more} ", for_terminal(title)),
            app.theme.heading(),
        ))),
        r,
    );
}

#[cfg(test)]
mod tests {
    use super::wrap_entry;

    #[test]
    fn help_entries_wrap_instead_of_being_cut() {
        let head = format!("  {:<12} {:<20} ", "c", "user.access");
        let doc = "Edit which facilities the selected user may work at";
        // Wide enough: one line.
        assert_eq!(wrap_entry(&head, doc, 120), [format!("{head}{doc}")]);
        // 78 columns inside the 80-column frame: the rest goes on an indented line.
        let lines = wrap_entry(&head, doc, 78);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= 78), "{lines:?}");
        assert!(lines[1].starts_with(&" ".repeat(head.len())));
        let rejoined: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
        assert!(rejoined.join(" ").ends_with(doc));
        // Too narrow for text beside the head: it moves below it.
        let lines = wrap_entry(&head, doc, 40);
        assert_eq!(lines[0], head.trim_end());
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:?}");
    }
}
