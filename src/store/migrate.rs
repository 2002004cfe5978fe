//! Schema versions and migrations. A store written by an older staffctl always opens in a newer
//! one: [`run`] brings it up to [`CURRENT`] step by step, in one transaction per step.

use super::{Store, TreeId, meta, storage};
use crate::error::{Error, Result};

/// Schema version this build writes.
pub const CURRENT: u16 = 3;

/// One migration step from `from` to `from + 1`.
struct Step {
    from: u16,
    describe: &'static str,
    apply: fn(&Store) -> Result<()>,
}

/// Migrations in order; a change to a record layout adds a step here (and an `upgrade` in
/// `codec`).
const STEPS: &[Step] = &[
    Step {
        from: 1,
        describe: "count users per role and per primary facility",
        apply: rebuild_head_counts,
    },
    Step {
        from: 2,
        describe: "pack the audit log and the indexes into blocks",
        apply: pack_records,
    },
];

/// Rebuilds the head counts per role and per primary facility in `meta`, which role and
/// facility listings read instead of walking every user. Used by the v1 -> v2 migration and by
/// bulk loaders, which write users without the service.
pub fn rebuild_head_counts(store: &Store) -> Result<()> {
    use std::collections::BTreeMap;

    use crate::model::User;
    let meta_tree = store.tree(TreeId::Meta);
    for key in meta_tree.scan_prefix(b"count:").keys() {
        meta_tree.remove(key.map_err(storage)?).map_err(storage)?;
    }
    let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for item in store.scan::<User>(TreeId::Users) {
        // A corrupt user stays reported by user listings; it cannot be counted.
        let Ok(u) = item? else { continue };
        *counts
            .entry(meta::count_key("role", u.role_id))
            .or_default() += 1;
        *counts
            .entry(meta::count_key("facility", u.primary_facility))
            .or_default() += 1;
    }
    for (k, n) in counts {
        meta_tree.insert(k, &super::id_key(n)).map_err(storage)?;
    }
    store.flush()
}

/// Schema 2 -> 3: the audit log moves to chunked records, then the per-target index is
/// rebuilt in blocks from it, and the search and role/facility indexes packed from the users.
/// Every part may be re-run after an interruption.
fn pack_records(store: &Store) -> Result<()> {
    super::audit_log::convert_legacy(store)?;
    super::target_index::rebuild(store)?;
    super::search_index::rebuild(store)?;
    super::member_index::rebuild(store)
}

/// Reads the schema version, writes it on a new store, and migrates an older store.
pub fn run(store: &Store) -> Result<()> {
    let tree = store.tree(TreeId::Meta);
    let found = match tree.get(meta::SCHEMA).map_err(storage)? {
        None => {
            tree.insert(meta::SCHEMA, &CURRENT.to_be_bytes())
                .map_err(storage)?;
            store.flush()?;
            return Ok(());
        }
        Some(v) => v
            .as_ref()
            .try_into()
            .map(u16::from_be_bytes)
            .map_err(|_| Error::Integrity("meta/schema_version is unreadable".into()))?,
    };
    if found > CURRENT {
        return Err(Error::Storage(format!(
            "this store uses schema {found}, written by a newer staffctl (this one knows up to {CURRENT}); install the newer staffctl"
        )));
    }
    let mut version = found;
    while version < CURRENT {
        let step = STEPS.iter().find(|s| s.from == version).ok_or_else(|| {
            Error::Storage(format!(
                "no migration from schema {version}; this build cannot open the store"
            ))
        })?;
        (step.apply)(store)
            .map_err(|e| Error::Storage(format!("migration '{}' failed: {e}", step.describe)))?;
        version += 1;
        tree.insert(meta::SCHEMA, &version.to_be_bytes())
            .map_err(storage)?;
        store.flush()?;
    }
    Ok(())
}

/// The schema version recorded in the store.
pub fn version(store: &Store) -> Result<u16> {
    let raw = store.get_raw(TreeId::Meta, meta::SCHEMA)?;
    raw.as_deref()
        .and_then(|v| v.try_into().ok())
        .map(u16::from_be_bytes)
        .ok_or_else(|| Error::Integrity("meta/schema_version is missing".into()))
}
