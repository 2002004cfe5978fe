//! Every derived index rebuilt from the primary records ([`Store::rebuild_indexes`]): the path
//! bulk loads and the schema 3 migration take, and the one a repair of damaged indexes takes.
//!
//! Each entry is derived by the same function the incremental writes use ([`derived`],
//! [`member_index::Group::of`], [`User::search_text`], the per-target audit blocks), so a
//! rebuilt tree equals, byte for byte, one kept up to date write by write.

use std::collections::BTreeMap;

use super::{
    Record, Store, TreeId, derived, id_key, key_id, member_index, meta, search_index, storage,
    target_index,
};
use crate::error::{Error, Result};
use crate::model::{Facility, Id, Role, User};

/// What [`Store::rebuild_indexes`] read and what it could not place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    /// Users read.
    pub users: u64,
    /// Roles read.
    pub roles: u64,
    /// Facilities read.
    pub facilities: u64,
    /// Audit events read.
    pub events: u64,
    /// Records that could not be read (left out of every index), and index keys that several
    /// records claim (the lowest id keeps the key), one message each. Empty for a consistent
    /// store.
    pub problems: Vec<String>,
}

impl Store {
    /// Rebuilds every derived index from the primary records: `users_by_login`,
    /// `users_by_role`, `users_by_facility`, `users_search`, the head counts per role and per
    /// primary facility and `meta/default_doctor` from the users; `roles_by_name` from the
    /// roles; `facilities_by_name` from the facilities; `audit_by_target` from the audit log.
    /// The primary records, the id counters and the audit head are not touched. The audit
    /// index is built on a second thread, beside the others.
    ///
    /// Not one transaction: each index is cleared and written again, and the store is flushed
    /// at the end. Call it while nothing writes to the store (the owner lock keeps other
    /// processes out; within a process, hold off the service), and call it again if it was
    /// interrupted: the primary records are its only input. A record that does not decode is
    /// left out, and a key two records claim (a login, a name, the default doctor) goes to the
    /// lower id; both are listed in [`RebuildReport::problems`].
    pub fn rebuild_indexes(&self) -> Result<RebuildReport> {
        // The audit index and the rest are independent: build them side by side.
        let (report, audit) = std::thread::scope(|scope| {
            let audit = scope.spawn(|| {
                let mut problems = Vec::new();
                target_index::rebuild(self, &mut problems).map(|events| (events, problems))
            });
            let report = self.rebuild_record_indexes();
            let audit = audit.join().unwrap_or_else(|_| {
                Err(Error::Storage(
                    "rebuilding the audit index failed unexpectedly; run the rebuild again".into(),
                ))
            });
            (report, audit)
        });
        let mut report = report?;
        let (events, problems) = audit?;
        report.events = events;
        report.problems.extend(problems);
        self.flush()?;
        Ok(report)
    }

    /// Everything derived from users, roles and facilities.
    fn rebuild_record_indexes(&self) -> Result<RebuildReport> {
        let mut report = RebuildReport::default();
        self.rebuild_user_indexes(&mut report)?;
        report.roles = self.rebuild_names::<Role>(
            TreeId::Roles,
            TreeId::RolesByName,
            |r| (r.id, &r.name),
            &mut report.problems,
        )?;
        report.facilities = self.rebuild_names::<Facility>(
            TreeId::Facilities,
            TreeId::FacilitiesByName,
            |f| (f.id, &f.name),
            &mut report.problems,
        )?;
        Ok(report)
    }

    /// Everything derived from the users, in one pass over them.
    fn rebuild_user_indexes(&self, report: &mut RebuildReport) -> Result<()> {
        let logins = self.tree(TreeId::UsersByLogin)?;
        logins.clear().map_err(storage)?;
        let mut search = search_index::Builder::start(self)?;
        let mut groups = member_index::Builder::default();
        let mut counts = HeadCounts::default();
        let mut doctors = Vec::new();
        for item in self.scan::<User>(TreeId::Users) {
            let u = match item? {
                Ok(u) => u,
                Err(bad) => {
                    report
                        .problems
                        .push(format!("{bad}; left out of the indexes"));
                    continue;
                }
            };
            report.users += 1;
            for login in derived::login_keys(&u) {
                // Users come in id order, so a key already taken is the lower id's.
                let Some(holder) = logins.insert(&login.key, &id_key(u.id)).map_err(storage)?
                else {
                    continue;
                };
                logins.insert(&login.key, holder.clone()).map_err(storage)?;
                report.problems.push(format!(
                    "{} {} is claimed by users #{} and #{}; the login goes to #{}",
                    login.field,
                    login.value,
                    key_id(&holder).unwrap_or_default(),
                    u.id,
                    key_id(&holder).unwrap_or_default()
                ));
            }
            counts.add(&u);
            groups.add(&u);
            search.push(u.id, u.search_text())?;
            if derived::holds_default_doctor(&u) {
                doctors.push(u.id);
            }
        }
        search.finish()?;
        groups.write(self)?;
        counts.write(self)?;
        self.write_default_doctor(&doctors, &mut report.problems)
    }

