//! New-device approval: when the practice turns it on, a login from a device a user has not used
//! before waits for an administrator to approve it.

use super::{DeviceView, Listing, Op, Service, append_event, user};
use crate::audit::{Change, Origin, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::{Device, DeviceStatus, Id, User};
use crate::store::{TreeId, id_key};

fn devices(svc: &Service) -> Result<Vec<Device>> {
    let mut out = Vec::new();
    for item in svc.store.scan::<Device>(TreeId::Devices) {
        if let Ok(d) = item? {
            out.push(d);
        }
    }
    Ok(out)
}

/// Why `device` may not be used by `u` right now, or `None` when it may. An unseen device is
/// recorded as pending (audited as `device.request`).
pub(crate) fn check(
    svc: &Service,
    u: &User,
    fingerprint: &str,
    origin: &Origin,
) -> Result<Option<String>> {
    let practice = super::practice::show(svc)?;
    if !practice.device_approval {
        return Ok(None);
    }
    let fingerprint = crate::security::sanitize::for_terminal(fingerprint.trim())
        .chars()
        .take(200)
        .collect::<String>();
    if fingerprint.is_empty() {
        return Ok(Some("empty device id".into()));
    }
    let _guard = svc.lock_writes();
    let known = devices(svc)?
        .into_iter()
        .find(|d| d.user_id == u.id && d.fingerprint == fingerprint);
    match known.map(|d| d.status) {
        Some(DeviceStatus::Approved) => Ok(None),
        Some(DeviceStatus::Pending) => Ok(Some(format!(
            "device {fingerprint} is waiting for approval"
        ))),
        Some(DeviceStatus::Declined) => Ok(Some(format!("device {fingerprint} was declined"))),
        None => {
            let now = svc.now();
            let changes = vec![Change::new("device", None, Some(fingerprint.clone()))];
            let draft =
                user::own_event(u, origin, now, "device.request", changes, Outcome::Success);
            svc.store.transact(|tx| {
                let d = Device {
                    id: tx.next_id("device")?,
                    user_id: u.id,
                    label: fingerprint.clone(),
                    fingerprint: fingerprint.clone(),
                    first_seen: now,
                    status: DeviceStatus::Pending,
                    decided_by: None,
                    decided_at: None,
                };
                tx.put(TreeId::Devices, &id_key(d.id), &d)?;
                append_event(tx, &draft)?;
                Ok(())
            })?;
            Ok(Some(format!(
                "new device {fingerprint} now waits for an administrator's approval"
            )))
        }
    }
}

/// Every device with its user and status.
pub fn list(svc: &Service) -> Result<Listing<DeviceView>> {
    let mut out = Listing::default();
    for d in devices(svc)? {
        let name = svc
            .store
            .get::<User>(TreeId::Users, &id_key(d.user_id))?
            .map(|u| u.full_name())
            .unwrap_or_default();
        out.items.push(DeviceView {
            device: d,
            user: name,
        });
    }
    Ok(out)
}

/// Approves, declines or revokes (declines an approved) device.
pub fn decide(op: &Op<'_>, id: Id, status: DeviceStatus) -> Result<DeviceView> {
    let svc = op.svc;
    let Some(mut d) = svc.store.get::<Device>(TreeId::Devices, &id_key(id))? else {
        return Err(Error::NotFound(format!(
            "no device #{id}; `staffctl device list` shows them"
        )));
    };
    if d.status == status {
        return Err(Error::Conflict(format!(
            "device #{id} is already {}",
            status.as_str()
        )));
    }
    let old = d.status.as_str().to_string();
    d.status = status;
    d.decided_by = Some(op.operator.id);
    d.decided_at = Some(op.now);
    let action = match status {
        DeviceStatus::Approved => "device.approve",
        _ if old == "approved" => "device.revoke",
        _ => "device.decline",
    };
    let u = svc.store.get::<User>(TreeId::Users, &id_key(d.user_id))?;
    let label = u.as_ref().map(user::label).unwrap_or_default();
    let draft = op.draft(
        action,
        Target::new("user", d.user_id, label),
        vec![Change::new(
            &format!("device {}", d.fingerprint),
            Some(old),
            Some(status.as_str().to_string()),
        )],
    );
    svc.store.transact(|tx| {
        tx.put(TreeId::Devices, &id_key(d.id), &d)?;
        append_event(tx, &draft)?;
        Ok(())
    })?;
    let user = u.map(|u| u.full_name()).unwrap_or_default();
    Ok(DeviceView { device: d, user })
}
