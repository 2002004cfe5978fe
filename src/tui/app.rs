//! Application state and the update function: keys become actions, actions change state.
//! Drawing lives in `ui`; service calls go through [`Ctx`].

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::action::Action;
use super::forms::{self, Purpose};
use super::keymap::{Chord, Keymap, Lookup, Section};
use super::screens::{
    Effect, audit::AuditScreen, devices::DevicesScreen, facilities::FacilitiesScreen,
    invites::InvitesScreen, roles::RolesScreen, settings::SettingsScreen, users::UsersScreen,
};
use super::theme::Theme;
use super::widgets::form::{Form, FormOutcome};
use crate::error::{Error, Result};
use crate::remote::backend::Backend;
use crate::service::{
    AuditQuery, ExportFormat, Origin, Request, Response, Service, Session, VerifyReport,
};

/// The tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Staff users.
    Users,
    /// Roles and permissions.
    Roles,
    /// Facilities.
    Facilities,
    /// Invitations.
    Invites,
    /// Device approvals.
    Devices,
    /// Audit log.
    Audit,
    /// Practice settings.
    Settings,
}

impl Tab {
    /// Every tab in order.
    pub const ALL: [Tab; 7] = [
        Tab::Users,
        Tab::Roles,
        Tab::Facilities,
        Tab::Invites,
        Tab::Devices,
        Tab::Audit,
        Tab::Settings,
    ];

    /// Title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Users => "Users",
            Self::Roles => "Roles",
            Self::Facilities => "Facilities",
            Self::Invites => "Invites",
            Self::Devices => "Devices",
            Self::Audit => "Audit",
            Self::Settings => "Settings",
        }
    }

    /// Keymap section.
    pub fn section(self) -> Section {
        match self {
            Self::Users => Section::Users,
            Self::Roles => Section::Roles,
            Self::Facilities => Section::Facilities,
            Self::Invites => Section::Invites,
            Self::Devices => Section::Devices,
            Self::Audit => Section::Audit,
            Self::Settings => Section::Settings,
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// Where the user is.
#[derive(Debug, Clone)]
pub enum Phase {
    /// First run: create the practice and the first administrator.
    Setup(Form),
    /// Log in (also after the idle lock). `checking` while argon2 runs.
    Login {
        /// Username and password.
        form: Form,
        /// A login check is running.
        checking: bool,
        /// Locked session's user id: the same user keeps their screens.
        locked_user: Option<u64>,
    },
    /// Activating an invited account from the login screen.
    Activate(Form),
    /// Logged in.
    Main,
}

/// What to do when a confirmation is accepted.
#[derive(Debug, Clone)]
pub enum Pending {
    /// Send this request; show `success` when it works.
    Call(Box<Request>, String),
    /// Close the form under the confirmation, dropping its input.
    DiscardForm,
    /// Quit.
    Quit,
}

/// A running or finished export.
#[derive(Debug, Clone)]
pub struct ExportJob {
    /// Destination.
    pub path: PathBuf,
    /// Events written so far.
    pub written: Arc<AtomicU64>,
    /// Events in the log when it started (for the progress bar).
    pub total: u64,
    /// Result when finished.
    pub done: Option<std::result::Result<u64, String>>,
}

/// Something drawn over the screen; modals stack.
#[derive(Debug, Clone)]
pub enum Modal {
    /// A form.
    Form {
        /// The form.
        form: Form,
        /// What saving does.
        purpose: Purpose,
    },
    /// A yes/no question.
    Confirm {
        /// Title.
        title: String,
        /// What will happen (and what is kept).
        lines: Vec<String>,
        /// On yes.
        then: Pending,
    },
    /// Read-only text (user details, event details, facility access).
    Detail {
        /// Title.
        title: String,
        /// Lines (already sanitised).
        lines: Vec<String>,
        /// First visible line.
        scroll: usize,
    },
    /// Help generated from the keymap.
    Help {
        /// First visible line.
        scroll: usize,
    },
    /// Command palette.
    Palette {
        /// Typed text.
        input: Input,
        /// Selected match.
        selected: usize,
    },
    /// Export progress.
    Export(ExportJob),
}

/// A message in the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Something worked.
    Info(String),
    /// Something failed.
    Error(String),
}

/// Results of background work.
enum Job {
    Login(std::result::Result<Session, Error>),
    /// A user list loaded in the background: (generation, result).
    Users(u64, std::result::Result<Response, Error>),
    Verify(std::result::Result<VerifyReport, Error>),
    Export(std::result::Result<u64, Error>),
}

/// Service access for screens.
pub struct Ctx<'a> {
    /// The service.
    pub backend: &'a Backend,
    /// The logged-in operator.
    pub session: &'a Session,
}

