//! New-device approval: when the practice turns it on, a login from a device a user has not used
//! before waits for an administrator to approve it.

use super::{DeviceView, Listing, Op, Service, append_event, user};
use crate::audit::{Change, Origin, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::{Device, DeviceStatus, Id, User, UserStatus};
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

/// Whether `u` may log in from the device `fingerprint` under the practice's approval policy.
pub(crate) enum DeviceCheck {
    /// Approval is off, or the device is approved.
    Allowed,
    /// The device waits for an administrator (just requested, or earlier).
    Waiting(String),
    /// The device was declined, or no usable device id was given.
    Refused(String),
}

/// Checks `fingerprint` for `u`. With approval on, a check without a device id is refused: a
/// program that leaves it out would otherwise bypass approval. An unseen device is recorded as
/// pending (audited as `device.request`) and the administrators are mailed.
pub(crate) fn check(
    svc: &Service,
    u: &User,
    fingerprint: Option<&str>,
    origin: &Origin,
) -> Result<DeviceCheck> {
    let practice = super::practice::show(svc)?;
    if !practice.device_approval {
        return Ok(DeviceCheck::Allowed);
    }
    let fingerprint = fingerprint.map(str::trim).unwrap_or_default();
    if fingerprint.is_empty() {
        return Ok(DeviceCheck::Refused(
            "no device id given while new-device approval is on".into(),
        ));
    }
    if fingerprint.chars().count() > 200
        || fingerprint
            .chars()
            .any(|c| c.is_control() || crate::security::sanitize::is_invisible_or_bidi(c))
    {
        return Ok(DeviceCheck::Refused(
            "the device id is longer than 200 characters or holds control characters".into(),
        ));
    }
    let fingerprint = fingerprint.to_string();
    let guard = svc.lock_writes();
    let known = devices(svc)?
        .into_iter()
        .find(|d| d.user_id == u.id && d.fingerprint == fingerprint);
    match known.map(|d| d.status) {
        Some(DeviceStatus::Approved) => Ok(DeviceCheck::Allowed),
        Some(DeviceStatus::Pending) => Ok(DeviceCheck::Waiting(format!(
            "device {fingerprint} is waiting for approval"
        ))),
        Some(DeviceStatus::Declined) => Ok(DeviceCheck::Refused(format!(
            "device {fingerprint} was declined"
        ))),
        None => {
            let now = svc.now();
            let changes = vec![Change::new("device", None, Some(fingerprint.clone()))];
            let draft =
                user::own_event(u, origin, now, "device.request", changes, Outcome::Success);
            let id = svc.store.transact(|tx| {
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
                Ok(d.id)
            })?;
            drop(guard);
            notify_administrators(svc, &practice, u, id, &fingerprint, origin)?;
            Ok(DeviceCheck::Waiting(format!(
                "new device {fingerprint} now waits for an administrator's approval"
            )))
        }
    }
}

/// Mails everyone who can approve devices (active users whose role grants admin.users) about a
/// new request, and audits the outcome as `device.notify`. Without a mail command nothing is
/// sent; the Devices tab and its header badge still show the request.
fn notify_administrators(
    svc: &Service,
    practice: &crate::model::Practice,
    u: &User,
    device: Id,
    fingerprint: &str,
    origin: &Origin,
) -> Result<()> {
    let Some(command) = svc.mail.command.clone() else {
        return Ok(());
    };
    let mut to = Vec::new();
    for item in svc.store.scan::<User>(TreeId::Users) {
        let Ok(admin) = item? else { continue };
        if admin.status == UserStatus::Active
            && super::authority::permissions_of(svc, &admin)?
                .contains(crate::model::permission::MANAGE_USERS)
        {
            to.push((admin.full_name(), admin.mail_address().to_string()));
        }
    }
    if to.is_empty() {
        return Ok(());
    }
    let body = format!(
        "{name} ({login}) tried to log in from a device staffctl has not seen before:\n\n\
         Device: {fingerprint}\n\
         From: {from}\n\
         When: {when}\n\n\
         Approve or decline it in staffctl's Devices tab, or with\n\
         `staffctl device approve {device}` / `staffctl device decline {device}`.\n\
         If {first} did not try to log in, decline it and talk to them.\n",
        name = u.full_name(),
        login = user::label(u),
        from = origin.place(),
        when = svc.clock_text(svc.now()),
        first = u.first_name,
    );
    let sent = super::mail::message(
        practice,
        &to,
        &format!(
            "{}: approve a new device for {}?",
            practice.name,
            u.full_name()
        ),
        body,
    )
    .and_then(|m| super::mail::send(&command, &m));
    let outcome = match sent {
        Ok(()) => Outcome::Success,
        Err(why) => Outcome::Rejected(why),
    };
    let changes = vec![Change::new("notified", None, Some(to.len().to_string()))];
    let _guard = svc.lock_writes();
    svc.record(crate::audit::EventDraft {
        at: svc.now(),
        actor: crate::audit::Actor::System,
        origin: origin.clone(),
        action: "device.notify".into(),
        target: Some(Target::new("user", u.id, user::label(u))),
        changes,
        outcome,
    })?;
    Ok(())
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
