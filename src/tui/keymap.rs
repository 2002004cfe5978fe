//! Key bindings as data: parsed from TOML (`keymaps/default.toml` is compiled in), merged binding
//! by binding with a named or file keymap and the user's override file, and checked for unknown
//! actions, unparsable keys and conflicts, which are reported by file, line and key
//! ([`load`]).

mod load;

use std::collections::BTreeMap;

pub use load::{Problem, Startup, config_dir, config_file, startup, user_keymap_file};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// The compiled-in default keymap.
pub const DEFAULT_TOML: &str = include_str!("../../keymaps/default.toml");
/// The compiled-in vim keymap (applied on top of the default).
pub const VIM_TOML: &str = include_str!("../../keymaps/vim.toml");

/// Where bindings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// Everywhere.
    Global,
    /// Every table.
    List,
    /// Forms and dialogs.
    Form,
    /// Yes/no questions.
    Confirm,
    /// One-line inputs: the `/` filter and the command palette.
    Input,
    /// Users tab.
    Users,
    /// Roles tab.
    Roles,
    /// Facilities tab.
    Facilities,
    /// Invites tab.
    Invites,
    /// Devices tab.
    Devices,
    /// Audit tab.
    Audit,
    /// Settings tab.
    Settings,
}

impl Section {
    /// Every section.
    pub const ALL: [Section; 12] = [
        Section::Global,
        Section::List,
        Section::Form,
        Section::Confirm,
        Section::Input,
        Section::Users,
        Section::Roles,
        Section::Facilities,
        Section::Invites,
        Section::Devices,
        Section::Audit,
        Section::Settings,
    ];

    /// Name in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::List => "list",
            Self::Form => "form",
            Self::Confirm => "confirm",
            Self::Input => "input",
            Self::Users => "users",
            Self::Roles => "roles",
            Self::Facilities => "facilities",
            Self::Invites => "invites",
            Self::Devices => "devices",
            Self::Audit => "audit",
            Self::Settings => "settings",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Sections consulted, most specific first, when this section is active.
    pub fn chain(self) -> Vec<Section> {
        match self {
            Self::Global => vec![Self::Global],
            Self::List => vec![Self::List, Self::Global],
            Self::Form => vec![Self::Form, Self::Global],
            Self::Confirm => vec![Self::Confirm, Self::Global],
            Self::Input => vec![Self::Input, Self::Global],
            tab => vec![tab, Self::List, Self::Global],
        }
    }
}

/// One key with modifiers, normalised so that `G` and `shift-g` are the same chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chord {
    code: KeyCodeKey,
    ctrl: bool,
    alt: bool,
}

/// The subset of key codes bindings can name (ordered, hashable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeKey {
    Char(char),
    F(u8),
    Named(&'static str),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
];

