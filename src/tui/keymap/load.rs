//! Reading key bindings: the built-in keymaps, a keymap file, the user's override file and the
//! config file's choice. Every problem is named by file, line and key. A file with problems is
//! left out whole (never half applied): the interface starts with the keymap built so far and
//! says which file it left out and why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use super::{Chord, DEFAULT_TOML, Keymap, Keys, Section, VIM_TOML, keys_text};
use crate::tui::action::Action;

/// Something wrong in a keymap or config file, named so the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Which file (or built-in keymap).
    pub source: String,
    /// The line of the file it is on, when it has one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    fn new(source: &str, line: Option<usize>, message: String) -> Self {
        Self {
            source: source.to_string(),
            line,
            message,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.source, self.message),
            None => write!(f, "{}: {}", self.source, self.message),
        }
    }
}

/// Where a binding was written: the file (or built-in keymap), its line, and how late it was
/// applied (a conflict is blamed on the later of its two bindings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Origin {
    source: String,
    line: Option<usize>,
    layer: u8,
}

impl Origin {
    /// How late it was applied and on which line, for ordering hints.
    pub(super) fn rank(&self) -> (u8, usize) {
        (self.layer, self.line.unwrap_or(0))
    }
}

/// One `"key" = "action"` line (`None`: the key is unbound).
struct Entry {
    section: Section,
    keys: Keys,
    action: Option<Action>,
    line: usize,
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Parses a TOML document, or says where it is not TOML.
fn parse_toml<'t>(source: &str, text: &'t str) -> Result<DeTable<'t>, Problem> {
    DeTable::parse(text)
        .map(toml::Spanned::into_inner)
        .map_err(|e| {
            Problem::new(
                source,
                e.span().map(|s| line_of(text, s.start)),
                format!("not valid TOML: {}", e.message().trim()),
            )
        })
}

/// Parses one keymap text into entries, collecting problems (sorted by line).
fn parse_entries(source: &str, text: &str, problems: &mut Vec<Problem>) -> Vec<Entry> {
    let table = match parse_toml(source, text) {
        Ok(t) => t,
        Err(p) => {
            problems.push(p);
            return Vec::new();
        }
    };
    let first = problems.len();
    let mut out = Vec::new();
    for (name, body) in &table {
        let section_name: &str = name.get_ref();
        let line = Some(line_of(text, name.span().start));
        if section_name == "keymap" {
            continue;
        }
        let Some(section) = Section::parse(section_name) else {
            problems.push(Problem::new(
                source,
                line,
                format!(
                    "unknown section [{section_name}]; sections are {}",
                    Section::ALL.map(Section::name).join(", ")
                ),
            ));
            continue;
        };
        let Some(entries) = body.get_ref().as_table() else {
            problems.push(Problem::new(
                source,
                line,
                format!("[{section_name}] must be a table of \"key\" = \"action\""),
            ));
            continue;
        };
        for (key, value) in entries {
            let key_text: &str = key.get_ref();
            let line = line_of(text, key.span().start);
            let problem = |m: String| Problem::new(source, Some(line), m);
            let Some(action_name) = value.get_ref().as_str() else {
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
                            "[{section_name}] \"{key_text}\" = \"{action_name}\": unknown action (the help screen of staffctl lists every action)"
                        )));
                        continue;
                    }
                }
            };
            out.push(Entry {
                section,
                keys,
                action,
                line,
            });
        }
    }
    problems[first..].sort_by_key(|p| p.line);
    out
}

impl Keymap {
    fn empty(name: &str) -> Self {
        Self {
            name: name.to_string(),
            bindings: BTreeMap::new(),
            origins: BTreeMap::new(),
        }
    }

    fn apply(&mut self, source: &str, layer: u8, entries: Vec<Entry>) {
        for e in entries {
            let map = self.bindings.entry(e.section).or_default();
            match e.action {
                Some(a) => {
                    map.insert(e.keys.clone(), a);
                    self.origins.insert(
                        (e.section, e.keys),
                        Origin {
                            source: source.to_string(),
                            line: Some(e.line),
                            layer,
                        },
                    );
                }
                None => {
                    map.remove(&e.keys);
                    self.origins.remove(&(e.section, e.keys));
                }
            }
        }
    }

