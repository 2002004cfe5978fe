//! Keys and pasted text: a key becomes an action through the keymap, or goes to whatever
//! holds the focus (a form field, the `/` filter, a confirmation, the palette).

use super::*;

impl App {
    /// Handles pasted text (into the focused text field only).
    pub fn on_paste(&mut self, text: &str) {
        match (&mut self.phase, self.modals.last_mut()) {
            (Phase::Setup(form) | Phase::Login { form, .. }, _)
            | (Phase::Main, Some(Modal::Form { form, .. })) => form.paste(text),
            _ => {}
        }
    }

    /// Handles one key press.
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind != KeyEventKind::Press {
            return;
        }
        self.last_input = self.clock.now();
        let Some(chord) = Chord::from_event(&key) else {
            return;
        };
        // Ctrl-C always quits (asking first when input would be lost).
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.update(Action::Quit);
            return;
        }
        match &self.phase {
            Phase::Setup(_) | Phase::Login { .. } | Phase::Activate(_) => {
                self.on_gate_key(chord, &key)
            }
            Phase::Main => self.on_main_key(chord, &key),
        }
    }

    pub(super) fn form_action(&self, chord: Chord, wants_text: bool) -> Option<Action> {
        if wants_text && chord.is_printable() {
            return None;
        }
        match self.keymap.lookup(Section::Form, &[chord]) {
            Lookup::Action(a)
                if a.name().starts_with("form.")
                    || a == Action::Quit
                    || a == Action::Help
                    || a == Action::Activate =>
            {
                Some(a)
            }
            _ => None,
        }
    }

    fn on_main_key(&mut self, chord: Chord, key: &KeyEvent) {
        // The lock works over every window and while the filter is typed into: its key never
        // types text there.
        if (!self.modals.is_empty() || self.current_filtering())
            && !chord.is_printable()
            && self.keymap.lookup(self.section(), &[chord]) == Lookup::Action(Action::Lock)
        {
            self.pending.clear();
            self.update(Action::Lock);
            return;
        }
        if let Some(top) = self.modals.last() {
            match top {
                Modal::Form { .. } => self.on_form_key(chord, key),
                Modal::Confirm { .. } => self.on_confirm_key(chord),
                Modal::Palette { .. } => self.on_palette_key(chord, key),
                Modal::Export(job) => {
                    // A finished export's window closes like a detail window.
                    let done = job.done.is_some();
                    if done
                        && matches!(
                            self.lookup(chord, Section::List),
                            Some(Action::Back | Action::Open)
                        )
                    {
                        self.modals.pop();
                    }
                }
                Modal::Detail { .. } | Modal::Help { .. } => {
                    if let Some(a) = self.lookup(chord, Section::List) {
                        self.update(a);
                    }
                }
            }
            return;
        }
        if self.current_filtering() {
            self.on_filter_key(chord, key);
            self.sync_user_detail();
            return;
        }
        if let Some(a) = self.lookup(chord, self.tab.section()) {
            self.update(a);
        }
    }

    /// Resolves a chord (with any pending sequence) to an action.
    fn lookup(&mut self, chord: Chord, section: Section) -> Option<Action> {
        self.pending.push(chord);
        match self.keymap.lookup(section, &self.pending) {
            Lookup::Action(a) => {
                self.pending.clear();
                Some(a)
            }
            Lookup::Pending => None,
            Lookup::None => {
                // An unfinished sequence followed by an unrelated key: try the key alone.
                let retry = self.pending.len() > 1;
                self.pending.clear();
                if retry {
                    self.lookup(chord, section)
                } else {
                    None
                }
            }
        }
    }

    fn current_filtering(&self) -> bool {
        match self.tab {
            Tab::Users => self.screens.users.filtering(),
            _ => false,
        }
    }

    /// The action of a key in a one-line input (the `/` filter, the palette): printable keys
    /// type, others are looked up in the input section.
    fn input_action(&self, chord: Chord) -> Option<Action> {
        if chord.is_printable() {
            return None;
        }
        match self.keymap.lookup(Section::Input, &[chord]) {
            Lookup::Action(a) => Some(a),
            _ => None,
        }
    }

    fn on_filter_key(&mut self, chord: Chord, key: &KeyEvent) {
        match self.input_action(chord) {
            Some(Action::InputAccept) => self.screens.users.end_filter(true),
            Some(Action::InputCancel) => self.screens.users.end_filter(false),
            Some(Action::InputNext) => self.screens.users.move_selection(Action::Down),
            Some(Action::InputPrev) => self.screens.users.move_selection(Action::Up),
            Some(a @ (Action::Quit | Action::Help)) => self.update(a),
            _ => {
                if let Some(req) = to_input_request(&ratatui::crossterm::event::Event::Key(*key)) {
                    self.screens.users.edit_filter(req);
                }
            }
        }
    }

    fn on_form_key(&mut self, chord: Chord, key: &KeyEvent) {
        let wants_text =
            matches!(self.modals.last(), Some(Modal::Form { form, .. }) if form.wants_text());
        let action = self.form_action(chord, wants_text);
        if let Some(a @ (Action::Quit | Action::Help)) = action {
            self.update(a);
            return;
        }
        let Some(Modal::Form { form, .. }) = self.modals.last_mut() else {
            return;
        };
        match form.handle(action, key) {
            FormOutcome::Continue => {}
            FormOutcome::Cancel => {
                if form.is_dirty() {
                    self.modals.push(Modal::Confirm {
                        question: Question::new(
                            "Discard changes?",
                            vec!["This form has unsaved input.".into()],
                            "discard it",
                            "keep editing",
                        ),
                        then: Pending::DiscardForm,
                    });
                } else {
                    self.modals.pop();
                }
            }
            FormOutcome::Submit => self.submit_form(),
        }
    }

    pub(super) fn on_confirm_key(&mut self, chord: Chord) {
        let action = match self.keymap.lookup(Section::Confirm, &[chord]) {
            Lookup::Action(a) => Some(a),
            _ => None,
        };
        match action {
            Some(Action::ConfirmYes) => {
                let Some(Modal::Confirm { then, .. }) = self.modals.pop() else {
                    return;
                };
                match then {
                    Pending::Quit => self.quit = true,
                    Pending::DiscardForm => {
                        self.modals.pop();
                    }
                    Pending::Call(request, success) => self.perform(*request, &success),
                }
            }
            Some(Action::ConfirmNo) => {
                self.modals.pop();
            }
            _ => {}
        }
    }

    fn on_palette_key(&mut self, chord: Chord, key: &KeyEvent) {
        let action = self.input_action(chord);
        let Some(Modal::Palette { input, selected }) = self.modals.last_mut() else {
            return;
        };
        match action {
            Some(Action::InputCancel) => {
                self.modals.pop();
            }
            Some(Action::InputNext) => *selected += 1,
            Some(Action::InputPrev) => *selected = selected.saturating_sub(1),
            Some(Action::InputAccept) => {
                let matches = palette_matches(input.value(), &self.authority);
                let chosen = matches
                    .get((*selected).min(matches.len().saturating_sub(1)))
                    .copied();
                self.modals.pop();
                if let Some(a) = chosen {
                    self.update(a);
                }
            }
            _ => {
                if let Some(req) = to_input_request(&ratatui::crossterm::event::Event::Key(*key)) {
                    input.handle(req);
                    *selected = 0;
                }
            }
        }
    }
}
