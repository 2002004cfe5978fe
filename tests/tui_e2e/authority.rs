//! The authority model and the practice's time in a real terminal: a role without staffctl
//! permissions is refused at the login screen with the whole reason in view, and times show
//! in the practice's zone.

use super::*;

const NIA_PW: &str = "a nurse's long passphrase here";

impl Sandbox {
    /// Adds Nia Nurse (Provider) and activates her account with her one-time code.
    fn nurse(&self) {
        let out = self.cli_ok(&[
            "user",
            "add",
            "--as",
            "admin",
            "--first",
            "Nia",
            "--last",
            "Nurse",
            "--email",
            "nia@acme.example",
            "--username",
            "nia",
            "--role",
            "Provider",
            "--facility",
            "Main",
        ]);
        let code = out
            .split_once("Activation code for ")
            .and_then(|(_, rest)| rest.split_once(": "))
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("an activation code in:\n{out}"))
            .to_string();
        let done = Command::new(BIN)
            .args(["--direct", "activate", "--user", "nia"])
            .current_dir(self.path())
            .env("STAFFCTL_DATA", self.data())
            .env("STAFFCTL_INVITE_CODE", &code)
            .env("STAFFCTL_NEW_PASSWORD", NIA_PW)
            .env("HOME", self.path().join("home"))
            .stdin(Stdio::null())
            .output()
            .expect("run staffctl activate");
        assert!(
            done.status.success(),
            "activate: {}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
}

/// The words inside the login box, joined with single spaces.
fn box_words(screen: &str) -> String {
    screen
        .lines()
        .flat_map(|l| l.split(['│', ' ']))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_nurse_is_refused_at_the_login_screen_with_the_whole_reason_and_times_are_the_practice_s() {
    let sb = Sandbox::new("authority");
    sb.init();
    sb.cli_ok(&[
        "practice",
        "edit",
        "--as",
        "admin",
        "--set",
        "time_zone=Europe/Berlin",
    ]);
    sb.nurse();
    let tui = sb.launch(&[]);
    tui.wait_for("Username or email");
    tui.text("nia");
    tui.keys(&["Tab"]);
    tui.text(NIA_PW);
    tui.keys(&["Enter"]);
    let screen = tui.wait_for("gives no access");
    let words = box_words(&screen);
    assert!(
        words.contains(
            "nia's role (Provider) gives no access to staffctl (it needs admin.users, \
             admin.settings or audit.export); ask an administrator"
        ),
        "the whole reason, at 80x24:\n{screen}"
    );
    assert!(!screen.contains("No users yet"), "{screen}");
    assert!(
        !screen.contains("1 Users"),
        "the session is not entered:\n{screen}"
    );

    // An administrator logs in at the same screen.
    tui.keys(&["BTab", "C-u"]);
    tui.login("admin", PASSWORD);
    tui.keys(&["6"]);
    let screen = tui.wait_for("times in Europe/Berlin");
    // The selected row is the newest event: its sequence number and local time.
    let row = marked(&screen)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("a selected event:\n{screen}"));
    let mut cells = row.split_whitespace();
    let seq: u64 = cells.next().and_then(|s| s.parse().ok()).expect("a seq");
    let shown = format!(
        "{} {}",
        cells.next().expect("a date"),
        cells.next().expect("a time")
    );
    tui.quit();
    let events = sb.cli_json(&["audit", "list", "--limit", "100000"]);
    let at = events
        .as_array()
        .or_else(|| events.get("items").and_then(Value::as_array))
        .and_then(|items| items.iter().find(|e| e["seq"].as_u64() == Some(seq)))
        .and_then(|e| e["time"].as_str())
        .unwrap_or_else(|| panic!("event #{seq} in:\n{events:#}"));
    let at: jiff::Timestamp = at.parse().expect("an RFC 3339 time");
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").expect("the zone database");
    let expected = at
        .to_zoned_datetime(berlin)
        .strftime("%m-%d %H:%M")
        .to_string();
    assert_eq!(shown, expected, "event #{seq} in Berlin time:\n{screen}");
}
