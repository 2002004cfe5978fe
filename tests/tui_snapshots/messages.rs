//! Messages: pickers, the status line, long texts in windows, the filter header.

use super::*;

/// The rows below the tab's body (message and hints), joined into one line of text.
fn status_text(screen: &str) -> String {
    let rows: Vec<&str> = screen.lines().collect();
    let last_border = rows
        .iter()
        .rposition(|l| l.trim_start().starts_with('└'))
        .unwrap_or(0);
    rows[last_border + 1..]
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_picker_left_on_choose_says_what_to_do_in_the_interface() {
    let mut ui = demo();
    ui.typ("a").typ("Nora").key(KeyCode::Enter);
    let form = ui.top_form();
    let message = |key: &str| {
        form.fields
            .iter()
            .find(|f| f.key == key)
            .and_then(|f| f.error.clone())
            .unwrap_or_default()
    };
    assert_eq!(message("role"), "pick a role with ←/→");
    assert_eq!(message("facility"), "pick a primary facility with ←/→");
    // The other fields' messages come from the service at the same time.
    assert!(message("last_name").contains("required"), "{form:?}");
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        assert!(
            !text.contains("staffctl"),
            "a command-line hint at {w}x{h}:\n{text}"
        );
    }
    ui.snap("add_user_unpicked");
}

#[test]
fn a_long_status_message_wraps_at_80_columns_and_clears_on_another_tab() {
    let mut ui = demo();
    // Deleting the administrator, who has activated their account, is refused at length.
    ui.typ("/ira tech").key(KeyCode::Enter).typ("x").typ("y");
    let Some(staffctl::tui::app::Message::Error(message)) = ui.app.message.clone() else {
        panic!("a refusal: {:?}", ui.app.message);
    };
    assert!(message.chars().count() > 80, "{message}");
    assert!(!message.contains("staffctl"), "{message}");
    assert!(message.contains("deactivate it instead"), "{message}");
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        let status = status_text(&text);
        assert!(
            status.contains(&format!("! {message}")),
            "the whole message at {w}x{h}:\n{text}"
        );
    }
    ui.snap("status_wrapped");
    ui.typ("2");
    assert_eq!(ui.app.message, None);
    assert!(!ui.render(80, 24).contains("deactivate it instead"));
}

/// The text after the selection marker of the first selected row.
fn selected_row(screen: &str) -> String {
    screen
        .lines()
        .find_map(|l| l.split_once('›'))
        .map(|(_, rest)| rest.trim().to_string())
        .unwrap_or_default()
}

#[test]
fn a_message_too_long_for_the_status_line_opens_in_full() {
    let mut ui = demo();
    // Downtown is the primary facility of many: archiving it is refused with their names.
    ui.typ("3").key(KeyCode::Home);
    assert!(
        selected_row(&ui.render(120, 40)).contains("Downtown"),
        "Downtown is selected"
    );
    ui.typ("z").typ("y");
    let Some(staffctl::tui::app::Message::Error(message)) = ui.app.message.clone() else {
        panic!("a refusal: {:?}", ui.app.message);
    };
    assert!(message.contains("primary facility of"), "{message}");
    let text = ui.render(80, 24);
    assert!(
        status_text(&text).contains("m shows all"),
        "the status line says how to read the rest:\n{text}"
    );
    ui.snap("status_cut");
    ui.typ("m");
    let Some(Modal::Detail { lines, .. }) = ui.app.modals.last() else {
        panic!("the message opens: {:?}", ui.app.modals.last());
    };
    assert_eq!(lines.join(" "), message);
    let text = ui.render(80, 24);
    let shown = window_text(&text, "Error");
    assert!(shown.contains(&message), "all of it:\n{text}");
}

/// The text inside the window titled `title` drawn over a tab, its rows joined by spaces.
fn window_text(screen: &str, title: &str) -> String {
    let rows: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let Some((top, left)) = rows.iter().enumerate().find_map(|(y, r)| {
        let line: String = r.iter().collect();
        let at = line.find(title)?;
        let col = line[..at].chars().count();
        (0..col).rev().find(|x| r[*x] == '┌').map(|x| (y, x))
    }) else {
        return String::new();
    };
    let right = (left + 1..rows[top].len())
        .find(|x| rows[top][*x] == '┐')
        .unwrap_or(rows[top].len());
    rows[top + 1..]
        .iter()
        .take_while(|r| r.get(left) != Some(&'└'))
        .map(|r| {
            let inner: String = r
                .iter()
                .skip(left + 1)
                .take(right.saturating_sub(left + 1))
                .collect();
            inner.trim().to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_failed_mail_command_s_reason_is_shown_whole_and_activation_is_explained() {
    let reason = "relay mail.riverside-pt.example refused the message: mailbox quota exceeded for this recipient, try again later";
    let mut ui = demo_with_mail(&format!("cat >/dev/null; echo '{reason}' >&2; exit 75"));
    let s = ui.session();
    ui.svc()
        .call(
            &s,
            Request::PracticeEdit(vec![(
                staffctl::service::PracticeField::InviteCooldownMinutes,
                "0".into(),
            )]),
        )
        .expect("practice settings");
    ui.app.refresh_all();
    ui.settle();
    // The newest invitations, at the end, are still pending.
    ui.typ("4").key(KeyCode::End).typ("r");
    let Some(Modal::Detail { title, .. }) = ui.app.modals.last() else {
        panic!("the new invitation: {:?}", ui.app.message);
    };
    assert!(title.starts_with("New invitation"), "{title}");
    for (w, h) in SIZES {
        let text = ui.render(w, h);
        let shown = window_text(&text, "New invitation");
        assert!(
            shown.contains(&format!("): {reason}")),
            "the whole reason at {w}x{h}:\n{text}"
        );
        assert!(
            shown.contains("F2 on the staffctl login screen"),
            "how the person activates, at {w}x{h}:\n{text}"
        );
    }
}

#[test]
fn every_filter_reads_the_same_way_in_the_header() {
    let mut ui = demo();
    // The filters, left of the seat count (which shows on the right while there is room).
    let bar = |ui: &Ui| {
        let line = ui
            .render(80, 24)
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        line.strip_suffix("seats 16 billable")
            .unwrap_or(&line)
            .trim_end()
            .to_string()
    };
    // The status filter is applied by the service: the count is of the invited users.
    ui.typ("t");
    let invited = ui.app.screens.users.shown();
    assert!(invited > 0);
    assert!(
        bar(&ui).starts_with(&format!(
            " {invited} of {invited} users  filter: status=invited"
        )),
        "{}",
        bar(&ui)
    );
    ui.typ("/a");
    let n = ui.app.screens.users.shown();
    assert!(
        bar(&ui).starts_with(&format!(
            " {n} of {invited} users  filter: status=invited · /a▏"
        )),
        "{}",
        bar(&ui)
    );
    ui.key(KeyCode::Enter).typ("o");
    let text = bar(&ui);
    assert!(
        text.contains("filter: status=invited · role=") && text.contains(" · /a"),
        "{text}"
    );
    ui.typ("0");
    assert!(bar(&ui).starts_with(" 41 of 41 users  "), "{}", bar(&ui));
    assert!(!bar(&ui).contains("filter:"), "{}", bar(&ui));
    assert!(
        ui.render(80, 24)
            .lines()
            .nth(1)
            .unwrap_or_default()
            .contains(" billable"),
        "the seat count is back when no filter needs the room"
    );
}
