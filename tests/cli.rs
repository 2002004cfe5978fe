//! End-to-end scenarios for the `staffctl` binary: one test per subcommand and per documented
//! refusal, checking exit codes, messages and output formats as an administrator or a script
//! sees them.
//!
//! Every command runs against a fresh temporary store, with every inherited `STAFFCTL_*`
//! variable removed so the host environment cannot leak in. Command lines are written as
//! strings (`"user deactivate alice@riverside.example --reason 'Left the practice'"`) so the
//! scenarios read like a terminal session; values that need exact bytes use `.args([...])`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::{Value, json as j};
use tempfile::TempDir;

use staffctl::audit::AuditEvent;
use staffctl::model::User;
use staffctl::service::Service;
use staffctl::store::audit_log::{self, AuditChunk};
use staffctl::store::{OpenOptions, TreeId, codec, id_key};

/// The first administrator's password in every scenario.
const PASSWORD: &str = "correct horse battery staple";

/// Alice, the staff member most scenarios add.
const ALICE: &str = "alice@riverside.example";

/// Exit codes documented in `staffctl --help`.
const USAGE: i32 = 2;
const INVALID: i32 = 3;
const NOT_FOUND: i32 = 4;
const DENIED: i32 = 5;
const BUSY: i32 = 6;
const INTEGRITY: i32 = 7;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The store directory inside a test's temporary directory (`init` creates it).
fn data(dir: &TempDir) -> PathBuf {
    dir.path().join("data")
}

/// `staffctl` against this test's store, logged in as `admin`, with a clean environment.
fn staffctl(dir: &TempDir) -> Command {
    let mut cmd = Command::cargo_bin("staffctl").expect("the staffctl binary is built");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("STAFFCTL_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("STAFFCTL_NEW_PASSWORD")
        .env("STAFFCTL_DATA", data(dir))
        .env("STAFFCTL_PASSWORD", PASSWORD)
        .env("STAFFCTL_USER", "admin");
    cmd
}

/// Splits a command line into words: whitespace separates, single quotes group.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => out.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(!quoted, "unbalanced quote in {line:?}");
    out.extend(word);
    out
}

/// `staffctl LINE` against this test's store.
fn cmd(dir: &TempDir, line: &str) -> Command {
    let mut c = staffctl(dir);
    c.args(words(line));
    c
}

/// Standard output of a finished command.
fn stdout(a: &Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).expect("stdout is UTF-8")
}

/// Standard error of a finished command.
fn stderr(a: &Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).expect("stderr is UTF-8")
}

/// Runs a command that must succeed and returns what it printed.
fn run(dir: &TempDir, line: &str) -> String {
    stdout(&cmd(dir, line).assert().success())
}

/// Runs a read command with `--output json` and parses what it printed.
fn json(dir: &TempDir, line: &str) -> Value {
    let a = cmd(dir, line).args(["--output", "json"]).assert().success();
    serde_json::from_slice(&a.get_output().stdout).expect("stdout is JSON")
}

/// Initialises the store: practice "Riverside PT", facility "Downtown", administrator `admin`.
fn init(dir: &TempDir) {
    cmd(
        dir,
        "init --practice 'Riverside PT' --practice-email office@riverside.example \
         --facility Downtown --admin-username admin --admin-email it@riverside.example \
         --admin-first Ada --admin-last Admin",
    )
    .assert()
    .success();
}

/// A fresh, initialised store.
fn store() -> TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    init(&dir);
    dir
}

/// `staffctl user add FLAGS`, which must succeed; returns the new user's id.
fn add_user(dir: &TempDir, flags: &str) -> u64 {
    let out = run(dir, &format!("user add {flags}"));
    out.strip_prefix("Added user #")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("unexpected user add output: {out}"))
}

/// Adds Alice Smith, a Provider at Downtown, with extra flags.
fn add_alice(dir: &TempDir, extra: &str) -> u64 {
    add_user(
        dir,
        &format!(
            "--first Alice --last Smith --email {ALICE} --role Provider --facility Downtown {extra}"
        ),
    )
}

/// Emails of the users `user list FILTERS` prints, sorted.
fn user_emails(dir: &TempDir, filters: &str) -> Vec<String> {
    let list = json(dir, &format!("user list {filters}"));
    let mut emails: Vec<String> = list
        .as_array()
        .expect("user list is an array")
        .iter()
        .map(|u| u["email"].as_str().expect("email").to_string())
        .collect();
    emails.sort();
    emails
}

/// Every audit event, newest first, as `audit list` prints them.
fn audit_events(dir: &TempDir) -> Vec<Value> {
    match json(dir, "audit list --limit 100000") {
        Value::Array(events) => events,
        other => panic!("audit list is not an array: {other}"),
    }
}

/// The actions in a user's history, oldest first.
fn history_actions(dir: &TempDir, user: &str) -> Vec<String> {
    json(dir, &format!("user show {user}"))["history"]
        .as_array()
        .expect("history is an array")
        .iter()
        .map(|h| h["action"].as_str().expect("action").to_string())
        .collect()
}

/// Rewrites one stored record in place, bypassing the service, as someone editing the
/// database files directly (or an older, buggier version) could.
fn tamper<T: codec::Record>(dir: &TempDir, tree: TreeId, id: u64, edit: impl FnOnce(&mut T)) {
    let svc = Service::open(&data(dir), &OpenOptions::default()).expect("open the store");
    let raw = svc
        .store()
        .get_raw(tree, &id_key(id))
        .expect("read the record")
        .expect("the record exists");
    let mut record: T = codec::decode(&raw).expect("the record decodes");
    edit(&mut record);
    let bytes = codec::encode(&record).expect("the record encodes");
    svc.store()
        .put_raw_unchecked(tree, &id_key(id), &bytes)
        .expect("overwrite the record");
}

