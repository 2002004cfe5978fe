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
use super::authority::Authority;
use super::forms::{self, Purpose};
use super::keymap::{Chord, Keymap, Lookup, Section};
use super::messages;
use super::screens::{
    Effect, Question, Screen, audit::AuditScreen, devices::DevicesScreen,
    facilities::FacilitiesScreen, invites::InvitesScreen, roles::RolesScreen,
    settings::SettingsScreen, users::UsersScreen,
};
use super::theme::Theme;
use super::widgets::form::{Form, FormOutcome};
use crate::error::{Error, Result};
use crate::remote::backend::Backend;
use crate::service::{
    AuditQuery, ExportFormat, LocalTime, Origin, Request, Response, Service, Session, VerifyReport,
};

mod clock;
mod gate;
mod input;
mod jobs;
mod lock;
mod palette;
mod tabs;
mod windows;

pub use clock::{Clock, ManualClock, SystemClock};
use jobs::Job;
pub use lock::Locked;
pub use palette::palette_matches;
pub use tabs::{Screens, Tab};
pub use windows::{ExportJob, Message, Modal, Pending, Phase};

/// Service access for screens.
pub struct Ctx<'a> {
    /// The service.
    pub backend: &'a Backend,
    /// The logged-in operator.
    pub session: &'a Session,
    /// The active key bindings, for texts that name keys.
    pub keymap: &'a Keymap,
    /// What the operator may do.
    pub authority: &'a Authority,
    /// How times are shown.
    pub time: &'a LocalTime,
}

impl Ctx<'_> {
    /// Sends a request.
    pub fn call(&self, request: Request) -> Result<Response> {
        self.backend.call(self.session, request)
    }
}

