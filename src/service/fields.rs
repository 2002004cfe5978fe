//! Parsing of field values typed as text (forms and command-line flags).

/// Parses yes/no style booleans.
pub fn parse_bool(field: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "on" | "1" => Ok(true),
        "no" | "n" | "false" | "off" | "0" => Ok(false),
        other => Err(format!("{field} must be yes or no, not '{other}'")),
    }
}

/// Trims a value; empty means "not set".
pub fn opt(value: &str) -> Option<String> {
    let t = value.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Parses a whole number within `lo..=hi`.
pub fn parse_num<T>(field: &str, value: &str) -> Result<T, String>
where
    T: std::str::FromStr,
{
    value
        .trim()
        .parse()
        .map_err(|_| format!("{field} must be a whole number, not '{}'", value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("admin", " Yes "), Ok(true));
        assert_eq!(parse_bool("admin", "off"), Ok(false));
        assert!(
            parse_bool("admin", "maybe")
                .unwrap_err()
                .contains("yes or no")
        );
        assert_eq!(opt("  "), None);
        assert_eq!(
            parse_num::<u32>("capacity", "x").unwrap_err(),
            "capacity must be a whole number, not 'x'"
        );
    }
}