impl Ctx<'_> {
    /// Sends a request.
    pub fn call(&self, request: Request) -> Result<Response> {
        self.backend.call(self.session, request)
    }
}

/// The whole interface state.
pub struct App {
    /// The store, in this process or through `staffctl serve`.
    pub backend: Arc<Backend>,
    /// The operator, once logged in.
    pub session: Option<Session>,
    /// Setup, login or main.
    pub phase: Phase,
    /// Current tab.
    pub tab: Tab,
    /// Users tab.
    pub users: UsersScreen,
    /// Roles tab.
    pub roles: RolesScreen,
    /// Facilities tab.
    pub facilities: FacilitiesScreen,
    /// Invites tab.
    pub invites: InvitesScreen,
    /// Devices tab.
    pub devices: DevicesScreen,
    /// Audit tab.
    pub audit: AuditScreen,
    /// Settings tab.
    pub settings: SettingsScreen,
    /// Modal stack (top is last).
    pub modals: Vec<Modal>,
    /// Status line message.
    pub message: Option<Message>,
    /// Key bindings.
    pub keymap: Keymap,
    /// Styles.
    pub theme: Theme,
    /// Keys of an unfinished sequence (`g` of `g g`).
    pub pending: Vec<Chord>,
    /// Set to leave the event loop.
    pub quit: bool,
    last_input: Instant,
    idle_timeout: Duration,
    /// Newest audit sequence number seen; a change means someone else saved something.
    seen_head: u64,

    last_live_check: Instant,
    jobs_tx: Sender<Job>,
    jobs_rx: Receiver<Job>,
}

impl App {
    /// A new interface on a store opened in this process.
    pub fn new(svc: Arc<Service>, keymap: Keymap, theme: Theme) -> Result<Self> {
        Self::with_backend(Arc::new(Backend::Local(svc)), keymap, theme)
    }

    /// A new interface on `backend`: setup wizard on an empty store, else the login screen.
    pub fn with_backend(backend: Arc<Backend>, keymap: Keymap, theme: Theme) -> Result<Self> {
        let phase = if backend.is_initialised()? {
            Phase::Login {
                form: forms::login(""),
                checking: false,
                locked_user: None,
            }
        } else {
            Phase::Setup(forms::setup())
        };
        let (jobs_tx, jobs_rx) = channel();
        Ok(Self {
            backend,
            session: None,
            phase,
            tab: Tab::Users,
            users: UsersScreen::default(),
            roles: RolesScreen::default(),
            facilities: FacilitiesScreen::default(),
            invites: InvitesScreen::default(),
            devices: DevicesScreen::default(),
            audit: AuditScreen::default(),
            settings: SettingsScreen::default(),
            modals: Vec::new(),
            message: None,
            keymap,
            theme,
            pending: Vec::new(),
            quit: false,
            last_input: Instant::now(),
            idle_timeout: Duration::from_secs(15 * 60),
            seen_head: 0,

            last_live_check: Instant::now(),
            jobs_tx,
            jobs_rx,
        })
    }

    /// Logs in synchronously (demo and tests).
    pub fn login_now(&mut self, user: &str, password: &str) -> Result<()> {
        let session = self.backend.login(user, password, &Origin::current())?;
        self.enter_main(session);
        Ok(())
    }

