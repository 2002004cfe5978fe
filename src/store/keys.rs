//! Keys of the unique-identifier and counter entries that the service writes beside users.

/// Key of a user's login email in `users_by_login`.
pub fn email_key(email: &str) -> Vec<u8> {
    format!("e:{}", email.trim().to_lowercase()).into_bytes()
}

/// Key of a username in `users_by_login`.
pub fn username_key(username: &str) -> Vec<u8> {
    format!("u:{}", username.trim().to_lowercase()).into_bytes()
}

/// Key of an NPI in `users_by_login` (unique, like logins, though nobody logs in with it).
pub fn npi_key(npi: &str) -> Vec<u8> {
    format!("n:{}", npi.trim()).into_bytes()
}

/// Key, in `meta`, of the number of billable-seat holders of one kind: `count:seat:` ++ slot
/// (0 provider, 1 provider assistant, 2 technician).
pub fn seat_key(slot: u64) -> Vec<u8> {
    super::meta::count_key("seat", slot)
}

/// The seat counter `u` counts towards: users who are not deactivated, by billing category
/// (`None` seats are not counted).
pub fn seat_of(u: &crate::model::User) -> Option<Vec<u8>> {
    use crate::model::{BillingCategory, UserStatus};
    let slot = match u.billing {
        BillingCategory::Provider => 0,
        BillingCategory::Assistant => 1,
        BillingCategory::Technician => 2,
        BillingCategory::None => return None,
    };
    (u.status != UserStatus::Deactivated).then(|| seat_key(slot))
}
