//! End-to-end tests of the terminal interface: the real `staffctl` binary runs inside tmux, keys
//! are typed with `send-keys` and the screen is read back with `capture-pane -p`.
//!
//! Each test has its own tmux server (`tmux -L <unique name> -f /dev/null`) and a fresh temporary
//! directory for the store, HOME and XDG_CONFIG_HOME, so tests are independent and may run in
//! parallel. The interface runs under a small shell wrapper that prints a marker, the exit code
//! and `stty -a` when staffctl exits, then sleeps so the pane stays readable. tmux is required:
//! without it these tests fail (CI installs it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_staffctl");
const PASSWORD: &str = "correct horse battery staple";
/// Longest wait for the screen to show something (generous: the machine may be busy).
const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(50);
/// A screen counts as drawn when it is unchanged for this long.
const SETTLE: Duration = Duration::from_millis(30);
/// Printed by the wrapper when staffctl has exited.
const EXITED: &str = "STAFFCTL-EXITED";

fn require_tmux() {
    match Command::new("tmux").arg("-V").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "`tmux -V` failed ({}): the TUI end-to-end tests need a working tmux; \
             install it (apt-get install -y tmux)",
            o.status
        ),
        Err(e) => panic!(
            "tmux is not installed or not on PATH ({e}); the TUI end-to-end tests drive the \
             interface through tmux: install it (apt-get install -y tmux)"
        ),
    }
}

/// Single-quotes a string for `sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A fresh store, HOME and config directory for one test.
struct Sandbox {
    dir: TempDir,
    name: &'static str,
}

impl Sandbox {
    fn new(name: &'static str) -> Self {
        require_tmux();
        let dir = tempfile::Builder::new()
            .prefix("staffctl-e2e-")
            .tempdir()
            .expect("temporary directory");
        for sub in ["home", "config"] {
            fs::create_dir_all(dir.path().join(sub)).expect("create directory");
        }
        Self { dir, name }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn data(&self) -> PathBuf {
        self.path().join("data")
    }

    /// Runs the CLI against this sandbox's store (password from STAFFCTL_PASSWORD). `--direct`:
    /// never a `staffctl serve` that happens to run on this machine.
    fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--direct")
            .args(args)
            .current_dir(self.path())
            .env("STAFFCTL_DATA", self.data())
            .env("STAFFCTL_PASSWORD", PASSWORD)
            .env("HOME", self.path().join("home"))
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env_remove("STAFFCTL_USER")
            .env_remove("STAFFCTL_KEYMAP")
            .env_remove("STAFFCTL_SOCKET")
            .stdin(Stdio::null())
            .output()
            .expect("run staffctl")
    }

