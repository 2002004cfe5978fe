//! Pure field validators. Each returns a message that says what is wrong and what is expected.

/// Longest email address accepted (RFC 5321 path limit).
const MAX_EMAIL_LEN: usize = 254;

/// Checks an email address: one `@`, a non-empty local part without spaces, and a domain made of
/// dot-separated labels of letters, digits and hyphens. Not a full RFC 5322 parser (nobody types
/// quoted local parts), but it refuses what clinics mistype: spaces, missing `@`, `a@b`, `a@.b`.
pub fn email(value: &str) -> Result<(), String> {
    let hint = "expected an address like name@clinic.example";
    if value.is_empty() {
        return Err(format!("email is required; {hint}"));
    }
    if value.chars().count() > MAX_EMAIL_LEN {
        return Err(format!("email is longer than {MAX_EMAIL_LEN} characters"));
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return Err(format!("'{value}' has no @; {hint}"));
    };
    if local.is_empty() || local.len() > 64 {
        return Err(format!(
            "the part before @ must be 1 to 64 characters; {hint}"
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() || crate::security::sanitize::is_invisible_or_bidi(c))
    {
        return Err(format!(
            "email contains an invisible or control character (such as a zero-width space or a direction mark); type it again without copying it; {hint}"
        ));
    }
    let local_ok = local.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || "!#$%&'*+/=?^_`{|}~.-".contains(c)
            || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
    });
    if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(format!("'{local}' is not a valid mailbox name; {hint}"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(format!(
            "domain '{domain}' needs a dot (e.g. clinic.example); {hint}"
        ));
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-');
        if !ok {
            return Err(format!("domain '{domain}' is not valid; {hint}"));
        }
    }
    Ok(())
}

/// Checks a US National Provider Identifier: 10 digits whose last digit is the Luhn check digit
/// computed over the card-issuer prefix 80840 followed by the first nine digits.
pub fn npi(value: &str) -> Result<(), String> {
    if value.len() != 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("NPI '{value}' must be exactly 10 digits"));
    }
    let digits: Vec<u32> = value.bytes().map(|b| u32::from(b - b'0')).collect();
    let expected = npi_check_digit(&digits[..9]);
    if digits[9] != expected {
        return Err(format!(
            "NPI '{value}' fails its check digit (expected last digit {expected}); check for a typo"
        ));
    }
    Ok(())
}

/// Completes nine base digits into a valid NPI by appending the check digit (sample data).
pub fn complete_npi(base9: u32) -> String {
    let base = format!("{:09}", base9 % 1_000_000_000);
    let digits: Vec<u32> = base.bytes().map(|b| u32::from(b - b'0')).collect();
    format!("{base}{}", npi_check_digit(&digits))
}

/// The Luhn check digit for the nine NPI base digits, with the 80840 prefix.
fn npi_check_digit(base: &[u32]) -> u32 {
    let prefixed = [8, 0, 8, 4, 0].iter().chain(base.iter());
    // Luhn: from the rightmost payload digit, double every other digit.
    let payload: Vec<u32> = prefixed.copied().collect();
    let mut sum = 0;
    for (i, d) in payload.iter().rev().enumerate() {
        if i % 2 == 0 {
            let doubled = d * 2;
            sum += if doubled > 9 { doubled - 9 } else { doubled };
        } else {
            sum += d;
        }
    }
    (10 - sum % 10) % 10
}

/// Checks a Health Care Provider Taxonomy code: three digits, six digits or capital letters, then
/// `X` (for example `207Q00000X`).
pub fn taxonomy(value: &str) -> Result<(), String> {
    let b = value.as_bytes();
    let shaped = b.len() == 10
        && b[..3].iter().all(u8::is_ascii_digit)
        && b[3..9]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && b[9] == b'X';
    if shaped {
        Ok(())
    } else {
        Err(format!(
            "taxonomy code '{value}' must be 10 characters: 3 digits, 6 digits or capital letters, then X (e.g. 207Q00000X)"
        ))
    }
}

/// Checks a screen-pop extension: digits, or `*` for all extensions.
pub fn extension(value: &str) -> Result<(), String> {
    let ok = value == "*"
        || (!value.is_empty() && value.len() <= 16 && value.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "extension '{value}' must be digits (e.g. 204) or * for all extensions"
        ))
    }
}

/// Checks the daily outcome score threshold (1 to 5).
pub fn dos_threshold(value: u8) -> Result<(), String> {
    if (1..=5).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "daily outcome score threshold must be 1 to 5, not {value}"
        ))
    }
}

/// Scheduling steps a calendar offers, in minutes.
pub const SCHEDULING_STEPS: [u16; 6] = [5, 10, 15, 20, 30, 60];

/// Checks a scheduling step in minutes.
pub fn scheduling_step(value: u16) -> Result<(), String> {
    if SCHEDULING_STEPS.contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "scheduling step must be one of 5, 10, 15, 20, 30 or 60 minutes, not {value}"
        ))
    }
}

/// Checks a provider's capacity (concurrent appointments).
pub fn capacity(value: u32) -> Result<(), String> {
    if value >= 1 {
        Ok(())
    } else {
        Err("capacity must be at least 1 appointment at a time".to_string())
    }
}

/// Checks a username: 2 to 32 characters of lowercase letters, digits, `.`, `_` or `-`,
/// starting with a letter or digit. No `@`, so a username is never mistaken for an email.
/// At least one character is not a digit, so a username never reads as a user id (`12`).
pub fn username(value: &str) -> Result<(), String> {
    let ok = (2..=32).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && value.as_bytes()[0].is_ascii_alphanumeric();
    if !ok {
        return Err(format!(
            "username '{}' must be 2-32 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
            crate::security::sanitize::for_terminal(value)
        ));
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "username '{value}' is only digits and would read as user id #{}; add a letter (e.g. u{value})",
            value.trim_start_matches('0')
        ));
    }
    Ok(())
}

