//! The users' search index: each user's [`User::search_text`], packed [`BLOCK`] users per
//! sled record so that a search reads a few thousand records rather than one per user (see
//! `target_index` for why record counts matter with sled).
//!
//! Layout: key = `id / BLOCK` (u64 BE) -> entries in id order, each `id (u64 BE) ++ length
//! (u32 BE) ++ text (UTF-8)`.
//!
//! The index is derived from the users, so a damaged block is never an error: readers and the
//! next write work from the users of that block instead, and the write repairs it.

use super::{Store, TreeId, Tx, TxResult, id_key, storage};
use crate::error::Result;
use crate::model::{Id, User};

/// Users per record.
pub const BLOCK: u64 = 64;

fn block_key(id: Id) -> [u8; 8] {
    id_key(id / BLOCK)
}

/// Decodes a block into `(id, text)` pairs; `None` when the bytes are not a block.
fn entries(block: &[u8]) -> Option<Vec<(Id, &str)>> {
    let mut out = Vec::new();
    let mut rest = block;
    while !rest.is_empty() {
        let (id, r) = rest.split_first_chunk::<8>()?;
        let (len, r) = r.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        let text = std::str::from_utf8(r.get(..len)?).ok()?;
        out.push((u64::from_be_bytes(*id), text));
        rest = &r[len..];
    }
    Some(out)
}

fn encode<'a>(entries: impl IntoIterator<Item = (Id, &'a str)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (id, text) in entries {
        out.extend_from_slice(&id.to_be_bytes());
        // Search texts are a few names long; a longer one is cut rather than mis-encoded.
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&text.as_bytes()[..len as usize]);
    }
    out
}

/// The ids a block covers.
fn ids_of_block(block: u64) -> std::ops::Range<Id> {
    block * BLOCK..(block + 1) * BLOCK
}

/// A block's entries worked out from the users themselves (for a damaged block).
fn block_from_users(store: &Store, block: u64) -> Result<Vec<(Id, String)>> {
    let mut out = Vec::new();
    for id in ids_of_block(block) {
        // An unreadable user is reported by listings; it has no text to search.
        if let Ok(Some(u)) = store.get::<User>(TreeId::Users, &id_key(id)) {
            out.push((id, u.search_text()));
        }
    }
    Ok(out)
}

/// Sets (`Some`) or removes (`None`) one user's search text, inside the user's transaction.
pub fn set(tx: &Tx<'_>, id: Id, text: Option<&str>) -> TxResult<()> {
    let key = block_key(id);
    let stored = tx.get_raw(TreeId::UsersSearch, &key)?;
    let mut list: Vec<(Id, String)> = match stored.as_deref().map(entries) {
        None => Vec::new(),
        Some(Some(list)) => list.into_iter().map(|(i, t)| (i, t.to_string())).collect(),
        // Damaged: start again from the users of this block (the write repairs it).
        Some(None) => {
            let mut list = Vec::new();
            for other in ids_of_block(id / BLOCK) {
                if let Ok(Some(u)) = tx.get::<User>(TreeId::Users, &id_key(other)) {
                    list.push((other, u.search_text()));
                }
            }
            list
        }
    };
    list.retain(|(other, _)| *other != id);
    if let Some(text) = text {
        let at = list.partition_point(|(other, _)| *other < id);
        list.insert(at, (id, text.to_string()));
    }
    if list.is_empty() {
        tx.remove(TreeId::UsersSearch, &key)
    } else {
        tx.put_raw(
            TreeId::UsersSearch,
            &key,
            &encode(list.iter().map(|(i, t)| (*i, t.as_str()))),
        )
    }
}

/// Ids of the users whose search text contains `needle` (already lowercased), in id order.
pub fn matching(store: &Store, needle: &str) -> Result<Vec<Id>> {
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    let mut out = Vec::new();
    for item in store.scan_raw(TreeId::UsersSearch) {
        let (key, block) = item?;
        match entries(&block) {
            Some(list) => out.extend(
                list.into_iter()
                    .filter(|(_, text)| finder.find(text.as_bytes()).is_some())
                    .map(|(id, _)| id),
            ),
            None => {
                let number = super::key_id(&key).unwrap_or(0);
                out.extend(
                    block_from_users(store, number)?
                        .into_iter()
                        .filter(|(_, text)| finder.find(text.as_bytes()).is_some())
                        .map(|(id, _)| id),
                );
            }
        }
    }
    Ok(out)
}

