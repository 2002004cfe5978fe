//! Schema versions and migrations. A store written by an older staffctl always opens in a newer
//! one: [`run`] brings it up to [`CURRENT`] step by step, in one transaction per step.

use super::{Store, TreeId, meta, storage};
use crate::error::{Error, Result};

/// Schema version this build writes.
pub const CURRENT: u16 = 1;

/// One migration step from `from` to `from + 1`.
struct Step {
    from: u16,
    describe: &'static str,
    apply: fn(&Store) -> Result<()>,
}

/// Migrations in order. Empty while the schema is at version 1; a change to a record layout
/// adds a step here (and an `upgrade` in `codec`).
const STEPS: &[Step] = &[];

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
