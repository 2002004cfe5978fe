//! What to do when the store is held by another process and no server answers for it. The
//! store's lock says which process holds it; this adds, for whoever could not get in, what that
//! process is (an interface, `staffctl serve`, another command) and how to get past it.

use std::path::Path;

use crate::security::sanitize::for_terminal;
use crate::store::lock::LOCK_FILE;

/// The advice the owner lock ends its message with; replaced by a more precise one here.
const LOCK_ADVICE: &str = "; close that staffctl or wait for it to finish";

/// Global options of the command line that take a value (`--data DIR`): what follows them is
/// not the command.
const VALUED_OPTIONS: &[&str] = &["--data", "--as", "--output", "--socket", "--keymap"];

/// What the process holding the store is, as far as can be told from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Holder {
    /// A staffctl interface (no command): one that serves would have answered, so this one
    /// cannot (or is a release that never did).
    Interface,
    /// `staffctl serve`, listening on its `--socket` (when given on its command line).
    Server {
        /// The socket named on its command line.
        socket: Option<String>,
    },
    /// Another staffctl command, which lets go when it finishes.
    Command(String),
    /// Not known (not staffctl, or its command line cannot be read).
    Unknown,
}

impl Holder {
    /// The holder `pid`, from `/proc` (Linux): its program name and command line.
    fn of(pid: u32) -> Self {
        let proc_dir = Path::new("/proc").join(pid.to_string());
        let is_staffctl = std::fs::read_to_string(proc_dir.join("comm"))
            .is_ok_and(|comm| comm.trim_end() == "staffctl");
        if !is_staffctl {
            return Self::Unknown;
        }
        match std::fs::read(proc_dir.join("cmdline")) {
            Ok(raw) => {
                let args: Vec<String> = raw
                    .split(|b| *b == 0)
                    .filter(|a| !a.is_empty())
                    .skip(1)
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                Self::from_args(&args)
            }
            Err(_) => Self::Unknown,
        }
    }

    /// Classifies a staffctl command line (without the program name): its command is the first
    /// word that is neither an option nor an option's value.
    pub(super) fn from_args(args: &[String]) -> Self {
        let mut command = None;
        let mut socket = None;
        let mut words = args.iter();
        while let Some(word) = words.next() {
            if word == "--" {
                break;
            }
            if let Some((name, value)) = word.split_once('=')
                && name.starts_with("--")
            {
                if name == "--socket" {
                    socket = Some(value.to_string());
                }
                continue;
            }
            if VALUED_OPTIONS.contains(&word.as_str()) {
                let value = words.next();
                if word == "--socket" {
                    socket = value.cloned();
                }
                continue;
            }
            if word.starts_with('-') {
                continue;
            }
            if command.is_none() {
                command = Some(word.clone());
            }
        }
        match command.as_deref() {
            None => Self::Interface,
            Some("serve") => Self::Server { socket },
            Some(other) => Self::Command(other.to_string()),
        }
    }
}

/// The pid written into the store's lock file by its holder.
fn holder_pid(data_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(data_dir.join(LOCK_FILE)).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("pid="))
        .and_then(|p| p.trim().parse().ok())
}

/// `message` (the owner lock's "store ... is in use by pid N ...") with what to do about it.
/// `direct`: the caller asked for the store itself (`--direct`); `serving`: a server answers
/// for this store on that socket (so `--direct` is all that is in the way).
pub(super) fn advise(
    data_dir: &Path,
    message: &str,
    direct: bool,
    serving: Option<&Path>,
) -> String {
    let pid = holder_pid(data_dir);
    let holder = pid.map_or(Holder::Unknown, Holder::of);
    explain(data_dir, message, pid, &holder, direct, serving)
}