    /// The built-in default keymap.
    pub fn default_keymap() -> Self {
        let mut problems = Vec::new();
        let mut k = Self::empty("default");
        k.apply(
            "default",
            0,
            parse_entries("default", DEFAULT_TOML, &mut problems),
        );
        k
    }

    /// This keymap with `text` (from `source`) applied on top, or the problems that keep it
    /// out: its own, and the conflicts it would bring in.
    fn with_file(&self, source: &str, text: &str, layer: u8) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let entries = parse_entries(source, text, &mut problems);
        let mut km = self.clone();
        km.apply(source, layer, entries);
        let before = self.conflicts();
        problems.extend(km.conflicts().into_iter().filter(|c| !before.contains(c)));
        if problems.is_empty() {
            Ok(km)
        } else {
            Err(problems)
        }
    }

    /// Loads the default keymap, then `choice` (`default`, `vim` or a file path), then the user
    /// override file if it exists; every problem (including conflicts) is returned, and then
    /// nothing is loaded. The interface uses [`startup`], which starts anyway.
    pub fn load(choice: Option<&str>, user_file: Option<&Path>) -> Result<Self, Vec<Problem>> {
        let built = build(choice, user_file);
        if built.problems.is_empty() {
            Ok(built.keymap)
        } else {
            Err(built.problems)
        }
    }

    /// Checks a keymap file as it would be used (on top of the default keymap).
    pub fn check_file(path: &Path) -> Vec<Problem> {
        let source = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::check_text(&source, &text),
            Err(e) => vec![Problem::new(&source, None, format!("cannot read ({e})"))],
        }
    }

    /// Checks keymap text as it would be used (on top of the default keymap).
    pub fn check_text(source: &str, text: &str) -> Vec<Problem> {
        Self::default_keymap()
            .with_file(source, text, 1)
            .err()
            .unwrap_or_default()
    }

    /// Where the problem `message` about the bindings `a` and `b` is to be fixed: the one
    /// applied later (the file that brought the conflict in), else `a`.
    fn blame(&self, a: (Section, &Keys), b: (Section, &Keys), message: String) -> Problem {
        let origin = |(s, k): (Section, &Keys)| self.origins.get(&(s, k.clone()));
        let chosen = match (origin(a), origin(b)) {
            (Some(x), Some(y)) if y.layer > x.layer => Some(y),
            (Some(x), _) => Some(x),
            (None, y) => y,
        };
        match chosen {
            Some(o) => Problem::new(&o.source, o.line, message),
            None => Problem::new(&self.name, None, message),
        }
    }

    /// Keys that would never reach an action because a more specific section or a shorter
    /// sequence takes them first.
    fn conflicts(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let empty = BTreeMap::new();
        for section in Section::ALL {
            let chain = section.chain();
            let own = self.bindings.get(&section).unwrap_or(&empty);
            for (keys, action) in own {
                // A one-key binding that is also the first key of a sequence in the same chain.
                for other in &chain {
                    let Some(map) = self.bindings.get(other) else {
                        continue;
                    };
                    for (longer, longer_action) in map {
                        if keys.len() == 1 && longer.len() == 2 && longer[0] == keys[0] {
                            out.push(self.blame(
                                (section, keys),
                                (*other, longer),
                                format!(
                                    "key {} ({} in [{}]) is also the start of {} ({} in [{}]); the sequence can never be typed",
                                    keys_text(keys),
                                    action.name(),
                                    section.name(),
                                    keys_text(longer),
                                    longer_action.name(),
                                    other.name()
                                ),
                            ));
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
                        out.push(self.blame(
                            (section, keys),
                            (broader, keys),
                            format!(
                                "key {} is bound to {} in [{}] and to {} in [{}]; on that tab {} would never run",
                                keys_text(keys),
                                action.name(),
                                section.name(),
                                other.name(),
                                broader.name(),
                                other.name()
                            ),
                        ));
                    }
                }
            }
        }
        // Questions and inputs fall back to the global keys; one they rebind stops working
        // there, which is reported as on a tab.
        for section in [Section::Confirm, Section::Input] {
            let own = self.bindings.get(&section).unwrap_or(&empty);
            let global = self.bindings.get(&Section::Global).unwrap_or(&empty);
            for (keys, action) in own {
                if let Some(other) = global.get(keys)
                    && other != action
                {
                    out.push(self.blame(
                        (section, keys),
                        (Section::Global, keys),
                        format!(
                            "key {} is bound to {} in [{}] and to {} in [global]; there {} would never run",
                            keys_text(keys),
                            action.name(),
                            section.name(),
                            other.name(),
                            other.name()
                        ),
                    ));
                }
            }
        }
        // In the filter and the palette, printable keys type.
        for (keys, action) in self.bindings.get(&Section::Input).unwrap_or(&empty) {
            if keys.iter().any(Chord::is_printable) {
                out.push(self.blame(
                    (Section::Input, keys),
                    (Section::Input, keys),
                    format!(
                        "key {} in [input] types into the filter or palette, so {} would never run; bind a named key (enter, esc, up, f1...) or a ctrl-/alt- chord",
                        keys_text(keys),
                        action.name()
                    ),
                ));
            }
        }
        for (keys, action) in self.bindings.get(&Section::List).unwrap_or(&empty) {
            if let Some(other) = self
                .bindings
                .get(&Section::Global)
                .and_then(|g| g.get(keys))
                && other != action
            {
                out.push(self.blame(
                    (Section::List, keys),
                    (Section::Global, keys),
                    format!(
                        "key {} is bound to {} in [list] and to {} in [global]; in lists {} would never run",
                        keys_text(keys),
                        action.name(),
                        other.name(),
                        other.name()
                    ),
                ));
            }
        }
        out.sort_by(|a, b| (&a.source, a.line, &a.message).cmp(&(&b.source, b.line, &b.message)));
        out.dedup();
        out
    }
}

