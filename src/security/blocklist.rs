//! The common-password blocklist shipped with staffctl (`data/common-passwords.txt`, 30,000
//! entries): NIST SP 800-63B asks verifiers to refuse passwords known to be commonly used.

use std::collections::HashSet;
use std::sync::OnceLock;

const LIST: &str = include_str!("../../data/common-passwords.txt");

fn set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        LIST.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Number of passwords on the list.
pub fn len() -> usize {
    set().len()
}

/// Whether `password` (compared case-insensitively) is on the list.
pub fn is_common(password: &str) -> bool {
    set().contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_big_and_matches_case_insensitively() {
        assert!(len() >= 10_000, "{}", len());
        for common in [
            "password",
            "123456",
            "1qaz2wsx3edc4rfv",
            "123456789987654321",
            "QWERTYUIOP",
        ] {
            assert!(is_common(common), "{common}");
        }
        assert!(!is_common("staple battery horse correct lantern"));
    }
}