    fn enter_main(&mut self, session: Session) {
        let same_user = matches!(&self.phase, Phase::Login { locked_user: Some(id), .. } if *id == session.user_id());
        if let Ok(p) = self.backend.call(&session, Request::PracticeShow)
            && let Response::Practice(p) = p
        {
            self.idle_timeout = Duration::from_secs(u64::from(p.idle_timeout_minutes) * 60);
        }
        self.session = Some(session);
        self.phase = Phase::Main;
        self.message = None;
        self.last_input = Instant::now();
        if !same_user {
            self.tab = Tab::Users;
            self.users = UsersScreen::default();
            self.roles = RolesScreen::default();
            self.facilities = FacilitiesScreen::default();
            self.invites = InvitesScreen::default();
            self.devices = DevicesScreen::default();
            self.audit = AuditScreen::default();
            self.settings = SettingsScreen::default();
            self.modals.clear();
        }
        self.refresh_all();
        // The chain is verified when the Audit tab is first shown (it reads every event, which
        // would slow the first frame on a large log).
        self.verify_if_on_audit();
    }

    /// Starts verifying the audit chain if the Audit tab is showing and it has not been checked.
    fn verify_if_on_audit(&mut self) {
        if self.tab == Tab::Audit && self.audit.verify.is_none() && !self.audit.verifying {
            self.start_verify();
        }
    }

    /// The keymap section for the current state.
    pub fn section(&self) -> Section {
        match (&self.phase, self.modals.last()) {
            (Phase::Main, None) => self.tab.section(),
            (Phase::Main, Some(Modal::Detail { .. } | Modal::Help { .. })) => Section::List,
            _ => Section::Form,
        }
    }

