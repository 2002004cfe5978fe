//! Working beside an open interface: the interface that opens the store itself serves it on the
//! data directory's socket, so commands, `auth verify` and a second interface work meanwhile;
//! when it cannot serve, the others are told whose interface is in the way and what to do.
//!
//! These tests expect no writable `/run/staffctl` (where a system server would listen): with
//! one, the interface serves there instead of in the data directory.

use std::io::Write as _;

use super::*;

/// `staffctl ARGS` for this sandbox's store, reaching it as a command does by default (a
/// server when one answers, else the store itself), from no terminal and no SSH session.
fn command(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(sb.path())
        .env("STAFFCTL_DATA", sb.data())
        .env("STAFFCTL_PASSWORD", PASSWORD)
        .env("HOME", sb.path().join("home"))
        .env("XDG_CONFIG_HOME", sb.path().join("config"))
        .env_remove("STAFFCTL_USER")
        .env_remove("STAFFCTL_KEYMAP")
        .env_remove("STAFFCTL_SOCKET")
        .env_remove("SSH_CLIENT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `cmd` with `input` on its standard input; returns its pid and what it printed.
fn run(mut cmd: Command, input: Option<&str>) -> (u32, Output) {
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("start staffctl");
    if let Some(text) = input {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    let pid = child.id();
    (pid, child.wait_with_output().expect("staffctl finishes"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// The audit log as JSON, read the default way (through the interface's server while it runs).
fn events(sb: &Sandbox) -> Vec<Value> {
    let (_, out) = run(
        command(
            sb,
            &[
                "audit", "list", "--limit", "1000", "--output", "json", "--as", "admin",
            ],
        ),
        None,
    );
    assert_success(&out, "audit list");
    match serde_json::from_slice(&out.stdout).expect("audit list prints JSON") {
        Value::Array(events) => events,
        other => panic!("audit list is not a list: {other}"),
    }
}

fn socket(sb: &Sandbox) -> PathBuf {
    sb.data().join("staffctl.sock")
}

#[test]
fn commands_and_auth_verify_work_beside_the_interface_and_record_their_own_origin() {
    let sb = Sandbox::new("beside");
    sb.init();
    let tui = sb.launch(&[]);
    tui.login("admin", PASSWORD);
    let interface = tui.staffctl_pid();
    assert!(
        socket(&sb).exists(),
        "the interface serves on the data directory's socket"
    );

    let (list_pid, out) = run(command(&sb, &["user", "list", "--as", "admin"]), None);
    assert_success(&out, "user list beside the interface");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Ada Admin"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let mut verify = command(&sb, &["auth", "verify"]);
    verify.env("SSH_CLIENT", "10.9.8.7 50022 22");
    let (verify_pid, out) = run(verify, Some(&format!("admin\n{PASSWORD}\n")));
    assert_success(&out, "auth verify beside the interface");
    let (_, out) = run(
        command(&sb, &["auth", "verify"]),
        Some("admin\nnot the password\n"),
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));

    // Each event carries the process that asked (from the socket), never the interface's.
    let log = events(&sb);
    let login_of = |pid: u32| {
        log.iter()
            .find(|e| e["action"] == "auth.login" && e["origin"]["pid"] == pid)
            .unwrap_or_else(|| panic!("no auth.login of pid {pid} in {log:#?}"))
    };
    assert_eq!(login_of(list_pid)["origin"]["tty"], Value::Null);
    assert_eq!(login_of(verify_pid)["origin"]["ssh_client"], "10.9.8.7");
    let own: Vec<&Value> = log
        .iter()
        .filter(|e| e["origin"]["pid"] == interface)
        .collect();
    assert!(
        !own.is_empty() && own.iter().all(|e| e["origin"]["tty"].is_string()),
        "only the interface's own login carries its pid, with its terminal: {own:#?}"
    );
    assert!(
        log.iter()
            .any(|e| e["action"] == "auth.login_failed" && e["reason"] == "wrong password"),
        "{log:#?}"
    );

    // A change made beside it shows in the interface, whose own session works as before.
    sb.add_user_beside("Lena", "Live");
    let screen = tui.wait_for("Lena Live");
    assert!(screen.contains("2 of 2 users"), "{screen}");
    tui.keys(&["a"]);
    tui.wait_for("Add user");
    tui.keys(&["Escape"]);
    tui.wait_for("2 of 2 users");

    // Asking for the store itself is what is in the way, and the message says so.
    let out = sb.cli(&["user", "list", "--as", "admin"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "serves other staffctl processes on {}: leave out --direct",
            socket(&sb).display()
        )),
        "{}",
        stderr(&out)
    );

    // SIGTERM: the socket goes with the interface, and the store is free.
    let status = Command::new("kill")
        .args(["-TERM", &interface.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let screen = tui.wait_exit();
    assert_terminal_restored(&tui, &screen);
    assert!(!socket(&sb).exists(), "SIGTERM removes the socket");
    let out = sb.cli_ok(&["user", "list", "--as", "admin"]);
    assert!(out.contains("Lena Live"), "{out}");
    let serve_log = fs::read_to_string(sb.data().join("serve.log")).expect("serve.log");
    assert!(
        serve_log.contains("serving") && serve_log.contains("stopped"),
        "the server beside the interface logs to the data directory:\n{serve_log}"
    );
}

impl Sandbox {
    /// `user add` the default way (through the interface's server while it runs).
    fn add_user_beside(&self, first: &str, last: &str) {
        let email = format!("{}@acme.example", first.to_lowercase());
        let (_, out) = run(
            command(
                self,
                &[
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
                    "Provider",
                    "--facility",
                    "Main",
                ],
            ),
            None,
        );
        assert_success(&out, "user add beside the interface");
    }
}

#[test]
fn a_second_interface_works_beside_the_first_and_quitting_the_first_frees_the_store() {
    let sb = Sandbox::new("beside-first");
    sb.init();
    let first = sb.launch(&[]);
    first.login("admin", PASSWORD);

    // Another window, the default way: it finds the first interface's server.
    let window = Sandbox::new("beside-second");
    let second = window.launch_on(&[], &sb.data(), &[]);
    second.login("admin", PASSWORD);
    let screen = second.wait_for("server");
    assert!(
        screen.contains("staffctl.sock"),
        "the second interface uses the first one's server:\n{screen}"
    );
    second.keys(&["a"]);
    second.wait_for("Add user");
    second.fill("First name", "Sam");
    second.fill("Last name", "Second");
    second.fill("Email", "sam@acme.example");
    second.choose("Role", "Provider");
    second.keys(&["Enter"]);
    second.wait_for("Added user #2 Sam Second");
    second.wait_for("Activation code:");
    second.keys(&["Escape"]);
    second.wait_for("2 of 2 users");
    // The first interface sees the second one's change.
    let screen = first.wait_for("Sam Second");
    assert!(screen.contains("2 of 2 users"), "{screen}");
    let screen = second.quit();
    assert!(screen.contains(&format!("{EXITED} rc=0")), "{screen}");

    let screen = first.quit();
    assert!(screen.contains(&format!("{EXITED} rc=0")), "{screen}");
    assert!(!socket(&sb).exists(), "quitting removes the socket");
    // Nobody serves now: a command opens the store itself.
    let (_, out) = run(command(&sb, &["user", "list", "--as", "admin"]), None);
    assert_success(&out, "user list after the interface quit");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Sam Second"));
}

#[test]
fn when_the_interface_cannot_serve_others_are_told_whose_interface_to_close() {
    let sb = Sandbox::new("beside-busy");
    sb.init();
    // Something that is not a socket where the socket would go: never removed, so the
    // interface cannot serve.
    fs::write(socket(&sb), "not a socket").expect("write");
    let tui = sb.launch(&[]);
    tui.login("admin", PASSWORD);
    let pid = tui.staffctl_pid();

    let (_, out) = run(command(&sb, &["user", "list", "--as", "admin"]), None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    for part in [
        format!("is in use by pid {pid}"),
        format!("close the staffctl interface of pid {pid}"),
        "`systemctl start staffctl`".to_string(),
        "`staffctl serve`".to_string(),
        format!("{}", sb.data().join("serve.log").display()),
    ] {
        assert!(err.contains(&part), "{part:?} is not in: {err}");
    }
    let (_, out) = run(
        command(&sb, &["auth", "verify"]),
        Some(&format!("admin\n{PASSWORD}\n")),
    );
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));

    let serve_log = fs::read_to_string(sb.data().join("serve.log")).expect("serve.log");
    assert!(
        serve_log.contains("not serving other staffctl processes")
            && serve_log.contains("is not a socket"),
        "the reason is logged:\n{serve_log}"
    );
    // The interface itself works on.
    tui.keys(&["a"]);
    tui.wait_for("Add user");
    tui.keys(&["Escape"]);
    tui.wait_for("1 of 1 users");
    tui.quit();
    assert_eq!(
        fs::read_to_string(socket(&sb)).expect("the file is still there"),
        "not a socket"
    );
}
