//! Reading passwords: from `STAFFCTL_PASSWORD` (scripts) or a no-echo prompt on the terminal.

use crate::error::{Error, Result};

/// Environment variable holding the operator's (or new) password for scripts.
pub const PASSWORD_ENV: &str = "STAFFCTL_PASSWORD";

/// The operator's password: from the environment, else prompted once.
pub fn password(prompt: &str) -> Result<String> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(p);
    }
    rpassword::prompt_password(prompt).map_err(|e| {
        Error::Denied(format!(
            "cannot read a password ({e}); set {PASSWORD_ENV} or run staffctl in a terminal"
        ))
    })
}

/// A new password: from `env` if set, else prompted twice until both entries match.
pub fn new_password(env: &str, what: &str) -> Result<String> {
    if let Ok(p) = std::env::var(env) {
        return Ok(p);
    }
    for _ in 0..3 {
        let first =
            rpassword::prompt_password(format!("New password for {what}: ")).map_err(|e| {
                Error::invalid(
                    "password",
                    format!("cannot read a password ({e}); set {env} or run in a terminal"),
                )
            })?;
        let second = rpassword::prompt_password("Repeat it: ")
            .map_err(|e| Error::invalid("password", format!("cannot read a password: {e}")))?;
        if first == second {
            return Ok(first);
        }
        eprintln!("The two entries differ; try again.");
    }
    Err(Error::invalid(
        "password",
        "the two entries differed three times; nothing was changed",
    ))
}

/// One line typed at the terminal (echoed).
pub fn line(prompt: &str) -> Result<String> {
    use std::io::Write;
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut s = String::new();
    std::io::stdin()
        .read_line(&mut s)
        .map_err(|e| Error::invalid("input", format!("cannot read from the terminal: {e}")))?;
    Ok(s.trim_end_matches(['\n', '\r']).to_string())
}

/// One line typed at the terminal without echo.
pub fn secret_line(prompt: &str) -> Result<String> {
    rpassword::prompt_password(prompt).map_err(|e| {
        Error::invalid(
            "input",
            format!("cannot read from the terminal ({e}); set STAFFCTL_INVITE_CODE"),
        )
    })
}
