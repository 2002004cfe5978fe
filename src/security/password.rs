//! Argon2id password hashing with OWASP parameters, and the password policy (NIST SP 800-63B).

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

/// Memory cost in KiB (OWASP: 19 MiB).
pub const M_COST_KIB: u32 = 19_456;
/// Iterations.
pub const T_COST: u32 = 2;
/// Parallelism.
pub const P_COST: u32 = 1;
/// Longest password accepted, in code points (NIST: at least 64 must be allowed).
pub const MAX_LENGTH: usize = 128;

fn hasher(m_cost_kib: u32, t_cost: u32) -> Result<Argon2<'static>> {
    let params = Params::new(m_cost_kib, t_cost, P_COST, None)
        .map_err(|e| Error::Internal(format!("argon2 parameters rejected: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string with a fresh random salt (OWASP parameters).
pub fn hash(secret: &str) -> Result<String> {
    let h = hasher(M_COST_KIB, T_COST)?
        .hash_password(secret.as_bytes())
        .map_err(|e| Error::Internal(format!("could not hash the password: {e}")))?;
    Ok(h.to_string())
}

/// Prefix of a one-time code's hash: SHA-256 in hex. A code carries 150 random bits, so it
/// cannot be guessed however fast the hash is (the way API tokens are stored); a memory-hard
/// hash would only make issuing 10,000 invitations take seconds instead of milliseconds.
const CODE_HASH_PREFIX: &str = "sha256:";

/// Hashes a one-time code (normalised by `security::code`) for storage.
pub fn hash_code(code: &str) -> String {
    use sha2::Digest;
    format!(
        "{CODE_HASH_PREFIX}{}",
        hex::encode(sha2::Sha256::digest(code.as_bytes()))
    )
}

/// Whether `code` matches a stored code hash: SHA-256 (today), or argon2id (codes issued by
/// releases before it), compared in constant time.
pub fn verify_code(stored: &str, code: &str) -> bool {
    match stored.strip_prefix(CODE_HASH_PREFIX) {
        Some(_) => {
            let fresh = hash_code(code);
            fresh.len() == stored.len()
                && fresh
                    .bytes()
                    .zip(stored.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        }
        None => verify(stored, code),
    }
}

/// Whether `secret` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify(stored: &str, secret: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default()
        .verify_password(secret.as_bytes(), &parsed)
        .is_ok()
}

/// Whether a stored hash uses weaker parameters than the current policy.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm.as_str() != "argon2id"
        || params.m_cost() < M_COST_KIB
        || params.t_cost() < T_COST
}

/// Checks a new password against the policy; the message is shown beside the password field.
pub fn check_policy(
    password: &str,
    min_length: u32,
    username: Option<&str>,
    email: &str,
) -> Result<()> {
    let len = password.chars().count();
    let min = usize::try_from(min_length.max(8)).unwrap_or(8);
    if len < min {
        return Err(Error::invalid(
            "password",
            format!(
                "password must be at least {min} characters (it has {len}); a passphrase of several words is easiest"
            ),
        ));
    }
    if len > MAX_LENGTH {
        return Err(Error::invalid(
            "password",
            format!("password must be at most {MAX_LENGTH} characters"),
        ));
    }
    if super::blocklist::is_common(password) {
        return Err(Error::invalid(
            "password",
            "this password is one of the most common ones and is easy to guess; choose another (a few unrelated words work well)",
        ));
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    let mut personal: Vec<String> = vec![email.to_lowercase()];
    if local.chars().count() >= 3 {
        personal.push(local);
    }
    if let Some(u) = username.filter(|u| u.chars().count() >= 3) {
        personal.push(u.to_lowercase());
    }
    if personal.iter().any(|p| lower.contains(p.as_str())) {
        return Err(Error::invalid(
            "password",
            "password must not contain the username or email",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify_round_trip() {
        let h = hash("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "correct horse battery staple"));
        assert!(!verify(&h, "correct horse battery stapler"));
        assert!(!verify("not a hash", "x"));
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn codes_hash_with_sha256_and_older_argon2_hashes_still_verify() {
        let h = hash_code("7K2QM9XH4T");
        assert_eq!(h.len(), "sha256:".len() + 64);
        assert!(verify_code(&h, "7K2QM9XH4T"));
        assert!(!verify_code(&h, "7K2QM9XH4V"));
        assert!(!verify_code("sha256:00", "7K2QM9XH4T"));
        // What releases before SHA-256 stored: argon2id at m=1024, t=1.
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"7K2QM9XH4T")
        .unwrap()
        .to_string();
        assert!(verify_code(&old, "7K2QM9XH4T"));
        assert!(!verify_code(&old, "7K2QM9XH4V"));
    }

    #[test]
    fn weaker_hash_needs_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw")
        .unwrap()
        .to_string();
        assert!(needs_rehash(&weak));
        assert!(verify(&weak, "pw"));
    }

    #[test]
    fn policy() {
        assert!(check_policy("short", 15, None, "a@b.co").is_err());
        assert!(check_policy("fifteen chars!!", 15, None, "a@b.co").is_ok());
        // Code points, not bytes: 15 accented letters pass, 14 fail.
        assert!(check_policy(&"é".repeat(15), 15, None, "a@b.co").is_ok());
        assert!(check_policy(&"é".repeat(14), 15, None, "a@b.co").is_err());
        assert!(check_policy(&"x".repeat(129), 15, None, "a@b.co").is_err());
        assert!(check_policy(&"y".repeat(64), 15, None, "a@b.co").is_ok());
        let err = check_policy("my name is alice smith", 15, Some("alice"), "a@b.co").unwrap_err();
        assert!(err.to_string().contains("username"));
        assert!(
            check_policy(
                "xx alice@clinic.example xx",
                15,
                None,
                "alice@clinic.example"
            )
            .is_err()
        );
        // Common passwords are refused whatever their length.
        let err = check_policy("1qaz2wsx3edc4rfv", 15, None, "a@b.co").unwrap_err();
        assert!(err.to_string().contains("most common"), "{err}");
        assert!(check_policy("PASSWORD1", 8, None, "a@b.co").is_err());
        // The minimum never drops below 8.
        assert!(check_policy("1234567", 4, None, "a@b.co").is_err());
    }
}