/// Rewrites stored audit event `seq` in place, inside its chunk, as an attacker with file access
/// could.
fn tamper_event(dir: &TempDir, seq: u64, edit: impl FnOnce(&mut AuditEvent)) {
    tamper::<AuditChunk>(dir, TreeId::Audit, audit_log::chunk_number(seq), |chunk| {
        let event = chunk
            .0
            .iter_mut()
            .find(|e| e.seq == seq)
            .expect("the chunk holds the event");
        edit(event);
    });
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Asserts that text holds no escape or bell byte and none of the tell-tale sequence bodies.
fn assert_no_escapes(what: &str, text: &str) {
    assert!(!text.contains('\u{1b}'), "{what} contains ESC: {text:?}");
    assert!(!text.contains('\u{7}'), "{what} contains BEL: {text:?}");
    assert!(
        !text.contains("[2J"),
        "{what} contains a CSI fragment: {text:?}"
    );
    assert!(
        !text.contains("]52;"),
        "{what} contains an OSC fragment: {text:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// init, help, usage
// ---------------------------------------------------------------------------------------------

#[test]
fn init_creates_a_store_and_says_how_to_log_in() {
    let dir = tempfile::tempdir().unwrap();
    cmd(
        &dir,
        "init --practice 'Riverside PT' --practice-email office@riverside.example \
         --facility Downtown --admin-username Admin --admin-email it@riverside.example \
         --admin-first Ada --admin-last Admin",
    )
    .assert()
    .success()
    .stdout(contains("Initialised Riverside PT in"))
    .stdout(contains("--as admin"));

    // The administrator (username lowercased) can log in straight away, and is the only user.
    assert_eq!(user_emails(&dir, ""), ["it@riverside.example"]);
    assert_eq!(
        json(&dir, "practice show")["settings"]["name"],
        "Riverside PT"
    );
}

#[test]
fn a_second_init_is_refused_and_changes_nothing() {
    let dir = store();
    let head = run(&dir, "audit head");
    cmd(
        &dir,
        "init --practice Other --practice-email other@riverside.example --facility Elsewhere \
         --admin-username boss --admin-email boss@riverside.example --admin-first Bo --admin-last Ss",
    )
    .assert()
    .code(INVALID)
    .stderr(contains("already initialised"));

    let facilities = json(&dir, "facility list --all");
    assert_eq!(facilities.as_array().unwrap().len(), 1);
    assert_eq!(facilities[0]["facility"]["name"], "Downtown");
    cmd(&dir, &format!("audit verify --expect {}", head.trim()))
        .assert()
        .success();
}

#[test]
fn init_with_a_weak_password_is_refused_and_a_later_init_works() {
    let dir = tempfile::tempdir().unwrap();
    let init_line = "init --practice 'Riverside PT' --practice-email office@riverside.example \
                     --facility Downtown --admin-username admin --admin-email it@riverside.example \
                     --admin-first Ada --admin-last Admin";
    cmd(&dir, init_line)
        .env("STAFFCTL_PASSWORD", "Short2024!")
        .assert()
        .code(INVALID)
        .stderr(contains("password"))
        .stdout(predicate::str::is_empty());

    // Nothing was initialised: other commands say so, and init can simply be run again.
    cmd(&dir, "user list")
        .assert()
        .code(NOT_FOUND)
        .stderr(contains("staffctl init"));
    cmd(&dir, init_line)
        .assert()
        .success()
        .stdout(contains("Initialised"));
    assert_eq!(user_emails(&dir, ""), ["it@riverside.example"]);
}

#[test]
fn top_level_help_documents_exit_codes_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    cmd(&dir, "--help")
        .assert()
        .success()
        .stdout(contains("Exit codes:"))
        .stdout(contains("3  invalid input or conflict"))
        .stdout(contains("6  store busy"))
        .stdout(contains("7  audit chain"))
        .stdout(contains("STAFFCTL_PASSWORD"));
}

#[test]
fn no_subcommand_without_a_terminal_explains_and_creates_nothing() {
    // Without a subcommand staffctl opens the interface, which needs a terminal; from a script
    // it says so, points at the subcommands, and exits with the usage code.
    let dir = tempfile::tempdir().unwrap();
    cmd(&dir, "")
        .assert()
        .code(2)
        .stderr(contains("needs a terminal"))
        .stderr(contains("staffctl --help"));
    assert!(!data(&dir).exists(), "the refusal created a store");
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for line in ["--frobnicate", "user list --frobnicate"] {
        cmd(&dir, line)
            .assert()
            .code(USAGE)
            .stderr(contains("--frobnicate"));
    }
}

// ---------------------------------------------------------------------------------------------
// facility
// ---------------------------------------------------------------------------------------------

#[test]
fn facility_add_edit_show_and_list() {
    let dir = store();
    cmd(
        &dir,
        "facility add Uptown --code UP --address '1 Main St' --phone 555-0100",
    )
    .assert()
    .success()
    .stdout(contains("Added facility #2 Uptown."));
    cmd(&dir, "facility edit UP --name 'Uptown Clinic' --code UT")
        .assert()
        .success()
        .stdout(contains("Updated facility #2 Uptown Clinic."));

    let shown = json(&dir, "facility show UT");
    assert_eq!(shown["facility"]["name"], "Uptown Clinic");
    assert_eq!(shown["facility"]["code"], "UT");
    assert_eq!(shown["facility"]["address"], "1 Main St");
    assert_eq!(shown["facility"]["phone"], "555-0100");
    assert_eq!(shown["facility"]["archived"], false);

    let list = json(&dir, "facility list");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["facility"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Downtown", "Uptown Clinic"]);
    // Head counts: only the administrator, whose primary facility is Downtown.
    assert_eq!(list[0]["primary_users"], 1);
    assert_eq!(list[1]["primary_users"], 0);

    let table = run(&dir, "facility show Downtown");
    assert!(table.contains("#1 Ada Admin"), "{table}");

    cmd(&dir, "facility add downtown")
        .assert()
        .code(INVALID)
        .stderr(contains("already used by facility #1"));
    cmd(&dir, "facility show Nowhere").assert().code(NOT_FOUND);
}

#[test]
fn facility_archive_is_refused_while_it_is_someones_primary_facility() {
    let dir = store();
    run(&dir, "facility add Uptown --code UP");
    add_user(
        &dir,
        &format!("--first Alice --last Smith --email {ALICE} --role Provider --facility Uptown"),
    );

    cmd(&dir, "facility archive Uptown")
        .assert()
        .code(INVALID)
        .stderr(contains("Alice Smith"))
        .stderr(contains("primary facility"));
    assert_eq!(
        json(&dir, "facility show UP")["facility"]["archived"],
        false
    );

    // Move Alice; then archiving works: hidden from the list, shown with --all, restorable.
    run(&dir, &format!("user edit {ALICE} --facility Downtown"));
    cmd(&dir, "facility archive Uptown")
        .assert()
        .success()
        .stdout(contains("Archived facility #2 Uptown."));
    assert_eq!(json(&dir, "facility list").as_array().unwrap().len(), 1);
    let all = json(&dir, "facility list --all");
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[1]["facility"]["archived"], true);

    cmd(&dir, "facility restore UP")
        .assert()
        .success()
        .stdout(contains("Restored facility #2 Uptown."));
    assert_eq!(json(&dir, "facility list").as_array().unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// role and permission
// ---------------------------------------------------------------------------------------------

#[test]
fn role_list_show_and_add() {
    let dir = store();
    let roles = json(&dir, "role list");
    let administrator = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"]["name"] == "Administrator")
        .expect("the built-in Administrator role");
    assert_eq!(administrator["role"]["builtin"], true);
    assert_eq!(administrator["users"], 1);

    cmd(
        &dir,
        "role add Scheduler --description 'Books appointments' \
         --permission calendar.view --permission calendar.create",
    )
    .assert()
    .success()
    .stdout(contains("Added role #"))
    .stdout(contains("Scheduler (2 permissions"));

    let shown = json(&dir, "role show scheduler");
    assert_eq!(shown["role"]["name"], "Scheduler");
    assert_eq!(shown["role"]["description"], "Books appointments");
    assert_eq!(shown["role"]["builtin"], false);
    assert_eq!(
        shown["role"]["permissions"],
        j!(["calendar.create", "calendar.view"])
    );
    assert_eq!(shown["users"], j!([]));

    // The table marks granted permissions.
    let table = run(&dir, "role show Scheduler");
    let line = |key: &str| table.lines().find(|l| l.contains(key)).unwrap_or_default();
    assert!(line("calendar.view").contains("[x]"), "{table}");
    assert!(line("calendar.delete").contains("[ ]"), "{table}");

    cmd(&dir, "role add 'Front Desk'")
        .assert()
        .code(INVALID)
        .stderr(contains("already used by role #"));
    cmd(&dir, "role show Astronaut").assert().code(NOT_FOUND);
}

#[test]
fn role_edit_grants_revokes_and_renames() {
    let dir = store();
    run(&dir, "role add Scheduler --permission calendar.view");
    cmd(
        &dir,
        "role edit Scheduler --grant calendar.create --grant calendar.delete \
         --revoke calendar.view --rename Booker --description 'Books and cancels'",
    )
    .assert()
    .success()
    .stdout(contains("Updated role #"))
    .stdout(contains("Booker (2 permissions"));

    let shown = json(&dir, "role show Booker");
    assert_eq!(
        shown["role"]["permissions"],
        j!(["calendar.create", "calendar.delete"])
    );
    assert_eq!(shown["role"]["description"], "Books and cancels");
    cmd(&dir, "role show Scheduler").assert().code(NOT_FOUND);
}

#[test]
fn role_edit_with_an_unknown_permission_key_is_refused() {
    let dir = store();
    run(&dir, "role add Scheduler --permission calendar.view");
    for flag in ["--grant", "--revoke"] {
        cmd(
            &dir,
            &format!("role edit Scheduler {flag} calendar.teleport"),
        )
        .assert()
        .code(INVALID)
        .stderr(contains("calendar.teleport"))
        .stderr(contains("staffctl permission list"));
    }
    assert_eq!(
        json(&dir, "role show Scheduler")["role"]["permissions"],
        j!(["calendar.view"])
    );
    // The same for role add: refused, and no role appears.
    cmd(&dir, "role add Other --permission calendar.teleport")
        .assert()
        .code(INVALID);
    cmd(&dir, "role show Other").assert().code(NOT_FOUND);
}

#[test]
fn role_delete_is_refused_while_assigned_and_works_once_unassigned() {
    let dir = store();
    run(&dir, "role add Scheduler --permission calendar.view");
    add_user(
        &dir,
        "--first Bob --last Jones --email bob@riverside.example --role Scheduler --facility Downtown",
    );

    cmd(&dir, "role delete Scheduler")
        .assert()
        .code(INVALID)
        .stderr(contains("Bob Jones"));
    assert_eq!(
        json(&dir, "role show Scheduler")["users"][0]["name"],
        "Bob Jones"
    );

    run(&dir, "user edit bob@riverside.example --role 'Front Desk'");
    cmd(&dir, "role delete Scheduler")
        .assert()
        .success()
        .stdout(contains("Deleted role #"));
    cmd(&dir, "role show Scheduler").assert().code(NOT_FOUND);
}

#[test]
fn built_in_roles_cannot_be_deleted() {
    let dir = store();
    // Front Desk is built in and assigned to nobody: refused for being built in alone.
    cmd(&dir, "role delete 'Front Desk'")
        .assert()
        .code(INVALID)
        .stderr(contains("built in"));
    json(&dir, "role show 'Front Desk'");
}

#[test]
fn permission_list_needs_neither_a_store_nor_a_login() {
    let dir = tempfile::tempdir().unwrap();
    let anonymous = |line: &str| {
        let mut c = cmd(&dir, line);
        c.env_remove("STAFFCTL_USER")
            .env_remove("STAFFCTL_PASSWORD");
        c
    };
    let table = stdout(&anonymous("permission list").assert().success());
    assert!(table.starts_with("MODULE"), "{table}");
    assert!(table.contains("calendar.view"), "{table}");

    let out = anonymous("permission list --output json")
        .assert()
        .success();
    let list: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let keys: Vec<&str> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(|p| p["key"].as_str().expect("every entry has a key"))
        .collect();
    assert!(keys.contains(&"admin.users"), "{keys:?}");
    assert!(keys.contains(&"audit.export"), "{keys:?}");
    assert!(!data(&dir).exists(), "permission list created a store");
}

// ---------------------------------------------------------------------------------------------
// user
// ---------------------------------------------------------------------------------------------

#[test]
fn user_list_filters_by_search_status_role_and_facility() {
    let dir = store();
    run(&dir, "facility add Uptown --code UP");
    add_alice(&dir, "--npi 1234567893");
    add_user(
        &dir,
        "--first Bob --last Jones --email bob@riverside.example --role 'Front Desk' \
         --facility Uptown --username bobj",
    );
    add_user(
        &dir,
        "--first Carol --last Lee --email carol@riverside.example --role Provider \
         --facility Uptown",
    );
    run(
        &dir,
        "user deactivate carol@riverside.example --reason 'Moved away'",
    );

    assert_eq!(
        user_emails(&dir, ""),
        [
            ALICE,
            "bob@riverside.example",
            "carol@riverside.example",
            "it@riverside.example"
        ]
    );
    // Search: name in any case, username, NPI.
    assert_eq!(user_emails(&dir, "--search SMITH"), [ALICE]);
    assert_eq!(
        user_emails(&dir, "--search bobj"),
        ["bob@riverside.example"]
    );
    assert_eq!(user_emails(&dir, "--search 1234567893"), [ALICE]);
    assert!(user_emails(&dir, "--search zebra").is_empty());
    // Status.
    assert_eq!(
        user_emails(&dir, "--status invited"),
        [ALICE, "bob@riverside.example"]
    );
    assert_eq!(
        user_emails(&dir, "--status active"),
        ["it@riverside.example"]
    );
    assert_eq!(
        user_emails(&dir, "--status deactivated"),
        ["carol@riverside.example"]
    );
    // Role.
    assert_eq!(
        user_emails(&dir, "--role Provider"),
        [ALICE, "carol@riverside.example"]
    );
    // Facility: who can access it (the administrator can access every facility).
    assert_eq!(
        user_emails(&dir, "--facility UP"),
        [
            "bob@riverside.example",
            "carol@riverside.example",
            "it@riverside.example"
        ]
    );
    // Filters combine.
    assert_eq!(
        user_emails(&dir, "--role Provider --facility Uptown"),
        ["carol@riverside.example"]
    );

    let table = run(&dir, "user list --status invited");
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains("\n2 user(s); times in "), "{table}");

    cmd(&dir, "user list --status retired").assert().code(USAGE);
}

#[test]
fn user_show_json_has_status_and_history_starting_with_create() {
    let dir = store();
    add_alice(&dir, "");
    let shown = json(&dir, &format!("user show {ALICE}"));
    assert_eq!(shown["status"], "invited");
    assert_eq!(shown["role"], "Provider");
    assert_eq!(shown["facility"], "Downtown");
    let history = shown["history"].as_array().expect("history is an array");
    assert_eq!(history[0]["action"], "user.create");
    assert_eq!(history[0]["outcome"], "success");

    // Found by full name too; the table has the sections an administrator expects.
    let table = run(&dir, "user show 'Alice Smith'");
    for section in ["Identity", "Role & flags", "Facilities & access", "History"] {
        assert!(table.contains(section), "missing {section}: {table}");
    }
    assert!(table.contains("user.create"), "{table}");
}

#[test]
fn user_add_accepts_every_contract_flag() {
    let dir = store();
    run(&dir, "facility add Uptown --code UP");
    cmd(
        &dir,
        &format!(
            "user add --first Alice --last Smith --email {ALICE} --role Provider --facility UP \
             --username asmith --billing provider --npi 1234567893 --taxonomy 207Q00000X \
             --part-time"
        ),
    )
    .assert()
    .success()
    .stdout(predicate::str::starts_with(
        "Added user #2 Alice Smith (status: invited).\nActivation code for Alice Smith: ",
    ))
    .stdout(contains(
        "No mail command is set: hand the code to the person.",
    ));

    let shown = json(&dir, "user show asmith");
    let u = &shown["user"];
    assert_eq!(u["username"], "asmith");
    assert_eq!(u["billing"], "provider");
    assert_eq!(u["provider"]["npi"], "1234567893");
    assert_eq!(u["provider"]["taxonomy"], "207Q00000X");
    assert_eq!(u["part_time"], true);
    assert_eq!(u.get("is_admin"), None, "the administrator flag is gone");
    assert_eq!(u["aide"], false);
    assert_eq!(shown["facility"], "Uptown");

    let dana = add_user(
        &dir,
        "--first Dana --last Second --email dana@riverside.example --role Administrator \
         --facility Downtown --billing none",
    );
    let dana_shown = json(&dir, &format!("user show {dana}"));
    let perms = dana_shown["permissions"].as_array().unwrap();
    assert!(perms.iter().any(|p| p == "admin.users"), "{perms:?}");
    // The old flag is refused with what to do instead.
    cmd(
        &dir,
        "user add --first Old --last Habit --email old@riverside.example --role Provider \
         --facility Downtown --admin",
    )
    .assert()
    .code(INVALID)
    .stderr(contains("--role Administrator"));

    let erin = add_user(
        &dir,
        "--first Erin --last Helper --email erin@riverside.example --role Aide \
         --facility Downtown --aide --billing technician",
    );
    let erin = json(&dir, &format!("user show {erin}"));
    assert_eq!(erin["user"]["aide"], true);
    assert_eq!(erin["user"]["billing"], "technician");

    // The required flags are required.
    cmd(
        &dir,
        "user add --first No --last Email --role Provider --facility Downtown",
    )
    .assert()
    .code(USAGE)
    .stderr(contains("--email"));
}

#[test]
fn user_add_with_an_invalid_npi_is_refused_and_adds_nobody() {
    let dir = store();
    let before = user_emails(&dir, "");
    cmd(
        &dir,
        "user add --first Carl --last Typo --email carl@riverside.example --role Provider \
         --facility Downtown --npi 1234567890",
    )
    .assert()
    .code(INVALID)
    .stderr(contains("NPI '1234567890' fails its check digit"))
    .stdout(predicate::str::is_empty());
    assert_eq!(user_emails(&dir, ""), before);
    // The refusal is audited.
    let refused = json(&dir, "audit list --action user.create --limit 1");
    assert_eq!(refused[0]["outcome"], "rejected", "{refused}");
    assert!(refused[0]["reason"].is_string(), "{refused}");
}

#[test]
fn user_add_with_a_duplicate_email_is_refused() {
    let dir = store();
    let alice = add_alice(&dir, "");
    cmd(
        &dir,
        "user add --first Alicia --last Smythe --email ALICE@riverside.example --role Provider \
         --facility Downtown",
    )
    .assert()
    .code(INVALID)
    .stderr(contains(format!("already used by user #{alice}")));
    assert!(user_emails(&dir, "--search smythe").is_empty());
}

#[test]
fn user_set_sets_other_fields_and_refuses_unknown_ones() {
    let dir = store();
    add_alice(&dir, "--set 'bio=Sports rehab' --set capacity=3");
    let u = json(&dir, &format!("user show {ALICE}"));
    assert_eq!(u["user"]["provider"]["bio"], "Sports rehab");
    assert_eq!(u["user"]["provider"]["capacity"], 3);

    run(
        &dir,
        &format!("user edit {ALICE} --set 'public-name=Dr. Alice' --set 'note=Mornings only'"),
    );
    let u = json(&dir, &format!("user show {ALICE}"));
    assert_eq!(u["user"]["public_name"], "Dr. Alice");
    assert_eq!(u["user"]["note"], "Mornings only");

    // An unknown field, a missing '=', a bad value: refused with exit 3, nothing changed.
    cmd(
        &dir,
        &format!("user edit {ALICE} --set favourite_colour=blue"),
    )
    .assert()
    .code(INVALID)
    .stderr(contains("unknown user field 'favourite_colour'"));
    cmd(&dir, &format!("user edit {ALICE} --set capacity"))
        .assert()
        .code(INVALID)
        .stderr(contains("FIELD=VALUE"));
    cmd(&dir, &format!("user edit {ALICE} --set capacity=lots"))
        .assert()
        .code(INVALID)
        .stderr(contains("capacity"));
    assert_eq!(
        json(&dir, &format!("user show {ALICE}"))["user"]["provider"]["capacity"],
        3
    );

    cmd(
        &dir,
        "user add --first Zed --last Zero --email zed@riverside.example --role Provider \
         --facility Downtown --set favourite_colour=blue",
    )
    .assert()
    .code(INVALID)
    .stderr(contains("unknown user field 'favourite_colour'"));
    assert!(user_emails(&dir, "--search zed").is_empty());
}

#[test]
fn user_edit_changes_profile_fields() {
    let dir = store();
    run(&dir, "facility add Uptown --code UP");
    let alice = add_alice(&dir, "");
    cmd(
        &dir,
        &format!(
            "user edit {ALICE} --last Jones --email alice.jones@riverside.example \
             --username ajones --role Technician --facility UP"
        ),
    )
    .assert()
    .success()
    .stdout(format!(
        "Updated user #{alice} Alice Jones (status: invited).\n"
    ));

    let shown = json(&dir, "user show ajones");
    assert_eq!(shown["user"]["last_name"], "Jones");
    assert_eq!(shown["user"]["email"], "alice.jones@riverside.example");
    assert_eq!(shown["role"], "Technician");
    assert_eq!(shown["facility"], "Uptown");
    assert_eq!(
        history_actions(&dir, "ajones"),
        ["user.create", "invite.create", "user.update"]
    );
    cmd(&dir, &format!("user show {ALICE}"))
        .assert()
        .code(NOT_FOUND);
}

#[test]
fn user_deactivate_needs_a_reason_and_is_recorded() {
    let dir = store();
    let alice = add_alice(&dir, "");
    cmd(&dir, &format!("user deactivate {ALICE}"))
        .assert()
        .code(USAGE)
        .stderr(contains("--reason"));
    assert_eq!(
        json(&dir, &format!("user show {ALICE}"))["status"],
        "invited"
    );

    cmd(
        &dir,
        &format!("user deactivate {ALICE} --reason 'Left the practice'"),
    )
    .assert()
    .success()
    .stdout(contains(format!(
        "Deactivated user #{alice} Alice Smith (status: deactivated)."
    )));

    let shown = json(&dir, &format!("user show {ALICE}"));
    assert_eq!(shown["status"], "deactivated");
    assert_eq!(shown["user"]["deactivation_reason"], "Left the practice");
    assert!(history_actions(&dir, ALICE).contains(&"user.deactivate".to_string()));

    cmd(&dir, &format!("user deactivate {ALICE} --reason again"))
        .assert()
        .code(INVALID)
        .stderr(contains("already deactivated"));
}

#[test]
fn user_reactivate_brings_a_deactivated_user_back() {
    let dir = store();
    let alice = add_alice(&dir, "");
    // Only deactivated users can be reactivated.
    cmd(&dir, &format!("user reactivate {ALICE}"))
        .assert()
        .code(INVALID)
        .stderr(contains("not deactivated"));

    run(
        &dir,
        &format!("user deactivate {ALICE} --reason Sabbatical"),
    );
    cmd(&dir, &format!("user reactivate {ALICE}"))
        .assert()
        .success()
        .stdout(contains(format!("Reactivated user #{alice} Alice Smith")));
    // Alice never activated her account, so she is back to invited.
    assert_eq!(
        json(&dir, &format!("user show {ALICE}"))["status"],
        "invited"
    );
    assert!(history_actions(&dir, ALICE).contains(&"user.reactivate".to_string()));
}

#[test]
fn user_delete_refuses_activated_users_and_removes_never_activated_ones() {
    let dir = store();
    cmd(&dir, "user delete admin")
        .assert()
        .code(INVALID)
        .stderr(contains("deactivate"));
    assert_eq!(user_emails(&dir, ""), ["it@riverside.example"]);

    let alice = add_alice(&dir, "");
    cmd(&dir, &format!("user delete {ALICE}"))
        .assert()
        .success()
        .stdout(contains(format!("Deleted user #{alice} Alice Smith")));
    assert_eq!(user_emails(&dir, ""), ["it@riverside.example"]);
    cmd(&dir, &format!("user show {ALICE}"))
        .assert()
        .code(NOT_FOUND);

    // The audit log keeps the record of both: Alice's deletion and, before it, the refused
    // attempt on the administrator.
    let deletes = json(&dir, "audit list --action user.delete");
    assert_eq!(deletes.as_array().unwrap().len(), 2, "{deletes}");
    assert_eq!(deletes[0]["target"]["id"], alice);
    assert_eq!(deletes[0]["outcome"], "success");
    assert_eq!(deletes[1]["target"]["id"], 1);
    assert_eq!(deletes[1]["outcome"], "rejected", "{deletes}");
}

#[test]
fn an_unknown_user_is_not_found() {
    let dir = store();
    for line in [
        "user show nobody@riverside.example",
        "user edit nobody --last X",
        "user deactivate nobody --reason x",
        "user reactivate 'No Body'",
        "user delete 42",
        "access show nobody",
    ] {
        cmd(&dir, line)
            .assert()
            .code(NOT_FOUND)
            .stderr(contains("no user"));
    }
}

// ---------------------------------------------------------------------------------------------
// access
// ---------------------------------------------------------------------------------------------

/// Whether a user has "all facilities" access, and the names of those they can access.
fn accessible(dir: &TempDir, user: &str) -> (bool, Vec<String>) {
    let view = json(dir, &format!("access show {user}"));
    // Each facility is {id, name, can_access, primary}.
    let names = view["facilities"]
        .as_array()
        .expect("facilities")
        .iter()
        .filter(|f| f["can_access"] == true)
        .map(|f| f["name"].as_str().expect("name").to_string())
        .collect();
    (view["all"].as_bool().expect("all"), names)
}

#[test]
fn access_show_grant_revoke_all_and_only() {
    let dir = store();
    run(&dir, "facility add Uptown --code UP");
    run(&dir, "facility add Westside --code WS");
    add_alice(&dir, "");
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let table = run(&dir, &format!("access show {ALICE}"));
    assert!(table.contains("[x] #1 Downtown (primary)"), "{table}");
    assert!(table.contains("[ ] #2 Uptown"), "{table}");
    assert_eq!(accessible(&dir, ALICE), (false, names(&["Downtown"])));

    cmd(&dir, &format!("access grant {ALICE} UP Westside"))
        .assert()
        .success()
        .stdout(contains("Access updated."));
    assert_eq!(
        accessible(&dir, ALICE),
        (false, names(&["Downtown", "Uptown", "Westside"]))
    );

    run(&dir, &format!("access revoke {ALICE} WS"));
    assert_eq!(
        accessible(&dir, ALICE),
        (false, names(&["Downtown", "Uptown"]))
    );
    cmd(&dir, &format!("access revoke {ALICE} Downtown"))
        .assert()
        .code(INVALID)
        .stderr(contains("primary facility"));

    run(&dir, &format!("access all {ALICE}"));
    assert_eq!(
        accessible(&dir, ALICE),
        (true, names(&["Downtown", "Uptown", "Westside"]))
    );
    // "All" includes facilities added later.
    run(&dir, "facility add Northgate");
    assert_eq!(accessible(&dir, ALICE).1.len(), 4);

    run(&dir, &format!("access only {ALICE} WS"));
    assert_eq!(
        accessible(&dir, ALICE),
        (false, names(&["Downtown", "Westside"]))
    );
    // With no facilities: the primary one only.
    run(&dir, &format!("access only {ALICE}"));
    assert_eq!(accessible(&dir, ALICE), (false, names(&["Downtown"])));

    cmd(&dir, &format!("access grant {ALICE}"))
        .assert()
        .code(USAGE);
    cmd(&dir, &format!("access grant {ALICE} Atlantis"))
        .assert()
        .code(NOT_FOUND);
    assert_eq!(accessible(&dir, ALICE), (false, names(&["Downtown"])));
}

// ---------------------------------------------------------------------------------------------
// audit
// ---------------------------------------------------------------------------------------------

#[test]
fn audit_list_is_newest_first_and_filters_by_action() {
    let dir = store();
    add_alice(&dir, "");
    run(&dir, &format!("user deactivate {ALICE} --reason Left"));

    let events = audit_events(&dir);
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "not newest first: {seqs:?}"
    );
    assert_eq!(seqs.last(), Some(&1));
    assert_eq!(events.last().unwrap()["action"], "practice.create");
    // Logins from one terminal within the idle timeout are recorded once, so the log reads
    // as what was done: the newest event is the deactivation, not this command's login.
    assert_eq!(events[0]["action"], "user.deactivate");
    assert_eq!(
        events
            .iter()
            .filter(|e| e["action"] == "auth.login")
            .count(),
        1,
        "{events:?}"
    );

    let user_events = json(&dir, "audit list --action user.");
    let actions: Vec<&str> = user_events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // Alice's deactivation, her creation, then init's administrator.
    assert_eq!(actions, ["user.deactivate", "user.create", "user.create"]);

    let deactivations = json(&dir, "audit list --action user.deactivate");
    assert_eq!(deactivations.as_array().unwrap().len(), 1);
    assert_eq!(deactivations[0]["target"]["label"], ALICE);

    assert_eq!(
        json(&dir, "audit list --limit 2").as_array().unwrap().len(),
        2
    );
    let table = run(&dir, "audit list --action user.deactivate");
    assert!(table.starts_with("SEQ"), "{table}");
    assert!(table.contains("user.deactivate"), "{table}");
}

#[test]
fn audit_head_and_verify_prove_the_log_still_holds_a_recorded_head() {
    let dir = store();
    let head = run(&dir, "audit head");
    let head = head.trim();
    let (seq, hash) = head.split_once(':').expect("SEQ:HASH");
    seq.parse::<u64>().expect("SEQ is a number");
    assert!(is_hex64(hash), "not 64 hex digits: {hash}");

    // After more activity, the recorded head is still in the log.
    add_alice(&dir, "");
    cmd(&dir, "audit verify")
        .assert()
        .success()
        .stdout(contains("audit log OK"));
    cmd(&dir, &format!("audit verify --expect {head}"))
        .assert()
        .success()
        .stdout(contains(format!("event #{seq} has the expected hash")));

    // A head this log never held fails verification with exit 7.
    let flipped = if hash.starts_with('0') { '1' } else { '0' };
    cmd(
        &dir,
        &format!("audit verify --expect {seq}:{flipped}{}", &hash[1..]),
    )
    .assert()
    .code(INTEGRITY)
    .stdout(contains("FAILED"))
    .stderr(contains("expected head"));
    // Malformed input is invalid, not an integrity failure.
    cmd(&dir, "audit verify --expect not-a-head")
        .assert()
        .code(INVALID);
}

#[test]
fn audit_export_writes_to_a_device_such_as_dev_null() {
    let dir = store();
    cmd(&dir, "audit export --format jsonl -o /dev/null")
        .assert()
        .success()
        .stderr(contains("events to /dev/null"));
}

#[test]
fn audit_export_csv_holds_every_event_at_that_moment() {
    let dir = store();
    add_alice(&dir, "");
    let file = dir.path().join("audit.csv");
    let before = audit_events(&dir).len();
    cmd(&dir, "audit export --format csv -o")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::is_empty())
        .stderr(contains(format!("Exported {before} events")));

    let mut reader = csv::Reader::from_path(&file).expect("a CSV file");
    let header = reader.headers().expect("a header row").clone();
    assert_eq!(header.get(0), Some("seq"));
    assert_eq!(header.get(1), Some("time"));
    assert_eq!(header.iter().next_back(), Some("hash"));
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("well-formed rows");

    // The export's login repeats the earlier ones from this terminal (not recorded again), so
    // it holds every event `audit list` showed; afterwards it records audit.export.
    assert_eq!(rows.len(), before);
    let after = audit_events(&dir);
    let export_seq = after
        .iter()
        .find(|e| e["action"] == "audit.export")
        .expect("the export is audited")["seq"]
        .as_u64()
        .unwrap();
    let existing = after
        .iter()
        .filter(|e| e["seq"].as_u64().unwrap() < export_seq)
        .count();
    assert_eq!(rows.len(), existing);

    // Rows are in sequence order and chained.
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[col("seq")].parse::<usize>().unwrap(), i + 1);
        assert!(is_hex64(&row[col("hash")]), "{row:?}");
        if i > 0 {
            assert_eq!(&row[col("prev_hash")], &rows[i - 1][col("hash")]);
        }
    }
    assert_eq!(&rows[rows.len() - 1][col("action")], "invite.create");
}

