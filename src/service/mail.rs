//! Mail through the server's mail command (`sendmail -t` or similar). The command is chosen by
//! the server's owner in a file only they can write (or the service's environment), never by a
//! request: a staffctl administrator is a clinic role, not the server's root, and must not be
//! able to make the account that owns the store run a program of their choice.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

/// The server configuration file that may hold the mail command.
pub const SYSTEM_CONFIG: &str = "/etc/staffctl/config.toml";
/// Environment variable naming another configuration file (set by whoever starts staffctl).
pub const CONFIG_ENV: &str = "STAFFCTL_CONFIG";
/// Environment variable holding the mail command itself (the service's environment).
pub const MAIL_ENV: &str = "STAFFCTL_MAIL_COMMAND";

/// Environment variables a mail command keeps; everything else (passwords given to staffctl in
/// `STAFFCTL_PASSWORD`, tokens, the operator's whole shell) is cleared.
const KEPT_ENV: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ"];

/// The mail command in effect and where it was set, as shown (read-only) to administrators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSetting {
    /// The command, run with `sh -c`; `None` sends no mail.
    pub command: Option<String>,
    /// Where it was set ("/etc/staffctl/config.toml", "environment STAFFCTL_MAIL_COMMAND"), or
    /// where it would be.
    pub source: String,
    /// Why a command found was not used (an unsafe or unreadable file).
    pub problem: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MailSection {
    command: Option<String>,
}

/// The part of the server configuration read here (other sections belong to other readers).
#[derive(Deserialize)]
struct ConfigFile {
    mail: Option<MailSection>,
}

impl MailSetting {
    /// The setting of this process: `STAFFCTL_MAIL_COMMAND`, else `[mail] command` in the
    /// configuration file (`STAFFCTL_CONFIG` or /etc/staffctl/config.toml).
    pub fn from_environment() -> Self {
        if let Ok(cmd) = std::env::var(MAIL_ENV) {
            return Self {
                command: Some(cmd).filter(|c| !c.trim().is_empty()),
                source: format!("environment {MAIL_ENV}"),
                problem: None,
            };
        }
        let path = std::env::var_os(CONFIG_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(SYSTEM_CONFIG));
        Self::from_file(&path)
    }

    /// The setting in `path` (`[mail] command = "..."`), used only when the file is owned by
    /// root or by this process's user and nobody else may write it.
    pub fn from_file(path: &Path) -> Self {
        let source = path.display().to_string();
        let unset = |problem: Option<String>| Self {
            command: None,
            source: source.clone(),
            problem,
        };
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return unset(None),
            Err(e) => return unset(Some(format!("cannot read {source}: {e}"))),
        };
        let euid = nix::unistd::geteuid().as_raw();
        if meta.uid() != 0 && meta.uid() != euid {
            return unset(Some(format!(
                "{source} is owned by uid {}, not by root; its mail command is ignored (chown root {source})",
                meta.uid()
            )));
        }
        if meta.mode() & 0o022 != 0 {
            return unset(Some(format!(
                "{source} can be changed by other accounts (mode {:o}); its mail command is ignored (chmod go-w {source})",
                meta.mode() & 0o777
            )));
        }
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return unset(Some(format!("cannot read {source}: {e}"))),
        };
        match toml::from_str::<ConfigFile>(&text) {
            Ok(cfg) => Self {
                command: cfg
                    .mail
                    .and_then(|m| m.command)
                    .filter(|c| !c.trim().is_empty()),
                source,
                problem: None,
            },
            Err(e) => {
                let line = e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
                let at = line.map(|l| format!(" line {l}")).unwrap_or_default();
                unset(Some(format!(
                    "{source}{at}: {}; no mail is sent until it is fixed",
                    e.message()
                )))
            }
        }
    }
}

/// Builds an RFC 5322 plain-text message from the practice to `to` ((name, address) pairs).
pub fn message(
    practice: &crate::model::Practice,
    to: &[(String, String)],
    subject: &str,
    body: String,
) -> std::result::Result<Vec<u8>, String> {
    use lettre::message::Mailbox;
    use lettre::message::header::ContentType;
    let from: Mailbox = format!("{} <{}>", practice.name, practice.email)
        .parse()
        .or_else(|_| practice.email.parse())
        .map_err(|e| {
            format!(
                "practice email {} is not usable as a sender: {e}",
                practice.email
            )
        })?;
    let mut builder = lettre::Message::builder().from(from).subject(subject);
    for (name, address) in to {
        let mailbox: Mailbox = format!("{name} <{address}>")
            .parse()
            .or_else(|_| address.parse())
            .map_err(|e| format!("{address} is not a usable address: {e}"))?;
        builder = builder.to(mailbox);
    }
    let message = builder
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("cannot build the mail: {e}"))?;
    Ok(message.formatted())
}

/// Hands an RFC 5322 message to `command` on its standard input, with a cleared environment.
pub fn send(command: &str, message: &[u8]) -> std::result::Result<(), String> {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(command)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for key in KEPT_ENV {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
    if std::env::var_os("PATH").is_none() {
        cmd.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run the mail command `{command}`: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(message)
            .map_err(|e| format!("the mail command `{command}` did not take the message: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("the mail command `{command}` failed: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "the mail command `{command}` failed ({}): {}",
            out.status,
            err.trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn config(dir: &Path, text: &str, mode: u32) -> PathBuf {
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn command_is_read_from_a_file_only_its_owner_can_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = config(
            dir.path(),
            "[mail]\ncommand = \"/usr/sbin/sendmail -t\"\n",
            0o644,
        );
        let s = MailSetting::from_file(&path);
        assert_eq!(s.command.as_deref(), Some("/usr/sbin/sendmail -t"));
        assert_eq!(s.problem, None);

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let s = MailSetting::from_file(&path);
        assert_eq!(s.command, None);
        assert!(s.problem.unwrap().contains("chmod go-w"));
    }

    #[test]
    fn a_bad_file_names_the_line_and_a_missing_one_is_no_mail() {
        let dir = tempfile::tempdir().unwrap();
        let path = config(dir.path(), "[mail]\ncommand = \"x\"\ncomand = 1\n", 0o600);
        let s = MailSetting::from_file(&path);
        assert_eq!(s.command, None);
        let problem = s.problem.unwrap();
        assert!(problem.contains("line 3"), "{problem}");
        let missing = MailSetting::from_file(&dir.path().join("none.toml"));
        assert_eq!((missing.command, missing.problem), (None, None));
    }

    #[test]
    fn the_mail_command_sees_no_secrets_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("env.txt");
        // SAFETY: this test is the only reader of these variables; nothing else in the
        // process depends on them.
        unsafe {
            std::env::set_var("STAFFCTL_PASSWORD", "hunter2-very-secret");
            std::env::set_var("SOME_TOKEN", "t0ken");
        }
        send(&format!("env > '{}'", out.display()), b"x").unwrap();
        let env = std::fs::read_to_string(&out).unwrap();
        assert!(!env.contains("hunter2"), "{env}");
        assert!(!env.contains("t0ken"), "{env}");
        assert!(env.contains("PATH="), "{env}");
    }
}