/// One user's search text as the index holds it (for checks and tests).
pub fn get(store: &Store, id: Id) -> Result<Option<String>> {
    let Some(block) = store.get_raw(TreeId::UsersSearch, &block_key(id))? else {
        return Ok(None);
    };
    let found = match entries(&block) {
        Some(list) => list
            .into_iter()
            .find(|(other, _)| *other == id)
            .map(|(_, text)| text.to_string()),
        None => block_from_users(store, id / BLOCK)?
            .into_iter()
            .find(|(other, _)| *other == id)
            .map(|(_, text)| text),
    };
    Ok(found)
}

/// The index built from scratch, user by user in id order ([`Store::rebuild_indexes`]); each
/// block is written once complete.
pub(super) struct Builder {
    tree: super::TreeRef,
    block: Vec<(Id, String)>,
}

impl Builder {
    /// Empties the index.
    pub(super) fn start(store: &Store) -> Result<Self> {
        let tree = store.tree(TreeId::UsersSearch)?;
        tree.clear().map_err(storage)?;
        Ok(Self {
            tree,
            block: Vec::with_capacity(BLOCK as usize),
        })
    }

    /// Adds user `id`'s text; ids come in increasing order.
    pub(super) fn push(&mut self, id: Id, text: String) -> Result<()> {
        if self
            .block
            .first()
            .is_some_and(|(first, _)| first / BLOCK != id / BLOCK)
        {
            self.write_block()?;
        }
        self.block.push((id, text));
        Ok(())
    }

    /// Writes the last block.
    pub(super) fn finish(mut self) -> Result<()> {
        self.write_block()
    }

    fn write_block(&mut self) -> Result<()> {
        if let Some((first, _)) = self.block.first() {
            let value = encode(self.block.iter().map(|(id, t)| (*id, t.as_str())));
            self.tree
                .insert(block_key(*first), value)
                .map_err(storage)?;
            self.block.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OpenOptions;

    #[test]
    fn entries_round_trip_and_reject_damage() {
        let block = encode([(3, "ann lee"), (70, ""), (71, "zoë")]);
        assert_eq!(
            entries(&block).unwrap(),
            [(3, "ann lee"), (70, ""), (71, "zoë")]
        );
        assert!(entries(&block[..block.len() - 1]).is_none());
        assert!(entries(&[0, 0, 0]).is_none());
        let mut bad_utf8 = encode([(1, "ab")]);
        let last = bad_utf8.len() - 1;
        bad_utf8[last] = 0xff;
        assert!(entries(&bad_utf8).is_none());
    }

    #[test]
    fn set_keeps_blocks_sorted_and_removes_empty_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        for (id, text) in [(5, "eve"), (2, "bo"), (BLOCK + 1, "cy")] {
            store.transact(|tx| set(tx, id, Some(text))).unwrap();
        }
        assert_eq!(store.count(TreeId::UsersSearch).unwrap(), 2);
        assert_eq!(matching(&store, "e").unwrap(), [5]);
        assert_eq!(matching(&store, "").unwrap(), [2, 5, BLOCK + 1]);
        store.transact(|tx| set(tx, 5, Some("eva"))).unwrap();
        assert_eq!(get(&store, 5).unwrap().as_deref(), Some("eva"));
        store.transact(|tx| set(tx, BLOCK + 1, None)).unwrap();
        assert_eq!(store.count(TreeId::UsersSearch).unwrap(), 1);
        assert_eq!(get(&store, BLOCK + 1).unwrap(), None);
    }

    #[test]
    fn a_damaged_block_is_worked_out_from_the_users_and_repaired_by_the_next_write() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        let user = |id: Id, first: &str| {
            let mut u = crate::model::tests::sample_user();
            u.id = id;
            u.first_name = first.into();
            u
        };
        for (id, first) in [(2, "Bo"), (3, "Cy")] {
            let u = user(id, first);
            store
                .transact(|tx| {
                    tx.put(TreeId::Users, &id_key(id), &u)?;
                    set(tx, id, Some(&u.search_text()))
                })
                .unwrap();
        }
        store
            .put_raw_unchecked(TreeId::UsersSearch, &block_key(2), &[1, 2, 3])
            .unwrap();
        assert_eq!(matching(&store, "bo ").unwrap(), [2]);
        assert!(get(&store, 3).unwrap().unwrap().starts_with("cy "));
        let u = user(4, "Di");
        store
            .transact(|tx| {
                tx.put(TreeId::Users, &id_key(4), &u)?;
                set(tx, 4, Some(&u.search_text()))
            })
            .unwrap();
        let repaired = store
            .get_raw(TreeId::UsersSearch, &block_key(2))
            .unwrap()
            .unwrap();
        assert_eq!(entries(&repaired).unwrap().len(), 3);
    }
}