#[test]
fn audit_export_jsonl_is_one_object_per_line() {
    let dir = store();
    let text = run(&dir, "audit export --format jsonl");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 5, "{text}");
    for (i, line) in lines.iter().enumerate() {
        let event: Value = serde_json::from_str(line).expect("each line is JSON");
        assert_eq!(event["seq"].as_u64(), Some(i as u64 + 1));
        assert!(event["action"].is_string(), "{line}");
        assert!(is_hex64(event["hash"].as_str().unwrap()), "{line}");
    }
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["action"], "practice.create");
    assert_eq!(first["actor"], "system");
}

#[test]
fn csv_export_neutralises_spreadsheet_formulas() {
    let dir = store();
    let evil = add_user(
        &dir,
        "--first '=HYPERLINK(\"x\")' --last Evil --email evil@riverside.example \
         --role Provider --facility Downtown",
    );
    // A refused reactivation records a reason starting with the user's full name, and a failed
    // login records what was typed as the actor: both put a formula first in a cell.
    cmd(&dir, &format!("user reactivate {evil}"))
        .assert()
        .code(INVALID);
    cmd(&dir, "user list --as '=HYPERLINK(\"y\")'")
        .assert()
        .code(DENIED);

    let file = dir.path().join("audit.csv");
    cmd(&dir, "audit export --format csv -o")
        .arg(&file)
        .assert()
        .success();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_path(&file)
        .unwrap()
        .records()
        .collect::<Result<_, _>>()
        .unwrap();
    let cells: Vec<&str> = rows.iter().flat_map(|r| r.iter()).collect();
    for cell in &cells {
        assert!(
            !cell.starts_with(['=', '+', '-', '@']),
            "a cell a spreadsheet would evaluate: {cell:?}"
        );
    }
    assert!(
        cells
            .iter()
            .any(|c| c.starts_with("'=HYPERLINK(\"x\") Evil")),
        "the user's name is not exported with a leading apostrophe"
    );
    assert!(
        cells.iter().any(|c| c.starts_with("'=HYPERLINK(\"y\")")),
        "the typed login is not exported with a leading apostrophe"
    );
}