/// What start-up made of the keymap and config files.
#[derive(Debug, Clone)]
pub struct Startup {
    /// The bindings in use.
    pub keymap: Keymap,
    /// Every problem found, by file and line.
    pub problems: Vec<Problem>,
    /// Files left out because of their problems.
    pub left_out: Vec<String>,
    /// Files that were read (for `staffctl keymap check`).
    pub read: Vec<String>,
}

impl Startup {
    /// What the interface shows when something is wrong: every problem on a line of its own,
    /// then what staffctl did about it and how to check again. `None` when all is well.
    pub fn warning(&self) -> Option<String> {
        if self.problems.is_empty() {
            return None;
        }
        let mut lines: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        lines.push(format!(
            "Not used: {}. staffctl started with the {} keymap; fix the problems and start it again (`staffctl keymap check` lists them).",
            self.left_out.join(", "),
            self.keymap.name
        ));
        Some(lines.join("\n"))
    }
}

impl Startup {
    /// `text` from `source` on top of the keymap so far, or left out with its problems.
    fn add(&mut self, source: &str, text: &str, layer: u8, name: Option<&str>) {
        match self.keymap.with_file(source, text, layer) {
            Ok(next) => {
                self.keymap = next;
                if let Some(n) = name {
                    self.keymap.name = n.to_string();
                }
            }
            Err(problems) => {
                self.problems.extend(problems);
                self.left_out.push(source.to_string());
            }
        }
    }

    /// Reads the file at `path` and adds it; a file that cannot be read is left out.
    fn add_file(&mut self, path: &Path, layer: u8, name: Option<&str>) {
        let source = path.display().to_string();
        self.read.push(source.clone());
        match std::fs::read_to_string(path) {
            Ok(text) => self.add(&source, &text, layer, name),
            Err(e) => {
                let hint = if layer == 1 {
                    "; use default, vim or a file path"
                } else {
                    ""
                };
                self.problems.push(Problem::new(
                    &source,
                    None,
                    format!("cannot read ({e}){hint}"),
                ));
                self.left_out.push(source);
            }
        }
    }
}

