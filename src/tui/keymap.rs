//! Key bindings as data: parsed from TOML (`keymaps/default.toml` is compiled in), merged binding
//! by binding with a named or file keymap and the user's override file, and checked for unknown
//! actions, unparsable keys and conflicts, which are reported by name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    pub const ALL: [Section; 10] = [
        Section::Global,
        Section::List,
        Section::Form,
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

/// Something wrong in a keymap file, named so the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Which file or keymap.
    pub source: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
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
}

/// Parses one keymap text into (section, keys, action-or-unbind) entries, collecting problems.
fn parse_entries(
    source: &str,
    text: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(Section, Keys, Option<Action>)> {
    let problem = |m: String| Problem {
        source: source.to_string(),
        message: m,
    };
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            problems.push(problem(format!("not valid TOML: {}", e.to_string().trim())));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (section_name, body) in &table {
        if section_name == "keymap" {
            continue;
        }
        let Some(section) = Section::parse(section_name) else {
            problems.push(problem(format!(
                "unknown section [{section_name}]; sections are {}",
                Section::ALL.map(Section::name).join(", ")
            )));
            continue;
        };
        let Some(entries) = body.as_table() else {
            problems.push(problem(format!(
                "[{section_name}] must be a table of \"key\" = \"action\""
            )));
            continue;
        };
        for (key_text, value) in entries {
            let Some(action_name) = value.as_str() else {
                problems.push(problem(format!(
                    "[{section_name}] \"{key_text}\": the action must be a string"
                )));
                continue;
            };
            let keys: Result<Keys, String> =
                key_text.split_whitespace().map(Chord::parse).collect();
            let keys = match keys {
                Ok(k) if (1..=2).contains(&k.len()) => k,
                Ok(_) => {
                    problems.push(problem(format!(
                        "[{section_name}] \"{key_text}\": a binding is one key or a sequence of two"
                    )));
                    continue;
                }
                Err(e) => {
                    problems.push(problem(format!("[{section_name}] {e}")));
                    continue;
                }
            };
            let action = if action_name == "none" {
                None
            } else {
                match Action::from_name(action_name) {
                    Some(a) => Some(a),
                    None => {
                        problems.push(problem(format!(
                            "[{section_name}] \"{key_text}\" = \"{action_name}\": unknown action (press ? in staffctl for the list)"
                        )));
                        continue;
                    }
                }
            };
            out.push((section, keys, action));
        }
    }
    out
}

impl Keymap {
    fn empty(name: &str) -> Self {
        Self {
            name: name.to_string(),
            bindings: BTreeMap::new(),
        }
    }

    fn apply(&mut self, entries: Vec<(Section, Keys, Option<Action>)>) {
        for (section, keys, action) in entries {
            let map = self.bindings.entry(section).or_default();
            match action {
                Some(a) => {
                    map.insert(keys, a);
                }
                None => {
                    map.remove(&keys);
                }
            }
        }
    }

    /// The built-in default keymap.
    pub fn default_keymap() -> Self {
        let mut problems = Vec::new();
        let mut k = Self::empty("default");
        k.apply(parse_entries("default", DEFAULT_TOML, &mut problems));
        k
    }

    /// Loads the default keymap, then `choice` (`default`, `vim` or a file path), then the user
    /// override file if it exists. Any problem (including conflicts) is returned by name.
    pub fn load(choice: Option<&str>, user_file: Option<&Path>) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut km = Self::default_keymap();
        match choice.unwrap_or("default") {
            "default" => {}
            "vim" => {
                km.name = "vim".into();
                km.apply(parse_entries("vim", VIM_TOML, &mut problems));
            }
            path => {
                km.name = path.to_string();
                match std::fs::read_to_string(path) {
                    Ok(text) => km.apply(parse_entries(path, &text, &mut problems)),
                    Err(e) => problems.push(Problem {
                        source: path.to_string(),
                        message: format!(
                            "cannot read keymap ({e}); use default, vim or a file path"
                        ),
                    }),
                }
            }
        }
        if let Some(file) = user_file.filter(|f| f.exists()) {
            let source = file.display().to_string();
            match std::fs::read_to_string(file) {
                Ok(text) => km.apply(parse_entries(&source, &text, &mut problems)),
                Err(e) => problems.push(Problem {
                    source,
                    message: format!("cannot read ({e})"),
                }),
            }
        }
        problems.extend(km.conflicts());
        if problems.is_empty() {
            Ok(km)
        } else {
            Err(problems)
        }
    }

    /// Checks a keymap file as it would be used (on top of the default keymap).
    pub fn check_file(path: &Path) -> Vec<Problem> {
        let source = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                return vec![Problem {
                    source,
                    message: format!("cannot read ({e})"),
                }];
            }
        };
        Self::check_text(&source, &text)
    }

    /// Checks keymap text as it would be used (on top of the default keymap).
    pub fn check_text(source: &str, text: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut km = Self::default_keymap();
        km.apply(parse_entries(source, text, &mut problems));
        problems.extend(km.conflicts().into_iter().map(|p| Problem {
            source: source.to_string(),
            ..p
        }));
        problems
    }

    /// Keys that would never reach an action because a more specific section or a shorter
    /// sequence takes them first.
    fn conflicts(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let problem = |m: String| Problem {
            source: self.name.clone(),
            message: m,
        };
        let empty = BTreeMap::new();
        for section in Section::ALL {
            let chain = section.chain();
            let own = self.bindings.get(&section).unwrap_or(&empty);
            for (keys, action) in own {
                // A one-key binding that is also the first key of a sequence in the same chain.
                for other in &chain {
                    if let Some(map) = self.bindings.get(other) {
                        for (longer, longer_action) in map {
                            if keys.len() == 1 && longer.len() == 2 && longer[0] == keys[0] {
                                out.push(problem(format!(
                                    "key {} ({} in [{}]) is also the start of {} ({} in [{}]); the sequence can never be typed",
                                    keys_text(keys),
                                    action.name(),
                                    section.name(),
                                    keys_text(longer),
                                    longer_action.name(),
                                    other.name()
                                )));
                            }
                        }
                    }
                }
            }
        }
        // The same action bound twice in one section is fine (aliases); the same key to two
        // actions across a tab section and the list/global sections is reported, because the
        // broader binding silently stops working on that tab.
        for section in [
            Section::Users,
            Section::Roles,
            Section::Facilities,
            Section::Invites,
            Section::Devices,
            Section::Audit,
            Section::Settings,
        ] {
            let own = self.bindings.get(&section).unwrap_or(&empty);
            for broader in [Section::List, Section::Global] {
                let theirs = self.bindings.get(&broader).unwrap_or(&empty);
                for (keys, action) in own {
                    if let Some(other) = theirs.get(keys)
                        && other != action
                    {
                        out.push(problem(format!(
                            "key {} is bound to {} in [{}] and to {} in [{}]; on that tab {} would never run",
                            keys_text(keys),
                            action.name(),
                            section.name(),
                            other.name(),
                            broader.name(),
                            other.name()
                        )));
                    }
                }
            }
        }
        for (keys, action) in self.bindings.get(&Section::List).unwrap_or(&empty) {
            if let Some(other) = self
                .bindings
                .get(&Section::Global)
                .and_then(|g| g.get(keys))
                && other != action
            {
                out.push(problem(format!(
                    "key {} is bound to {} in [list] and to {} in [global]; in lists {} would never run",
                    keys_text(keys),
                    action.name(),
                    other.name(),
                    other.name()
                )));
            }
        }
        out.sort_by(|a, b| a.message.cmp(&b.message));
        out.dedup();
        out
    }

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
                        out.push(keys.clone());
                    }
                }
            }
        }
        // Plain single keys first: they are what a newcomer should see in hints.
        out.sort_by_key(|k| (k.len(), k.iter().any(|c| c.ctrl || c.alt)));
        out.iter().map(|k| keys_text(k)).collect()
    }

    /// Every binding of one section, for the help screen.
    pub fn section_bindings(&self, section: Section) -> Vec<(String, Action)> {
        self.bindings
            .get(&section)
            .map(|m| m.iter().map(|(k, a)| (keys_text(k), *a)).collect())
            .unwrap_or_default()
    }
}