#[test]
fn terminal_escapes_in_names_never_reach_the_terminal() {
    let dir = store();
    let hostile = ["Clear\u{1b}[2Jme", "Osc\u{1b}]52;c;QUJD\u{07}X"];

    // The CLI refuses control characters in names outright.
    for (i, first) in hostile.iter().enumerate() {
        let email = format!("esc{i}@riverside.example");
        staffctl(&dir)
            .args([
                "user", "add", "--first", first, "--last", "Esc", "--email", &email,
            ])
            .args(["--role", "Provider", "--facility", "Downtown"])
            .assert()
            .code(INVALID)
            .stderr(contains("first name must not contain control characters"));
    }
    assert_no_escapes("user list", &run(&dir, "user list"));

    // Names that reach the store another way (an older version, a restored backup) are still
    // sanitised on the way out.
    let mallory = add_user(
        &dir,
        "--first Mallory --last Plain --email mallory@riverside.example --role Provider \
         --facility Downtown",
    );
    tamper::<User>(&dir, TreeId::Users, mallory, |u| {
        u.first_name = hostile[0].into();
        u.last_name = hostile[1].into();
    });
    let list = run(&dir, "user list");
    assert_no_escapes("user list", &list);
    assert!(list.contains("Clearme"), "{list}");
    assert_no_escapes("user show", &run(&dir, &format!("user show {mallory}")));
    // Messages naming the user are sanitised too.
    let err = stderr(
        &cmd(&dir, &format!("user reactivate {mallory}"))
            .assert()
            .code(INVALID),
    );
    assert!(err.contains("Clearme"), "{err}");
    assert_no_escapes("an error message", &err);

    // JSON carries C1 controls and direction overrides escaped, never raw.
    tamper::<User>(&dir, TreeId::Users, mallory, |u| {
        u.first_name = "Mal\u{9b}31m\u{202e}lory".into();
    });
    let json_out = run(&dir, &format!("user show {mallory} --output json"));
    assert!(
        !json_out.contains('\u{9b}') && !json_out.contains('\u{202e}'),
        "{json_out}"
    );
    assert!(
        json_out.contains("\\u009b") && json_out.contains("\\u202e"),
        "{json_out}"
    );
    let parsed: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(parsed["user"]["first_name"], "Mal\u{9b}31m\u{202e}lory");
}

