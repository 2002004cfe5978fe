//! What a new user runs into first: the lock, keymap and config problems, leaving the
//! first-run wizard.

use super::*;

#[test]
fn ctrl_l_locks_over_a_form_and_help_and_the_same_admin_gets_them_back() {
    let sb = Sandbox::new("lock");
    sb.init();
    let tui = sb.launch(&[]);
    tui.login("admin", PASSWORD);
    tui.keys(&["a"]);
    tui.wait_for("Add user");
    tui.fill("First name", "Quentin");
    tui.keys(&["C-l"]);
    let screen = tui.wait_for("Screen locked");
    for hidden in ["Quentin", "Add user", "First name", "1 Users", "Ada Admin"] {
        assert!(
            !screen.contains(hidden),
            "{hidden:?} stays on the locked screen:\n{screen}"
        );
    }
    assert!(
        marked(&screen).iter().any(|m| m == "Password"),
        "the password field takes the keys:\n{screen}"
    );
    tui.text(PASSWORD);
    tui.keys(&["Enter"]);
    let screen = tui.wait_for("First name Quentin");
    assert!(screen.contains("Add user"), "{screen}");
    assert!(
        marked(&screen).iter().any(|m| m == "First name Quentin"),
        "the focus is where it was:\n{screen}"
    );

    // Help over the form: both are put away and come back.
    tui.keys(&["F1"]);
    tui.wait_for("Keys of this screen");
    tui.keys(&["C-l"]);
    let screen = tui.wait_for("Screen locked");
    assert!(!screen.contains("Keys of this screen"), "{screen}");
    tui.text(PASSWORD);
    tui.keys(&["Enter"]);
    tui.wait_for("Keys of this screen");
    tui.keys(&["Escape"]);
    tui.wait_for("First name Quentin");
    tui.keys(&["Escape"]);
    tui.wait_for("Discard changes?");
    tui.keys(&["y"]);
    tui.wait_for("1 of 1 users");
    tui.quit();

    let events = audit_events(&sb);
    let logins = events.iter().filter(|(_, a)| a == "auth.login").count();
    // The first login, one per unlock, and the one of this listing.
    assert_eq!(logins, 4, "each unlock is a login of its own: {events:?}");
}

#[test]
fn a_bad_user_keymap_starts_with_the_built_in_keys_and_says_where_the_problem_is() {
    let sb = Sandbox::new("badkeys");
    sb.init();
    let config = sb.path().join("config/staffctl");
    fs::create_dir_all(&config).expect("config directory");
    // Line 3 names an action that does not exist; line 2 alone would be fine.
    fs::write(
        config.join("keymap.toml"),
        "[users]\n\"n\" = \"user.add\"\n\"k\" = \"user.fly\"\n",
    )
    .expect("write keymap.toml");

    // `keymap check` reports it with file and line.
    let out = sb.cli(&["keymap", "check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("keymap.toml:3: [users] \"k\" = \"user.fly\": unknown action"),
        "{stderr}"
    );

    let tui = sb.launch(&[]);
    let screen = tui.wait_for("Log in");
    assert!(
        screen.contains("keymap.toml:3") && screen.contains("user.fly"),
        "the login screen names the file, line and key:\n{screen}"
    );
    assert!(
        !screen.contains("--keymap default"),
        "no advice that fails the same way:\n{screen}"
    );
    tui.login("admin", PASSWORD);
    // The built-in keys work; the file's other binding is not half applied.
    tui.keys(&["n"]);
    let screen = tui.wait_until("the warning after login", |s| s.contains("keymap.toml:3"));
    assert!(!screen.contains("Add user"), "n is not bound:\n{screen}");
    tui.keys(&["a"]);
    tui.wait_for("Add user");
    tui.keys(&["Escape"]);
    tui.wait_for("1 of 1 users");
    tui.quit();
}

#[test]
fn an_invalid_config_file_is_reported_with_its_line_instead_of_ignored() {
    let sb = Sandbox::new("badconfig");
    sb.init();
    let config = sb.path().join("config/staffctl");
    fs::create_dir_all(&config).expect("config directory");
    fs::write(config.join("config.toml"), "# mine\nkeymap = vim\n").expect("write config.toml");
    let tui = sb.launch(&[]);
    let screen = tui.wait_for("Log in");
    assert!(
        screen.contains("config.toml:2"),
        "the login screen names the file and line:\n{screen}"
    );
    tui.login("admin", PASSWORD);
    tui.quit();
    let out = sb.cli(&["keymap", "check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("config.toml:2:"), "{stderr}");
}

#[test]
fn cancelling_the_first_run_wizard_leaves_no_data_directory_behind() {
    let sb = Sandbox::new("wizardcancel");
    // A data directory two levels below anything that exists: staffctl creates all three.
    let data = sb.path().join("fresh/nested/data");
    let tui = sb.launch_on(&["--direct"], &data, &[]);
    tui.wait_for("first-run setup");
    assert!(
        data.join("db").exists(),
        "the store is open while the wizard runs"
    );
    tui.keys(&["Escape"]);
    let screen = tui.wait_exit();
    assert!(screen.contains(&format!("{EXITED} rc=0")), "{screen}");
    assert!(
        !sb.path().join("fresh").exists(),
        "what staffctl created is gone: {:?}",
        fs::read_dir(sb.path()).map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );
    drop(tui);

    // Typed into, then cancelled with the confirmation: gone too.
    let tui = sb.launch_on(&["--direct"], &data, &[]);
    tui.wait_for("first-run setup");
    tui.text("Acme");
    tui.wait_for("Practice name Acme");
    tui.keys(&["Escape"]);
    tui.wait_for("unsaved input");
    tui.keys(&["y"]);
    tui.wait_exit();
    assert!(!sb.path().join("fresh").exists());
    drop(tui);

    // A directory that existed before is the user's: it stays, and so does what is in it.
    let mine = sb.path().join("mine");
    fs::create_dir_all(&mine).expect("create");
    fs::write(mine.join("notes.txt"), "keep me").expect("write");
    let tui = sb.launch_on(&["--direct"], &mine, &[]);
    tui.wait_for("first-run setup");
    tui.keys(&["Escape"]);
    tui.wait_exit();
    assert!(mine.join("notes.txt").exists(), "the user's file is kept");
    drop(tui);

    // A created directory that gained a file of someone else's is not removed.
    let tui = sb.launch_on(&["--direct"], &data, &[]);
    tui.wait_for("first-run setup");
    fs::write(data.join("README"), "someone else's").expect("write");
    tui.keys(&["Escape"]);
    tui.wait_exit();
    assert!(
        data.join("README").exists(),
        "a file staffctl did not write stays"
    );
    assert!(!data.join("db").exists(), "the empty store is removed");
}
