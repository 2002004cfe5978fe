//! One-time invitation codes: 150 random bits in Crockford base32 (no I, L, O or U, so nothing
//! is misread aloud or on paper), in groups of five.

use crate::error::{Error, Result};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code (30 x 5 bits = 150 bits, six groups of five).
const LENGTH: usize = 30;

/// A fresh code, e.g. `7K2QM-9XH4T-...`.
pub fn generate() -> Result<String> {
    let mut bytes = [0u8; LENGTH];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for an invitation code: {e}")))?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    Ok(chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// The canonical form of a typed code: case-insensitive, hyphens and spaces ignored, and the
/// look-alikes O/I/L read as 0/1/1, as Crockford base32 prescribes.
pub fn normalise(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_long_unambiguous_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(normalise(&a).len(), LENGTH);
        assert!(normalise(&a).bytes().all(|c| ALPHABET.contains(&c)));
        assert_eq!(a.split('-').count(), 6);
        assert_eq!(normalise("7k2qm-9xh4t"), normalise("7K2QM 9XH4T"));
        assert_eq!(normalise("oil"), "011");
    }
}