#[test]
fn values_echoed_by_usage_errors_are_sanitised() {
    let dir = store();
    for bad in ["\u{1b}[2Jinactive", "\u{1b}]52;c;QUJD\u{7}"] {
        let a = staffctl(&dir)
            .args(["user", "list", "--status", bad])
            .assert()
            .code(USAGE);
        assert_no_escapes("a usage error", &stderr(&a));
    }
}

#[test]
fn a_tampered_audit_event_fails_verification() {
    let dir = store();
    cmd(&dir, "audit verify").assert().success();

    tamper_event(&dir, 3, |e| {
        assert_eq!(e.seq, 3);
        e.action = "role.delete".into();
    });

    let a = cmd(&dir, "audit verify").assert().code(INTEGRITY);
    let (out, err) = (stdout(&a), stderr(&a));
    assert!(out.contains("BROKEN at event #3"), "{out}");
    assert!(out.contains("FAILED"), "{out}");
    assert!(err.contains("event #3"), "{err}");
}

#[test]
fn verify_says_when_audit_records_were_set_aside() {
    let dir = store();
    {
        let svc = Service::open(&data(&dir), &OpenOptions::default()).expect("open the store");
        let head = svc
            .store()
            .get_raw(TreeId::Meta, b"audit_head")
            .expect("read the head")
            .and_then(|h| staffctl::store::key_id(&h))
            .expect("a head");
        // Bytes where the chunk after the head's would start, as a crashed load might leave.
        let past = (audit_log::chunk_number(head) + 1) * audit_log::CHUNK + 1;
        svc.store()
            .put_raw_unchecked(TreeId::Audit, &audit_log::chunk_key(past), b"stray")
            .expect("write stray bytes");
    }
    let a = cmd(&dir, "audit verify").assert().code(INTEGRITY);
    assert!(
        stdout(&a).contains("events were removed or added"),
        "{}",
        stdout(&a)
    );
    // Appending until the log reaches them sets them aside; the chain is whole again.
    for n in 0..audit_log::CHUNK * 2 {
        add_user(
            &dir,
            &format!(
                "--first F{n} --last L --email f{n}@x.example --role Provider --facility Downtown"
            ),
        );
    }
    let a = cmd(&dir, "audit verify").assert().success();
    let out = stdout(&a);
    assert!(out.contains("audit log OK"), "{out}");
    assert!(
        out.contains("1 damaged or out-of-place audit record(s) are kept"),
        "{out}"
    );

    let table = stdout(&cmd(&dir, "audit quarantine").assert().success());
    assert!(table.contains("past-head"), "{table}");
    assert!(table.contains("none"), "{table}");
    let listed = json(&dir, "audit quarantine");
    assert_eq!(listed[0]["reason"], "past-head");
    assert_eq!(listed[0]["data_hex"], hex::encode(b"stray"));
}