/// Checks a display name (person, role or facility): non-empty after trimming, at most `max`
/// characters, and free of control characters.
pub fn name(label: &str, value: &str, max: usize) -> Result<(), String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(format!("{label} is required"));
    }
    if trimmed.chars().count() > max {
        return Err(format!("{label} must be at most {max} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!("{label} must not contain control characters"));
    }
    Ok(())
}

/// Checks free text (bio, reason, address): at most `max` characters; newlines and tabs are
/// allowed, other control characters are not.
pub fn free_text(label: &str, value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!("{label} must be at most {max} characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(format!("{label} must not contain control characters"));
    }
    Ok(())
}

/// Checks the shape of an IANA time zone name (`America/Chicago`, `UTC`); whether the zone
/// exists is for the time zone database to say.
pub fn time_zone(value: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "time zone '{}' is not a zone name; expected one like America/Chicago or Europe/London",
            crate::security::sanitize::for_terminal(value)
        ))
    }
}

/// Checks a phone number: digits, spaces and `+()-.`, with 7 to 15 digits.
pub fn phone(value: &str) -> Result<(), String> {
    let digits = value.bytes().filter(u8::is_ascii_digit).count();
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_digit() || b" +()-.x".contains(&b))
        && (7..=15).contains(&digits);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "phone '{value}' must have 7 to 15 digits (spaces, +, (, ), - and . allowed)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_documented_example_passes() {
        assert!(npi("1234567893").is_ok());
    }

    #[test]
    fn npi_with_wrong_check_digit_fails() {
        let err = npi("1234567890").unwrap_err();
        assert!(err.contains("expected last digit 3"), "{err}");
    }

    #[test]
    fn npi_real_world_numbers() {
        // NPIs as they appear in the NPPES registry and CMS examples.
        for ok in ["1245319599", "1003000126", "1558362566"] {
            assert!(npi(ok).is_ok(), "{ok} should pass");
        }
        // One digit changed, or two adjacent digits swapped.
        for bad in ["1245319598", "1003000162", "1558362565", "1922083659"] {
            assert!(npi(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn completed_npis_validate() {
        assert_eq!(complete_npi(123_456_789), "1234567893");
        for base in [100_000_000, 123_000_001, 999_999_999] {
            assert!(npi(&complete_npi(base)).is_ok());
        }
    }

    #[test]
    fn npi_shape_errors() {
        for bad in [
            "",
            "123456789",
            "12345678931",
            "12345678a3",
            " 1234567893",
            "１２３４５６７８９３",
        ] {
            assert!(npi(bad).unwrap_err().contains("10 digits"), "{bad}");
        }
    }

    #[test]
    fn taxonomy_codes() {
        for ok in ["207Q00000X", "225100000X", "363LF0000X", "261QP2000X"] {
            assert!(taxonomy(ok).is_ok(), "{ok}");
        }
        for bad in [
            "207q00000X",
            "207Q00000",
            "207Q00000Y",
            "20AQ00000X",
            "207Q000000X",
            "",
        ] {
            assert!(taxonomy(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "alice.smith+ot@clinic.example",
            "o'neil@x-ray.health",
        ] {
            assert!(email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "alice",
            "alice@",
            "@clinic.example",
            "a b@c.de",
            "a@b",
            "a@.b",
            "a@b..c",
            "a@-b.c",
            ".a@b.c",
            "a..b@c.de",
            "a@b.c\n",
            "ni\u{200b}na@clinic.example",
            "nina@clinic\u{202e}.example",
            "ni\u{7}na@clinic.example",
        ] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn extensions() {
        assert!(extension("*").is_ok());
        assert!(extension("204").is_ok());
        for bad in ["", "**", "20a", "-1", "2 4"] {
            assert!(extension(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn number_ranges() {
        assert!(dos_threshold(0).is_err());
        assert!((1..=5).all(|v| dos_threshold(v).is_ok()));
        assert!(dos_threshold(6).is_err());
        for s in SCHEDULING_STEPS {
            assert!(scheduling_step(s).is_ok());
        }
        for s in [0, 1, 7, 25, 45, 90] {
            assert!(scheduling_step(s).is_err(), "{s}");
        }
        assert!(capacity(0).is_err());
        assert!(capacity(1).is_ok());
    }

    #[test]
    fn usernames() {
        for ok in ["al", "alice.smith", "dr_jones-2", "9lives"] {
            assert!(username(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "Alice", "alice@x", ".alice", "a b", &"x".repeat(33)] {
            assert!(username(bad).is_err(), "{bad}");
        }
        let digits = username("01").unwrap_err();
        assert!(digits.contains("user id #1"), "{digits}");
        assert!(username("0123").is_err());
        assert!(username("u01").is_ok());
    }

    #[test]
    fn names_and_text() {
        assert!(name("first name", "  ", 10).is_err());
        assert!(name("first name", "Zoë", 10).is_ok());
        assert!(name("first name", "a\u{1b}[2J", 10).is_err());
        assert!(name("first name", "abcdefghijk", 10).is_err());
        // Joiners are part of how some scripts are written: names keep them (screens and
        // exports neutralise what could disguise text), identifiers do not.
        assert!(name("first name", "\u{645}\u{200c}\u{647}", 10).is_ok());
        assert!(free_text("bio", "line one\nline two", 100).is_ok());
        assert!(free_text("bio", "bell\u{7}", 100).is_err());
        assert!(phone("+1 (555) 010-2000").is_ok());
        assert!(phone("call me").is_err());
    }
}