    /// Runs the CLI and returns its standard output; panics with its messages on failure.
    fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "staffctl {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    fn cli_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json", "--as", "admin"]);
        let text = self.cli_ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{text}"))
    }

    /// Creates the practice with the CLI (faster than the wizard): admin Ada Admin.
    fn init(&self) {
        self.cli_ok(&[
            "init",
            "--practice",
            "Acme Clinic",
            "--practice-email",
            "office@acme.example",
            "--facility",
            "Main",
            "--admin-username",
            "admin",
            "--admin-email",
            "it@acme.example",
            "--admin-first",
            "Ada",
            "--admin-last",
            "Admin",
        ]);
    }

    fn add_user(&self, first: &str, last: &str, role: &str, extra: &[&str]) {
        let email = format!("{}@acme.example", first.to_lowercase());
        let mut args = vec![
            "user",
            "add",
            "--as",
            "admin",
            "--first",
            first,
            "--last",
            last,
            "--email",
            &email,
            "--role",
            role,
            "--facility",
            "Main",
        ];
        args.extend(extra);
        self.cli_ok(&args);
    }

    /// Starts the interface in an 80x24 tmux pane.
    fn launch(&self, extra_args: &[&str]) -> Tui {
        // --direct: this sandbox's store, even if a system `staffctl serve` runs here.
        self.launch_via(&["--direct"], extra_args)
    }

    /// Starts the interface reaching the store as `route` says (`--direct`, `--socket P`).
    fn launch_via(&self, route: &[&str], extra_args: &[&str]) -> Tui {
        self.launch_on(route, &self.data(), extra_args)
    }

    /// Starts the interface on the data directory `data`, which may not exist yet.
    fn launch_on(&self, route: &[&str], data: &Path, extra_args: &[&str]) -> Tui {
        let socket = format!("staffctl-e2e-{}-{}", std::process::id(), self.name);
        let mut command = format!(
            "{} {} --data {}",
            sh_quote(BIN),
            route
                .iter()
                .map(|r| sh_quote(r))
                .collect::<Vec<_>>()
                .join(" "),
            sh_quote(&data.to_string_lossy())
        );
        for a in extra_args {
            command.push(' ');
            command.push_str(&sh_quote(a));
        }
        let script = format!(
            "unset STAFFCTL_USER STAFFCTL_PASSWORD STAFFCTL_KEYMAP STAFFCTL_DATA STAFFCTL_SOCKET NO_COLOR; \
             export HOME={home} XDG_CONFIG_HOME={config} TERM=xterm-256color; \
             {command}; echo \"{EXITED} rc=$?\"; stty -a; exec sleep 600",
            home = sh_quote(&self.path().join("home").to_string_lossy()),
            config = sh_quote(&self.path().join("config").to_string_lossy()),
        );
        let mut tui = Tui {
            socket,
            socket_path: None,
        };
        // In case an earlier run of this process id left a server behind.
        let _ = tui.tmux_output(&["kill-server"]);
        let out = tui.tmux_output(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "80",
            "-y",
            "24",
            "-c",
            &self.path().to_string_lossy(),
            &script,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = tui.tmux(&["display-message", "-p", "-t", "t", "#{socket_path}"]);
        tui.socket_path = Some(PathBuf::from(path.trim()));
        tui
    }
}

/// One tmux server running the interface; killed (and its socket removed) when dropped.
struct Tui {
    socket: String,
    socket_path: Option<PathBuf>,
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.tmux_output(&["kill-server"]);
        // tmux leaves the socket file behind; don't litter its directory.
        if let Some(path) = &self.socket_path {
            let _ = fs::remove_file(path);
        }
    }
}

/// Text after each `›` marker (the selected table row or the focused form field), trimmed.
fn marked(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| l.split_once('›'))
        .map(|(_, rest)| rest.trim().trim_end_matches('│').trim().to_string())
        .collect()
}

/// `(first, last, total)` from a scrolled view's title, `Title [1-20 of 47]`.
fn scroll_range(screen: &str, title: &str) -> Option<(usize, usize, usize)> {
    let line = screen.lines().find(|l| l.contains(title))?;
    let start = line.find(title)? + title.len();
    let rest = line[start..].strip_prefix(" [")?;
    let (range, total) = rest[..rest.find(']')?].split_once(" of ")?;
    let (a, b) = range.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?, total.parse().ok()?))
}

impl Tui {
    fn tmux_output(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env("SHELL", "/bin/sh")
            .env_remove("TMUX")
            .stdin(Stdio::null())
            .output()
            .expect("run tmux")
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = self.tmux_output(args);
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends named keys (`Tab`, `Enter`, `BTab`, `Down`, `C-u`, single characters).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend(keys);
        self.tmux(&args);
    }

    /// Types text literally.
    fn text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", "--", text]);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// Polls the screen until `pred` holds on a settled screen (two captures [`SETTLE`] apart
    /// agree: a frame reaches the terminal in several writes, and a half-drawn one must not
    /// count); panics with the last screen after [`WAIT`].
    fn wait_until(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        let mut screen = self.screen();
        loop {
            if pred(&screen) {
                sleep(SETTLE);
                let again = self.screen();
                if again == screen {
                    return screen;
                }
                screen = again;
                continue;
            }
            if start.elapsed() > WAIT {
                panic!("timed out waiting for {what}; the screen shows:\n{screen}");
            }
            sleep(POLL);
            screen = self.screen();
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |s| s.contains(text))
    }

    /// Presses `key` until the marked line (focused field or selected row) starts with
    /// `target`; each press must change the screen. Call it on a settled screen.
    fn move_to(&self, key: &str, target: &str) -> String {
        let mut screen = self.wait_until("a settled screen", |_| true);
        for _ in 0..80 {
            if marked(&screen).iter().any(|m| m.starts_with(target)) {
                return screen;
            }
            let before = screen.clone();
            self.keys(&[key]);
            screen = self.wait_until(&format!("{key} to move towards {target:?}"), |s| {
                s != before
            });
        }
        panic!("pressing {key} never reached {target:?}; the screen shows:\n{screen}");
    }

