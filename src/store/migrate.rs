//! Schema versions and migrations. A store written by an older staffctl always opens in a newer
//! one: [`run`] brings it up to [`CURRENT`] step by step. A step either changes records in
//! place (and can re-run if interrupted: the version is bumped only after it) or rewrites the
//! store into a fresh database that replaces the old one only once complete.

use std::path::Path;

use super::{OpenOptions, Store, TreeId, meta, storage};
use crate::error::{Error, Result};

/// Schema version this build writes.
pub const CURRENT: u16 = 4;

/// How a step changes the store.
enum Apply {
    /// Changes records where they are.
    InPlace(fn(&Store) -> Result<()>),
    /// Writes a new database beside the old one and swaps them (see [`rewrite`]): for steps
    /// that replace most records, so the new store does not carry the old one's freed pages.
    Rewrite(fn(&Store, &Store) -> Result<()>),
}

/// One migration step from `from` to `from + 1`.
struct Step {
    from: u16,
    describe: &'static str,
    apply: Apply,
}

/// Migrations in order; a change to a record layout adds a step here (and an `upgrade` in
/// `codec`).
const STEPS: &[Step] = &[
    Step {
        from: 1,
        describe: "count users per role and per primary facility",
        apply: Apply::InPlace(rebuild_head_counts),
    },
    Step {
        from: 2,
        describe: "pack the audit log and the indexes into blocks",
        apply: Apply::Rewrite(pack_records),
    },
    Step {
        from: 3,
        describe: "authority from roles, login bookkeeping in credentials, mail command out of the practice",
        apply: Apply::Rewrite(super::schema4::rewrite),
    },
];

/// Directory the rewritten database is built in.
const REWRITE_TMP: &str = "db.rewrite-tmp";
/// The rewritten database, complete, waiting to replace `db`.
const REWRITE_DONE: &str = "db.rewritten";
/// The database a rewrite replaced, removed once the new one is in place.
const REWRITE_OLD: &str = "db.replaced";

/// Completes the directory swap of a rewrite that was interrupted, before sled opens `db`.
/// Every state a crash can leave is handled: a complete rewrite replaces `db`; a partial one
/// (still in [`REWRITE_TMP`]) is removed by the next attempt.
pub fn finish_interrupted_rewrite(dir: &Path) -> Result<()> {
    let io = |what: &str, e: std::io::Error| {
        Error::Storage(format!(
            "cannot finish the store upgrade in {} ({what}: {e}); check the directory's permissions and free space",
            dir.display()
        ))
    };
    let (db, done, old) = (
        dir.join("db"),
        dir.join(REWRITE_DONE),
        dir.join(REWRITE_OLD),
    );
    if done.exists() {
        if db.exists() {
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(|e| io("remove the replaced copy", e))?;
            }
            std::fs::rename(&db, &old).map_err(|e| io("set the old copy aside", e))?;
        }
        std::fs::rename(&done, &db).map_err(|e| io("put the new copy in place", e))?;
    }
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| io("remove the replaced copy", e))?;
    }
    Ok(())
}

/// Runs `step` into a fresh database beside `store`, then swaps it in and reopens.
fn rewrite(
    store: Store,
    opts: &OpenOptions,
    step: fn(&Store, &Store) -> Result<()>,
    to: u16,
) -> Result<Store> {
    let dir = store.dir.clone();
    let tmp = dir.join(REWRITE_TMP);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| {
            Error::Storage(format!(
                "cannot remove the unfinished upgrade {}: {e}",
                tmp.display()
            ))
        })?;
    }
    let lock = std::sync::Arc::clone(&store.lock);
    let modes = store.modes;
    let fresh = Store::open_db(&dir, &tmp, opts, std::sync::Arc::clone(&lock), modes)?;
    step(&store, &fresh)?;
    fresh
        .tree(TreeId::Meta)?
        .insert(meta::SCHEMA, &to.to_be_bytes())
        .map_err(storage)?;
    fresh.flush()?;
    drop(fresh);
    drop(store);
    std::fs::rename(&tmp, dir.join(REWRITE_DONE)).map_err(|e| {
        Error::Storage(format!(
            "cannot complete the store upgrade in {}: {e}",
            dir.display()
        ))
    })?;
    finish_interrupted_rewrite(&dir)?;
    Store::open_db(&dir, &dir.join("db"), opts, lock, modes)
}

/// Copies every record of `tree` from one store to the other, unchanged.
pub(super) fn copy_tree(from: &Store, to: &Store, tree: TreeId) -> Result<()> {
    let target = to.tree(tree)?;
    for item in from.scan_raw(tree) {
        let (k, v) = item?;
        target.insert(k, v).map_err(storage)?;
    }
    Ok(())
}

