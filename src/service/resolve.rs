//! Turning what a person typed (`12`, `#12`, `alice`, `alice@clinic.example`, `Downtown`) into a
//! record, with a message that says how to find the right one when nothing matches.

use super::{Person, Service};
use crate::error::{Error, Result};
use crate::model::{Facility, Id, Role, User};
use crate::store::{TreeId, id_key};

/// Parses `12` or `#12` as an id.
pub fn parse_id(reference: &str) -> Option<Id> {
    let t = reference.trim();
    t.strip_prefix('#').unwrap_or(t).parse().ok()
}

pub use crate::store::derived::{email_key, name_key, username_key};

/// The user who logs in as `login`: a username, or an email that is used to log in. Never an
/// id, a contact email or a name (those identify people to administrators, not at login).
pub fn by_login(svc: &Service, login: &str) -> Result<Option<User>> {
    let key = if login.contains('@') {
        email_key(login)
    } else {
        username_key(login)
    };
    match svc.store.get_id(TreeId::UsersByLogin, &key)? {
        Some(id) => svc.store.get(TreeId::Users, &id_key(id)),
        None => Ok(None),
    }
}

/// Finds a user by id, username, login email, contact email or full name.
pub fn user(svc: &Service, reference: &str) -> Result<User> {
    let store = &svc.store;
    let r = reference.trim();
    let not_found = || {
        Error::NotFound(format!(
            "no user '{r}'; give an id, username, email or full name (`staffctl user list --search {r}` helps)"
        ))
    };
    if r.is_empty() {
        return Err(Error::invalid(
            "user",
            "a user is required (id, username, email or name)",
        ));
    }
    if let Some(id) = parse_id(r) {
        // Usernames of digits only were accepted before they needed a letter: `01` could then
        // name both user #1 and the user called "01". Refuse to guess; `#1` is always the id.
        if !r.starts_with('#')
            && let Some(other) = store.get_id(TreeId::UsersByLogin, &username_key(r))?
            && other != id
        {
            return Err(Error::Conflict(format!(
                "'{r}' is the username of user #{other} and also reads as user id #{id}; write #{id} for the id, or give user #{other} a username with a letter"
            )));
        }
        return store.get(TreeId::Users, &id_key(id))?.ok_or_else(not_found);
    }
    let index_key = if r.contains('@') {
        email_key(r)
    } else {
        username_key(r)
    };
    if let Some(id) = store.get_id(TreeId::UsersByLogin, &index_key)? {
        return store.get(TreeId::Users, &id_key(id))?.ok_or_else(not_found);
    }
    // Contact email or full name, accepted only when exactly one user matches. Both are in
    // the search text, so only the users the search index finds are read.
    let wanted = r.to_lowercase();
    let mut matches = Vec::new();
    for id in crate::store::search_index::matching(store, &wanted)? {
        let Ok(Some(u)) = store.get::<User>(TreeId::Users, &id_key(id)) else {
            continue;
        };
        if u.email.to_lowercase() == wanted || u.full_name().to_lowercase() == wanted {
            matches.push(u);
        }
    }
    match matches.len() {
        0 => Err(not_found()),
        1 => Ok(matches.remove(0)),
        _ => Err(Error::Conflict(format!(
            "'{r}' matches several users ({}); use the id",
            matches
                .iter()
                .map(|u| format!("#{} {}", u.id, u.full_name()))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Finds a role by id or name.
pub fn role(svc: &Service, reference: &str) -> Result<Role> {
    let store = &svc.store;
    let r = reference.trim();
    let not_found = || {
        Error::NotFound(format!(
            "no role '{r}'; `staffctl role list` shows the roles"
        ))
    };
    let id = match parse_id(r) {
        Some(id) => id,
        None => store
            .get_id(TreeId::RolesByName, &name_key(r))?
            .ok_or_else(not_found)?,
    };
    store.get(TreeId::Roles, &id_key(id))?.ok_or_else(not_found)
}

/// Finds a facility by id, name or code.
pub fn facility(svc: &Service, reference: &str) -> Result<Facility> {
    let store = &svc.store;
    let r = reference.trim();
    let not_found = || {
        Error::NotFound(format!(
            "no facility '{r}'; `staffctl facility list` shows the facilities"
        ))
    };
    let id = match parse_id(r) {
        Some(id) => Some(id),
        None => store.get_id(TreeId::FacilitiesByName, &name_key(r))?,
    };
    if let Some(id) = id {
        return store
            .get(TreeId::Facilities, &id_key(id))?
            .ok_or_else(not_found);
    }
    for item in store.scan::<Facility>(TreeId::Facilities) {
        let Ok(f) = item? else { continue };
        if f.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(r)) {
            return Ok(f);
        }
    }
    Err(not_found())
}

/// Every user's (id, full name) for a list of ids, for messages that name people.
pub fn names(svc: &Service, ids: &[Id]) -> Result<Vec<Person>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(u) = svc.store.get::<User>(TreeId::Users, &id_key(*id))? {
            out.push(Person {
                id: u.id,
                name: u.full_name(),
            });
        }
    }
    Ok(out)
}

/// "#3 Ann Lee, #9 Bo Chan" (at most `max`, then "and N more").
pub fn name_list(people: &[Person], max: usize) -> String {
    let mut s = people
        .iter()
        .take(max)
        .map(|p| format!("#{} {}", p.id, p.name))
        .collect::<Vec<_>>()
        .join(", ");
    if people.len() > max {
        s.push_str(&format!(" and {} more", people.len() - max));
    }
    s
}
