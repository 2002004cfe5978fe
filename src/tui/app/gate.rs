//! The screens before login: the first-run wizard, the login form and activating an invited
//! account.

use super::*;

impl App {
    pub(super) fn on_gate_key(&mut self, chord: Chord, key: &KeyEvent) {
        let wants_text = match &self.phase {
            Phase::Setup(f) | Phase::Login { form: f, .. } | Phase::Activate(f) => f.wants_text(),
            Phase::Main => false,
        };
        let action = self.form_action(chord, wants_text);
        if let Some(top) = self.modals.last() {
            // Only the quit confirmation can sit over the gate.
            if matches!(top, Modal::Confirm { .. }) {
                self.on_confirm_key(chord);
            }
            return;
        }
        if action == Some(Action::Quit) {
            self.update(Action::Quit);
            return;
        }
        if action == Some(Action::Activate) {
            self.toggle_activation();
            return;
        }
        // In the wizard and at login, the plain submit key (Enter) walks through the fields and
        // submits on the last; a chord (Ctrl-S) submits at once.
        let on_last = match &self.phase {
            Phase::Setup(f) | Phase::Login { form: f, .. } | Phase::Activate(f) => {
                f.on_last_field()
            }
            Phase::Main => true,
        };
        let action = if action == Some(Action::FormSubmit) && !on_last && !chord.has_modifier() {
            Some(Action::FormNext)
        } else {
            action
        };
        let outcome = match &mut self.phase {
            Phase::Setup(form) => form.handle(action, key),
            Phase::Login {
                form,
                checking: false,
                ..
            } => form.handle(action, key),
            Phase::Activate(form) => form.handle(action, key),
            _ => return,
        };
        match outcome {
            FormOutcome::Continue => {}
            FormOutcome::Cancel if matches!(self.phase, Phase::Activate(_)) => {
                self.toggle_activation()
            }
            FormOutcome::Cancel => self.update(Action::Quit),
            FormOutcome::Submit => self.submit_gate(),
        }
    }

    /// Switches between the login screen and activating an invited account.
    fn toggle_activation(&mut self) {
        self.phase = match &self.phase {
            Phase::Login {
                form,
                checking: false,
                ..
            } => Phase::Activate(forms::activation(&form.value("login"), &self.keymap)),
            Phase::Activate(form) => Phase::Login {
                form: forms::login(&form.value("login"), self.locked.is_some()),
                checking: false,
            },
            _ => return,
        };
    }

    fn submit_gate(&mut self) {
        match &mut self.phase {
            Phase::Activate(form) => {
                form.clear_errors();
                let login = form.value("login");
                if form.value("password") != form.value("password_repeat") {
                    form.set_errors(&[crate::error::FieldError::new(
                        "password_repeat",
                        "the two passwords differ",
                    )]);
                    return;
                }
                match self.backend.activate(
                    &login,
                    &form.value("code"),
                    &form.value("password"),
                    &Origin::current(),
                ) {
                    Ok(()) => {
                        self.phase = Phase::Login {
                            form: forms::login(login.trim(), self.locked.is_some()),
                            checking: false,
                        };
                        self.info("Your account is active. Log in with your new password.");
                    }
                    Err(Error::Invalid(errs)) => {
                        form.set_errors(&messages::field_errors(&errs, &self.keymap))
                    }
                    Err(e) => {
                        form.error = Some(messages::for_interface(&e.to_string(), &self.keymap))
                    }
                }
            }
            Phase::Setup(form) => {
                form.clear_errors();
                match forms::setup_request(form) {
                    Err(errs) => form.set_errors(&errs),
                    Ok(req) => match self.backend.init(&req, &Origin::current()) {
                        Ok(_) => {
                            let user = req.admin_username.to_lowercase();
                            self.phase = Phase::Login {
                                form: forms::login(&user, false),
                                checking: false,
                            };
                            self.info(format!("Practice created. Log in as {user}."));
                        }
                        Err(Error::Invalid(errs)) => {
                            form.set_errors(&messages::field_errors(&errs, &self.keymap))
                        }
                        Err(e) => {
                            form.error = Some(messages::for_interface(&e.to_string(), &self.keymap))
                        }
                    },
                }
            }
            Phase::Login { form, checking, .. } => {
                form.clear_errors();
                let user = form.value("login");
                let password = form.value("password");
                if user.trim().is_empty() {
                    form.set_errors(&[crate::error::FieldError::new(
                        "login",
                        "type your username or email",
                    )]);
                    return;
                }
                *checking = true;
                let backend = Arc::clone(&self.backend);
                let tx = self.jobs_tx.clone();
                std::thread::spawn(move || {
                    // Who logged in, and what they may do, is asked at once: a role without
                    // staffctl permissions is refused here, not inside the interface.
                    let result =
                        backend
                            .login(&user, &password, &Origin::current())
                            .map(|session| {
                                let who = backend.call(&session, Request::WhoAmI);
                                (session, who)
                            });
                    let _ = tx.send(Job::Login(result));
                });
            }
            Phase::Main => {}
        }
    }
}
