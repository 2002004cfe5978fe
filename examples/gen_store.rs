//! Generates a large staffctl store for benchmarks, demos and whole-process timing, or times an
//! export or a verification of an existing one.
//!
//! ```text
//! cargo run --release --example gen_store -- DIR [--users N] [--facilities N] [--events N] [--seed N] [--span-days N]
//! cargo run --release --example gen_store -- DIR --export-csv FILE   # FILE may be - for stdout
//! cargo run --release --example gen_store -- DIR --verify
//! ```
//!
//! Generation makes DIR (which must not hold a store yet) a practice whose history spans the
//! past `--span-days` (default 365) up to now (`staffctl::testkit`): it is initialised at the
//! start of that history with the administrator `admin`, whose password is `$STAFFCTL_PASSWORD`
//! or a default printed to stdout. Every generated staff member who activated logs in with
//! `testkit::DEFAULT_STAFF_PASSWORD`. `--cache-mib N` sets sled's page cache (default: what
//! `staffctl` itself opens a store with, 4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use staffctl::service::{
    AuditQuery, ExportFormat, InitRequest, OpenOptions, Origin, Request, Response, Service,
};
use staffctl::testkit::{self, Spec};

const DEFAULT_PASSWORD: &str = "correct horse battery staple clinic";

enum Mode {
    Generate,
    Export(String),
    Verify,
}

struct Args {
    dir: PathBuf,
    spec: Spec,
    mode: Mode,
    cache_mib: u64,
}

fn usage() -> String {
    "usage: gen_store DIR [--users N] [--facilities N] [--events N] [--seed N] [--span-days N] [--cache-mib N]\n       gen_store DIR --export-csv FILE|-\n       gen_store DIR --verify"
        .to_string()
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut dir = None;
    let mut spec = Spec::default();
    let mut mode = Mode::Generate;
    let mut cache_mib = staffctl::store::OpenOptions::default().cache_bytes >> 20;
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value\n{}", usage()))
        };
        let number = |name: &str, v: String| {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("{name} must be a whole number, not '{v}'"))
        };
        match arg.as_str() {
            "--users" => spec.users = number("--users", value("--users")?)? as usize,
            "--facilities" => {
                spec.facilities = number("--facilities", value("--facilities")?)? as usize
            }
            "--events" => spec.events = number("--events", value("--events")?)?,
            "--seed" => spec.seed = number("--seed", value("--seed")?)?,
            "--span-days" => {
                spec.span_days = u32::try_from(number("--span-days", value("--span-days")?)?)
                    .map_err(|_| "--span-days is too large".to_string())?
            }
            "--cache-mib" => cache_mib = number("--cache-mib", value("--cache-mib")?)?,
            "--export-csv" => mode = Mode::Export(value("--export-csv")?),
            "--verify" => mode = Mode::Verify,
            "-h" | "--help" => return Err(usage()),
            other if other.starts_with('-') => {
                return Err(format!("unknown option {other}\n{}", usage()));
            }
            other if dir.is_none() => dir = Some(PathBuf::from(other)),
            other => return Err(format!("unexpected argument {other}\n{}", usage())),
        }
    }
    Ok(Args {
        dir: dir.ok_or_else(usage)?,
        spec,
        mode,
        cache_mib,
    })
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat`: on a shared
/// machine a better measure of the work than wall time. 0 when unavailable.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Wall and CPU time since `(wall, cpu)`, as text.
fn took(since: (Instant, f64)) -> (f64, String) {
    let wall = since.0.elapsed().as_secs_f64();
    (
        wall,
        format!("{wall:.2} s wall, {:.2} s CPU", cpu_seconds() - since.1),
    )
}

fn password() -> (String, bool) {
    match std::env::var("STAFFCTL_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (DEFAULT_PASSWORD.to_string(), true),
    }
}

fn run(args: Args) -> Result<(), String> {
    let opts = OpenOptions {
        cache_bytes: args.cache_mib << 20,
        create: matches!(args.mode, Mode::Generate),
    };
    let svc = Service::open(&args.dir, &opts).map_err(|e| e.to_string())?;
    let (password, default) = password();
    let origin = Origin::current();
    match args.mode {
        Mode::Generate => {
            let started = (Instant::now(), cpu_seconds());
            let init = InitRequest {
                practice_name: "Riverside Physio Group".into(),
                practice_email: "office@riverside-physio.example".into(),
                facility: "Main Street".into(),
                admin_username: "admin".into(),
                admin_email: "owner@riverside-physio.example".into(),
                admin_first: "Pat".into(),
                admin_last: "Owner".into(),
                admin_password: password.clone(),
            };
            let report = testkit::generate(&svc, &init, &args.spec).map_err(|e| e.to_string())?;
            let (_, time) = took(started);
            if default {
                println!("administrator: admin, password: {password}");
            } else {
                println!("administrator: admin, password from STAFFCTL_PASSWORD");
            }
            println!("staff password: {}", testkit::DEFAULT_STAFF_PASSWORD);
            println!(
                "generated {} facilities, {} users, {} events from {} to {} in {time}; head {}",
                report.facilities,
                report.users,
                report.events,
                report.span.0.strftime("%Y-%m-%d %H:%M UTC"),
                report.span.1.strftime("%Y-%m-%d %H:%M UTC"),
                report.head
            );
        }
        Mode::Export(path) => {
            let session = svc
                .login("admin", &password, &origin)
                .map_err(|e| e.to_string())?;
            let started = (Instant::now(), cpu_seconds());
            let mut out: Box<dyn Write> = if path == "-" {
                Box::new(std::io::stdout().lock())
            } else {
                Box::new(std::fs::File::create(&path).map_err(|e| format!("{path}: {e}"))?)
            };
            let n = svc
                .audit_export(
                    &session,
                    &AuditQuery::default(),
                    ExportFormat::Csv,
                    &mut out,
                )
                .map_err(|e| e.to_string())?;
            let (wall, time) = took(started);
            eprintln!(
                "exported {n} events in {time} ({:.0} events/s wall)",
                n as f64 / wall
            );
        }
        Mode::Verify => {
            let session = svc
                .login("admin", &password, &origin)
                .map_err(|e| e.to_string())?;
            let started = (Instant::now(), cpu_seconds());
            let report = match svc
                .call(&session, Request::AuditVerify { expect: None })
                .map_err(|e| e.to_string())?
            {
                Response::Verify(v) => v,
                other => return Err(format!("unexpected response {other:?}")),
            };
            let (_, time) = took(started);
            println!(
                "verified {} events in {time}: {}",
                report.checked,
                if report.ok { "ok" } else { "BROKEN" }
            );
            if !report.ok {
                return Err(format!("{:?}", report.broken));
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