    /// In a form: focuses the text field labelled `label`, types `value` and waits until it
    /// shows (so the next key cannot race the redraw).
    fn fill(&self, label: &str, value: &str) {
        self.move_to("Tab", label);
        self.text(value);
        let shown = format!("{label} {value}");
        self.wait_until(&format!("{shown:?} in the focused field"), |s| {
            marked(s).contains(&shown)
        });
    }

    /// In a form: focuses the field labelled `label` and picks the option shown as `option`.
    fn choose(&self, label: &str, option: &str) {
        self.move_to("Tab", label);
        self.move_to("Right", &format!("{label} ◀ {option} ▶"));
    }

    /// Fills the login form (focus on the username field) and waits for the Users tab.
    fn login(&self, user: &str, password: &str) {
        let screen = self.wait_for("Username or email");
        assert!(
            marked(&screen)
                .iter()
                .any(|m| m.starts_with("Username or email")),
            "the login form should focus the username field:\n{screen}"
        );
        self.text(user);
        self.keys(&["Tab"]);
        self.text(password);
        self.keys(&["Enter"]);
        self.wait_until("the Users tab after login", |s| {
            s.contains("1 Users")
                && s.contains(" users")
                && s.lines()
                    .next()
                    .is_some_and(|l| l.trim_end().ends_with("admin"))
        });
    }

    /// Presses q and waits until staffctl has exited (its store lock is then released).
    fn quit(&self) -> String {
        self.keys(&["q"]);
        self.wait_exit()
    }

    /// Waits for the wrapper's exit marker and the `stty -a` output after it.
    fn wait_exit(&self) -> String {
        self.wait_until("staffctl to exit and stty to report", |s| {
            s.split_once(EXITED)
                .is_some_and(|(_, after)| after.contains("icanon"))
        })
    }

    fn alternate_screen(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "t", "#{alternate_on}"])
            .trim()
            == "1"
    }

    /// The staffctl process: the child of the pane's shell.
    fn staffctl_pid(&self) -> u32 {
        let shell: u32 = self
            .tmux(&["display-message", "-p", "-t", "t", "#{pane_pid}"])
            .trim()
            .parse()
            .expect("pane pid");
        let mut found = Vec::new();
        for entry in fs::read_dir("/proc").expect("read /proc").flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid ...
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let ppid = rest
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(shell) && head.contains("(staffctl") {
                found.push(pid);
            }
        }
        assert_eq!(
            found.len(),
            1,
            "expected one staffctl under the pane shell {shell}"
        );
        found[0]
    }
}

/// Checks the terminal was handed back: not in the alternate screen, canonical mode and echo on.
fn assert_terminal_restored(tui: &Tui, screen: &str) {
    assert!(
        !tui.alternate_screen(),
        "the alternate screen is still active:\n{screen}"
    );
    assert!(
        !screen.contains("1 Users") && !screen.contains("Log in"),
        "the interface is still drawn after exit:\n{screen}"
    );
    let (_, after) = screen.split_once(EXITED).expect("exit marker");
    let flags: Vec<&str> = after.split_whitespace().collect();
    for flag in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(
            flags.contains(&flag),
            "stty should report `{flag}` after staffctl exits:\n{screen}"
        );
        let off = format!("-{flag}");
        assert!(
            !flags.contains(&off.as_str()),
            "stty reports `{off}`: the terminal was left in raw mode:\n{screen}"
        );
    }
}

/// `(seq, action)` of every event in `staffctl audit list --output json`.
fn audit_events(sandbox: &Sandbox) -> Vec<(u64, String)> {
    let v = sandbox.cli_json(&["audit", "list", "--limit", "100000"]);
    let items = v
        .as_array()
        .or_else(|| v.get("items").and_then(Value::as_array))
        .unwrap_or_else(|| panic!("audit list: expected a list of events:\n{v:#}"));
    let mut events: Vec<(u64, String)> = items
        .iter()
        .map(|e| {
            (
                e["seq"].as_u64().expect("seq"),
                e["action"].as_str().expect("action").to_string(),
            )
        })
        .collect();
    events.sort();
    events
}

