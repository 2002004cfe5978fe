//! Names of roles and facilities by id, loaded once, for listings and readable histories.

use std::collections::BTreeSet;

use super::{Service, authority};
use crate::error::Result;
use crate::model::{Facility, Id, Role};
use crate::store::TreeId;

/// Names of roles and facilities by id, loaded once per listing.
pub(crate) struct Names {
    roles: std::collections::HashMap<Id, String>,
    facilities: std::collections::HashMap<Id, String>,
    /// Roles that let their holders operate staffctl.
    pub(crate) operator_roles: BTreeSet<Id>,
}

impl Names {
    pub(crate) fn load(svc: &Service) -> Result<Self> {
        let mut roles = std::collections::HashMap::new();
        let mut operator_roles = BTreeSet::new();
        for r in svc.store.scan::<Role>(TreeId::Roles) {
            if let Ok(r) = r? {
                if authority::may_operate(&r.permissions) {
                    operator_roles.insert(r.id);
                }
                roles.insert(r.id, r.name);
            }
        }
        let mut facilities = std::collections::HashMap::new();
        for f in svc.store.scan::<Facility>(TreeId::Facilities) {
            if let Ok(f) = f? {
                facilities.insert(f.id, f.name);
            }
        }
        Ok(Self {
            roles,
            facilities,
            operator_roles,
        })
    }

    pub(crate) fn role(&self, id: Id) -> String {
        self.roles
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{id} (missing)"))
    }

    pub(crate) fn facility(&self, id: Id) -> String {
        self.facilities
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{id} (missing)"))
    }
}
