//! Every key the interface answers to comes from the keymap, and every text that names a key
//! names the operator's own: questions, the palette, the `/` filter, pickers and hints.

use super::*;

/// The demo practice, logged in, with `overrides` applied over the default keymap.
fn demo_with_keys(overrides: &str) -> Ui {
    let mut ui = demo_login();
    let file = ui.dir.path().join("keymap.toml");
    std::fs::write(&file, overrides).expect("write the keymap");
    let keymap = Keymap::load(None, Some(&file)).expect("a clean keymap");
    let svc = Arc::clone(ui.app.backend.local().expect("a local store"));
    ui.app = new_app_with(svc, keymap);
    ui.app
        .login_now(staffctl::demo::DEMO_ADMIN, staffctl::demo::DEMO_PASSWORD)
        .expect("login");
    ui.settle();
    ui
}

const REBOUND: &str = r#"
[roles]
"e" = "none"
"P" = "role.edit"

[confirm]
"y" = "none"
"Y" = "none"
"enter" = "none"
"j" = "confirm.yes"

[input]
"esc" = "none"
"ctrl-g" = "input.cancel"

[form]
"left" = "none"
"right" = "none"
"ctrl-n" = "form.choice_next"
"ctrl-p" = "form.choice_prev"
"#;

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

#[test]
fn rebound_keys_are_the_ones_texts_name_and_the_only_ones_that_work() {
    let mut ui = demo_with_keys(REBOUND);
    // Adding a role says which key edits its permissions; the matrix title too.
    ui.typ("2").typ("a").typ("Night Shift").key(KeyCode::Enter);
    let text = ui.render(120, 40);
    assert!(
        text.contains("Added role Night Shift; press P to choose its permissions."),
        "{text}"
    );
    assert!(text.contains("(P edits)"), "{text}");
    assert!(!text.contains("(e edits)"), "{text}");
    // The question names j; y no longer answers it, j does.
    ui.key(KeyCode::End).typ("x");
    let text = ui.render(120, 40);
    assert!(text.contains("j: delete   n: cancel"), "{text}");
    ui.typ("y");
    assert!(
        matches!(ui.app.modals.last(), Some(Modal::Confirm { .. })),
        "y is not bound any more"
    );
    ui.typ("j");
    assert!(ui.app.modals.is_empty());
    assert!(ui.render(120, 40).contains("Deleted role Night Shift."));
    // The palette closes with the new key, and says so; Esc only types nothing.
    ui.typ(":");
    let text = ui.render(120, 40);
    assert!(text.contains("(Enter runs, Ctrl-g closes)"), "{text}");
    ui.key(KeyCode::Esc);
    assert!(matches!(ui.app.modals.last(), Some(Modal::Palette { .. })));
    ui.app.on_key(ctrl('g'));
    assert!(ui.app.modals.is_empty());
    // So does the / filter.
    ui.typ("1").typ("/smith");
    assert!(ui.app.screens.users.shown() < 41);
    ui.key(KeyCode::Esc);
    assert!(
        ui.app.screens.users.filtering(),
        "Esc is not bound in inputs"
    );
    ui.app.on_key(ctrl('g'));
    ui.settle();
    assert!(!ui.app.screens.users.filtering());
    assert_eq!(ui.app.screens.users.shown(), 41, "cleared");
    // Pickers name their keys and answer to them only.
    ui.typ("a");
    while ui.top_form().focused_key() != "role" {
        ui.key(KeyCode::Tab);
    }
    ui.key(KeyCode::Right);
    assert_eq!(ui.top_form().value("role"), "", "→ is not bound any more");
    ui.app.on_key(ctrl('n'));
    assert_ne!(ui.top_form().value("role"), "");
    ui.app.on_key(ctrl('p'));
    assert_eq!(ui.top_form().value("role"), "", "back on (choose)");
    let text = ui.render(120, 40);
    assert!(
        text.contains("Ctrl-p/Ctrl-n choose"),
        "the form's footer:\n{text}"
    );
    ui.key(KeyCode::Enter);
    let text = ui.render(120, 40);
    assert!(text.contains("pick a role with Ctrl-p/Ctrl-n"), "{text}");
}

#[test]
fn the_default_keys_are_named_as_before() {
    let mut ui = demo();
    ui.typ("x");
    assert!(ui.render(80, 24).contains("y: delete   n: cancel"));
    ui.key(KeyCode::Esc).typ("a");
    let text = ui.render(120, 40);
    assert!(
        text.contains("Tab next  Space toggle  ←/→ choose  Enter save  Esc cancel"),
        "{text}"
    );
    ui.key(KeyCode::Esc).typ(":");
    assert!(ui.render(80, 24).contains("(Enter runs, Esc closes)"));
}