    fn ctx(&self) -> Option<Ctx<'_>> {
        self.session.as_ref().map(|session| Ctx {
            backend: &self.backend,
            session,
        })
    }

    /// Reloads every tab from the service.
    pub fn refresh_all(&mut self) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let ctx = Ctx {
            backend: &self.backend,
            session: &session,
        };
        let errors: Vec<String> = [
            self.users.refresh_choices(&ctx),
            self.roles.refresh(&ctx),
            self.facilities.refresh(&ctx),
            self.invites.refresh(&ctx),
            self.devices.refresh(&ctx),
            self.audit.refresh(&ctx),
            self.settings.refresh(&ctx),
        ]
        .into_iter()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect();
        if let Some(e) = errors.first() {
            self.message = Some(Message::Error(e.clone()));
        }
        self.seen_head = self.audit.head_seq;
        self.start_users_load();
    }

    fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message::Info(text.into()));
    }

    fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message::Error(text.into()));
    }

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
        self.last_input = Instant::now();
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

    fn form_action(&self, chord: Chord, wants_text: bool) -> Option<Action> {
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

    fn on_gate_key(&mut self, chord: Chord, key: &KeyEvent) {
        let wants_text = match &self.phase {
            Phase::Setup(f) | Phase::Login { form: f, .. } | Phase::Activate(f) => f.wants_text(),
            Phase::Main => false,
        };
        let action = self.form_action(chord, wants_text);
        if let Some(top) = self.modals.last() {
            // Only the quit confirmation can sit over the gate.
            if matches!(top, Modal::Confirm { .. }) {
                self.on_confirm_key(key);
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
        // In the wizard and at login, Enter walks through the fields and submits on the last.
        let on_last = match &self.phase {
            Phase::Setup(f) | Phase::Login { form: f, .. } | Phase::Activate(f) => {
                f.on_last_field()
            }
            Phase::Main => true,
        };
        let action = if action == Some(Action::FormSubmit) && !on_last && key.code == KeyCode::Enter
        {
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
            } => Phase::Activate(forms::activation(&form.value("login"))),
            Phase::Activate(form) => Phase::Login {
                form: forms::login(&form.value("login")),
                checking: false,
                locked_user: None,
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
                            form: forms::login(login.trim()),
                            checking: false,
                            locked_user: None,
                        };
                        self.info("Your account is active. Log in with your new password.");
                    }
                    Err(Error::Invalid(errs)) => form.set_errors(&errs),
                    Err(e) => form.error = Some(e.to_string()),
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
                                form: forms::login(&user),
                                checking: false,
                                locked_user: None,
                            };
                            self.info(format!("Practice created. Log in as {user}."));
                        }
                        Err(Error::Invalid(errs)) => form.set_errors(&errs),
                        Err(e) => form.error = Some(e.to_string()),
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
                    let result = backend.login(&user, &password, &Origin::current());
                    let _ = tx.send(Job::Login(result));
                });
            }
            Phase::Main => {}
        }
    }

    fn on_main_key(&mut self, chord: Chord, key: &KeyEvent) {
        if let Some(top) = self.modals.last() {
            match top {
                Modal::Form { .. } => self.on_form_key(chord, key),
                Modal::Confirm { .. } => self.on_confirm_key(key),
                Modal::Palette { .. } => self.on_palette_key(key),
                Modal::Export(job) => {
                    if job.done.is_some() && matches!(key.code, KeyCode::Enter | KeyCode::Esc) {
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
            self.on_filter_key(key);
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
            Tab::Users => self.users.filtering,
            _ => false,
        }
    }

    fn on_filter_key(&mut self, key: &KeyEvent) {
        match key.code {
            KeyCode::Enter => self.users.filtering = false,
            KeyCode::Esc => {
                self.users.filtering = false;
                self.users.filter = Input::default();
                self.users.apply_view();
            }
            KeyCode::Down | KeyCode::Up => {
                let a = if key.code == KeyCode::Down {
                    Action::Down
                } else {
                    Action::Up
                };
                self.users.move_selection(a);
            }
            _ => {
                if let Some(req) = to_input_request(&ratatui::crossterm::event::Event::Key(*key)) {
                    self.users.filter.handle(req);
                    self.users.apply_view();
                }
            }
        }
    }

    fn on_form_key(&mut self, chord: Chord, key: &KeyEvent) {
        let wants_text =
            matches!(self.modals.last(), Some(Modal::Form { form, .. }) if form.wants_text());
        let action = self.form_action(chord, wants_text);
        if action == Some(Action::Quit) {
            self.update(Action::Quit);
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
                        title: "Discard changes?".into(),
                        lines: vec![
                            "This form has unsaved input.".into(),
                            "y: discard it   n: keep editing".into(),
                        ],
                        then: Pending::DiscardForm,
                    });
                } else {
                    self.modals.pop();
                }
            }
            FormOutcome::Submit => self.submit_form(),
        }
    }

    fn on_confirm_key(&mut self, key: &KeyEvent) {
        match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
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
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                self.modals.pop();
            }
            _ => {}
        }
    }

    fn on_palette_key(&mut self, key: &KeyEvent) {
        let Some(Modal::Palette { input, selected }) = self.modals.last_mut() else {
            return;
        };
        match key.code {
            KeyCode::Esc => {
                self.modals.pop();
            }
            KeyCode::Down => *selected += 1,
            KeyCode::Up => *selected = selected.saturating_sub(1),
            KeyCode::Enter => {
                let matches = palette_matches(input.value());
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

    /// Sends a request and reports the outcome in the status line.
    fn perform(&mut self, request: Request, success: &str) {
        let Some(ctx) = self.ctx() else { return };
        match ctx.call(request) {
            Ok(_) => {
                // A form that asked for this confirmation (the permission matrix) is done too.
                self.modals.pop_if(|m| matches!(m, Modal::Form { .. }));
                self.info(success.to_string());
                self.refresh_all();
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    fn submit_form(&mut self) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let Some(Modal::Form { form, purpose }) = self.modals.last_mut() else {
            return;
        };
        form.clear_errors();
        let ctx = Ctx {
            backend: &self.backend,
            session: &session,
        };
        let purpose = purpose.clone();
        match forms::submit(&ctx, &purpose, form) {
            Ok(forms::Submitted::Done(msg)) => {
                self.modals.pop();
                self.info(msg);
                self.refresh_all();
            }
            Ok(forms::Submitted::Shown {
                message,
                title,
                lines,
            }) => {
                self.modals.pop();
                self.info(message);
                self.refresh_all();
                self.modals.push(Modal::Detail {
                    title,
                    lines,
                    scroll: 0,
                });
            }
            Ok(forms::Submitted::Confirm {
                title,
                lines,
                request,
                success,
            }) => {
                self.modals.push(Modal::Confirm {
                    title,
                    lines,
                    then: Pending::Call(Box::new(request), success),
                });
            }
            Ok(forms::Submitted::AuditQuery(q)) => {
                self.modals.pop();
                self.audit.query = q;
                let ctx = Ctx {
                    backend: &self.backend,
                    session: &session,
                };
                if let Err(e) = self.audit.refresh(&ctx) {
                    self.error(e.to_string());
                } else {
                    self.info("Audit filter applied.");
                }
            }
            Ok(forms::Submitted::Export {
                format,
                path,
                query,
            }) => {
                self.modals.pop();
                self.start_export(format, path, query);
            }
            Err(Error::Invalid(errs)) => {
                if let Some(Modal::Form { form, .. }) = self.modals.last_mut() {
                    form.set_errors(&errs);
                }
            }
            Err(e) => {
                if let Some(Modal::Form { form, .. }) = self.modals.last_mut() {
                    form.error = Some(e.to_string());
                }
            }
        }
    }

    /// Applies an action.
    pub fn update(&mut self, action: Action) {
        self.apply_action(action);
        if matches!(self.phase, Phase::Main) {
            self.verify_if_on_audit();
        }
    }

    fn apply_action(&mut self, action: Action) {
        match action {
            Action::Quit => {
                let dirty = self
                    .modals
                    .iter()
                    .any(|m| matches!(m, Modal::Form { form, .. } if form.is_dirty()))
                    || matches!(&self.phase, Phase::Setup(f) if f.is_dirty());
                if self.modals.iter().any(|m| {
                    matches!(
                        m,
                        Modal::Confirm {
                            then: Pending::Quit,
                            ..
                        }
                    )
                }) {
                    self.quit = true;
                } else if dirty {
                    self.modals.push(Modal::Confirm {
                        title: "Quit?".into(),
                        lines: vec![
                            "A form has unsaved input that will be lost.".into(),
                            "y: quit   n: go back".into(),
                        ],
                        then: Pending::Quit,
                    });
                } else {
                    self.quit = true;
                }
            }
            Action::Help => self.modals.push(Modal::Help { scroll: 0 }),
            Action::Palette => self.modals.push(Modal::Palette {
                input: Input::default(),
                selected: 0,
            }),
            Action::Lock => self.lock(),
            Action::NextTab | Action::PrevTab => {
                let n = Tab::ALL.len();
                let i = self.tab.index();
                self.tab = Tab::ALL[if action == Action::NextTab {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                }];
            }
            Action::TabUsers => self.tab = Tab::Users,
            Action::TabRoles => self.tab = Tab::Roles,
            Action::TabFacilities => self.tab = Tab::Facilities,
            Action::TabInvites => self.tab = Tab::Invites,
            Action::TabDevices => self.tab = Tab::Devices,
            Action::TabAudit => self.tab = Tab::Audit,
            Action::TabSettings => self.tab = Tab::Settings,
            Action::Refresh => {
                self.refresh_all();
                self.info("Reloaded.");
            }
            Action::AuditVerify => {
                self.start_verify();
                self.info("Verifying the audit chain...");
            }
            Action::AuditExport => {
                let form = forms::export(&self.audit.query);
                self.modals.push(Modal::Form {
                    form,
                    purpose: Purpose::Export,
                });
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::Back
                if !self.modals.is_empty() =>
            {
                self.scroll_modal(action);
            }
            other => self.screen_action(other),
        }
    }

    fn scroll_modal(&mut self, action: Action) {
        let Some(top) = self.modals.last_mut() else {
            return;
        };
        let scroll = match top {
            Modal::Detail { scroll, .. } | Modal::Help { scroll } => scroll,
            _ => return,
        };
        match action {
            Action::Up => *scroll = scroll.saturating_sub(1),
            Action::Down => *scroll += 1,
            Action::PageUp => *scroll = scroll.saturating_sub(10),
            Action::PageDown => *scroll += 10,
            Action::Top => *scroll = 0,
            Action::Bottom => *scroll = usize::MAX / 2,
            Action::Back => {
                self.modals.pop();
            }
            _ => {}
        }
    }

    fn screen_action(&mut self, action: Action) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let ctx = Ctx {
            backend: &self.backend,
            session: &session,
        };
        let effect = match self.tab {
            Tab::Users => self.users.handle(action, &ctx),
            Tab::Roles => self.roles.handle(action, &ctx),
            Tab::Facilities => self.facilities.handle(action, &ctx),
            Tab::Invites => self.invites.handle(action, &ctx),
            Tab::Devices => self.devices.handle(action, &ctx),
            Tab::Audit => self.audit.handle(action, &ctx),
            Tab::Settings => self.settings.handle(action, &ctx),
        };
        self.apply(effect);
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::None => {}
            Effect::Form(form, purpose) => self.modals.push(Modal::Form { form, purpose }),
            Effect::Confirm {
                title,
                lines,
                request,
                success,
            } => {
                self.modals.push(Modal::Confirm {
                    title,
                    lines,
                    then: Pending::Call(Box::new(request), success),
                });
            }
            Effect::Detail { title, lines } => self.modals.push(Modal::Detail {
                title,
                lines,
                scroll: 0,
            }),
            Effect::Info(m) => self.info(m),
            Effect::Error(m) => self.error(m),
        }
    }

    fn lock(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let user = session.label().to_string();
        self.phase = Phase::Login {
            form: forms::login(&user),
            checking: false,
            locked_user: Some(session.user_id()),
        };
        self.pending.clear();
        self.info("Locked. Log in again to continue where you were.");
    }

    /// Every second, asks for the audit head; when it moved (another administrator or program
    /// saved something), reloads the tabs. Open forms are left exactly as they are. Returns
    /// whether anything was reloaded.
    pub fn check_live(&mut self) -> bool {
        if !matches!(self.phase, Phase::Main)
            || self.last_live_check.elapsed() < Duration::from_secs(1)
        {
            return false;
        }
        self.last_live_check = Instant::now();
        let Some(session) = self.session.clone() else {
            return false;
        };
        let head = match self.backend.call(&session, Request::AuditHead) {
            Ok(Response::Head(h)) => h.seq,
            _ => return false,
        };
        if head == self.seen_head {
            return false;
        }
        self.seen_head = head;
        self.refresh_all();
        true
    }

    /// Locks the screen after the practice's idle timeout; returns whether it did.
    pub fn check_idle(&mut self) -> bool {
        if matches!(self.phase, Phase::Main) && self.last_input.elapsed() >= self.idle_timeout {
            self.lock();
            self.message = Some(Message::Info(
                "Locked after inactivity. Log in again to continue.".into(),
            ));
            return true;
        }
        false
    }

    /// Sets the idle timeout (tests).
    pub fn set_idle_timeout(&mut self, d: Duration) {
        self.idle_timeout = d;
    }

    /// Loads the user list on a thread: on a large practice it takes longer than a frame, and
    /// the screen stays usable (with the previous rows) meanwhile.
    fn start_users_load(&mut self) {
        let Some(session) = self.session.clone() else {
            return;
        };
        self.users.load_generation += 1;
        let generation = self.users.load_generation;
        let filter = self.users.list_filter();
        let backend = Arc::clone(&self.backend);
        let tx = self.jobs_tx.clone();
        self.users.loading = true;
        std::thread::spawn(move || {
            let result = backend.call(&session, Request::UserList(filter));
            let _ = tx.send(Job::Users(generation, result));
        });
    }

    fn start_verify(&mut self) {
        let (Some(session), backend, tx) = (
            self.session.clone(),
            Arc::clone(&self.backend),
            self.jobs_tx.clone(),
        ) else {
            return;
        };
        self.audit.verify = None;
        self.audit.verifying = true;
        std::thread::spawn(move || {
            let result = backend
                .call(&session, Request::AuditVerify { expect: None })
                .and_then(|r| match r {
                    Response::Verify(v) => Ok(v),
                    _ => Err(Error::Storage("unexpected response".into())),
                });
            let _ = tx.send(Job::Verify(result));
        });
    }

    fn start_export(&mut self, format: ExportFormat, path: PathBuf, query: AuditQuery) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let total = self.audit.head_seq;
        let written = Arc::new(AtomicU64::new(0));
        let job = ExportJob {
            path: path.clone(),
            written: Arc::clone(&written),
            total,
            done: None,
        };
        self.modals.push(Modal::Export(job));
        let backend = Arc::clone(&self.backend);
        let tx = self.jobs_tx.clone();
        std::thread::spawn(move || {
            let result = (|| {
                let file = crate::security::files::create_private(&path, true).map_err(|e| {
                    Error::Storage(format!(
                        "cannot create {}: {e} (choose another path)",
                        path.display()
                    ))
                })?;
                let mut out = LineCounter {
                    inner: std::io::BufWriter::with_capacity(256 << 10, file),
                    lines: written,
                };
                let n = backend.audit_export(&session, &query, format, &mut out)?;
                let file = out
                    .inner
                    .into_inner()
                    .map_err(|e| Error::Storage(format!("cannot write {}: {e}", path.display())))?;
                file.sync_all()?;
                Ok(n)
            })();
            let _ = tx.send(Job::Export(result));
        });
    }

    /// Applies finished background work; returns whether anything changed.
    pub fn poll_jobs(&mut self) -> bool {
        let mut changed = self
            .modals
            .iter()
            .any(|m| matches!(m, Modal::Export(j) if j.done.is_none()));
        while let Ok(job) = self.jobs_rx.try_recv() {
            changed = true;
            match job {
                Job::Login(Ok(session)) => self.enter_main(session),
                Job::Users(generation, result) => {
                    if generation == self.users.load_generation {
                        match result {
                            Ok(Response::Users(l)) => self.users.apply_listing(l),
                            Ok(_) => self.users.loading = false,
                            Err(e) => {
                                self.users.loading = false;
                                self.error(format!("cannot load users: {e}"));
                            }
                        }
                    }
                }
                Job::Login(Err(e)) => {
                    if let Phase::Login { form, checking, .. } = &mut self.phase {
                        *checking = false;
                        form.error = Some(e.to_string());
                        form.clear_password();
                    }
                }
                Job::Verify(result) => {
                    self.audit.verifying = false;
                    match result {
                        Ok(report) => self.audit.verify = Some(report),
                        Err(e) => self.error(format!("audit verify failed: {e}")),
                    }
                }
                Job::Export(result) => {
                    let text = result.as_ref().map(|n| *n).map_err(ToString::to_string);
                    if let Some(Modal::Export(job)) = self
                        .modals
                        .iter_mut()
                        .rev()
                        .find(|m| matches!(m, Modal::Export(_)))
                    {
                        job.done = Some(text.clone());
                        match &text {
                            Ok(n) => {
                                self.message = Some(Message::Info(format!(
                                    "Exported {n} events to {}.",
                                    job.path.display()
                                )))
                            }
                            Err(e) => self.message = Some(Message::Error(e.clone())),
                        }
                    }
                    self.refresh_all();
                }
            }
        }
        changed
    }

    /// Whether a login check is running.
    pub fn checking(&self) -> bool {
        matches!(self.phase, Phase::Login { checking: true, .. })
    }

    /// Waits for background jobs (tests).
    pub fn wait_jobs(&mut self, timeout: Duration) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            let busy = self.checking()
                || self.users.loading
                || self.audit.verifying
                || self
                    .modals
                    .iter()
                    .any(|m| matches!(m, Modal::Export(j) if j.done.is_none()));
            if !busy {
                return;
            }
            if let Ok(job) = self.jobs_rx.recv_timeout(Duration::from_millis(20)) {
                // Put it back through the normal path.
                let _ = self.jobs_tx.send(job);
                self.poll_jobs();
            }
        }
    }
}

/// Counts lines written (one per exported event) for the progress bar.
struct LineCounter<W: std::io::Write> {
    inner: W,
    lines: Arc<AtomicU64>,
}

impl<W: std::io::Write> std::io::Write for LineCounter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let newlines = buf[..n].iter().filter(|b| **b == b'\n').count();
        self.lines
            .fetch_add(u64::try_from(newlines).unwrap_or(0), Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Actions whose name or description fuzzily matches `query`, best first.
pub fn palette_matches(query: &str) -> Vec<Action> {
    use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
    use nucleo_matcher::{Config, Matcher};
    let palette: Vec<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| !a.name().starts_with("form."))
        .collect();
    if query.trim().is_empty() {
        return palette;
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, Action)> = palette
        .iter()
        .filter_map(|a| {
            let text = format!("{} {}", a.name(), a.doc());
            pattern
                .score(nucleo_matcher::Utf32Str::new(&text, &mut buf), &mut matcher)
                .map(|s| (s, *a))
        })
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored.into_iter().map(|(_, a)| a).collect()
}