fn permissions(sandbox: &Sandbox, role: &str) -> Vec<String> {
    let v = sandbox.cli_json(&["role", "show", role]);
    let mut p: Vec<String> = v["role"]["permissions"]
        .as_array()
        .unwrap_or_else(|| panic!("role show: no permissions:\n{v:#}"))
        .iter()
        .map(|p| p.as_str().expect("permission key").to_string())
        .collect();
    p.sort();
    p
}

#[test]
fn first_run_wizard_creates_the_practice_then_login_shows_the_admin() {
    let sb = Sandbox::new("wizard");
    let tui = sb.launch(&[]);
    let screen = tui.wait_for("first-run setup");
    assert!(
        marked(&screen)
            .iter()
            .any(|m| m.starts_with("Practice name"))
    );
    let values = [
        ("Practice name", "Acme Clinic"),
        ("Contact email", "office@acme.example"),
        ("First facility", "Main"),
        ("First name", "Ada"),
        ("Last name", "Admin"),
        ("Username", "admin"),
        ("Email", "it@acme.example"),
        ("Password", PASSWORD),
        ("Repeat password", PASSWORD),
    ];
    for (i, (label, value)) in values.iter().enumerate() {
        tui.wait_until(&format!("focus on {label}"), |s| {
            marked(s).iter().any(|m| m.starts_with(label))
        });
        tui.text(value);
        if i + 1 < values.len() {
            tui.keys(&["Tab"]);
        }
    }
    let screen = tui.wait_until("the repeated password", |s| {
        marked(s)
            .iter()
            .any(|m| m == &format!("Repeat password {}", "•".repeat(PASSWORD.chars().count())))
    });
    assert!(
        !screen.contains(PASSWORD),
        "passwords must not show:\n{screen}"
    );
    tui.keys(&["Enter"]);
    let screen = tui.wait_for("Practice created. Log in as admin.");
    assert!(screen.contains("Username or email admin"), "{screen}");
    assert!(
        marked(&screen).iter().any(|m| m.starts_with("Password")),
        "after setup the password field has the focus:\n{screen}"
    );
    tui.text(PASSWORD);
    tui.keys(&["Enter"]);
    let screen = tui.wait_for("1 of 1 users");
    // The operator is named in the header (the practice too, when there is room).
    assert!(
        screen.lines().next().is_some_and(|l| l.contains("admin")),
        "{screen}"
    );
    let row = marked(&screen)
        .into_iter()
        .find(|m| m.starts_with("Ada Admin"))
        .unwrap_or_else(|| panic!("the admin should be listed and selected:\n{screen}"));
    assert!(
        row.contains("Administrator") && row.contains("Main") && row.contains("active"),
        "{row}"
    );
    tui.quit();

    let out = sb.cli_ok(&["user", "list", "--as", "admin"]);
    assert!(
        out.contains("admin") && out.contains("it@acme.example") && out.contains("Ada Admin"),
        "{out}"
    );
    let users = sb.cli_json(&["user", "list"]);
    let users = users.as_array().expect("a list of users");
    assert_eq!(users.len(), 1, "{users:#?}");
    assert_eq!(users[0]["username"], "admin");
    assert_eq!(users[0]["email"], "it@acme.example");
    assert_eq!(users[0]["status"], "active");
    let practice = sb.cli_ok(&["practice", "show", "--as", "admin"]);
    assert!(practice.contains("Acme Clinic"), "{practice}");
}