#[test]
fn audit_quarantine_says_when_it_is_empty() {
    let dir = store();
    let out = stdout(&cmd(&dir, "audit quarantine").assert().success());
    assert!(
        out.contains("No audit records are kept in quarantine."),
        "{out}"
    );
    assert_eq!(json(&dir, "audit quarantine"), j!([]));
}

// ---------------------------------------------------------------------------------------------
// locking, authentication, recovery
// ---------------------------------------------------------------------------------------------

#[test]
fn a_busy_store_names_the_process_holding_it() {
    let dir = store();
    let holder = Service::open(&data(&dir), &OpenOptions::default()).expect("open the store");

    cmd(&dir, "user list")
        .assert()
        .code(BUSY)
        .stderr(contains("in use"))
        .stderr(contains(format!("pid {}", std::process::id())));

    drop(holder);
    cmd(&dir, "user list").assert().success();
}

#[test]
fn a_wrong_password_is_denied() {
    let dir = store();
    cmd(&dir, "user list")
        .env("STAFFCTL_PASSWORD", "not the right passphrase")
        .assert()
        .code(DENIED)
        .stderr(contains("login denied"))
        .stdout(predicate::str::is_empty());
    // Auditors learn the reason the caller is not told.
    let failed = json(&dir, "audit list --action auth.login_failed");
    assert_eq!(failed[0]["outcome"], "denied");
    assert_eq!(failed[0]["reason"], "wrong password");
}

