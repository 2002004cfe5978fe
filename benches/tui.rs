//! Interface speed on a practice of 100,000 users and 1,000,000 audit events:
//! - first frame after login (login, loading the small tabs, drawing 120x40; the user list
//!   then streams in on a thread), and login until every user is listed,
//! - one keystroke in the `/` filter (filter 100k rows and redraw),
//! - bytes written to the terminal when the selection moves by one row at 120x40,
//! - peak resident memory of the whole run.
//!
//! `STAFFCTL_BENCH_USERS` / `STAFFCTL_BENCH_EVENTS` shrink the practice. Run with
//! `cargo bench --bench tui`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use staffctl::service::{InitRequest, OpenOptions, Service};
use staffctl::testkit::{self, Spec};
use staffctl::tui::action::Action;
use staffctl::tui::app::App;
use staffctl::tui::keymap::Keymap;
use staffctl::tui::theme::Theme;
use staffctl::tui::ui;

const PASSWORD: &str = "correct horse battery staple clinic";

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The generated practice, built once per run.
fn store() -> &'static (tempfile::TempDir, Arc<Service>) {
    static STORE: OnceLock<(tempfile::TempDir, Arc<Service>)> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let svc = Service::open(dir.path(), &OpenOptions::default()).expect("open");
        let init = InitRequest {
            practice_name: "Bench Clinic".into(),
            practice_email: "office@bench.example".into(),
            facility: "Main".into(),
            admin_username: "admin".into(),
            admin_email: "it@bench.example".into(),
            admin_first: "Ada".into(),
            admin_last: "Admin".into(),
            admin_password: PASSWORD.into(),
        };
        let spec = Spec {
            users: usize::try_from(env_num("STAFFCTL_BENCH_USERS", 100_000)).unwrap_or(100_000),
            events: env_num("STAFFCTL_BENCH_EVENTS", 1_000_000),
            ..Spec::default()
        };
        let started = Instant::now();
        let report = testkit::generate(&svc, &init, &spec).expect("generate");
        eprintln!(
            "generated {} users, {} events in {:.1?}",
            report.users,
            report.events,
            started.elapsed()
        );
        (dir, Arc::new(svc))
    })
}

fn logged_in_app() -> App {
    let (_, svc) = store();
    let mut app = App::new(
        Arc::clone(svc),
        Keymap::default_keymap(),
        Theme { mono: false },
    )
    .expect("app");
    app.login_now("admin", PASSWORD).expect("login");
    app
}

/// Logged in with the whole user list loaded.
fn loaded_app() -> App {
    let mut app = logged_in_app();
    app.wait_jobs(Duration::from_secs(60));
    app
}

fn key(c: char) -> KeyEvent {
    let code = if c == '\u{8}' {
        KeyCode::Backspace
    } else {
        KeyCode::Char(c)
    };
    KeyEvent {
        code,
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    }
}

/// Counts bytes written to the "terminal".
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn benches(c: &mut Criterion) {
    store();
    let mut group = c.benchmark_group("tui");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));

    group.bench_function("first frame after login (120x40)", |b| {
        // Times login + first draw only; the user list then finishes loading untimed, so one
        // iteration's background work does not slow the next.
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                let mut app = logged_in_app();
                let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
                term.draw(|f| ui::draw(f, &app)).expect("draw");
                total += started.elapsed();
                app.wait_jobs(Duration::from_secs(60));
            }
            total
        });
    });

    group.bench_function("login until every user is listed (120x40)", |b| {
        b.iter(|| {
            let app = loaded_app();
            let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
            term.draw(|f| ui::draw(f, &app)).expect("draw");
            app
        });
    });

    let mut app = loaded_app();
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    app.update(Action::Filter);
    app.on_key(key('s'));
    term.draw(|f| ui::draw(f, &app)).expect("draw");
    let mut toggle = false;
    group.bench_function("filter keystroke + redraw (100k rows)", |b| {
        b.iter(|| {
            // Alternate typing and deleting a letter so every iteration filters all rows.
            toggle = !toggle;
            app.on_key(key(if toggle { 'm' } else { '\u{8}' }));
            term.draw(|f| ui::draw(f, &app)).expect("draw");
        });
    });
    group.finish();

    // Bytes written for one selection move, through the real terminal backend.
    let mut app = loaded_app();
    let counter = Counter::default();
    let backend = CrosstermBackend::new(counter.clone());
    let mut term = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 120, 40)),
        },
    )
    .expect("terminal");
    term.draw(|f| ui::draw(f, &app)).expect("draw");
    let full = counter.0.swap(0, Ordering::Relaxed);
    let mut moves = Vec::new();
    for _ in 0..20 {
        app.update(Action::Down);
        term.draw(|f| ui::draw(f, &app)).expect("draw");
        moves.push(counter.0.swap(0, Ordering::Relaxed));
    }
    moves.sort_unstable();
    eprintln!(
        "terminal bytes at 120x40: first frame {full} B; selection move median {} B, max {} B",
        moves[moves.len() / 2],
        moves[moves.len() - 1]
    );
    eprintln!("peak RSS of this run: {:.1} MiB", peak_rss_mib());
}

criterion_group!(tui, benches);
criterion_main!(tui);
