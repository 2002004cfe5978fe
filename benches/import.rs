//! Importing a 10,000-row staff spreadsheet: preview (read, check every row) and commit (one
//! transaction with an invitation per user).
//!
//! ```text
//! cargo bench --bench import
//! ```
//! Targets: preview < 300 ms, commit with invitations < 900 ms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion};
use staffctl::service::{Bound, Calls, InitRequest, OpenOptions, Origin, Service, Session};

const ROWS: usize = 10_000;

fn store() -> (tempfile::TempDir, Service, Session) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let svc = Service::open(&dir.path().join("store"), &OpenOptions::default()).expect("open");
    let session = svc
        .init(
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
            &Origin::current(),
        )
        .expect("init");
    (dir, svc, session)
}

/// A spreadsheet of `ROWS` staff, as a practice exports it.
fn spreadsheet() -> Vec<u8> {
    let roles = ["Provider", "Front Desk", "Technician", "Billing Manager"];
    let mut csv = String::from("First Name,Last Name,E-mail,Title,Location,Part-time,Note\r\n");
    for i in 0..ROWS {
        csv.push_str(&format!(
            "First{i},Last{i},staff{i}@bench.example,{},Main Street,{},Joined in {}\r\n",
            roles[i % roles.len()],
            if i % 5 == 0 { "yes" } else { "no" },
            2000 + i % 25
        ));
    }
    csv.into_bytes()
}

fn bench(c: &mut Criterion) {
    let file = spreadsheet();
    let mut group = c.benchmark_group("import 10k rows");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    {
        let (_dir, svc, session) = store();
        let calls = Bound {
            service: &svc,
            session: &session,
        };
        group.bench_function("preview", |b| {
            b.iter(|| {
                let r = calls
                    .import_preview("staff.csv".into(), file.clone())
                    .expect("preview");
                assert_eq!(r.eligible(), ROWS);
                black_box(r)
            })
        });
    }
    group.bench_function("commit with invitations", |b| {
        b.iter_batched(
            store,
            |(dir, svc, session)| {
                let calls = Bound {
                    service: &svc,
                    session: &session,
                };
                let r = calls
                    .import_commit("staff.csv".into(), file.clone(), true)
                    .expect("commit");
                assert_eq!(r.created.len(), ROWS);
                (dir, svc, session, r)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