/// Screens ask through the typed methods of [`crate::service::Calls`] (`ctx.user_list(..)`).
impl crate::service::Call for Ctx<'_> {
    fn call(&self, request: Request) -> Result<Response> {
        Ctx::call(self, request)
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
    /// The screen of every tab.
    pub screens: Screens,
    /// Modal stack (top is last).
    pub modals: Vec<Modal>,
    /// Status line message.
    pub message: Option<Message>,
    /// Key bindings.
    pub keymap: Keymap,
    /// What the operator's role allows (read at login and on every reload).
    pub authority: Authority,
    /// Styles.
    pub theme: Theme,
    /// Keys of an unfinished sequence (`g` of `g g`).
    pub pending: Vec<Chord>,
    /// Set to leave the event loop.
    pub quit: bool,
    /// What went wrong reading the keymap and config files, shown on the login screen and in
    /// the status line after the first login.
    pub warning: Option<String>,
    warned: bool,
    /// A session put away by the lock (its windows come back to the same operator only).
    pub locked: Option<Locked>,
    clock: Arc<dyn Clock>,
    /// Times on screen are shown in the practice's zone (read at login and on every reload).
    pub time: LocalTime,
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
                form: forms::login("", false),
                checking: false,
            }
        } else {
            Phase::Setup(forms::setup())
        };
        let (jobs_tx, jobs_rx) = channel();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let started = clock.now();
        Ok(Self {
            backend,
            session: None,
            phase,
            tab: Tab::Users,
            screens: Screens::default(),
            modals: Vec::new(),
            message: None,
            keymap,
            authority: Authority::default(),
            theme,
            pending: Vec::new(),
            quit: false,
            warning: None,
            warned: false,
            locked: None,
            clock,
            time: LocalTime::utc(),
            last_input: started,
            idle_timeout: Duration::from_secs(15 * 60),
            seen_head: 0,

            last_live_check: started,
            jobs_tx,
            jobs_rx,
        })
    }

    /// Sets what start-up found wrong with the keymap or config files (see [`App::warning`]).
    pub fn set_startup_warning(&mut self, warning: String) {
        self.warning = Some(warning);
    }

    /// Logs in synchronously (demo and tests); refused, like the login screen, when the
    /// operator's role gives no access to staffctl.
    pub fn login_now(&mut self, user: &str, password: &str) -> Result<()> {
        let session = self.backend.login(user, password, &Origin::current())?;
        let who = self.backend.call(&session, Request::WhoAmI);
        self.admit(session, who).map_err(Error::Denied)
    }

    /// After a successful login: enters the session if the operator's role lets them operate
    /// staffctl (`who` answers `WhoAmI`), else says why, in the service's words when it refused.
    fn admit(
        &mut self,
        session: Session,
        who: Result<Response>,
    ) -> std::result::Result<(), String> {
        let operator = match who {
            Ok(Response::Operator(op)) => op,
            Ok(_) => return Err("the store gave an unexpected answer about your account".into()),
            Err(e) => return Err(messages::for_interface(&e.to_string(), &self.keymap)),
        };
        if let Some(why) = Authority::refuse_entry(&operator) {
            return Err(why);
        }
        self.time = LocalTime::new(Some(&operator.time_zone));
        self.authority = Authority::new(Some(operator));
        self.enter_main(session);
        Ok(())
    }

    fn enter_main(&mut self, session: Session) {
        let same_user = self.unlock_for(&session);
        if let Ok(p) = self.backend.call(&session, Request::PracticeShow)
            && let Response::Practice(p) = p
        {
            self.idle_timeout =
                Duration::from_secs(u64::from(p.settings.idle_timeout_minutes) * 60);
        }
        self.session = Some(session);
        self.phase = Phase::Main;
        self.message = match &self.warning {
            Some(w) if !self.warned => Some(Message::Error(w.clone())),
            _ => None,
        };
        self.warned = self.warning.is_some();
        self.last_input = self.clock.now();
        if !same_user {
            self.tab = Tab::Users;
            self.screens = Screens::default();
            self.modals.clear();
        }
        self.refresh_all();
        // The chain is verified when the Audit tab is first shown (it reads every event, which
        // would slow the first frame on a large log).
        self.verify_if_on_audit();
    }

    /// Starts verifying the audit chain if the Audit tab is showing and it has not been checked.
    fn verify_if_on_audit(&mut self) {
        if self.tab == Tab::Audit
            && self.screens.audit.verify.is_none()
            && !self.screens.audit.verifying
        {
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
            keymap: &self.keymap,
            authority: &self.authority,
            time: &self.time,
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
            keymap: &self.keymap,
            authority: &self.authority,
            time: &self.time,
        };
        // A role changed meanwhile changes what is offered; a role that no longer gives
        // access to staffctl ends the session.
        match ctx.call(Request::WhoAmI) {
            Ok(Response::Operator(op)) => match Authority::refuse_entry(&op) {
                None => {
                    self.time = LocalTime::new(Some(&op.time_zone));
                    self.authority = Authority::new(Some(op));
                }
                Some(why) => return self.lose_access(why),
            },
            Err(Error::Denied(why)) => {
                return self.lose_access(messages::for_interface(&why, &self.keymap));
            }
            _ => {}
        }
        let ctx = Ctx {
            backend: &self.backend,
            session: &session,
            keymap: &self.keymap,
            authority: &self.authority,
            time: &self.time,
        };
        let mut errors: Vec<String> = Vec::new();
        for tab in Tab::ALL {
            if let Err(e) = self.screens.get_mut(tab).refresh(&ctx) {
                errors.push(e.to_string());
            }
        }
        if let Some(e) = errors.first() {
            self.message = Some(Message::Error(e.clone()));
        }
        self.seen_head = self.screens.audit.head_seq;
        self.start_users_load();
    }

    /// Ends a session whose operator may no longer operate staffctl, as the lock does, and
    /// says why.
    fn lose_access(&mut self, why: String) {
        self.lock(&why);
        self.message = Some(Message::Error(why));
    }

    fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message::Info(text.into()));
    }

    /// Shows an error in the status line, with the service's command-line hints turned into
    /// the interface's.
    fn error(&mut self, text: impl Into<String>) {
        let text = messages::for_interface(&text.into(), &self.keymap);
        self.message = Some(Message::Error(text));
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
            keymap: &self.keymap,
            authority: &self.authority,
            time: &self.time,
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
                question,
                request,
                success,
            }) => {
                self.modals.push(Modal::Confirm {
                    question,
                    then: Pending::Call(Box::new(request), success),
                });
            }
            Ok(forms::Submitted::AuditQuery(q)) => {
                self.modals.pop();
                self.screens.audit.query = q;
                let ctx = Ctx {
                    backend: &self.backend,
                    session: &session,
                    keymap: &self.keymap,
                    authority: &self.authority,
                    time: &self.time,
                };
                if let Err(e) = self.screens.audit.refresh(&ctx) {
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
                let errs = messages::field_errors(&errs, &self.keymap);
                if let Some(Modal::Form { form, .. }) = self.modals.last_mut() {
                    form.set_errors(&errs);
                }
            }
            Err(e) => {
                let text = messages::for_interface(&e.to_string(), &self.keymap);
                if let Some(Modal::Form { form, .. }) = self.modals.last_mut() {
                    form.error = Some(text);
                }
            }
        }
    }

    /// Applies an action.
    pub fn update(&mut self, action: Action) {
        self.apply_action(action);
        if matches!(self.phase, Phase::Main) {
            self.verify_if_on_audit();
            self.sync_user_detail();
        }
    }

    fn apply_action(&mut self, action: Action) {
        // What the operator's role does not allow is refused with the reason, before any form
        // opens that the service would refuse on saving.
        if matches!(self.phase, Phase::Main)
            && let Some(why) = self.authority.refusal(action)
        {
            self.error(why);
            return;
        }
        match action {
            Action::Quit => {
                let dirty = self
                    .modals
                    .iter()
                    .any(|m| matches!(m, Modal::Form { form, .. } if form.is_dirty()))
                    || matches!(&self.phase, Phase::Setup(f) if f.is_dirty())
                    || self.locked.as_ref().is_some_and(Locked::has_unsaved_input);
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
                        question: Question::new(
                            "Quit?",
                            vec!["A form has unsaved input that will be lost.".into()],
                            "quit",
                            "go back",
                        ),
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
            Action::Lock => self.lock(lock::LOCKED_NOW),
            Action::ShowMessage => {
                if let Some(m) = &self.message {
                    let (title, text) = match m {
                        Message::Info(t) => ("Message", t.clone()),
                        Message::Error(t) => ("Error", t.clone()),
                    };
                    self.modals.push(Modal::Detail {
                        title: title.into(),
                        lines: vec![text],
                        scroll: 0,
                    });
                }
            }
            Action::NextTab | Action::PrevTab => {
                let n = Tab::ALL.len();
                let i = self.tab.index();
                self.go_to(
                    Tab::ALL[if action == Action::NextTab {
                        (i + 1) % n
                    } else {
                        (i + n - 1) % n
                    }],
                );
            }
            Action::TabUsers => self.go_to(Tab::Users),
            Action::TabRoles => self.go_to(Tab::Roles),
            Action::TabFacilities => self.go_to(Tab::Facilities),
            Action::TabInvites => self.go_to(Tab::Invites),
            Action::TabDevices => self.go_to(Tab::Devices),
            Action::TabAudit => self.go_to(Tab::Audit),
            Action::TabSettings => self.go_to(Tab::Settings),
            Action::Refresh => {
                self.refresh_all();
                self.info("Reloaded.");
            }
            Action::AuditVerify => {
                self.start_verify();
                self.info("Verifying the audit chain...");
            }
            Action::AuditExport => {
                let form = forms::export(&self.screens.audit.query, &self.time, self.clock.wall());
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

    /// Shows `tab`; a message about the tab left behind goes with it.
    fn go_to(&mut self, tab: Tab) {
        if tab != self.tab {
            self.tab = tab;
            self.message = None;
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
            keymap: &self.keymap,
            authority: &self.authority,
            time: &self.time,
        };
        let effect = self.screens.get_mut(self.tab).handle(action, &ctx);
        self.apply(effect);
    }

    /// The screen of the current tab.
    pub fn screen(&self) -> &dyn Screen {
        self.screens.get(self.tab)
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::None => {}
            Effect::Form(form, purpose) => self.modals.push(Modal::Form { form, purpose }),
            Effect::Confirm {
                question,
                request,
                success,
            } => {
                self.modals.push(Modal::Confirm {
                    question,
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

    /// Every second, asks for the audit head; when it moved (another administrator or program
    /// saved something), reloads the tabs. Open forms are left exactly as they are. Returns
    /// whether anything was reloaded.
    pub fn check_live(&mut self) -> bool {
        let now = self.clock.now();
        if !matches!(self.phase, Phase::Main)
            || now.saturating_duration_since(self.last_live_check) < Duration::from_secs(1)
        {
            return false;
        }
        self.last_live_check = now;
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
}