/// [`advise`] once the holder is known.
pub(super) fn explain(
    data_dir: &Path,
    message: &str,
    pid: Option<u32>,
    holder: &Holder,
    direct: bool,
    serving: Option<&Path>,
) -> String {
    let base = message.strip_suffix(LOCK_ADVICE).unwrap_or(message);
    let pid = pid.map_or_else(|| "?".to_string(), |p| p.to_string());
    if let Some(socket) = serving {
        return format!(
            "{base}, which serves other staffctl processes on {}: leave out --direct to use it",
            socket.display()
        );
    }
    let serve_first = "`systemctl start staffctl` (or `staffctl serve`)";
    match holder {
        Holder::Interface => format!(
            "{base}: a staffctl interface that does not serve other staffctl processes ({} says why); close the staffctl interface of pid {pid}, then start the server ({serve_first}) before opening it again, so that interfaces and commands share the store",
            data_dir.join(super::beside::LOG_NAME).display()
        ),
        Holder::Server { socket } => {
            let socket = socket
                .as_deref()
                .map(|s| for_terminal(s).into_owned())
                .filter(|s| !s.is_empty());
            let fix = match (socket, direct) {
                (Some(s), true) => format!("use it with `--socket {s}` instead of --direct"),
                (Some(s), false) => format!("use it with `--socket {s}`"),
                (None, true) => "use it with --socket PATH instead of --direct".to_string(),
                (None, false) => {
                    "use it with --socket PATH (the socket it was started with)".to_string()
                }
            };
            format!(
                "{base}: `staffctl serve`, listening on a socket this staffctl did not try; {fix}"
            )
        }
        Holder::Command(name) => format!(
            "{base}: `staffctl {}`, which has the store until it finishes; wait for it, or keep the server running ({serve_first}) so that commands share the store",
            for_terminal(name)
        ),
        Holder::Unknown => format!(
            "{base}. If that is a staffctl interface, close it; if it is a command, wait for it to finish. To let interfaces and commands share the store, keep the server running: {serve_first}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn a_command_line_is_an_interface_a_server_or_a_command() {
        assert_eq!(Holder::from_args(&[]), Holder::Interface);
        assert_eq!(
            Holder::from_args(&args("--data /srv/user --keymap vim --direct")),
            Holder::Interface,
            "option values are not commands"
        );
        assert_eq!(
            Holder::from_args(&args("--data=/srv/serve --as=serve")),
            Holder::Interface
        );
        assert_eq!(
            Holder::from_args(&args("--data /srv serve --socket /run/x.sock")),
            Holder::Server {
                socket: Some("/run/x.sock".into())
            }
        );
        assert_eq!(
            Holder::from_args(&args("serve --socket=/tmp/s")),
            Holder::Server {
                socket: Some("/tmp/s".into())
            }
        );
        assert_eq!(
            Holder::from_args(&args("serve")),
            Holder::Server { socket: None }
        );
        assert_eq!(
            Holder::from_args(&args("--output json audit export -o x.csv")),
            Holder::Command("audit".into())
        );
        assert_eq!(
            Holder::from_args(&args("-- serve")),
            Holder::Interface,
            "nothing after -- is read"
        );
    }

    #[test]
    fn the_options_skipped_with_their_values_are_exactly_the_global_ones_that_take_one() {
        use clap::CommandFactory as _;
        let cli = crate::cli::args::Cli::command();
        let mut valued: Vec<String> = cli
            .get_arguments()
            .filter(|a| a.is_global_set() && a.get_action().takes_values())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        valued.sort();
        let mut known: Vec<String> = VALUED_OPTIONS.iter().map(|s| s.to_string()).collect();
        known.sort();
        assert_eq!(valued, known);
    }

    const LOCKED: &str = "store /srv/data is in use by pid 42 (user ira, since 2026-01-01 09:00:00 UTC); close that staffctl or wait for it to finish";

    fn said(holder: &Holder, direct: bool, serving: Option<&Path>) -> String {
        explain(
            Path::new("/srv/data"),
            LOCKED,
            Some(42),
            holder,
            direct,
            serving,
        )
    }

    #[test]
    fn an_interface_that_does_not_serve_is_named_with_how_to_work_beside_it() {
        let text = said(&Holder::Interface, false, None);
        assert!(
            text.starts_with("store /srv/data is in use by pid 42 (user ira, since"),
            "{text}"
        );
        for part in [
            "close the staffctl interface of pid 42",
            "`systemctl start staffctl`",
            "`staffctl serve`",
            "/srv/data/serve.log",
        ] {
            assert!(text.contains(part), "{part:?} in {text}");
        }
        assert!(!text.contains("close that staffctl or wait"), "{text}");
    }

    #[test]
    fn direct_beside_a_server_is_told_to_leave_out_direct() {
        let text = said(
            &Holder::Interface,
            true,
            Some(Path::new("/srv/data/s.sock")),
        );
        assert!(
            text.ends_with(
                "serves other staffctl processes on /srv/data/s.sock: leave out --direct to use it"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_server_elsewhere_is_named_with_its_socket() {
        let server = Holder::Server {
            socket: Some("/tmp/other.sock\u{1b}[2J".into()),
        };
        let text = said(&server, false, None);
        assert!(
            text.contains("use it with `--socket /tmp/other.sock`"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text:?}");
        let text = said(&Holder::Server { socket: None }, true, None);
        assert!(text.contains("--socket PATH instead of --direct"), "{text}");
    }

    #[test]
    fn a_command_is_waited_for_and_an_unknown_holder_gets_every_way_out() {
        let text = said(&Holder::Command("audit".into()), false, None);
        assert!(
            text.contains("`staffctl audit`, which has the store until it finishes"),
            "{text}"
        );
        let text = said(&Holder::Unknown, false, None);
        assert!(
            text.contains("If that is a staffctl interface, close it"),
            "{text}"
        );
        assert!(text.contains("`systemctl start staffctl`"), "{text}");
    }

    #[test]
    fn a_message_worded_otherwise_is_kept_whole() {
        let text = explain(
            Path::new("/srv/data"),
            "store busy",
            None,
            &Holder::Interface,
            false,
            None,
        );
        assert!(
            text.starts_with("store busy: a staffctl interface"),
            "{text}"
        );
        assert!(text.contains("pid ?"), "{text}");
    }

    #[test]
    fn the_holder_is_read_from_the_lock_file_and_proc() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(holder_pid(dir.path()), None);
        std::fs::write(
            dir.path().join(LOCK_FILE),
            format!("pid={}\nuser=x\n", std::process::id()),
        )
        .unwrap();
        assert_eq!(holder_pid(dir.path()), Some(std::process::id()));
        // This test binary is not staffctl: nothing is guessed about it.
        assert_eq!(Holder::of(std::process::id()), Holder::Unknown);
    }
}
