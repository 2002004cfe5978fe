//! A form: labelled fields (text, secret, toggle, choice) with Tab/Shift-Tab focus, Space to
//! toggle, Left/Right to pick, and a validation message beside each field. What the user typed
//! stays in the form when saving fails.

use ratatui::Frame;
use ratatui::crossterm::event::{Event, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use crate::error::FieldError;
use crate::security::sanitize::for_terminal;
use crate::tui::action::Action;
use crate::tui::theme::Theme;
use crate::tui::widgets::wrap;

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// A section heading (not focusable).
    Heading,
    /// One line of text.
    Text,
    /// One line of hidden text (passwords).
    Secret,
    /// Yes/no.
    Toggle,
    /// One of several options: (value sent to the service, label shown).
    Choice(Vec<(String, String)>),
}

/// One field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Name matched against the service's field errors (`email`, `npi`).
    pub key: String,
    /// Label shown.
    pub label: String,
    /// Kind.
    pub kind: FieldKind,
    input: Input,
    checked: bool,
    choice: usize,
    initial: String,
    /// For a choice whose empty value means "not chosen yet": what to say when it is saved so.
    required: Option<String>,
    /// Validation message shown beside the field.
    pub error: Option<String>,
}

impl Field {
    fn new(key: &str, label: &str, kind: FieldKind) -> Self {
        Self {
            key: key.into(),
            label: label.into(),
            kind,
            input: Input::default(),
            checked: false,
            choice: 0,
            initial: String::new(),
            required: None,
            error: None,
        }
    }

    /// A section heading.
    pub fn heading(label: &str) -> Self {
        Self::new("", label, FieldKind::Heading)
    }

    /// A text field.
    pub fn text(key: &str, label: &str, value: &str) -> Self {
        let mut f = Self::new(key, label, FieldKind::Text);
        f.input = Input::new(value.to_string());
        f.initial = value.to_string();
        f
    }

    /// A hidden text field.
    pub fn secret(key: &str, label: &str) -> Self {
        Self::new(key, label, FieldKind::Secret)
    }

    /// A yes/no field.
    pub fn toggle(key: &str, label: &str, value: bool) -> Self {
        let mut f = Self::new(key, label, FieldKind::Toggle);
        f.checked = value;
        f.initial = f.value();
        f
    }

    /// A choice among options (value, label); `selected` is a value.
    pub fn choice(key: &str, label: &str, options: Vec<(String, String)>, selected: &str) -> Self {
        let choice = options.iter().position(|(v, _)| v == selected).unwrap_or(0);
        let mut f = Self::new(key, label, FieldKind::Choice(options));
        f.choice = choice;
        f.initial = f.value();
        f
    }

    /// Makes a choice required: saving while its empty option ("(choose)") is selected puts
    /// `message` beside it, which should say how to pick in the form.
    pub fn required(mut self, message: &str) -> Self {
        self.required = Some(message.to_string());
        self
    }