#[test]
fn wrong_password_is_denied_and_the_form_stays_then_login_works() {
    let sb = Sandbox::new("login");
    sb.init();
    let tui = sb.launch(&[]);
    tui.wait_for("Log in");
    tui.text("admin");
    tui.keys(&["Tab"]);
    tui.text("not the password at all");
    tui.keys(&["Enter"]);
    let screen = tui.wait_for("login denied");
    assert!(screen.contains("Log in"), "the login form stays:\n{screen}");
    assert!(
        screen.contains("Username or email admin"),
        "the username is kept:\n{screen}"
    );
    assert!(!screen.contains("1 Users"), "{screen}");
    let focused = marked(&screen);
    assert!(
        focused.iter().any(|m| m == "Password"),
        "the password is cleared and focused for a retry: {focused:?}\n{screen}"
    );

    tui.text(PASSWORD);
    tui.keys(&["Enter"]);
    let screen = tui.wait_for("1 of 1 users");
    assert!(screen.contains("Ada Admin"), "{screen}");
    assert!(!screen.contains("login denied"), "{screen}");
    tui.quit();

    let events = audit_events(&sb);
    let failed = events
        .iter()
        .filter(|(_, a)| a == "auth.login_failed")
        .count();
    assert_eq!(failed, 1, "one failed login is audited: {events:?}");
}

#[test]
fn add_user_keeps_input_on_invalid_npi_and_saves_when_fixed() {
    let sb = Sandbox::new("adduser");
    sb.init();
    let tui = sb.launch(&[]);
    tui.login("admin", PASSWORD);
    tui.keys(&["a"]);
    tui.wait_for("Add user");
    tui.fill("First name", "Beatrix");
    tui.fill("Last name", "Quimby");
    tui.fill("Email", "beatrix@acme.example");
    tui.choose("Role", "Provider");
    tui.fill("NPI", "1234567890");
    tui.keys(&["Enter"]);

    let screen = tui.wait_for("check digit");
    let lines: Vec<&str> = screen.lines().collect();
    let npi = lines
        .iter()
        .position(|l| l.contains("NPI 1234567890"))
        .unwrap_or_else(|| panic!("the NPI field keeps its value:\n{screen}"));
    assert!(
        lines[npi].contains('›'),
        "the NPI field is focused:\n{screen}"
    );
    assert!(
        lines[npi + 1].contains("! NPI '1234567890' fails its check digit"),
        "the message is right under the NPI field:\n{screen}"
    );
    assert!(
        screen.contains("Add user"),
        "the form stays open:\n{screen}"
    );

    // Everything typed is still there.
    let screen = tui.move_to("BTab", "First name");
    assert!(
        marked(&screen).iter().any(|m| m == "First name Beatrix"),
        "{screen}"
    );
    assert!(screen.contains("Last name Quimby"), "{screen}");
    assert!(screen.contains("Email beatrix@acme.example"), "{screen}");
    assert!(screen.contains("Role ◀ Provider ▶"), "{screen}");

    tui.move_to("Tab", "NPI");
    tui.keys(&["BSpace"]);
    tui.text("3");
    let screen = tui.wait_until("the corrected NPI", |s| {
        marked(s).iter().any(|m| m == "NPI 1234567893")
    });
    assert!(
        !screen.contains("check digit"),
        "editing the field clears its message:\n{screen}"
    );
    tui.keys(&["Enter"]);
    tui.wait_for("Added user #2 Beatrix Quimby");
    // The activation code is shown once, in its own window.
    let shown = tui.wait_for("Activation code:");
    assert!(shown.contains("shown only now"), "{shown}");
    tui.keys(&["Escape"]);
    // The list reloads in the background after a save.
    let screen = tui.wait_for("2 of 2 users");
    assert!(
        screen.lines().any(|l| l.contains("Beatrix Quimby")
            && l.contains("Provider")
            && l.contains("invited")),
        "{screen}"
    );
    tui.quit();

    let user = sb.cli_json(&["user", "show", "beatrix@acme.example"]);
    assert_eq!(user["user"]["provider"]["npi"], "1234567893", "{user:#}");
    assert_eq!(user["user"]["first_name"], "Beatrix");
    assert_eq!(user["user"]["last_name"], "Quimby");
    assert_eq!(user["user"]["status"], "invited");
    let users = sb.cli_json(&["user", "list"]);
    assert_eq!(
        users.as_array().map(Vec::len),
        Some(2),
        "the rejected attempt added nobody: {users:#}"
    );
}

