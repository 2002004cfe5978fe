//! The records a simulation ends with, queued for the writer threads: facilities, users,
//! their credentials and invitations. The indexes are not written here: the store derives
//! them from these records afterwards.

use super::super::chain::Entry;
use super::Gen;
use crate::error::{Error, Result};
use crate::model::{Credential, Id, UserStatus};
use crate::security::password;
use crate::store::{TreeId, codec, id_key, meta};

/// What a simulation wrote, and the `meta` entries (id counters, audit head) to write once
/// everything they describe is stored.
pub(in super::super) struct Written {
    /// Facilities added.
    pub(in super::super) facilities: usize,
    /// Users added.
    pub(in super::super) users: usize,
    /// Events appended.
    pub(in super::super) events: u64,
    /// The new audit head.
    pub(in super::super) head: (u64, [u8; 32]),
    /// Id counters and the audit head.
    pub(in super::super) meta: Vec<Entry>,
    /// Users who ended deactivated.
    pub(in super::super) deactivated: Vec<Id>,
    /// Users locked out at the end.
    pub(in super::super) locked: Vec<Id>,
}

fn encode<T: codec::Record>(value: &T) -> Result<Vec<u8>> {
    codec::encode(value).map_err(Error::Storage)
}

/// Queues every record and returns what is left to write.
pub(super) fn write(mut g: Gen) -> Result<Written> {
    g.chain.flush()?;
    let sink = &g.chain.sink;
    let hash = match &g.spec.staff_password {
        Some(p) if g.users.iter().any(|u| u.activated_at.is_some()) => Some(password::hash(p)?),
        _ => None,
    };
    let facilities: Vec<Entry> = g
        .facilities
        .iter()
        .filter(|(_, dirty)| *dirty)
        .map(|(f, _)| Ok((id_key(f.id).to_vec(), encode(f)?)))
        .collect::<Result<_>>()?;
    sink.send(TreeId::Facilities, facilities)?;
    let batch = g.chain.batch;
    for (n, chunk) in g.users.chunks(batch).enumerate() {
        let mut users = Vec::with_capacity(chunk.len());
        let mut credentials = Vec::new();
        let mut invites = Vec::with_capacity(chunk.len());
        for (k, u) in chunk.iter().enumerate() {
            let i = n * batch + k;
            u.validate()?;
            let id = id_key(u.id).to_vec();
            if let (Some(h), Some(_)) = (&hash, u.activated_at) {
                let failures = g.failures.get(i).copied().unwrap_or_default();
                let mut c = Credential::new(u.id, Some(h.clone()));
                c.failed_logins = failures.count;
                c.failed_window_start = failures.window_start;
                c.locked_until = failures.locked_until;
                c.last_login_at = failures.last_login_at;
                credentials.push((id.clone(), encode(&c)?));
            }
            if let Some(inv) = g.invites.get(i) {
                invites.push((id_key(inv.id).to_vec(), encode(inv)?));
            }
            users.push((id, encode(u)?));
        }
        // Users go down the audit writer's queue, which is idle by now.
        sink.audit_queue_send(TreeId::Users, users)?;
        sink.send(TreeId::Credentials, credentials)?;
        sink.send(TreeId::Invites, invites)?;
    }
    let mut head = Vec::with_capacity(40);
    head.extend_from_slice(&id_key(g.chain.seq));
    head.extend_from_slice(&g.chain.prev);
    let counter = |kind: &str, next: Id| {
        (
            format!("{}{kind}", meta::NEXT_ID).into_bytes(),
            id_key(next).to_vec(),
        )
    };
    let meta_items = vec![
        counter("user", g.first_user_id + g.users.len() as u64),
        counter("facility", g.next_facility_id),
        counter("invite", g.first_invite_id + g.invites.len() as u64),
        (meta::AUDIT_HEAD.to_vec(), head),
    ];
    Ok(Written {
        facilities: g.facilities_added,
        users: g.users.len(),
        events: g.chain.appended,
        head: (g.chain.seq, g.chain.prev),
        meta: meta_items,
        deactivated: g
            .users
            .iter()
            .filter(|u| u.status == UserStatus::Deactivated)
            .map(|u| u.id)
            .collect(),
        locked: g.locked.clone(),
    })
}