    /// The value as the service expects it (toggles as yes/no, choices as their value).
    pub fn value(&self) -> String {
        match &self.kind {
            FieldKind::Heading => String::new(),
            FieldKind::Text | FieldKind::Secret => self.input.value().to_string(),
            FieldKind::Toggle => if self.checked { "yes" } else { "no" }.to_string(),
            FieldKind::Choice(opts) => opts
                .get(self.choice)
                .map(|(v, _)| v.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether the value differs from the one the form opened with.
    pub fn changed(&self) -> bool {
        self.kind != FieldKind::Heading && self.value() != self.initial
    }

    fn focusable(&self) -> bool {
        self.kind != FieldKind::Heading
    }

    fn is_text(&self) -> bool {
        matches!(self.kind, FieldKind::Text | FieldKind::Secret)
    }

    fn cycle(&mut self, forward: bool) {
        match &self.kind {
            FieldKind::Toggle => self.checked = !self.checked,
            FieldKind::Choice(opts) if !opts.is_empty() => {
                let n = opts.len();
                self.choice = if forward {
                    (self.choice + 1) % n
                } else {
                    (self.choice + n - 1) % n
                };
            }
            _ => {}
        }
    }
}

/// What the form wants after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormOutcome {
    /// Keep editing.
    Continue,
    /// Save.
    Submit,
    /// Close (the caller asks first if [`Form::is_dirty`]).
    Cancel,
}

/// A form.
#[derive(Debug, Clone)]
pub struct Form {
    /// Title on the border.
    pub title: String,
    /// Fields in order.
    pub fields: Vec<Field>,
    focus: usize,
    /// A message about the whole form (e.g. a conflict not tied to one field).
    pub error: Option<String>,
}

impl Form {
    /// A form with the first focusable field focused.
    pub fn new(title: &str, fields: Vec<Field>) -> Self {
        let focus = fields.iter().position(Field::focusable).unwrap_or(0);
        Self {
            title: title.into(),
            fields,
            focus,
            error: None,
        }
    }

    /// The focused field.
    pub fn focused(&self) -> Option<&Field> {
        self.fields.get(self.focus)
    }

    /// Key of the focused field.
    pub fn focused_key(&self) -> &str {
        self.focused().map_or("", |f| f.key.as_str())
    }

    /// Whether the focus is on the last field that can take input.
    pub fn on_last_field(&self) -> bool {
        self.fields
            .iter()
            .rposition(Field::focusable)
            .is_none_or(|last| last == self.focus)
    }

    /// Whether typed characters go into the focused field.
    pub fn wants_text(&self) -> bool {
        self.focused().is_some_and(Field::is_text)
    }

    /// Whether anything differs from the opening values.
    pub fn is_dirty(&self) -> bool {
        self.fields.iter().any(Field::changed)
    }

    /// A field's value by key.
    pub fn value(&self, key: &str) -> String {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(Field::value)
            .unwrap_or_default()
    }

    /// (key, value) of every field.
    pub fn values(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter(|f| f.focusable())
            .map(|f| (f.key.clone(), f.value()))
            .collect()
    }

    /// (key, value) of the fields that changed.
    pub fn changed_values(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter(|f| f.changed())
            .map(|f| (f.key.clone(), f.value()))
            .collect()
    }

    /// A message for each required choice left without a selection.
    pub fn unpicked(&self) -> Vec<FieldError> {
        self.fields
            .iter()
            .filter_map(|f| match &f.required {
                Some(message) if f.value().is_empty() => Some(FieldError::new(&f.key, message)),
                _ => None,
            })
            .collect()
    }

    /// Moves focus to the field with `key`.
    pub fn focus_key(&mut self, key: &str) {
        if let Some(i) = self.fields.iter().position(|f| f.key == key) {
            self.focus = i;
        }
    }

    /// Shows validation messages beside their fields and focuses the first; messages for
    /// unknown fields go to the form-level message. Nothing typed is touched.
    pub fn set_errors(&mut self, errors: &[FieldError]) {
        self.clear_errors();
        let mut first = None;
        let mut unplaced = Vec::new();
        for e in errors {
            let key = e
                .field
                .strip_prefix("admin_")
                .filter(|k| self.fields.iter().any(|f| f.key == *k))
                .unwrap_or(&e.field);
            match self.fields.iter_mut().position(|f| f.key == key) {
                Some(i) => {
                    self.fields[i].error = Some(e.message.clone());
                    first = first.or(Some(i));
                }
                None => unplaced.push(e.message.clone()),
            }
        }
        if let Some(i) = first {
            self.focus = i;
        }
        if !unplaced.is_empty() {
            self.error = Some(unplaced.join("; "));
        }
    }

    /// Empties every secret field (after a failed login).
    pub fn clear_password(&mut self) {
        for f in &mut self.fields {
            if f.kind == FieldKind::Secret {
                f.input.reset();
            }
        }
        if let Some(i) = self.fields.iter().position(|f| f.kind == FieldKind::Secret) {
            self.focus = i;
        }
    }

    /// Removes every message.
    pub fn clear_errors(&mut self) {
        self.error = None;
        for f in &mut self.fields {
            f.error = None;
        }
    }

    fn move_focus(&mut self, forward: bool) {
        let n = self.fields.len();
        if n == 0 {
            return;
        }
        let mut i = self.focus;
        for _ in 0..n {
            i = if forward {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            if self.fields[i].focusable() {
                self.focus = i;
                return;
            }
        }
    }

    /// Handles a key. `action` is the key's binding in the form section, if any; keys with no
    /// action for the focused field (letters, and in a text field the choice keys too, so the
    /// arrows move the cursor) edit the focused text field.
    pub fn handle(&mut self, action: Option<Action>, key: &KeyEvent) -> FormOutcome {
        let picks = !self.wants_text();
        match action {
            Some(Action::FormNext) => self.move_focus(true),
            Some(Action::FormPrev) => self.move_focus(false),
            Some(Action::FormSubmit) => return FormOutcome::Submit,
            Some(Action::FormCancel) => return FormOutcome::Cancel,
            Some(Action::FormToggle | Action::FormChoiceNext) if picks => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    f.cycle(true);
                }
            }
            Some(Action::FormChoicePrev) if picks => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    f.cycle(false);
                }
            }
            _ => {
                if let Some(f) = self.fields.get_mut(self.focus).filter(|f| f.is_text())
                    && let Some(req) = to_input_request(&Event::Key(*key))
                {
                    f.input.handle(req);
                    f.error = None;
                }
            }
        }
        FormOutcome::Continue
    }

    /// Pastes text into the focused text field.
    pub fn paste(&mut self, text: &str) {
        if let Some(f) = self.fields.get_mut(self.focus).filter(|f| f.is_text()) {
            for c in text.chars().filter(|c| !c.is_control()) {
                f.input.handle(tui_input::InputRequest::InsertChar(c));
            }
        }
    }

    /// Rows the form needs (fields, error lines, borders, footer).
    pub fn height(&self) -> u16 {
        // Messages wrap; budget for ~50 characters a line (the narrowest value column).
        let err_rows = |e: &Option<String>| e.as_ref().map_or(0, |e| e.chars().count() / 50 + 1);
        let rows: usize = self.fields.iter().map(|f| 1 + err_rows(&f.error)).sum();
        u16::try_from(rows + 3 + err_rows(&self.error)).unwrap_or(u16::MAX)
    }

    /// Draws the form in `area` (clearing it first), scrolled so the focused field shows.
    pub fn draw(&self, frame: &mut Frame<'_>, area: Rect, theme: Theme, footer: &str) {
        frame.render_widget(Clear, area);
        let block = Block::default().borders(Borders::ALL).title(Span::styled(
            format!(" {} ", for_terminal(&self.title)),
            theme.heading(),
        ));
        let inner = block.inner(area);
        let label_w = self
            .fields
            .iter()
            .filter(|f| f.kind != FieldKind::Heading)
            .map(|f| for_terminal(&f.label).chars().count())
            .max()
            .unwrap_or(10)
            .min(24)
            + 1;
        let value_w = usize::from(inner.width).saturating_sub(label_w + 3).max(8);
        let mut lines: Vec<Line<'_>> = Vec::new();
        let mut focus_line = 0;
        let mut focus_end = 0;
        if let Some(e) = &self.error {
            for part in wrap(
                &format!("! {}", for_terminal(e)),
                usize::from(inner.width).max(20),
            ) {
                lines.push(Line::from(Span::styled(part, theme.error())));
            }
        }
        let mut cursor = None;
        for (i, f) in self.fields.iter().enumerate() {
            let focused = i == self.focus;
            if focused {
                focus_line = lines.len();
            }
            if f.kind == FieldKind::Heading {
                lines.push(Line::from(Span::styled(
                    for_terminal(&f.label).into_owned(),
                    theme.heading(),
                )));
                continue;
            }
            let marker = if focused { "›" } else { " " };
            let label = format!("{marker}{:>w$} ", for_terminal(&f.label), w = label_w);
            let (shown, style) = match &f.kind {
                FieldKind::Text | FieldKind::Secret => {
                    let scroll = f.input.visual_scroll(value_w.saturating_sub(1));
                    let raw: String = if f.kind == FieldKind::Secret {
                        "•".repeat(f.input.value().chars().count())
                    } else {
                        for_terminal(f.input.value()).into_owned()
                    };
                    let visible: String = raw.chars().skip(scroll).take(value_w).collect();
                    if focused {
                        let x = inner.x
                            + u16::try_from(
                                label.chars().count()
                                    + f.input.visual_cursor().saturating_sub(scroll),
                            )
                            .unwrap_or(0);
                        cursor = Some((x, lines.len()));
                    }
                    let padded = format!("{visible:<value_w$}");
                    (
                        padded,
                        if focused {
                            theme.selected()
                        } else {
                            ratatui::style::Style::default()
                                .add_modifier(ratatui::style::Modifier::UNDERLINED)
                        },
                    )
                }
                FieldKind::Toggle => (
                    if f.checked {
                        "[x] yes".to_string()
                    } else {
                        "[ ] no".to_string()
                    },
                    if focused {
                        theme.selected()
                    } else {
                        ratatui::style::Style::default()
                    },
                ),
                FieldKind::Choice(opts) => {
                    let label = opts
                        .get(f.choice)
                        .map(|(_, l)| for_terminal(l).into_owned())
                        .unwrap_or_default();
                    (
                        format!("◀ {label} ▶"),
                        if focused {
                            theme.selected()
                        } else {
                            ratatui::style::Style::default()
                        },
                    )
                }
                FieldKind::Heading => (String::new(), ratatui::style::Style::default()),
            };
            lines.push(Line::from(vec![
                Span::styled(
                    label,
                    if focused {
                        theme.heading()
                    } else {
                        theme.dim()
                    },
                ),
                Span::styled(shown, style),
            ]));
            if focused {
                focus_end = lines.len();
            }
            if let Some(e) = &f.error {
                for (n, part) in wrap(&format!("! {}", for_terminal(e)), value_w.max(20))
                    .into_iter()
                    .enumerate()
                {
                    let indent = if n == 0 { label_w + 2 } else { label_w + 4 };
                    lines.push(Line::from(vec![
                        Span::raw(" ".repeat(indent)),
                        Span::styled(part, theme.error()),
                    ]));
                }
                if focused {
                    focus_end = lines.len();
                }
            }
        }
        let body_h = usize::from(inner.height.saturating_sub(1));
        // Scroll just enough that the focused field and its message are visible.
        let top = focus_end.saturating_sub(body_h).min(focus_line);
        // Say so when fields are out of view, on the frame's bottom edge.
        let more = match (top > 0, top + body_h < lines.len()) {
            (true, true) => Some(" ▲▼ more fields above and below "),
            (true, false) => Some(" ▲ more fields above "),
            (false, true) => Some(" ▼ more fields below "),
            (false, false) => None,
        };
        let block = match more {
            Some(text) => {
                block.title_bottom(Line::from(Span::styled(text, theme.key())).right_aligned())
            }
            None => block,
        };
        frame.render_widget(block, area);
        let visible: Vec<Line<'_>> = lines.into_iter().skip(top).take(body_h).collect();
        let body = Rect {
            height: inner.height.saturating_sub(1),
            ..inner
        };
        frame.render_widget(Paragraph::new(visible), body);
        let foot = Rect {
            y: inner.y + inner.height.saturating_sub(1),
            height: 1.min(inner.height),
            ..inner
        };
        frame.render_widget(
            Paragraph::new(Span::styled(footer.to_string(), theme.dim())),
            foot,
        );
        if let Some((x, line)) = cursor
            && line >= top
            && line - top < body_h
        {
            let y = inner.y + u16::try_from(line - top).unwrap_or(0);
            frame.set_cursor_position((x.min(inner.x + inner.width.saturating_sub(1)), y));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyEventKind, KeyEventState, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    /// The form drawn in a `width` x `height` terminal, as text.
    fn drawn(form: &Form, width: u16, height: u16) -> String {
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| {
                form.draw(
                    frame,
                    frame.area(),
                    crate::tui::theme::Theme { mono: true },
                    "Tab next",
                )
            })
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_form_taller_than_its_frame_says_where_more_fields_are() {
        let fields: Vec<Field> = (0..12)
            .map(|i| Field::text(&format!("f{i}"), &format!("Field {i}"), ""))
            .collect();
        let mut f = Form::new("Long", fields);
        let screen = drawn(&f, 40, 8);
        assert!(screen.contains("▼ more fields below"), "{screen}");
        for _ in 0..11 {
            f.handle(Some(Action::FormNext), &key(KeyCode::Tab));
        }
        let screen = drawn(&f, 40, 8);
        assert!(screen.contains("▲ more fields above"), "{screen}");
        assert!(screen.contains("Field 11"), "{screen}");
        for _ in 0..5 {
            f.handle(Some(Action::FormPrev), &key(KeyCode::BackTab));
        }
        assert!(drawn(&f, 40, 8).contains("▲▼"));
        // Everything fits: no marker.
        assert!(!drawn(&f, 40, 20).contains("more fields"));
    }

    #[test]
    fn typing_focus_toggles_and_errors() {
        let mut f = Form::new(
            "t",
            vec![
                Field::heading("Identity"),
                Field::text("npi", "NPI", ""),
                Field::toggle("admin", "Administrator", false),
                Field::choice(
                    "billing",
                    "Billing",
                    vec![
                        ("none".into(), "None".into()),
                        ("provider".into(), "Provider".into()),
                    ],
                    "none",
                ),
            ],
        );
        assert_eq!(f.focused_key(), "npi");
        for c in "123".chars() {
            f.handle(None, &key(KeyCode::Char(c)));
        }
        assert_eq!(f.value("npi"), "123");
        f.handle(Some(Action::FormNext), &key(KeyCode::Tab));
        f.handle(Some(Action::FormToggle), &key(KeyCode::Char(' ')));
        assert_eq!(f.value("admin"), "yes");
        f.handle(Some(Action::FormNext), &key(KeyCode::Tab));
        f.handle(Some(Action::FormChoiceNext), &key(KeyCode::Right));
        assert_eq!(f.value("billing"), "provider");
        f.handle(Some(Action::FormChoicePrev), &key(KeyCode::Left));
        assert_eq!(f.value("billing"), "none");
        // Unbound keys pick nothing.
        f.handle(None, &key(KeyCode::Right));
        assert_eq!(f.value("billing"), "none");
        f.handle(Some(Action::FormChoiceNext), &key(KeyCode::Right));
        assert!(f.is_dirty());
        f.set_errors(&[
            FieldError::new("npi", "bad"),
            FieldError::new("other", "whole form"),
        ]);
        assert_eq!(f.focused_key(), "npi");
        assert_eq!(f.value("npi"), "123", "nothing typed is lost");
        assert_eq!(f.error.as_deref(), Some("whole form"));
        // Space in a text field is text, not a toggle.
        f.handle(Some(Action::FormToggle), &key(KeyCode::Char(' ')));
        assert_eq!(f.value("npi"), "123 ");
        assert_eq!(
            f.handle(Some(Action::FormCancel), &key(KeyCode::Esc)),
            FormOutcome::Cancel
        );
    }
}