#[test]
fn an_unknown_operator_is_denied() {
    let dir = store();
    // The same message as a wrong password: no hint which usernames exist.
    cmd(&dir, "user list --as mallory")
        .assert()
        .code(DENIED)
        .stderr(contains(
            "login denied: unknown user, wrong password, or the account cannot log in",
        ));
    let failed = json(&dir, "audit list --action auth.login_failed");
    assert_eq!(failed[0]["outcome"], "denied");
    assert_eq!(failed[0]["reason"], "no such user");

    // No operator at all is refused too, with a hint how to name one.
    cmd(&dir, "user list")
        .env_remove("STAFFCTL_USER")
        .assert()
        .code(DENIED)
        .stderr(contains("--as USER"));
}

#[test]
fn a_non_administrator_is_denied() {
    let dir = store();
    add_user(
        &dir,
        "--first Dana --last Second --email dana@riverside.example --role Administrator \
         --facility Downtown --username dsecond",
    );
    let as_dana = |line: &str| {
        let mut c = cmd(&dir, line);
        c.env("STAFFCTL_USER", "dsecond")
            .env("STAFFCTL_PASSWORD", "another long passphrase here");
        c
    };
    cmd(&dir, "recover --user dsecond")
        .env("STAFFCTL_NEW_PASSWORD", "another long passphrase here")
        .assert()
        .success();
    // While an administrator, Dana may operate.
    as_dana("user list").assert().success();

    run(&dir, "user edit dsecond --role Provider");
    as_dana("user list")
        .assert()
        .code(DENIED)
        .stderr(contains("gives no access to staffctl"))
        .stdout(predicate::str::is_empty());
    as_dana("facility add 'Dana Place'").assert().code(DENIED);
    assert_eq!(json(&dir, "facility list").as_array().unwrap().len(), 1);
}

#[test]
fn recover_resets_an_administrators_password_and_is_audited() {
    let dir = store();
    let new_password = "a brand new recovery passphrase";
    cmd(&dir, "recover --user admin")
        .env_remove("STAFFCTL_USER")
        .env_remove("STAFFCTL_PASSWORD")
        .env("STAFFCTL_NEW_PASSWORD", new_password)
        .assert()
        .success()
        .stdout("New password set for admin.\n")
        .stderr(contains("auth.recover"));

    // The old password no longer works; the new one does.
    cmd(&dir, "user list").assert().code(DENIED);
    let a = cmd(&dir, "audit list --action auth.recover --output json")
        .env("STAFFCTL_PASSWORD", new_password)
        .assert()
        .success();
    assert!(
        !stdout(&a).contains(new_password),
        "the audit log shows the password"
    );
    let events: Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events[0]["actor"], "system");
    assert_eq!(events[0]["target"]["id"], 1);
    assert_eq!(
        events[0]["changes"][0],
        j!({"field": "password", "old": "[redacted]", "new": "[redacted]"})
    );

    // A weak new password, a user who is not an administrator, or nobody: refused.
    cmd(&dir, "recover --user admin")
        .env("STAFFCTL_NEW_PASSWORD", "tooshort")
        .assert()
        .code(INVALID)
        .stderr(contains("password"));
    cmd(
        &dir,
        &format!("user add --first Alice --last Smith --email {ALICE} --role Provider --facility Downtown"),
    )
    .env("STAFFCTL_PASSWORD", new_password)
    .assert()
    .success();
    cmd(&dir, &format!("recover --user {ALICE}"))
        .env("STAFFCTL_NEW_PASSWORD", "yet another long passphrase")
        .assert()
        .code(INVALID)
        .stderr(contains("not an administrator"));
    cmd(&dir, "recover --user nobody")
        .env("STAFFCTL_NEW_PASSWORD", "yet another long passphrase")
        .assert()
        .code(NOT_FOUND);
}

#[test]
fn keymap_check_names_each_problem_and_accepts_a_good_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[users]\n\"n\" = \"user.add\"\n").unwrap();
    cmd(&dir, &format!("keymap check {}", good.display()))
        .assert()
        .success()
        .stdout(contains("OK"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[users]\n\"a\" = \"user.fly\"\n\"q\" = \"user.add\"\n\"banana\" = \"user.add\"\n[nowhere]\n\"x\" = \"app.quit\"\n",
    )
    .unwrap();
    cmd(&dir, &format!("keymap check {}", bad.display()))
        .assert()
        .code(INVALID)
        .stderr(contains("user.fly"))
        .stderr(contains("unknown action"))
        .stderr(contains("'banana' is not a key"))
        .stderr(contains("unknown section [nowhere]"))
        .stderr(contains(
            "key q is bound to user.add in [users] and to app.quit in [global]",
        ))
        .stderr(contains("4 problem(s)"));

    cmd(
        &dir,
        &format!("keymap check {}", dir.path().join("missing.toml").display()),
    )
    .assert()
    .code(4);
}