/// Schema 2 -> 3, into a fresh database: records whose layout did not change are copied, the
/// one-record-per-event audit log is rewritten in chunks, and every derived index (the packed
/// per-target, search, role and facility ones among them) is built from the copied records.
fn pack_records(old: &Store, new: &Store) -> Result<()> {
    let packed = [
        TreeId::Audit,
        TreeId::AuditByTarget,
        TreeId::UsersSearch,
        TreeId::UsersByRole,
        TreeId::UsersByFacility,
    ];
    for tree in TreeId::ALL.into_iter().filter(|t| !packed.contains(t)) {
        copy_tree(old, new, tree)?;
    }
    let legacy = old.raw_tree(super::audit_log::LEGACY_TREE)?;
    super::audit_log::convert_legacy(&legacy, new)?;
    new.rebuild_indexes().map(|_| ())
}

/// Counts the users per role and per primary facility into `meta`, which role and facility
/// listings read instead of walking every user (schema 1 -> 2).
fn rebuild_head_counts(store: &Store) -> Result<()> {
    super::rebuild::rebuild_head_counts(store)
}

/// Reads the schema version, writes it on a new store, and migrates an older store.
pub fn run(mut store: Store, opts: &OpenOptions) -> Result<Store> {
    let found = match store
        .tree(TreeId::Meta)?
        .get(meta::SCHEMA)
        .map_err(storage)?
    {
        None => {
            store
                .tree(TreeId::Meta)?
                .insert(meta::SCHEMA, &CURRENT.to_be_bytes())
                .map_err(storage)?;
            store.flush()?;
            return Ok(store);
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
        let failed =
            |e: Error| Error::Storage(format!("migration '{}' failed: {e}", step.describe));
        version += 1;
        store = match step.apply {
            Apply::InPlace(apply) => {
                apply(&store).map_err(failed)?;
                store
                    .tree(TreeId::Meta)?
                    .insert(meta::SCHEMA, &version.to_be_bytes())
                    .map_err(storage)?;
                store.flush()?;
                store
            }
            Apply::Rewrite(apply) => rewrite(store, opts, apply, version).map_err(failed)?,
        };
    }
    Ok(store)
}

/// The schema version recorded in the store.
pub fn version(store: &Store) -> Result<u16> {
    let raw = store.get_raw(TreeId::Meta, meta::SCHEMA)?;
    raw.as_deref()
        .and_then(|v| v.try_into().ok())
        .map(u16::from_be_bytes)
        .ok_or_else(|| Error::Integrity("meta/schema_version is missing".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(dir: &Path, name: &str, content: &str) {
        std::fs::create_dir_all(dir.join(name)).unwrap();
        std::fs::write(dir.join(name).join("mark"), content).unwrap();
    }

    fn db_mark(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("db").join("mark")).unwrap()
    }

    #[test]
    fn an_interrupted_swap_is_finished_from_any_point() {
        // Crash after the rewrite completed, before the swap began.
        let tmp = tempfile::tempdir().unwrap();
        mark(tmp.path(), "db", "old");
        mark(tmp.path(), REWRITE_DONE, "new");
        finish_interrupted_rewrite(tmp.path()).unwrap();
        assert_eq!(db_mark(tmp.path()), "new");
        assert!(!tmp.path().join(REWRITE_OLD).exists());
        assert!(!tmp.path().join(REWRITE_DONE).exists());

        // Crash after the old copy was set aside.
        let tmp = tempfile::tempdir().unwrap();
        mark(tmp.path(), REWRITE_OLD, "old");
        mark(tmp.path(), REWRITE_DONE, "new");
        finish_interrupted_rewrite(tmp.path()).unwrap();
        assert_eq!(db_mark(tmp.path()), "new");
        assert!(!tmp.path().join(REWRITE_OLD).exists());

        // Crash after the new copy was in place, before the old one was removed.
        let tmp = tempfile::tempdir().unwrap();
        mark(tmp.path(), "db", "new");
        mark(tmp.path(), REWRITE_OLD, "old");
        finish_interrupted_rewrite(tmp.path()).unwrap();
        assert_eq!(db_mark(tmp.path()), "new");
        assert!(!tmp.path().join(REWRITE_OLD).exists());

        // A rewrite that never completed leaves `db` alone (the next attempt starts over).
        let tmp = tempfile::tempdir().unwrap();
        mark(tmp.path(), "db", "old");
        mark(tmp.path(), REWRITE_TMP, "partial");
        finish_interrupted_rewrite(tmp.path()).unwrap();
        assert_eq!(db_mark(tmp.path()), "old");
    }
}