    fn write_default_doctor(&self, doctors: &[Id], problems: &mut Vec<String>) -> Result<()> {
        let meta_tree = self.tree(TreeId::Meta)?;
        match doctors {
            [] => {
                meta_tree.remove(meta::DEFAULT_DOCTOR).map_err(storage)?;
            }
            [first, rest @ ..] => {
                meta_tree
                    .insert(meta::DEFAULT_DOCTOR, &id_key(*first))
                    .map_err(storage)?;
                if !rest.is_empty() {
                    let others: Vec<String> = rest.iter().map(|id| format!("#{id}")).collect();
                    problems.push(format!(
                        "users #{first} and {} are all the default doctor; #{first} keeps the place",
                        others.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }

    /// A by-name index (`roles_by_name`, `facilities_by_name`) from its records; returns how
    /// many were read.
    fn rebuild_names<T: Record>(
        &self,
        primary: TreeId,
        index: TreeId,
        id_and_name: impl Fn(&T) -> (Id, &str),
        problems: &mut Vec<String>,
    ) -> Result<u64> {
        let tree = self.tree(index)?;
        tree.clear().map_err(storage)?;
        let mut read = 0;
        for item in self.scan::<T>(primary) {
            let record = match item? {
                Ok(r) => r,
                Err(bad) => {
                    problems.push(format!("{bad}; left out of the indexes"));
                    continue;
                }
            };
            read += 1;
            let (id, name) = id_and_name(&record);
            let key = derived::name_key(name);
            if let Some(holder) = tree.insert(&key, &id_key(id)).map_err(storage)? {
                tree.insert(&key, holder.clone()).map_err(storage)?;
                problems.push(format!(
                    "{} name '{name}' is used by #{} and #{id}; the name goes to #{}",
                    T::KIND,
                    key_id(&holder).unwrap_or_default(),
                    key_id(&holder).unwrap_or_default()
                ));
            }
        }
        Ok(read)
    }
}

/// Users per role and per primary facility, counted from scratch.
#[derive(Debug, Default)]
struct HeadCounts(BTreeMap<Vec<u8>, u64>);

impl HeadCounts {
    fn add(&mut self, u: &User) {
        for key in derived::head_count_keys(u) {
            *self.0.entry(key).or_default() += 1;
        }
    }

    /// Replaces every `count:` entry in `meta` with these.
    fn write(self, store: &Store) -> Result<()> {
        let meta_tree = store.tree(TreeId::Meta)?;
        for key in meta_tree.scan_prefix(meta::COUNT_PREFIX).keys() {
            meta_tree.remove(key.map_err(storage)?).map_err(storage)?;
        }
        for (k, n) in self.0 {
            meta_tree.insert(k, &id_key(n)).map_err(storage)?;
        }
        Ok(())
    }
}

/// Recounts the head counts alone (the schema 1 -> 2 migration, before the other indexes had
/// their current layout).
pub(super) fn rebuild_head_counts(store: &Store) -> Result<()> {
    let mut counts = HeadCounts::default();
    for item in store.scan::<User>(TreeId::Users) {
        // A corrupt user stays reported by user listings; it cannot be counted.
        let Ok(u) = item? else { continue };
        counts.add(&u);
    }
    counts.write(store)?;
    store.flush()
}

/// The trees [`Store::rebuild_indexes`] writes from scratch (it also rewrites the head counts
/// and the default doctor in `meta`).
pub const DERIVED_TREES: [TreeId; 7] = [
    TreeId::UsersByLogin,
    TreeId::UsersByRole,
    TreeId::UsersByFacility,
    TreeId::UsersSearch,
    TreeId::RolesByName,
    TreeId::FacilitiesByName,
    TreeId::AuditByTarget,
];

impl Store {
    /// Empties a derived tree, as a lost or damaged file would leave it. Only for tests of
    /// [`Store::rebuild_indexes`]; staffctl never calls it. Refuses any other tree.
    #[doc(hidden)]
    pub fn clear_derived_unchecked(&self, t: TreeId) -> Result<()> {
        if !DERIVED_TREES.contains(&t) {
            return Err(Error::invalid(
                "tree",
                format!(
                    "{} holds primary records, which cannot be rebuilt; only derived trees may be cleared",
                    t.name()
                ),
            ));
        }
        self.tree(t)?.clear().map_err(storage)?;
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LoginMethod;
    use crate::store::OpenOptions;

    fn user(id: Id, email: &str) -> User {
        let mut u = crate::model::tests::sample_user();
        u.id = id;
        u.email = email.into();
        u.login_method = LoginMethod::Email;
        u
    }

    fn put_user(store: &Store, u: &User) {
        store
            .put_raw_unchecked(
                TreeId::Users,
                &id_key(u.id),
                &super::super::codec::encode(u).unwrap(),
            )
            .unwrap();
    }

    #[test]
    fn a_login_two_users_claim_goes_to_the_lower_id_and_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        put_user(&store, &user(9, "ann@x.example"));
        put_user(&store, &user(3, "ANN@x.example"));
        put_user(&store, &user(4, "bo@x.example"));
        let report = store.rebuild_indexes().unwrap();
        assert_eq!(report.users, 3);
        assert_eq!(
            report.problems,
            ["email ann@x.example is claimed by users #3 and #9; the login goes to #3"]
        );
        let holder = store
            .get_id(TreeId::UsersByLogin, &derived::email_key("ann@x.example"))
            .unwrap();
        assert_eq!(holder, Some(3));
        assert_eq!(store.count(TreeId::UsersByLogin).unwrap(), 2);
        // Three users in role 1 at facility 1, all on provider seats: one counter each.
        let counts: Vec<_> = store
            .scan_prefix_raw(TreeId::Meta, meta::COUNT_PREFIX)
            .map(|r| key_id(&r.unwrap().1))
            .collect();
        assert_eq!(counts, [Some(3), Some(3), Some(3)]);
    }

    #[test]
    fn an_unreadable_user_is_left_out_and_named() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        put_user(&store, &user(1, "ann@x.example"));
        store
            .put_raw_unchecked(TreeId::Users, &id_key(2), b"\x00\x01junk")
            .unwrap();
        let report = store.rebuild_indexes().unwrap();
        assert_eq!(report.users, 1);
        assert_eq!(report.problems.len(), 1);
        assert!(
            report.problems[0].starts_with(&format!("record users/{}", hex::encode(id_key(2)))),
            "{:?}",
            report.problems
        );
        assert_eq!(search_index::matching(&store, "").unwrap(), [1]);
    }

    #[test]
    fn two_default_doctors_leave_the_place_to_the_lower_id() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        for id in [5, 2, 7] {
            let mut u = user(id, &format!("u{id}@x.example"));
            u.provider.default_doctor = id != 7;
            put_user(&store, &u);
        }
        let report = store.rebuild_indexes().unwrap();
        assert_eq!(
            report.problems,
            ["users #2 and #5 are all the default doctor; #2 keeps the place"]
        );
        assert_eq!(
            store.get_id(TreeId::Meta, meta::DEFAULT_DOCTOR).unwrap(),
            Some(2)
        );
    }

    #[test]
    fn only_derived_trees_can_be_cleared() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), &OpenOptions::default()).unwrap();
        put_user(&store, &user(1, "ann@x.example"));
        store.rebuild_indexes().unwrap();
        store.clear_derived_unchecked(TreeId::UsersByLogin).unwrap();
        assert_eq!(store.count(TreeId::UsersByLogin).unwrap(), 0);
        let err = store.clear_derived_unchecked(TreeId::Users).unwrap_err();
        assert!(err.to_string().contains("primary records"), "{err}");
        assert_eq!(store.count(TreeId::Users).unwrap(), 1);
    }
}