impl Chord {
    /// The chord of a terminal key event, or `None` for keys bindings cannot name.
    pub fn from_event(ev: &KeyEvent) -> Option<Self> {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::Char(' ') => KeyCodeKey::Named("space"),
            KeyCode::Char(c) if ctrl || alt => KeyCodeKey::Char(c.to_ascii_lowercase()),
            KeyCode::Char(c) => KeyCodeKey::Char(c),
            KeyCode::F(n) => KeyCodeKey::F(n),
            KeyCode::BackTab => KeyCodeKey::Named("backtab"),
            KeyCode::Tab if ev.modifiers.contains(KeyModifiers::SHIFT) => {
                KeyCodeKey::Named("backtab")
            }
            other => KeyCodeKey::Named(NAMED.iter().find(|(_, c)| *c == other)?.0),
        };
        Some(Self { code, ctrl, alt })
    }

    /// Parses `ctrl-c`, `G`, `enter`, `shift-tab`, `f5`, `space`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rest = text;
        let (mut ctrl, mut alt, mut shift) = (false, false, false);
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.chars().count() > 1
                && let Some(r) = lower
                    .strip_prefix("ctrl-")
                    .or_else(|| lower.strip_prefix("c-"))
            {
                ctrl = true;
                rest = &rest[rest.len() - r.len()..];
            } else if rest.chars().count() > 1
                && let Some(r) = lower
                    .strip_prefix("alt-")
                    .or_else(|| lower.strip_prefix("m-"))
            {
                alt = true;
                rest = &rest[rest.len() - r.len()..];
            } else if rest.chars().count() > 1
                && let Some(r) = lower
                    .strip_prefix("shift-")
                    .or_else(|| lower.strip_prefix("s-"))
            {
                shift = true;
                rest = &rest[rest.len() - r.len()..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err(format!("'{text}' names no key")),
            (Some(c), None) => {
                if shift && c.is_ascii_alphabetic() {
                    KeyCodeKey::Char(c.to_ascii_uppercase())
                } else if ctrl || alt {
                    KeyCodeKey::Char(c.to_ascii_lowercase())
                } else {
                    KeyCodeKey::Char(c)
                }
            }
            _ => {
                let name = rest.to_ascii_lowercase();
                if name == "space" {
                    KeyCodeKey::Named("space")
                } else if name == "tab" && shift {
                    KeyCodeKey::Named("backtab")
                } else if let Some(n) = name
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))
                {
                    KeyCodeKey::F(n)
                } else if let Some((n, _)) = NAMED.iter().find(|(n, _)| {
                    *n == name
                        || (name == "return" && *n == "enter")
                        || (name == "escape" && *n == "esc")
                }) {
                    KeyCodeKey::Named(n)
                } else {
                    return Err(format!(
                        "'{text}' is not a key; use a character, a name such as enter/esc/tab/up/pageup/f1, or ctrl-/alt- with one"
                    ));
                }
            }
        };
        Ok(Self { code, ctrl, alt })
    }

    /// Whether this is an upper-case letter (typed with shift).
    fn is_shifted_letter(&self) -> bool {
        matches!(self.code, KeyCodeKey::Char(c) if c.is_ascii_uppercase())
    }

    /// Whether this chord has a modifier (ctrl or alt).
    pub fn has_modifier(&self) -> bool {
        self.ctrl || self.alt
    }

    /// Whether this chord would type a character into a text field.
    pub fn is_printable(&self) -> bool {
        !self.ctrl
            && !self.alt
            && matches!(self.code, KeyCodeKey::Char(_) | KeyCodeKey::Named("space"))
    }
}

impl std::fmt::Display for Chord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCodeKey::Char(c) => write!(f, "{c}"),
            KeyCodeKey::F(n) => write!(f, "F{n}"),
            KeyCodeKey::Named(n) => {
                let shown = match n {
                    "enter" => "Enter",
                    "esc" => "Esc",
                    "tab" => "Tab",
                    "backtab" => "S-Tab",
                    "space" => "Space",
                    "up" => "↑",
                    "down" => "↓",
                    "left" => "←",
                    "right" => "→",
                    "pageup" => "PgUp",
                    "pagedown" => "PgDn",
                    "home" => "Home",
                    "end" => "End",
                    "backspace" => "Bksp",
                    "delete" => "Del",
                    other => other,
                };
                f.write_str(shown)
            }
        }
    }
}

/// A key sequence (one or two chords).
pub type Keys = Vec<Chord>;

fn keys_text(keys: &[Chord]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Result of looking keys up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The keys trigger this action.
    Action(Action),
    /// The keys start a longer binding: wait for the next key.
    Pending,
    /// Nothing bound.
    None,
}

/// The active bindings.
#[derive(Debug, Clone)]
pub struct Keymap {
    /// Name shown in help (`default`, `vim`, or a path).
    pub name: String,
    bindings: BTreeMap<Section, BTreeMap<Keys, Action>>,
    /// Where each binding was written, to name the line a conflict comes from.
    origins: BTreeMap<(Section, Keys), load::Origin>,
}

impl Keymap {
    /// Looks up the keys typed so far in the sections of `active`.
    pub fn lookup(&self, active: Section, keys: &[Chord]) -> Lookup {
        let mut pending = false;
        for section in active.chain() {
            let Some(map) = self.bindings.get(&section) else {
                continue;
            };
            if let Some(a) = map.get(keys) {
                return Lookup::Action(*a);
            }
            if map
                .keys()
                .any(|k| k.len() > keys.len() && k.starts_with(keys))
            {
                pending = true;
            }
        }
        if pending {
            Lookup::Pending
        } else {
            Lookup::None
        }
    }