/// Applies `choice` and the user file over the default keymap, leaving out any file with
/// problems.
fn build(choice: Option<&str>, user_file: Option<&Path>) -> Startup {
    let mut out = Startup {
        keymap: Keymap::default_keymap(),
        problems: Vec::new(),
        left_out: Vec::new(),
        read: Vec::new(),
    };
    match choice.unwrap_or("default") {
        "default" => {}
        "vim" => out.add("vim", VIM_TOML, 1, Some("vim")),
        path => out.add_file(Path::new(path), 1, Some(path)),
    }
    if let Some(file) = user_file.filter(|f| f.exists()) {
        out.add_file(file, 2, None);
    }
    out
}

/// What the interface starts with: the keymap named by `choice` (else the config file's
/// choice, else the default), then the user's override file; files with problems are left out
/// and their problems, and the config file's, are reported.
pub fn startup(choice: Option<&str>) -> Startup {
    let (configured, config_problems, config_read) = match config_file() {
        Some(path) if path.exists() => {
            let (choice, problems) = read_config(&path);
            (choice, problems, Some(path.display().to_string()))
        }
        _ => (None, Vec::new(), None),
    };
    let mut out = build(
        choice.or(configured.as_deref()),
        user_keymap_file().as_deref(),
    );
    if let Some(path) = config_read {
        if !config_problems.is_empty() {
            out.left_out.insert(0, path.clone());
        }
        out.read.insert(0, path);
    }
    out.problems.splice(0..0, config_problems);
    out
}

