//! `staffctl serve` benchmarks, in process: the server runs on a thread
//! (`remote::server::{bind, serve}` over an `Arc<Service>` in a temporary directory) and clients
//! are [`RemoteClient`]s on its Unix socket, logged in as the administrator.
//!
//! ```text
//! cargo bench --bench serve                          # everything
//! cargo bench --bench serve -- "serve/read"          # one benchmark (criterion filter)
//! ```
//!
//! Targets: a small read's round trip under 0.5 ms (median), at least 10,000 reads/s from 8
//! concurrent clients, a durable audited write (`UserAdd`) under 5 ms (median); a new
//! connection's handshake (paid by every CLI invocation) is measured too. Besides
//! criterion's own report, each benchmark prints its median and 99th percentile (or its
//! throughput) measured directly, with the target, so a run can be checked at a glance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use staffctl::remote::client::RemoteClient;
use staffctl::remote::server;
use staffctl::service::{InitRequest, OpenOptions, Origin, Request, Service, UserField};

const PASSWORD: &str = "correct horse battery staple clinic";

/// Concurrent clients in the throughput benchmark.
const CLIENTS: usize = 8;
/// Reads each client sends per throughput iteration.
const READS_PER_CLIENT: usize = 250;

/// A server on a thread, over a fresh store; stopped (as by SIGTERM) on drop.
struct Running {
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<staffctl::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Running {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let svc = Service::open(
            &dir.path().join("store"),
            &OpenOptions {
                create: true,
                ..OpenOptions::default()
            },
        )
        .expect("open store");
        svc.init(
            &InitRequest {
                practice_name: "Bench Physio".into(),
                practice_email: "office@bench.example".into(),
                facility: "Main Street".into(),
                admin_username: "admin".into(),
                admin_email: "owner@bench.example".into(),
                admin_first: "Pat".into(),
                admin_last: "Owner".into(),
                admin_password: PASSWORD.into(),
            },
            &Origin::current(),
        )
        .expect("init");
        let socket = dir.path().join("s.sock");
        let listener = server::bind(&socket).expect("bind");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (svc, socket, stop) = (Arc::new(svc), socket.clone(), Arc::clone(&stop));
            std::thread::spawn(move || server::serve(svc, listener, &socket, stop))
        };
        Self {
            socket,
            stop,
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// A logged-in client.
    fn client(&self) -> RemoteClient {
        let mut c = RemoteClient::connect(&self.socket)
            .expect("connect")
            .expect("the server answers");
        c.login("admin", PASSWORD).expect("log in");
        c
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join()
                .expect("server thread")
                .expect("server stops cleanly");
        }
    }
}

/// Median and 99th percentile of `n` timings of `f`.
fn percentiles(n: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[n / 2], times[n * 99 / 100])
}

fn report(what: &str, (median, p99): (Duration, Duration), target: Duration) {
    let verdict = if median < target { "meets" } else { "MISSES" };
    eprintln!(
        "{what}: median {:.1} µs, p99 {:.1} µs ({verdict} the target: median < {:.1} µs)",
        median.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        target.as_secs_f64() * 1e6
    );
}

/// One small read over the socket: request frame out, response frame back.
fn read_round_trip(c: &mut Criterion, server: &Running) {
    let mut client = server.client();
    for (name, request) in [
        ("serve/read round trip (AuditHead)", Request::AuditHead),
        (
            "serve/read round trip (PracticeShow)",
            Request::PracticeShow,
        ),
    ] {
        for _ in 0..200 {
            client.call(request.clone()).expect("warm up");
        }
        report(
            name,
            percentiles(5_000, || {
                black_box(client.call(request.clone()).expect("read"));
            }),
            Duration::from_micros(500),
        );
        c.bench_function(name, |b| {
            b.iter(|| black_box(client.call(request.clone()).expect("read")));
        });
    }
}

/// A new connection: connect, hello, welcome (what every CLI invocation pays before its login).
fn connect(c: &mut Criterion, server: &Running) {
    let connect = || {
        black_box(
            RemoteClient::connect(&server.socket)
                .expect("connect")
                .expect("the server answers"),
        )
    };
    report(
        "serve/connect and handshake",
        percentiles(500, || drop(connect())),
        Duration::from_millis(1),
    );
    c.bench_function("serve/connect and handshake", |b| b.iter(connect));
}

/// `CLIENTS` clients, each on its own connection and thread, sending `READS_PER_CLIENT` reads.
fn concurrent_reads(clients: &mut [RemoteClient]) -> Duration {
    let started = Instant::now();
    std::thread::scope(|s| {
        for client in clients.iter_mut() {
            s.spawn(move || {
                for _ in 0..READS_PER_CLIENT {
                    black_box(client.call(Request::AuditHead).expect("read"));
                }
            });
        }
    });
    started.elapsed()
}

fn read_throughput(c: &mut Criterion, server: &Running) {
    let mut clients: Vec<RemoteClient> = (0..CLIENTS).map(|_| server.client()).collect();
    let per_iter = CLIENTS * READS_PER_CLIENT;
    concurrent_reads(&mut clients);
    let rounds = 20;
    let took: Duration = (0..rounds).map(|_| concurrent_reads(&mut clients)).sum();
    let rate = (per_iter * rounds) as f64 / took.as_secs_f64();
    eprintln!(
        "serve/{CLIENTS} clients reading (AuditHead): {rate:.0} requests/s over {} requests ({} the target: >= 10000/s)",
        per_iter * rounds,
        if rate >= 10_000.0 { "meets" } else { "MISSES" }
    );
    let mut group = c.benchmark_group("serve/8 clients reading");
    group.throughput(Throughput::Elements(per_iter as u64));
    group.sample_size(30);
    group.bench_function("AuditHead", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| concurrent_reads(&mut clients)).sum());
    });
    group.finish();
}

fn user_add(n: u64) -> Request {
    Request::UserAdd(vec![
        (UserField::FirstName, "Bench".into()),
        (UserField::LastName, format!("User{n}")),
        (UserField::Email, format!("bench.user{n}@bench.example")),
        (UserField::Role, "Technician".into()),
        (UserField::Facility, "Main Street".into()),
    ])
}

/// A durable, audited write: validation, one transaction (record, indexes, audit event),
/// flushed to disk before the answer.
fn durable_write(c: &mut Criterion, server: &Running) {
    let mut client = server.client();
    let mut n = 0u64;
    let mut add = |client: &mut RemoteClient| {
        n += 1;
        black_box(client.call(user_add(n)).expect("user add"));
    };
    for _ in 0..20 {
        add(&mut client);
    }
    report(
        "serve/durable write (UserAdd)",
        percentiles(500, || add(&mut client)),
        Duration::from_millis(5),
    );
    let mut group = c.benchmark_group("serve/durable write");
    group.sample_size(50);
    group.bench_function("UserAdd", |b| b.iter(|| add(&mut client)));
    group.finish();
}

fn benches(c: &mut Criterion) {
    let server = Running::start();
    read_round_trip(c, &server);
    connect(c, &server);
    read_throughput(c, &server);
    durable_write(c, &server);
}

criterion::criterion_group! {
    name = serve;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion::criterion_main!(serve);