#[test]
fn deactivating_a_user_with_a_reason_shows_in_their_history() {
    let sb = Sandbox::new("deactivate");
    sb.init();
    sb.add_user("Cyrus", "Zed", "Technician", &[]);
    let tui = sb.launch(&[]);
    tui.login("admin", PASSWORD);
    tui.wait_for("2 of 2 users");
    tui.move_to("Down", "Cyrus Zed");
    tui.keys(&["d"]);
    tui.wait_for("Deactivate Cyrus Zed?");
    tui.text("Moved to another clinic");
    tui.keys(&["Enter"]);
    tui.wait_for("Deactivated user #2");
    // The list reloads in the background after a save.
    let screen = tui.wait_until("Cyrus shown as deactivated", |s| {
        marked(s)
            .iter()
            .any(|m| m.starts_with("Cyrus Zed") && m.contains("deactivated"))
    });
    let row = marked(&screen)
        .into_iter()
        .find(|m| m.starts_with("Cyrus Zed"))
        .unwrap_or_else(|| panic!("Cyrus stays selected:\n{screen}"));
    assert!(row.contains("deactivated"), "{row}");

    tui.keys(&["Enter"]);
    let title = "User #2 Cyrus Zed";
    let mut screen = tui.wait_for(title);
    // Scroll through the whole detail view, keeping everything shown on the way.
    let mut seen = screen.clone();
    for _ in 0..200 {
        match scroll_range(&screen, title) {
            Some((_, last, total)) if last < total => {}
            Some(_) => break,
            None if screen.contains("HISTORY") => break,
            None => panic!("the detail view neither fits nor scrolls:\n{screen}"),
        }
        let before = screen.clone();
        tui.keys(&["Down"]);
        screen = tui.wait_until("the detail view to scroll", |s| s != before);
        seen.push_str(&screen);
    }
    assert!(
        seen.contains("Status               deactivated"),
        "status in the detail:\n{seen}"
    );
    assert!(
        seen.contains("Reason               Moved to another clinic"),
        "{seen}"
    );
    assert!(seen.contains("HISTORY (3 events)"), "{seen}");
    assert!(
        seen.contains("user.deactivate by admin (#1) [success]"),
        "{seen}"
    );
    assert!(
        seen.contains("deactivation_reason: (none) -> Moved to another clinic"),
        "{seen}"
    );
    tui.quit();

    let user = sb.cli_json(&["user", "show", "cyrus@acme.example"]);
    assert_eq!(user["user"]["status"], "deactivated", "{user:#}");
    assert_eq!(
        user["user"]["deactivation_reason"],
        "Moved to another clinic"
    );
}

#[test]
fn role_permission_matrix_saves_after_confirmation() {
    let sb = Sandbox::new("roles");
    sb.init();
    let before = permissions(&sb, "Front Desk");
    assert!(
        before.iter().any(|p| p == "calendar.view"),
        "fixture: Front Desk starts with calendar.view: {before:?}"
    );
    let tui = sb.launch(&[]);
    tui.login("admin", PASSWORD);
    tui.keys(&["2"]);
    tui.wait_for("Permissions of Administrator (e edits)");
    tui.move_to("Down", "Front Desk");
    tui.wait_for("Permissions of Front Desk (e edits)");
    tui.keys(&["e"]);
    let screen = tui.wait_for("Permissions of Front Desk (Space toggles");
    assert!(
        marked(&screen).iter().any(|m| m == "view [x] yes"),
        "calendar.view is focused first and on:\n{screen}"
    );
    tui.keys(&["Space"]);
    tui.wait_until("calendar.view switched off", |s| {
        marked(s).iter().any(|m| m == "view [ ] no")
    });
    tui.keys(&["Enter"]);
    let screen = tui.wait_for("Change permissions of Front Desk?");
    assert!(screen.contains("Revoke: calendar.view"), "{screen}");
    assert!(!screen.contains("Grant:"), "{screen}");
    tui.keys(&["y"]);
    let screen = tui.wait_for("Saved permissions of Front Desk.");
    assert!(
        !screen.contains("Space toggles"),
        "the matrix closes once its change is saved:\n{screen}"
    );
    let row = marked(&screen)
        .into_iter()
        .find(|m| m.starts_with("Front Desk"))
        .unwrap_or_else(|| panic!("Front Desk stays selected:\n{screen}"));
    let count = format!("{}/", before.len() - 1);
    assert!(row.contains(&count), "{row} should count {count}");
    assert!(screen.contains("[ ]view [x]create"), "{screen}");
    tui.quit();

    let after = permissions(&sb, "Front Desk");
    let expected: Vec<String> = before
        .iter()
        .filter(|p| *p != "calendar.view")
        .cloned()
        .collect();
    assert_eq!(after, expected);
}