/// The keymap chosen in a config file (`keymap = "vim"`), and what is wrong with the file.
/// A file with problems chooses nothing.
pub fn read_config(path: &Path) -> (Option<String>, Vec<Problem>) {
    let source = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return (
                None,
                vec![Problem::new(&source, None, format!("cannot read ({e})"))],
            );
        }
    };
    let table = match parse_toml(&source, &text) {
        Ok(t) => t,
        Err(p) => return (None, vec![p]),
    };
    let mut problems = Vec::new();
    let mut choice = None;
    for (key, value) in &table {
        let name: &str = key.get_ref();
        let line = Some(line_of(&text, key.span().start));
        match (name, value.get_ref().as_str()) {
            ("keymap", Some(v)) => choice = Some(v.to_string()),
            ("keymap", None) => problems.push(Problem::new(
                &source,
                line,
                "keymap must be a quoted string: \"default\", \"vim\" or a file path".into(),
            )),
            (other, _) => problems.push(Problem::new(
                &source,
                line,
                format!("unknown setting '{other}'; config.toml knows: keymap"),
            )),
        }
    }
    if problems.is_empty() {
        (choice, problems)
    } else {
        (None, problems)
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

/// The config file, `config.toml` in the config directory.
pub fn config_file() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::Lookup;

    #[test]
    fn problems_are_named_with_file_line_and_key() {
        let text = "[users]\n\"a\" = \"user.fly\"\n\"ctrl-\" = \"user.add\"\n\"q\" = \"user.add\"\n[nope]\n\"x\" = \"app.quit\"\n";
        let problems = Keymap::check_text("mine.toml", text);
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let has = |needle: &str| all.iter().any(|p| p.starts_with(needle));
        assert!(
            has("mine.toml:2: [users] \"a\" = \"user.fly\": unknown action"),
            "{all:#?}"
        );
        assert!(has("mine.toml:3: [users] 'ctrl-' names no key"), "{all:#?}");
        // The conflict is on the user's line, not the default keymap's.
        assert!(
            has("mine.toml:4: key q is bound to user.add in [users] and to app.quit in [global]"),
            "{all:#?}"
        );
        assert!(has("mine.toml:5: unknown section [nope]"), "{all:#?}");
        assert_eq!(problems.len(), 4, "{all:#?}");

        // Keys of questions and inputs: a printable key in [input] types instead, and one that
        // takes a global key from a question is reported like a tab's.
        let problems = Keymap::check_text(
            "keys.toml",
            "[input]\n\"x\" = \"input.cancel\"\n[confirm]\n\"q\" = \"confirm.no\"\n",
        );
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{all:#?}");
        assert!(
            all[0].starts_with("keys.toml:2: key x in [input] types into the filter or palette"),
            "{all:#?}"
        );
        assert!(
            all[1].starts_with(
                "keys.toml:4: key q is bound to confirm.no in [confirm] and to app.quit in [global]"
            ),
            "{all:#?}"
        );
        assert_eq!(
            Keymap::check_text("ok.toml", "[confirm]\n\"j\" = \"confirm.yes\"\n"),
            vec![]
        );

        let bad = Keymap::check_text("bad.toml", "[users]\n\"a\" = \"user.add\"\n\"b\" = \n");
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(bad[0].line, Some(3), "{bad:?}");
        assert!(bad[0].message.starts_with("not valid TOML: "), "{bad:?}");
        assert!(!bad[0].message.contains('\n'), "one line: {bad:?}");
        let wrong_type = Keymap::check_text("t.toml", "[users]\n\"a\" = 5\n");
        assert_eq!(
            wrong_type[0].to_string(),
            "t.toml:2: [users] \"a\": the action must be a string"
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

    #[test]
    fn a_file_with_problems_is_left_out_whole_and_the_rest_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("keymap.toml");
        std::fs::write(
            &user,
            "[users]\n\"n\" = \"user.add\"\n\"k\" = \"user.fly\"\n",
        )
        .unwrap();
        let built = build(Some("vim"), Some(&user));
        assert_eq!(built.keymap.name, "vim", "the chosen built-in keymap");
        let n = Chord::parse("n").unwrap();
        assert_eq!(
            built.keymap.lookup(Section::Users, &[n]),
            Lookup::None,
            "not half applied"
        );
        assert_eq!(
            built
                .keymap
                .lookup(Section::List, &[Chord::parse("j").unwrap()]),
            Lookup::Action(Action::Down)
        );
        assert_eq!(built.left_out, [user.display().to_string()]);
        assert_eq!(built.problems.len(), 1);
        assert_eq!(built.problems[0].line, Some(3));
        let warning = built.warning().expect("a warning");
        assert!(warning.contains("keymap.toml:3:"), "{warning}");
        assert!(
            warning.starts_with(&format!("{}:3:", user.display())),
            "{warning}"
        );
        assert!(warning.contains("started with the vim keymap"), "{warning}");
        assert!(!warning.contains("--keymap default"), "{warning}");
        assert!(Keymap::load(Some("vim"), Some(&user)).is_err());

        // A keymap file with problems leaves the default; a good override file still applies.
        let mine = dir.path().join("mine.toml");
        std::fs::write(&mine, "[list]\n\"j\" = \"list.jump\"\n").unwrap();
        std::fs::write(&user, "[users]\n\"n\" = \"user.add\"\n").unwrap();
        let built = build(Some(&mine.display().to_string()), Some(&user));
        assert_eq!(built.keymap.name, "default");
        assert_eq!(
            built.keymap.lookup(Section::Users, &[n]),
            Lookup::Action(Action::UserAdd)
        );
        assert_eq!(built.left_out, [mine.display().to_string()]);
        // A missing keymap file is named too.
        let built = build(Some("/nonexistent/keys.toml"), None);
        assert!(
            built.problems[0]
                .to_string()
                .starts_with("/nonexistent/keys.toml: cannot read"),
            "{:?}",
            built.problems
        );
    }

    #[test]
    fn the_config_file_is_checked_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let check = |text: &str| {
            std::fs::write(&path, text).unwrap();
            let (choice, problems) = read_config(&path);
            (
                choice,
                problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            )
        };
        assert_eq!(check("keymap = \"vim\"\n"), (Some("vim".into()), vec![]));
        assert_eq!(check("# nothing\n"), (None, vec![]));
        let source = path.display().to_string();
        let (choice, problems) = check("# mine\nkeymap = vim\n");
        assert_eq!(choice, None);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with(&format!("{source}:2: not valid TOML")),
            "{problems:?}"
        );
        let (choice, problems) = check("keymap = \"vim\"\ntheme = \"dark\"\n");
        assert_eq!(choice, None, "a file with problems chooses nothing");
        assert_eq!(
            problems,
            [format!(
                "{source}:2: unknown setting 'theme'; config.toml knows: keymap"
            )]
        );
        let (_, problems) = check("keymap = 1\n");
        assert!(problems[0].starts_with(&format!("{source}:1: keymap must be")));
    }
}
