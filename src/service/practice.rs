//! Practice settings and policies.

use super::fields::{opt, parse_bool, parse_num};
use super::{Op, PracticeField, PracticeView, SeatCount, Service, append_event, diff::diff};
use crate::audit::Target;
use crate::error::{Error, FieldError, Result};
use crate::model::Practice;
use crate::store::{TreeId, meta};

/// The practice record.
pub fn show(svc: &Service) -> Result<Practice> {
    svc.store.get(TreeId::Meta, meta::PRACTICE)?.ok_or_else(|| {
        Error::NotFound("this store has no practice yet; run `staffctl init`".into())
    })
}

/// The settings with what is decided elsewhere: the mail command and its source, the time
/// zone in effect, and the billable seats in use.
pub fn view(svc: &Service) -> Result<PracticeView> {
    let settings = show(svc)?;
    let seat = |slot| -> Result<u64> {
        Ok(svc
            .store
            .get_id(TreeId::Meta, &crate::store::derived::seat_key(slot))?
            .unwrap_or(0))
    };
    Ok(PracticeView {
        time_zone: super::LocalTime::of(&settings).name().to_string(),
        settings,
        mail: svc.mail.clone(),
        seats: SeatCount {
            provider: seat(0)?,
            assistant: seat(1)?,
            technician: seat(2)?,
        },
    })
}

/// Applies settings changes.
pub fn edit(op: &Op<'_>, fields: Vec<(PracticeField, String)>) -> Result<Practice> {
    let old = show(op.svc)?;
    let mut p = old.clone();
    let mut errs = Vec::new();
    for (field, value) in &fields {
        let name = field.name();
        let r: Result<(), String> = (|| {
            match field {
                PracticeField::Name => p.name = value.trim().to_string(),
                PracticeField::Email => p.email = value.trim().to_string(),
                PracticeField::InviteExpiryHours => p.invite_expiry_hours = parse_num(name, value)?,
                PracticeField::InviteCooldownMinutes => {
                    p.invite_cooldown_minutes = parse_num(name, value)?
                }
                PracticeField::LockoutThreshold => p.lockout_threshold = parse_num(name, value)?,
                PracticeField::LockoutWindowMinutes => {
                    p.lockout_window_minutes = parse_num(name, value)?
                }
                PracticeField::LockoutDurationMinutes => {
                    p.lockout_duration_minutes = parse_num(name, value)?
                }
                PracticeField::IdleTimeoutMinutes => {
                    p.idle_timeout_minutes = parse_num(name, value)?
                }
                PracticeField::PasswordMinLength => p.password_min_length = parse_num(name, value)?,
                PracticeField::TimeZone => {
                    p.time_zone = opt(value);
                    if let Some(zone) = &p.time_zone {
                        super::clock::check_zone(zone)?;
                    }
                }
                PracticeField::DeviceApproval => p.device_approval = parse_bool(name, value)?,
            }
            Ok(())
        })();
        if let Err(m) = r {
            errs.push(FieldError::new(name, m));
        }
    }
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    p.validate()?;
    if !p.email.eq_ignore_ascii_case(&old.email)
        && let Some(id) = op
            .svc
            .store
            .get_id(TreeId::UsersByLogin, &super::resolve::email_key(&p.email))?
    {
        return Err(Error::invalid(
            "email",
            format!(
                "{} is the login email of user #{id}; the practice email must differ from staff login emails",
                p.email
            ),
        ));
    }
    if p == old {
        return Ok(old);
    }
    p.revision += 1;
    p.updated_at = op.now;
    let changes = diff(Some(&old), Some(&p));
    let draft = op.draft(
        "practice.update",
        Target::new("practice", 0, p.name.clone()),
        changes,
    );
    op.svc.store.transact(|tx| {
        tx.put(TreeId::Meta, meta::PRACTICE, &p)?;
        append_event(tx, &draft)?;
        Ok(())
    })?;
    Ok(p)
}