#[test]
fn audit_export_dialog_writes_a_csv_matching_the_log() {
    let sb = Sandbox::new("export");
    sb.init();
    // A value with a comma and quotes, to check CSV quoting end to end.
    sb.add_user(
        "Dora",
        "Quinn",
        "Front Desk",
        &["--set", "note=prefers \"Dr. Q\", not Dora"],
    );
    let export = sb.path().join("exports").join("audit.csv");
    fs::create_dir_all(export.parent().unwrap()).unwrap();
    let export_text = export.to_string_lossy().into_owned();

    let tui = sb.launch(&[]);
    tui.login("admin", PASSWORD);
    tui.keys(&["6"]);
    tui.wait_for("Audit log, newest first");
    tui.keys(&["x"]);
    tui.wait_for("Export the audit log");
    let screen = tui.move_to("Tab", "Save to");
    assert!(
        screen.contains("staffctl-audit-"),
        "a default file name is offered:\n{screen}"
    );
    // Ctrl-U empties the field (tui-input's delete-line).
    tui.keys(&["C-u"]);
    tui.wait_until("the path field to be empty", |s| {
        marked(s).iter().any(|m| m == "Save to")
    });
    tui.text(&export_text);
    tui.wait_until("the typed path", |s| {
        marked(s)
            .iter()
            .any(|m| m == &format!("Save to {export_text}"))
    });
    tui.keys(&["Enter"]);
    let screen = tui.wait_for("Done:");
    assert!(screen.contains("Exporting the audit log"), "{screen}");
    assert!(screen.contains(&format!("to {export_text}")), "{screen}");
    let written: usize = screen
        .split_once("Done: ")
        .and_then(|(_, r)| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("an event count:\n{screen}"));
    tui.keys(&["Enter"]);
    tui.wait_until("the progress box to close", |s| {
        !s.contains("Exporting the audit log")
    });
    tui.quit();

    let mut reader = csv::Reader::from_path(&export).expect("the export file exists");
    let header: Vec<String> = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "seq",
            "time",
            "actor",
            "actor_id",
            "os_user",
            "pid",
            "ssh_client",
            "tty",
            "action",
            "target_kind",
            "target_id",
            "target_label",
            "outcome",
            "reason",
            "changes",
            "prev_hash",
            "hash"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("well-formed CSV");
    assert_eq!(rows.len(), written, "the dialog's count matches the file");
    let csv_seqs: Vec<u64> = rows
        .iter()
        .map(|r| r[0].parse().expect("numeric seq"))
        .collect();
    assert!(
        rows.iter()
            .any(|r| r[14].contains("note: (none) -> prefers \"Dr. Q\", not Dora")),
        "quoted values survive the round trip"
    );

    let events = audit_events(&sb);
    let export_seq = events
        .iter()
        .rev()
        .find(|(_, a)| a == "audit.export")
        .map(|(s, _)| *s)
        .unwrap_or_else(|| panic!("the export is audited: {events:?}"));
    let later: Vec<&(u64, String)> = events.iter().filter(|(s, _)| *s > export_seq).collect();
    assert!(
        later.iter().all(|(_, a)| a.starts_with("auth.")),
        "only the CLI's own logins follow the export: {later:?}"
    );
    let expected: Vec<u64> = events
        .iter()
        .filter(|(s, _)| *s < export_seq)
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(
        rows.len(),
        expected.len(),
        "the file holds every event before the export"
    );
    assert_eq!(csv_seqs, expected);
}

