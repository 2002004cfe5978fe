//! What a primary record contributes to the derived indexes: login keys, name keys, head-count
//! keys and whether a user is the default doctor. The one definition of each, used both by the
//! writes that keep the indexes up to date inside every transaction and by
//! [`Store::rebuild_indexes`](super::Store::rebuild_indexes), so the two cannot disagree.
//!
//! The role and primary-facility groups are [`member_index::Group::of`](super::member_index::Group::of),
//! and the search text is [`User::search_text`].

use super::meta;
use crate::model::{BillingCategory, User, UserStatus};

/// Key of a login email in `users_by_login`.
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
    meta::count_key("seat", slot)
}

/// The seat counter `u` counts towards: users who are not deactivated, by billing category
/// (`None` seats are not counted).
pub fn seat_of(u: &User) -> Option<Vec<u8>> {
    let slot = match u.billing {
        BillingCategory::Provider => 0,
        BillingCategory::Assistant => 1,
        BillingCategory::Technician => 2,
        BillingCategory::None => return None,
    };
    (u.status != UserStatus::Deactivated).then(|| seat_key(slot))
}

/// Key of a role or facility name in `roles_by_name` / `facilities_by_name`.
pub fn name_key(name: &str) -> Vec<u8> {
    name.trim().to_lowercase().into_bytes()
}

/// One entry a user holds in `users_by_login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginKey<'a> {
    /// The index key.
    pub key: Vec<u8>,
    /// Which field it comes from: `email`, `username` or `npi`.
    pub field: &'static str,
    /// The field's value, as stored in the user.
    pub value: &'a str,
}

/// The keys a user holds in `users_by_login`: their email when they log in with it, their
/// username when they have one (whichever way they log in), and their NPI (unique, not a
/// login).
pub fn login_keys(u: &User) -> Vec<LoginKey<'_>> {
    let mut out = Vec::with_capacity(2);
    if let Some(e) = u.login_email() {
        out.push(LoginKey {
            key: email_key(e),
            field: "email",
            value: e,
        });
    }
    if let Some(name) = &u.username {
        out.push(LoginKey {
            key: username_key(name),
            field: "username",
            value: name,
        });
    }
    if let Some(npi) = &u.provider.npi {
        out.push(LoginKey {
            key: npi_key(npi),
            field: "npi",
            value: npi,
        });
    }
    out
}

/// The `meta` counters a user counts towards: their role's and their primary facility's head
/// counts, and their billable seat's.
pub fn head_count_keys(u: &User) -> Vec<Vec<u8>> {
    let mut keys = vec![
        meta::count_key("role", u.role_id),
        meta::count_key("facility", u.primary_facility),
    ];
    keys.extend(seat_of(u));
    keys
}

/// Whether `meta/default_doctor` names this user: flagged as the default doctor and not
/// deactivated (a deactivated doctor keeps the flag but gives up the place).
pub fn holds_default_doctor(u: &User) -> bool {
    u.provider.default_doctor && u.status != UserStatus::Deactivated
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LoginMethod;

    #[test]
    fn login_keys_follow_the_login_method_and_the_username() {
        let mut u = crate::model::tests::sample_user();
        u.email = " Ann@X.example".into();
        u.username = None;
        u.login_method = LoginMethod::Email;
        let keys: Vec<Vec<u8>> = login_keys(&u).into_iter().map(|k| k.key).collect();
        assert_eq!(keys, [b"e:ann@x.example".to_vec()]);

        u.username = Some("ann".into());
        let fields: Vec<&str> = login_keys(&u).iter().map(|k| k.field).collect();
        assert_eq!(fields, ["email", "username"]);

        // Logging in by username: the email is contact information only.
        u.login_method = LoginMethod::Username;
        let keys = login_keys(&u);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].key, b"u:ann".to_vec());
        assert_eq!(keys[0].value, "ann");
    }

    #[test]
    fn a_deactivated_default_doctor_gives_up_the_place() {
        let mut u = crate::model::tests::sample_user();
        u.provider.default_doctor = true;
        assert!(holds_default_doctor(&u));
        u.status = UserStatus::Deactivated;
        assert!(!holds_default_doctor(&u));
        u.status = UserStatus::Invited;
        u.provider.default_doctor = false;
        assert!(!holds_default_doctor(&u));
    }

    #[test]
    fn name_keys_ignore_case_and_surrounding_space() {
        assert_eq!(name_key("  Front Desk "), b"front desk".to_vec());
        assert_eq!(username_key("Bo "), b"u:bo".to_vec());
    }
}
