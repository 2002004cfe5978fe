//! Crash consistency: `staffctl` changes killed with SIGKILL at a random moment. After every
//! kill the store opens, the audit chain verifies, every acknowledged change is present and at
//! most the one change in flight is ambiguous.
//!
//! `STAFFCTL_CRASH_TRIALS=N` and `STAFFCTL_CRASH_SEED=S` run more or other trials.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod process;

use std::path::Path;
use std::time::Duration;

use process::*;

/// A small deterministic generator (xorshift64*), so a seed replays a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The store's health check. `staffctl doctor` belongs here once it exists; until then the
/// audit chain is verified.
fn assert_healthy(data: &Path, trial: u64) {
    let out = verify(data);
    assert_ok(&out, &format!("audit verify after kill in trial {trial}"));
}

/// Runs `user add n` and kills it after `delay`; `Some(true)` when it finished with success
/// before the kill, `Some(false)` when it failed on its own, `None` when it was killed.
fn add_killed_after(data: &Path, n: u32, delay: Duration) -> Option<bool> {
    let mut child = staffctl(data)
        .args(user_add_args(n))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("staffctl starts");
    std::thread::sleep(delay);
    if let Some(status) = child.try_wait().expect("wait") {
        return Some(status.success());
    }
    // `Child::kill` sends SIGKILL on Unix.
    let _ = child.kill();
    let status = child.wait().expect("wait");
    if status.success() {
        Some(true)
    } else if status.code().is_some() {
        Some(false)
    } else {
        None
    }
}

#[test]
fn acknowledged_changes_survive_sigkill_and_the_chain_verifies() {
    let trials = env_u64("STAFFCTL_CRASH_TRIALS", 50);
    let mut rng = Rng(env_u64("STAFFCTL_CRASH_SEED", 0x5EED_CAFE) | 1);
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    init(&data);
    let mut acked = Vec::new();
    let mut killed = 0;
    for trial in 0..trials {
        let n = trial as u32 + 1;
        let delay = Duration::from_millis(rng.below(400));
        match add_killed_after(&data, n, delay) {
            Some(true) => acked.push(n),
            Some(false) => {}
            None => killed += 1,
        }
        assert_healthy(&data, trial);
        // One listing per trial, checked for every acknowledged user.
        let out = run(&data, &["--direct", "user", "list", "--output", "json"]);
        assert_ok(&out, "user list");
        let listing = text(&out.stdout);
        for &a in &acked {
            assert!(
                listing.contains(&format!("staff{a}@riverside.example")),
                "acknowledged user {a} lost after trial {trial}"
            );
        }
    }
    eprintln!(
        "crash: {trials} trials, {killed} killed in flight, {} acknowledged",
        acked.len()
    );
}
