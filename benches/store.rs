//! Store benchmarks at the service level, on generated practices (`staffctl::testkit`).
//!
//! ```text
//! cargo bench --bench store                     # everything
//! cargo bench --bench store -- "audit verify"   # one benchmark (criterion filter)
//! ```
//!
//! The big practice (100,000 users and 1,000,000 audit events by default; shrink it with
//! `STAFFCTL_BENCH_USERS` and `STAFFCTL_BENCH_EVENTS`) is generated once per run, into a
//! temporary directory, the first time a benchmark needs it; creating users runs on a smaller
//! one (10,000 users). Both open the store as the CLI does (`OpenOptions::default()`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::OnceCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use staffctl::service::{
    AuditQuery, ExportFormat, InitRequest, OpenOptions, Request, Response, Service, Session,
    UserField, UserFilter,
};
use staffctl::testkit::{self, Spec};

/// A generated practice in a temporary directory (removed on drop).
struct Fixture {
    svc: Service,
    session: Session,
    users: usize,
    events: u64,
    // Dropped last, after the store is closed.
    _dir: tempfile::TempDir,
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not '{v}'")),
        Err(_) => default,
    }
}

fn fixture(users: usize, events: u64) -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let svc =
        Service::open(&dir.path().join("store"), &OpenOptions::default()).expect("open store");
    let started = Instant::now();
    let report = testkit::generate(
        &svc,
        &InitRequest {
            practice_name: "Bench Physio".into(),
            practice_email: "office@bench.example".into(),
            facility: "Main Street".into(),
            admin_username: "admin".into(),
            admin_email: "owner@bench.example".into(),
            admin_first: "Pat".into(),
            admin_last: "Owner".into(),
            admin_password: "correct horse battery staple clinic".into(),
        },
        &Spec {
            users,
            events,
            ..Spec::default()
        },
    )
    .expect("generate");
    eprintln!(
        "generated {} users and {} events in {:.1} s",
        report.users,
        report.events,
        started.elapsed().as_secs_f64()
    );
    let session = report.session.clone();
    Fixture {
        svc,
        session,
        users: report.users + 1,
        events: report.head.seq,
        _dir: dir,
    }
}

/// Events `Service::init` writes (practice, facility, 7 roles, administrator).
const INIT_EVENTS: u64 = 10;

fn big_users() -> usize {
    env_number("STAFFCTL_BENCH_USERS", 100_000) as usize
}

fn big_events() -> u64 {
    env_number("STAFFCTL_BENCH_EVENTS", 1_000_000)
}

/// The big practice, generated on first use (so a filtered run that does not need it does not
/// pay for it).
fn big(cell: &OnceCell<Fixture>) -> &Fixture {
    cell.get_or_init(|| {
        let fx = fixture(big_users(), big_events());
        if fx.events != big_events() + INIT_EVENTS {
            eprintln!(
                "note: the log holds {} events, not the {} the throughput figures assume (the generator needs at least one event per user)",
                fx.events,
                big_events() + INIT_EVENTS
            );
        }
        eprintln!("big practice: {} users, {} events", fx.users, fx.events);
        fx
    })
}

/// `Service::call(UserAdd)`: validation, one transaction (record, indexes, audit event), flush.
fn create_user(c: &mut Criterion, small: &OnceCell<Fixture>) {
    // Criterion calls the routine several times: the counter lives outside it, so every user
    // added has a fresh email.
    let counter = std::cell::Cell::new(0u64);
    c.bench_function("create user (durable, audited)", |b| {
        let fx = small.get_or_init(|| fixture(10_000, 100_000));
        b.iter(|| {
            let n = counter.get() + 1;
            counter.set(n);
            let response = fx
                .svc
                .call(
                    &fx.session,
                    Request::UserAdd(vec![
                        (UserField::FirstName, "Bench".into()),
                        (UserField::LastName, format!("User{n}")),
                        (UserField::Email, format!("bench.user{n}@bench.example")),
                        (UserField::Role, "Provider".into()),
                        (UserField::Facility, "Main Street".into()),
                    ]),
                )
                .expect("user add");
            black_box(response)
        });
    });
}

/// `Request::UserList` with `--search`: the search index scan plus decoding the matches.
fn search_users(c: &mut Criterion, big_cell: &OnceCell<Fixture>) {
    let mut group = c.benchmark_group("user list --search");
    group.sample_size(20);
    // A common surname (about 2% of users) and a string that matches nobody (pure scan).
    for needle in ["garcia", "no-such-person"] {
        group.bench_function(BenchmarkId::new(needle, big_users() + 1), |b| {
            let fx = big(big_cell);
            b.iter(|| {
                let response = fx
                    .svc
                    .call(
                        &fx.session,
                        Request::UserList(UserFilter {
                            search: Some(needle.into()),
                            ..UserFilter::default()
                        }),
                    )
                    .expect("user list");
                match response {
                    Response::Users(list) => black_box(list.items.len()),
                    other => panic!("unexpected {other:?}"),
                }
            });
        });
    }
    group.finish();
}

/// The whole log as CSV into `io::sink()` (each run also appends its `audit.export` event).
fn export_csv(c: &mut Criterion, big_cell: &OnceCell<Fixture>) {
    let events = big_events() + INIT_EVENTS;
    let mut group = c.benchmark_group("audit export csv");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(25))
        .throughput(Throughput::Elements(events));
    group.bench_function(BenchmarkId::new("events", events), |b| {
        let fx = big(big_cell);
        b.iter(|| {
            let n = fx
                .svc
                .audit_export(
                    &fx.session,
                    &AuditQuery::default(),
                    ExportFormat::Csv,
                    &mut std::io::sink(),
                )
                .expect("export");
            black_box(n)
        });
    });
    group.finish();
}

/// `Request::AuditVerify`: every event decoded, re-hashed and linked.
fn verify(c: &mut Criterion, big_cell: &OnceCell<Fixture>) {
    let events = big_events() + INIT_EVENTS;
    let mut group = c.benchmark_group("audit verify");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(25))
        .throughput(Throughput::Elements(events));
    group.bench_function(BenchmarkId::new("events", events), |b| {
        let fx = big(big_cell);
        b.iter(|| {
            match fx
                .svc
                .call(&fx.session, Request::AuditVerify { expect: None })
                .expect("verify")
            {
                Response::Verify(report) => {
                    assert!(report.ok, "{report:?}");
                    black_box(report.checked)
                }
                other => panic!("unexpected {other:?}"),
            }
        });
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let small = OnceCell::new();
    let big_cell = OnceCell::new();
    create_user(&mut c, &small);
    search_users(&mut c, &big_cell);
    export_csv(&mut c, &big_cell);
    verify(&mut c, &big_cell);
    c.final_summary();
}
