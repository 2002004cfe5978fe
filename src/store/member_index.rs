//! "Who holds role R" (`users_by_role`) and "whose primary facility is F"
//! (`users_by_facility`): per group, the member user ids as bitmaps of 64 ids per record, so
//! 100,000 users make a few thousand records rather than 100,000 (see `target_index` for why
//! record counts matter with sled).
//!
//! Layout: key = group id (u64 BE) ++ `user id / 64` (u64 BE) -> u64 BE, bit `user id % 64`
//! set for each member. A record with no bit set is removed.
//!
//! The index is derived from the users, so a damaged record is never an error: readers and the
//! next write work out its bits from the 64 users it covers.

use std::collections::BTreeMap;

use super::{Store, TreeId, Tx, TxResult, id_key, key_id, pair_key, storage};
use crate::error::{Error, Result};
use crate::model::{Id, User};

/// Which grouping an index keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Users by role.
    Role,
    /// Users by primary facility.
    PrimaryFacility,
}

impl Group {
    /// Both groupings.
    pub const ALL: [Group; 2] = [Group::Role, Group::PrimaryFacility];

    fn tree(self) -> TreeId {
        match self {
            Self::Role => TreeId::UsersByRole,
            Self::PrimaryFacility => TreeId::UsersByFacility,
        }
    }

    /// The group `u` belongs to: their role, or their primary facility.
    pub fn of(self, u: &User) -> Id {
        match self {
            Self::Role => u.role_id,
            Self::PrimaryFacility => u.primary_facility,
        }
    }
}

const BITS: u64 = 64;

fn key(group: Id, user: Id) -> [u8; 16] {
    pair_key(group, user / BITS)
}

fn bits(value: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(value).ok().map(u64::from_be_bytes)
}

/// The ids a record covers.
fn ids_of_block(block: u64) -> std::ops::Range<Id> {
    block * BITS..(block + 1) * BITS
}

/// The bits of `group` among `users` (the 64 users of one record, by position), worked out
/// from the users themselves.
fn bits_from_users(users: &[Option<User>], kind: Group, group: Id) -> u64 {
    users
        .iter()
        .zip(0..BITS)
        .filter(|(u, _)| u.as_ref().is_some_and(|u| kind.of(u) == group))
        .fold(0, |acc, (_, bit)| acc | 1 << bit)
}

/// Adds (`member` true) or removes `user` from `group`, inside the user's transaction.
pub fn set(tx: &Tx<'_>, kind: Group, group: Id, user: Id, member: bool) -> TxResult<()> {
    let k = key(group, user);
    let current = match tx.get_raw(kind.tree(), &k)? {
        None => 0,
        Some(v) => match bits(&v) {
            Some(b) => b,
            None => {
                let mut users = Vec::new();
                for id in ids_of_block(user / BITS) {
                    users.push(tx.get::<User>(TreeId::Users, &id_key(id)).ok().flatten());
                }
                bits_from_users(&users, kind, group)
            }
        },
    };
    let mask = 1u64 << (user % BITS);
    let next = if member {
        current | mask
    } else {
        current & !mask
    };
    if next == 0 {
        tx.remove(kind.tree(), &k)
    } else {
        tx.put_raw(kind.tree(), &k, &next.to_be_bytes())
    }
}

/// The ids of the members of `group`, in id order.
pub fn members(store: &Store, kind: Group, group: Id) -> Result<Vec<Id>> {
    let mut out = Vec::new();
    for item in store.scan_prefix_raw(kind.tree(), &id_key(group)) {
        let (k, v) = item?;
        let block = k.get(8..).and_then(key_id).ok_or_else(|| {
            Error::Integrity(format!(
                "{} has a malformed key {}",
                kind.tree().name(),
                hex::encode(&k)
            ))
        })?;
        let set = match bits(&v) {
            Some(b) => b,
            None => {
                let users: Vec<Option<User>> = ids_of_block(block)
                    .map(|id| store.get::<User>(TreeId::Users, &id_key(id)).ok().flatten())
                    .collect();
                bits_from_users(&users, kind, group)
            }
        };
        out.extend(
            (0..BITS)
                .filter(|bit| set & (1 << bit) != 0)
                .map(|bit| block * BITS + bit),
        );
    }
    Ok(out)
}

