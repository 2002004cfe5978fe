//! Service messages as the interface shows them. The service writes its messages for every
//! front end and often ends them with what to run on the command line (`` `staffctl role list`
//! shows the roles ``); in the interface the same hint names the tab, key or screen that does it
//! instead, with the keys of the active keymap.

use super::action::Action;
use super::keymap::{Keymap, Section};
use crate::error::FieldError;

/// `text` with each `` `staffctl ...` `` hint the interface has an answer for replaced by where
/// to do it in the interface. Hints it has no answer for stay as they are (they still work).
pub fn for_interface(text: &str, keymap: &Keymap) -> String {
    const OPEN: &str = "`staffctl ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let command_start = start + OPEN.len();
        let Some(len) = rest[command_start..].find('`') else {
            break;
        };
        let command = &rest[command_start..command_start + len];
        let end = command_start + len + 1;
        out.push_str(&rest[..start]);
        match in_the_interface(command, keymap) {
            Some(way) => out.push_str(&way),
            None => out.push_str(&rest[start..end]),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Field messages from the service as the interface shows them.
pub fn field_errors(errs: &[FieldError], keymap: &Keymap) -> Vec<FieldError> {
    errs.iter()
        .map(|e| FieldError::new(e.field.clone(), for_interface(&e.message, keymap)))
        .collect()
}

/// Where the interface does what `staffctl <command>` does.
fn in_the_interface(command: &str, keymap: &Keymap) -> Option<String> {
    let key = |section: Section, action: Action| {
        keymap
            .keys_for(section, action)
            .into_iter()
            .next()
            .unwrap_or_else(|| format!("{} (from the palette)", action.name()))
    };
    let words: Vec<&str> = command.split_whitespace().collect();
    Some(match words.as_slice() {
        ["role", "list", ..] => "the Roles tab".to_string(),
        ["facility", "list", ..] => "the Facilities tab".to_string(),
        ["device", "list", ..] => "the Devices tab".to_string(),
        ["invite", "list", ..] => "the Invites tab".to_string(),
        ["audit", "list", ..] => "the Audit tab".to_string(),
        ["permission", "list", ..] => format!(
            "the permission matrix ({} on the Roles tab)",
            key(Section::Roles, Action::RoleEdit)
        ),
        ["user", "list", ..] => format!(
            "the {} filter on the Users tab",
            key(Section::Users, Action::Filter)
        ),
        ["user", "deactivate", ..] => format!(
            "{} on the Users tab",
            key(Section::Users, Action::UserDeactivate)
        ),
        ["user", "edit", ..] => {
            format!("{} on the Users tab", key(Section::Users, Action::UserEdit))
        }
        ["activate", ..] => format!(
            "{} on the login screen",
            key(Section::Form, Action::Activate)
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_hints_become_the_interface_s_keys_and_tabs() {
        let km = Keymap::default_keymap();
        assert_eq!(
            for_interface("no role '#9'; `staffctl role list` shows the roles", &km),
            "no role '#9'; the Roles tab shows the roles"
        );
        assert_eq!(
            for_interface(
                "Ira (#1) has activated their account, so it cannot be deleted; deactivate it instead (`staffctl user deactivate 1 --reason ...`)",
                &km
            ),
            "Ira (#1) has activated their account, so it cannot be deleted; deactivate it instead (d on the Users tab)"
        );
        assert_eq!(
            for_interface(
                "move them to another facility first (`staffctl user edit USER --facility F`)",
                &km
            ),
            "move them to another facility first (e on the Users tab)"
        );
        assert_eq!(
            for_interface(
                "unknown permission 'x'; `staffctl permission list` shows the catalogue",
                &km
            ),
            "unknown permission 'x'; the permission matrix (e on the Roles tab) shows the catalogue"
        );
        // Text without a hint, an unknown command and an unclosed quote are left alone.
        for same in [
            "email is required",
            "run `staffctl serve` first",
            "half `staffctl role list",
        ] {
            assert_eq!(for_interface(same, &km), same);
        }
    }

    #[test]
    fn hints_follow_the_active_keymap() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keymap.toml");
        std::fs::write(
            &file,
            "[users]\n\"d\" = \"none\"\n\"D\" = \"user.deactivate\"\n",
        )
        .unwrap();
        let km = Keymap::load(None, Some(&file)).unwrap();
        assert_eq!(
            for_interface("instead (`staffctl user deactivate 1`)", &km),
            "instead (D on the Users tab)"
        );
        std::fs::write(&file, "[users]\n\"d\" = \"none\"\n").unwrap();
        let km = Keymap::load(None, Some(&file)).unwrap();
        assert_eq!(
            for_interface("instead (`staffctl user deactivate 1`)", &km),
            "instead (user.deactivate (from the palette) on the Users tab)"
        );
    }
}