    /// The keys bound to `action` when `active` is the active section, for hints and help.
    pub fn keys_for(&self, active: Section, action: Action) -> Vec<String> {
        let mut out = Vec::new();
        for section in active.chain() {
            if let Some(map) = self.bindings.get(&section) {
                for (keys, a) in map {
                    // Skip keys a more specific section rebinds.
                    let shadowed = active
                        .chain()
                        .iter()
                        .take_while(|s| **s != section)
                        .any(|s| self.bindings.get(s).is_some_and(|m| m.contains_key(keys)));
                    if *a == action && !shadowed {
                        let origin = self.origins.get(&(section, keys.clone()));
                        out.push((keys.clone(), origin.map_or((0, 0), |o| o.rank())));
                    }
                }
            }
        }
        // Plain single keys first: they are what a newcomer should see in hints (`y` before
        // `Y`, which needs shift); among equals, the user's own binding, then the one written
        // first (`tab` before `down` for the next field).
        out.sort_by_key(|(k, (layer, line))| {
            (
                k.len(),
                k.iter().any(|c| c.ctrl || c.alt),
                k.iter().any(Chord::is_shifted_letter),
                std::cmp::Reverse(*layer),
                *line,
            )
        });
        out.iter().map(|(k, _)| keys_text(k)).collect()
    }

    /// The key hints and prompts name for `action` in `active` (the first of
    /// [`Keymap::keys_for`]), if one is bound.
    pub fn key(&self, active: Section, action: Action) -> Option<String> {
        self.keys_for(active, action).into_iter().next()
    }

    /// [`Keymap::key`], or the action's name when no key is bound (it still runs from the
    /// palette).
    pub fn key_or_name(&self, active: Section, action: Action) -> String {
        self.key(active, action)
            .unwrap_or_else(|| action.name().to_string())
    }

    /// Every binding of one section, for the help screen.
    pub fn section_bindings(&self, section: Section) -> Vec<(String, Action)> {
        self.bindings
            .get(&section)
            .map(|m| m.iter().map(|(k, a)| (keys_text(k), *a)).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventKind;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: mods,
            kind: KeyEventKind::Press,
            state: ratatui::crossterm::event::KeyEventState::NONE,
        }
    }

    #[test]
    fn builtin_keymaps_are_clean() {
        assert_eq!(Keymap::check_text("default", DEFAULT_TOML), vec![]);
        assert_eq!(Keymap::check_text("vim", VIM_TOML), vec![]);
        assert!(Keymap::load(Some("vim"), None).is_ok());
    }

    #[test]
    fn chords_parse_and_match_events() {
        let c = Chord::parse("ctrl-c").unwrap();
        assert_eq!(
            Chord::from_event(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(c)
        );
        let g = Chord::parse("G").unwrap();
        assert_eq!(
            Chord::from_event(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(g)
        );
        assert_eq!(Chord::parse("shift-g").unwrap(), g);
        assert_eq!(
            Chord::parse("shift-tab").unwrap(),
            Chord::parse("backtab").unwrap()
        );
        assert_eq!(
            Chord::from_event(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Chord::parse("backtab").unwrap())
        );
        assert_eq!(Chord::parse("F5").unwrap().to_string(), "F5");
        assert!(Chord::parse("ctrl-").is_err());
        assert!(Chord::parse("banana").unwrap_err().contains("not a key"));
    }

    #[test]
    fn lookup_prefers_tab_then_list_then_global_and_handles_sequences() {
        let km = Keymap::load(Some("vim"), None).unwrap();
        let a = Chord::parse("a").unwrap();
        assert_eq!(
            km.lookup(Section::Users, &[a]),
            Lookup::Action(Action::UserAdd)
        );
        assert_eq!(
            km.lookup(Section::Roles, &[a]),
            Lookup::Action(Action::RoleAdd)
        );
        let g = Chord::parse("g").unwrap();
        assert_eq!(km.lookup(Section::Users, &[g]), Lookup::Pending);
        assert_eq!(
            km.lookup(Section::Users, &[g, g]),
            Lookup::Action(Action::Top)
        );
        let q = Chord::parse("q").unwrap();
        assert_eq!(
            km.lookup(Section::Audit, &[q]),
            Lookup::Action(Action::Quit)
        );
        assert_eq!(
            km.keys_for(Section::Users, Action::Top),
            vec!["Home", "g g"]
        );
    }
}