/// Both indexes built from scratch, user by user ([`Store::rebuild_indexes`]).
#[derive(Debug, Default)]
pub(super) struct Builder {
    maps: [BTreeMap<[u8; 16], u64>; 2],
}

impl Builder {
    /// Counts `u` in their role and their primary facility, as [`set`] does.
    pub(super) fn add(&mut self, u: &User) {
        for (map, kind) in self.maps.iter_mut().zip(Group::ALL) {
            *map.entry(key(kind.of(u), u.id)).or_default() |= 1 << (u.id % BITS);
        }
    }

    /// Replaces both trees with what was counted.
    pub(super) fn write(self, store: &Store) -> Result<()> {
        for (map, kind) in self.maps.into_iter().zip(Group::ALL) {
            let tree = store.tree(kind.tree())?;
            tree.clear().map_err(storage)?;
            for (k, b) in map {
                tree.insert(k, &b.to_be_bytes()).map_err(storage)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OpenOptions;

    fn user(id: Id, role: Id, facility: Id) -> User {
        let mut u = crate::model::tests::sample_user();
        u.id = id;
        u.role_id = role;
        u.primary_facility = facility;
        u
    }

    fn put(store: &Store, u: &User) {
        store
            .transact(|tx| {
                tx.put(TreeId::Users, &id_key(u.id), u)?;
                set(tx, Group::Role, u.role_id, u.id, true)?;
                set(tx, Group::PrimaryFacility, u.primary_facility, u.id, true)
            })
            .unwrap();
    }

    #[test]
    fn members_follow_adds_and_removes_and_a_rebuild_agrees() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        for u in [
            user(1, 7, 2),
            user(63, 7, 3),
            user(64, 8, 2),
            user(200, 7, 2),
        ] {
            put(&store, &u);
        }
        assert_eq!(members(&store, Group::Role, 7).unwrap(), [1, 63, 200]);
        assert_eq!(members(&store, Group::Role, 8).unwrap(), [64]);
        assert_eq!(
            members(&store, Group::PrimaryFacility, 2).unwrap(),
            [1, 64, 200]
        );
        assert!(members(&store, Group::Role, 9).unwrap().is_empty());
        // Three records for role 7 (blocks 0 and 3), one for role 8.
        assert_eq!(store.count(TreeId::UsersByRole).unwrap(), 3);

        store
            .transact(|tx| set(tx, Group::Role, 8, 64, false))
            .unwrap();
        assert!(members(&store, Group::Role, 8).unwrap().is_empty());
        assert_eq!(store.count(TreeId::UsersByRole).unwrap(), 2);

        let by_role: Vec<_> = store
            .scan_raw(TreeId::UsersByRole)
            .map(|r| r.unwrap())
            .collect();
        // User 64 still holds role 8 in the users tree: the rebuild puts it back.
        store.rebuild_indexes().unwrap();
        assert_eq!(members(&store, Group::Role, 8).unwrap(), [64]);
        assert_eq!(store.count(TreeId::UsersByRole).unwrap(), by_role.len() + 1);
    }

    #[test]
    fn a_damaged_record_is_worked_out_from_the_users() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        for u in [user(1, 7, 2), user(5, 7, 2), user(6, 8, 2)] {
            put(&store, &u);
        }
        store
            .put_raw_unchecked(TreeId::UsersByRole, &key(7, 1), b"junk")
            .unwrap();
        assert_eq!(members(&store, Group::Role, 7).unwrap(), [1, 5]);
        put(&store, &user(9, 7, 2));
        assert_eq!(members(&store, Group::Role, 7).unwrap(), [1, 5, 9]);
        let repaired = store
            .get_raw(TreeId::UsersByRole, &key(7, 1))
            .unwrap()
            .unwrap();
        assert_eq!(repaired.len(), 8);
    }
}