/// `$XDG_CONFIG_HOME/staffctl` (or `~/.config/staffctl`).
pub fn config_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|p| p.join("staffctl"))
}

/// The user's override file, `keymap.toml` in the config directory.
pub fn user_keymap_file() -> Option<PathBuf> {
    config_dir().map(|d| d.join("keymap.toml"))
}

/// The keymap named in the config file (`keymap = "vim"`), if any.
pub fn configured_keymap() -> Option<String> {
    let text = std::fs::read_to_string(config_dir()?.join("config.toml")).ok()?;
    let table: toml::Table = text.parse().ok()?;
    table.get("keymap")?.as_str().map(str::to_string)
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

    #[test]
    fn problems_are_named() {
        let text = "[users]\n\"a\" = \"user.fly\"\n\"ctrl-\" = \"user.add\"\n\"q\" = \"user.add\"\n[nope]\n\"x\" = \"app.quit\"\n";
        let problems = Keymap::check_text("mine.toml", text);
        let all = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(all.contains("unknown action"), "{all}");
        assert!(all.contains("user.fly"), "{all}");
        assert!(
            all.contains("'ctrl-' names no key") || all.contains("ctrl-"),
            "{all}"
        );
        assert!(all.contains("unknown section [nope]"), "{all}");
        assert!(
            all.contains("key q is bound to user.add in [users] and to app.quit in [global]"),
            "{all}"
        );
        assert!(
            Keymap::check_text("bad.toml", "[users\n")
                .iter()
                .any(|p| p.message.contains("not valid TOML"))
        );
    }

    #[test]
    fn overrides_merge_binding_by_binding() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keymap.toml");
        std::fs::write(&file, "[users]\n\"n\" = \"user.add\"\n\"a\" = \"none\"\n").unwrap();
        let km = Keymap::load(None, Some(&file)).unwrap();
        let n = Chord::parse("n").unwrap();
        let a = Chord::parse("a").unwrap();
        assert_eq!(
            km.lookup(Section::Users, &[n]),
            Lookup::Action(Action::UserAdd)
        );
        assert_eq!(km.lookup(Section::Users, &[a]), Lookup::None);
        // Everything else is still the default.
        assert_eq!(
            km.lookup(Section::Users, &[Chord::parse("e").unwrap()]),
            Lookup::Action(Action::UserEdit)
        );
    }
}