#[test]
fn vim_keymap_moves_with_j_k_gg_and_shift_g() {
    let sb = Sandbox::new("vim");
    sb.init();
    for (first, last) in [
        ("Bob", "Baker"),
        ("Cat", "Cole"),
        ("Dan", "Dunn"),
        ("Eve", "Eads"),
    ] {
        sb.add_user(first, last, "Technician", &[]);
    }
    let tui = sb.launch(&["--keymap", "vim"]);
    tui.login("admin", PASSWORD);
    let selected = |s: &str| marked(s).into_iter().next().unwrap_or_default();
    let expect = |keys: &[&str], name: &str| {
        tui.keys(keys);
        tui.wait_until(&format!("{keys:?} to select {name}"), |s| {
            selected(s).starts_with(name)
        })
    };
    let screen = tui.wait_for("5 of 5 users");
    assert!(selected(&screen).starts_with("Ada Admin"), "{screen}");
    expect(&["j"], "Bob Baker");
    expect(&["j"], "Cat Cole");
    expect(&["k"], "Bob Baker");
    expect(&["G"], "Eve Eads");
    expect(&["g", "g"], "Ada Admin");
    // A `g` that starts no sequence falls back to the next key on its own.
    expect(&["g", "j"], "Bob Baker");
    expect(&["G"], "Eve Eads");
    // l / h switch tabs.
    tui.keys(&["l"]);
    tui.wait_for("Permissions of Administrator (e edits)");
    tui.keys(&["h"]);
    let screen = tui.wait_for("5 of 5 users");
    assert!(selected(&screen).starts_with("Eve Eads"), "{screen}");
    tui.quit();
}

#[test]
fn quitting_with_q_restores_the_terminal() {
    let sb = Sandbox::new("quit");
    sb.init();
    let tui = sb.launch(&[]);
    tui.login("admin", PASSWORD);
    assert!(
        tui.alternate_screen(),
        "the interface uses the alternate screen"
    );
    let screen = tui.quit();
    assert!(screen.contains(&format!("{EXITED} rc=0")), "{screen}");
    assert_terminal_restored(&tui, &screen);
}

#[test]
fn sigterm_restores_the_terminal_and_releases_the_store() {
    let sb = Sandbox::new("sigterm");
    sb.init();
    let tui = sb.launch(&[]);
    tui.login("admin", PASSWORD);
    // Leave a form open with unsaved input: a signal must not wait for a confirmation.
    tui.keys(&["a"]);
    tui.wait_for("Add user");
    tui.text("Half typed");
    tui.wait_for("First name Half typed");
    let pid = tui.staffctl_pid();
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let screen = tui.wait_exit();
    assert_terminal_restored(&tui, &screen);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "staffctl {pid} is gone"
    );
    let out = sb.cli_ok(&["user", "list", "--as", "admin"]);
    assert!(out.contains("Ada Admin"), "{out}");
}

/// A `staffctl serve` for one sandbox; stopped with SIGTERM when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

#[test]
fn a_change_made_by_the_cli_shows_in_the_interface_through_the_server() {
    let sandbox = Sandbox::new("live");
    sandbox.init();
    let sock = sandbox.path().join("s.sock");
    let server = Server(
        Command::new(BIN)
            .args([
                "--data",
                &sandbox.data().to_string_lossy(),
                "serve",
                "--socket",
                &sock.to_string_lossy(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start staffctl serve"),
    );
    for _ in 0..200 {
        if std::os::unix::net::UnixStream::connect(&sock).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let sock_arg = sock.to_string_lossy().into_owned();
    let tui = sandbox.launch_via(&["--socket", &sock_arg], &[]);
    tui.wait_for("Log in");
    tui.login("admin", PASSWORD);
    tui.wait_for("1 of 1 users");
    let screen = tui.wait_for("server");
    assert!(
        screen.contains("s.sock"),
        "the status line names the server:\n{screen}"
    );

    // Another administrator adds someone through the same server.
    let out = Command::new(BIN)
        .args([
            "--socket", &sock_arg, "user", "add", "--as", "admin", "--first", "Lena", "--last",
            "Live",
        ])
        .args([
            "--email",
            "lena@acme.example",
            "--role",
            "Provider",
            "--facility",
            "Main",
        ])
        .env("STAFFCTL_PASSWORD", PASSWORD)
        .env_remove("STAFFCTL_DATA")
        .stdin(Stdio::null())
        .output()
        .expect("run staffctl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The interface polls the audit head every second and reloads on a change.
    let screen = tui.wait_for("Lena Live");
    assert!(screen.contains("2 of 2 users"), "{screen}");
    drop(tui);
    drop(server);
}

#[path = "tui_e2e/authority.rs"]
mod authority;
#[path = "tui_e2e/beside.rs"]
mod beside;
#[path = "tui_e2e/first_use.rs"]
mod first_use;