/// `staffctl auth verify` with `user` and `password` on stdin; returns the exit code.
fn auth_verify(dir: &TempDir, user: &str, password: &str, extra: &str) -> i32 {
    cmd(dir, &format!("auth verify {extra}"))
        .write_stdin(format!("{user}\n{password}\n"))
        .output()
        .expect("run staffctl")
        .status
        .code()
        .unwrap_or(-1)
}

fn auth_can(dir: &TempDir, line: &str) -> i32 {
    cmd(dir, &format!("auth can {line}"))
        .output()
        .expect("run")
        .status
        .code()
        .unwrap_or(-1)
}

const NURSE_PW: &str = "seven blue herons at dawn";

/// A second, active account (administrators are the only accounts with passwords until
/// invitations exist): `nurse`, primary facility Downtown only.
fn active_nurse(dir: &TempDir) -> u64 {
    cmd(dir, "facility add Uptown").assert().success();
    let id = add_user(
        dir,
        "--first Nia --last Nurse --email nia@riverside.example --username nurse --role Administrator --facility Downtown",
    );
    // Break-glass recovery sets passwords of administrators only; Nia is one until it is done.
    cmd(dir, "recover --user nurse")
        .env("STAFFCTL_NEW_PASSWORD", NURSE_PW)
        .assert()
        .success();
    run(dir, "user edit nurse --role Provider");
    id
}

#[test]
fn auth_verify_allows_only_a_right_password_for_a_usable_account() {
    let dir = store();
    active_nurse(&dir);
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, ""), 0);
    // She logs in by username, so her email is only for contact.
    assert_eq!(auth_verify(&dir, "nia@riverside.example", NURSE_PW, ""), 5);
    // pam_exec expose_authtok: user in PAM_USER, password NUL-terminated on stdin.
    let pam = cmd(&dir, "auth verify")
        .env("PAM_USER", "nurse")
        .write_stdin(format!("{NURSE_PW}\0"))
        .assert()
        .success();
    assert!(stdout(&pam).is_empty());
    assert_eq!(auth_verify(&dir, "nurse", "wrong password entirely", ""), 5);
    assert_eq!(auth_verify(&dir, "nobody", NURSE_PW, ""), 5);
    // Facility access: primary Downtown only.
    assert_eq!(
        auth_verify(&dir, "nurse", NURSE_PW, "--facility Downtown"),
        0
    );
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, "--facility Uptown"), 5);
    let denied = json(&dir, "audit list --action auth.denied");
    assert_eq!(denied[0]["reason"], "no access to facility Uptown");
    // Nothing secret is ever printed.
    let a = cmd(&dir, "auth verify")
        .write_stdin(format!("nurse\n{NURSE_PW}x\n"))
        .assert()
        .code(5);
    assert!(!stderr(&a).contains(NURSE_PW));
    // A deactivated account is refused with the right password.
    cmd(&dir, "user deactivate nurse --reason 'left'")
        .assert()
        .success();
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, ""), 5);
    let failed = json(&dir, "audit list --action auth.login_failed --limit 1");
    assert_eq!(failed[0]["reason"], "account is deactivated");
}

#[test]
fn auth_verify_refuses_a_locked_account() {
    let dir = store();
    active_nurse(&dir);
    for _ in 0..5 {
        assert_eq!(auth_verify(&dir, "nurse", "not it at all, sorry", ""), 5);
    }
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, ""), 5);
    cmd(&dir, "user unlock nurse")
        .assert()
        .success()
        .stdout(contains("Unlocked"));
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, ""), 0);
}

#[test]
fn auth_can_checks_status_role_aide_rules_and_facility() {
    let dir = store();
    active_nurse(&dir);
    assert_eq!(
        auth_can(&dir, "--user nurse --permission clinical.write_notes"),
        0
    );
    assert_eq!(
        auth_can(&dir, "--user nurse --permission billing.issue_refunds"),
        5
    );
    assert_eq!(
        auth_can(
            &dir,
            "--user nurse --permission clinical.write_notes --facility Downtown"
        ),
        0
    );
    assert_eq!(
        auth_can(
            &dir,
            "--user nurse --permission clinical.write_notes --facility Uptown"
        ),
        5
    );
    // An aide never holds patient assignment, whatever else changes.
    cmd(&dir, "user edit nurse --role Aide --set aide=yes")
        .assert()
        .success();
    assert_eq!(
        auth_can(&dir, "--user nurse --permission patients.assignable"),
        5
    );
    assert_eq!(auth_can(&dir, "--user nurse --permission calendar.view"), 0);
    // Invited (never activated), unknown user, unknown permission.
    add_user(
        &dir,
        "--first Ivy --last New --email ivy@riverside.example --role Provider --facility Downtown",
    );
    assert_eq!(
        auth_can(
            &dir,
            "--user ivy@riverside.example --permission calendar.view"
        ),
        5
    );
    // Nobody called ghost: the same "denied" as any refusal, so the answer reveals nothing.
    assert_eq!(auth_can(&dir, "--user ghost --permission calendar.view"), 5);
    // Users are found by login only, never by id (#1 is the administrator).
    assert_eq!(auth_can(&dir, "--user 1 --permission admin.settings"), 5);
    assert_eq!(
        auth_can(&dir, "--user admin --permission admin.settings"),
        0
    );
    assert_eq!(auth_can(&dir, "--user nurse --permission calendar.fly"), 3);
    // Deactivated.
    cmd(&dir, "user deactivate nurse --reason 'left'")
        .assert()
        .success();
    assert_eq!(auth_can(&dir, "--user nurse --permission calendar.view"), 5);
}

#[test]
fn new_devices_wait_for_approval_when_the_practice_asks_for_it() {
    let dir = store();
    active_nurse(&dir);
    // Off by default: any device is fine.
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, "--device laptop-7"), 0);
    cmd(&dir, "practice edit --set device_approval=yes")
        .assert()
        .success();
    // Leaving the device out does not bypass approval.
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, ""), 5);
    // An unseen device is recorded and waits (exit code 8) until an administrator decides.
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, "--device tablet-1"), 8);
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, "--device tablet-1"), 8);
    let devices = json(&dir, "device list");
    let devices = devices.as_array().unwrap();
    assert_eq!(
        devices.len(),
        1,
        "one pending record, not one per attempt: {devices:?}"
    );
    assert_eq!(devices[0]["device"]["status"], "pending");
    assert_eq!(devices[0]["device"]["fingerprint"], "tablet-1");
    let id = devices[0]["device"]["id"].as_u64().unwrap();
    let denied = json(&dir, "audit list --action auth.denied --limit 1");
    assert!(
        denied[0]["reason"].as_str().unwrap().contains("tablet-1"),
        "{denied}"
    );

    cmd(&dir, &format!("device approve {id}"))
        .assert()
        .success()
        .stdout(contains("is now approved"));
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, "--device tablet-1"), 0);
    // Revoked: refused again. Declined devices stay refused.
    cmd(&dir, &format!("device revoke {id}")).assert().success();
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, "--device tablet-1"), 5);
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, "--device phone-2"), 8);
    let phone = json(&dir, "device list")
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"]["fingerprint"] == "phone-2")
        .map(|d| d["device"]["id"].as_u64().unwrap())
        .unwrap();
    cmd(&dir, &format!("device decline {phone}"))
        .assert()
        .success();
    assert_eq!(auth_verify(&dir, "nurse", NURSE_PW, "--device phone-2"), 5);
    // Decisions are audited; unknown devices are not found.
    let approvals = json(&dir, "audit list --action device.");
    assert!(approvals.as_array().unwrap().len() >= 4, "{approvals}");
    cmd(&dir, "device approve 999").assert().code(4);
}
