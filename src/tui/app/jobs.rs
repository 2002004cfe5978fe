//! Background work: the user list, chain verification, exports and login checks run on
//! threads and report through a channel, so the event loop never blocks on them.

use super::*;

/// Results of background work.
pub(super) enum Job {
    /// A login checked: the session and the answer to `WhoAmI`.
    Login(std::result::Result<(Session, std::result::Result<Response, Error>), Error>),
    /// A user list loaded in the background: (generation, result).
    Users(u64, std::result::Result<Response, Error>),
    /// A user's details for the Users tab's pane: (user id, result).
    UserDetail(crate::model::Id, std::result::Result<Response, Error>),
    Verify(std::result::Result<VerifyReport, Error>),
    Export(std::result::Result<u64, Error>),
}

impl App {
    /// Loads the user list on a thread: on a large practice it takes longer than a frame, and
    /// the screen stays usable (with the previous rows) meanwhile.
    pub(super) fn start_users_load(&mut self) {
        let Some(session) = self.session.clone() else {
            return;
        };
        self.screens.users.load_generation += 1;
        let generation = self.screens.users.load_generation;
        let filter = self.screens.users.list_filter();
        let backend = Arc::clone(&self.backend);
        let tx = self.jobs_tx.clone();
        self.screens.users.loading = true;
        std::thread::spawn(move || {
            let result = backend.call(&session, Request::UserList(filter));
            let _ = tx.send(Job::Users(generation, result));
        });
    }

    /// Loads the details the Users tab's pane wants, on a thread (one at a time: moving through
    /// the list quickly loads only where the selection rests).
    pub(super) fn sync_user_detail(&mut self) {
        if self.tab != Tab::Users || !matches!(self.phase, Phase::Main) {
            return;
        }
        let (Some(session), Some(id)) = (self.session.clone(), self.screens.users.wanted_detail())
        else {
            return;
        };
        self.screens.users.loading_detail(id);
        let backend = Arc::clone(&self.backend);
        let tx = self.jobs_tx.clone();
        std::thread::spawn(move || {
            let result = backend.call(&session, Request::UserShow(format!("#{id}")));
            let _ = tx.send(Job::UserDetail(id, result));
        });
    }

    pub(super) fn start_verify(&mut self) {
        let (Some(session), backend, tx) = (
            self.session.clone(),
            Arc::clone(&self.backend),
            self.jobs_tx.clone(),
        ) else {
            return;
        };
        self.screens.audit.verify = None;
        self.screens.audit.verifying = true;
        std::thread::spawn(move || {
            let result = backend
                .call(&session, Request::AuditVerify { expect: None })
                .and_then(|r| match r {
                    Response::Verify(v) => Ok(v),
                    _ => Err(Error::Internal(
                        "internal error: an unexpected answer from the service; this is a bug"
                            .into(),
                    )),
                });
            let _ = tx.send(Job::Verify(result));
        });
    }

    pub(super) fn start_export(&mut self, format: ExportFormat, path: PathBuf, query: AuditQuery) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let total = self.screens.audit.head_seq;
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
        // A visible export's progress bar moves.
        let mut changed = self
            .modals
            .iter()
            .any(|m| matches!(m, Modal::Export(j) if j.done.is_none()));
        let mut received = false;
        while let Ok(job) = self.jobs_rx.try_recv() {
            received = true;
            changed = true;
            match job {
                Job::Login(Ok((session, who))) => {
                    if let Err(why) = self.admit(session, who) {
                        self.refuse_login(why);
                    }
                }
                Job::Users(generation, result) => {
                    if generation == self.screens.users.load_generation {
                        match result {
                            Ok(Response::Users(l)) => self.screens.users.apply_listing(l),
                            Ok(_) => self.screens.users.loading = false,
                            Err(e) => {
                                self.screens.users.loading = false;
                                if matches!(self.phase, Phase::Main) {
                                    self.error(format!("cannot load users: {e}"));
                                }
                            }
                        }
                    }
                }
                Job::Login(Err(e)) => self.refuse_login(e.to_string()),
                Job::UserDetail(id, result) => {
                    // A user who cannot be read (deleted meanwhile) leaves the pane with the
                    // list's summary; the list's reload says what happened.
                    let detail = match result {
                        Ok(Response::User(d)) => Some(d),
                        _ => None,
                    };
                    self.screens.users.apply_detail(id, detail);
                }
                Job::Verify(result) => {
                    self.screens.audit.verifying = false;
                    match result {
                        Ok(report) => self.screens.audit.verify = Some(report),
                        Err(e) if matches!(self.phase, Phase::Main) => {
                            self.error(format!("audit verify failed: {e}"))
                        }
                        Err(_) => {}
                    }
                }
                Job::Export(result) => {
                    let text = result.as_ref().map(|n| *n).map_err(ToString::to_string);
                    let shown = matches!(self.phase, Phase::Main);
                    // The export window may be put away by the lock: it shows the result
                    // when its operator comes back.
                    let job = match self.modals.iter_mut().rev().find_map(|m| match m {
                        Modal::Export(job) => Some(job),
                        _ => None,
                    }) {
                        Some(job) => Some(job),
                        None => self.locked.as_mut().and_then(Locked::export_mut),
                    };
                    if let Some(job) = job {
                        job.done = Some(text.clone());
                        let message = match &text {
                            Ok(n) => Message::Info(format!(
                                "Exported {n} events to {}.",
                                job.path.display()
                            )),
                            Err(e) => Message::Error(e.clone()),
                        };
                        if shown {
                            self.message = Some(message);
                        }
                    }
                    self.refresh_all();
                }
            }
        }
        if received {
            self.sync_user_detail();
        }
        changed
    }

    /// Shows why a login did not enter the session, on the login form (password cleared).
    fn refuse_login(&mut self, why: String) {
        if let Phase::Login { form, checking, .. } = &mut self.phase {
            *checking = false;
            form.error = Some(why);
            form.clear_password();
        }
    }

    /// Whether an export is still writing (in an open window or one put away by the lock).
    pub fn export_running(&self) -> bool {
        self.modals
            .iter()
            .any(|m| matches!(m, Modal::Export(j) if j.done.is_none()))
            || self.locked.as_ref().is_some_and(Locked::export_running)
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
                || self.screens.users.loading
                || self.screens.users.detail_loading()
                || self.screens.audit.verifying
                || self.export_running();
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
