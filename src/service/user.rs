//! Staff users: list, show, add, edit, deactivate, reactivate, delete.

use std::collections::BTreeSet;

use super::fields::{opt, parse_bool, parse_num};
use super::names::Names;
use super::resolve;
use super::{
    Listing, LoginState, Op, Service, UserDetail, UserField, UserFields, UserFilter, UserSummary,
    append_event, authority, diff::diff,
};
use crate::audit::{Change, Target};
use crate::error::{Error, FieldError, Result};
use crate::model::permission::{AIDE_FORBIDDEN, TECHNICIAN_FORBIDDEN};
use crate::model::{
    BillingCategory, Credential, DataScope, Facility, FacilityAccess, Id, Invite, InviteStatus,
    LoginMethod, NotificationPrefs, ProviderProfile, Role, User, UserStatus,
};
use crate::store::{
    TreeId, Tx, TxResult, derived, id_key,
    member_index::{self, Group},
    meta, search_index,
};

/// Removes a unique key only when it is `id`'s (a duplicate left by an older release must not
/// take away the first holder's key).
fn release(tx: &Tx<'_>, key: &[u8], id: Id) -> TxResult<()> {
    if tx.get_id(TreeId::UsersByLogin, key)? == Some(id) {
        tx.remove(TreeId::UsersByLogin, key)?;
    }
    Ok(())
}

/// Rewrites a user's index entries: removes those of `old`, writes those of `new` (each derived
/// as [`Store::rebuild_indexes`](crate::store::Store::rebuild_indexes) derives it).
pub(crate) fn write_indexes(tx: &Tx<'_>, old: Option<&User>, new: Option<&User>) -> TxResult<()> {
    if let Some(o) = old {
        for login in derived::login_keys(o) {
            release(tx, &login.key, o.id)?;
        }
        for group in Group::ALL {
            member_index::set(tx, group, group.of(o), o.id, false)?;
        }
        if new.is_none() {
            search_index::set(tx, o.id, None)?;
        }
        for key in derived::head_count_keys(o) {
            tx.bump(&key, -1)?;
        }
    }
    if let Some(n) = new {
        for login in derived::login_keys(n) {
            claim(tx, &login.key, n, login.field, login.value)?;
        }
        for key in derived::head_count_keys(n) {
            tx.bump(&key, 1)?;
        }
        for group in Group::ALL {
            member_index::set(tx, group, group.of(n), n.id, true)?;
        }
        search_index::set(tx, n.id, Some(&n.search_text()))?;
    }
    Ok(())
}

/// Takes a unique login key for `user`, or refuses naming who holds it.
fn claim(tx: &Tx<'_>, key: &[u8], user: &User, field: &str, value: &str) -> TxResult<()> {
    if let Some(other) = tx.get_id(TreeId::UsersByLogin, key)?
        && other != user.id
    {
        let who = tx
            .get::<User>(TreeId::Users, &id_key(other))?
            .map(|u| format!(" ({})", u.full_name()))
            .unwrap_or_default();
        let fix = match field {
            "email" => "use another email or log in by username",
            "npi" => "an NPI identifies one provider; check it against the NPI registry",
            _ => "choose another username",
        };
        return Err(Error::invalid(
            field,
            format!("{field} {value} is already used by user #{other}{who}; {fix}"),
        )
        .into());
    }
    tx.put_raw(TreeId::UsersByLogin, key, &id_key(user.id))?;
    Ok(())
}

/// Sets or clears the practice's default doctor, refusing a second one.
fn claim_default_doctor(tx: &Tx<'_>, old: Option<&User>, new: Option<&User>) -> TxResult<()> {
    let was = old.is_some_and(|u| u.provider.default_doctor);
    let is = new.is_some_and(derived::holds_default_doctor);
    let Some(id) = new.map(|u| u.id).or(old.map(|u| u.id)) else {
        return Ok(());
    };
    let current = tx.get_id(TreeId::Meta, meta::DEFAULT_DOCTOR)?;
    if is {
        if let Some(other) = current.filter(|c| *c != id) {
            let name = tx
                .get::<User>(TreeId::Users, &id_key(other))?
                .map(|u| u.full_name())
                .unwrap_or_default();
            return Err(Error::invalid(
                "default_doctor",
                format!("#{other} {name} is already the default doctor; a practice has at most one (clear theirs first)"),
            )
            .into());
        }
        tx.put_raw(TreeId::Meta, meta::DEFAULT_DOCTOR, &id_key(id))?;
    } else if (was || current == Some(id)) && current == Some(id) {
        tx.remove(TreeId::Meta, meta::DEFAULT_DOCTOR)?;
    }
    Ok(())
}

/// Applies typed field values to `u`, collecting one message per bad field.
fn apply_fields(
    svc: &Service,
    u: &mut User,
    fields: &UserFields,
    login_given: &mut bool,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (field, value) in fields {
        let name = field.name();
        if let Err(m) = apply_one(svc, u, *field, value, login_given) {
            errs.push(FieldError::new(name, m));
        }
    }
    errs
}

fn facility_ref(svc: &Service, value: &str) -> std::result::Result<Facility, String> {
    let f = resolve::facility(svc, value).map_err(|e| e.to_string())?;
    if f.archived {
        return Err(format!(
            "facility '{}' is archived; restore it or choose an active one",
            f.name
        ));
    }
    Ok(f)
}

fn apply_one(
    svc: &Service,
    u: &mut User,
    field: UserField,
    value: &str,
    login_given: &mut bool,
) -> std::result::Result<(), String> {
    let name = field.name();
    let p = &mut u.provider;
    let n = &mut u.notifications;
    match field {
        UserField::FirstName => u.first_name = value.trim().to_string(),
        UserField::LastName => u.last_name = value.trim().to_string(),
        UserField::PublicName => u.public_name = opt(value),
        UserField::Email => u.email = value.trim().to_string(),
        UserField::ContactEmail => u.contact_email = opt(value),
        UserField::Username => u.username = opt(value).map(|v| v.to_lowercase()),
        UserField::LoginMethod => {
            *login_given = true;
            u.login_method = match value.trim().to_lowercase().as_str() {
                "email" => LoginMethod::Email,
                "username" => LoginMethod::Username,
                other => {
                    return Err(format!(
                        "login method must be email or username, not '{other}'"
                    ));
                }
            }
        }
        UserField::Role => {
            if value.trim().is_empty() {
                return Err("a role is required; pick one of the practice's roles".into());
            }
            u.role_id = resolve::role(svc, value).map_err(|e| e.to_string())?.id
        }
        UserField::Facility => {
            if value.trim().is_empty() {
                return Err(
                    "a primary facility is required; pick one of the practice's facilities".into(),
                );
            }
            u.primary_facility = facility_ref(svc, value)?.id
        }
        UserField::Billing => {
            u.billing = match value
                .trim()
                .to_lowercase()
                .replace(['-', '_'], " ")
                .as_str()
            {
                "provider" => BillingCategory::Provider,
                "assistant" | "provider assistant" | "pta" => BillingCategory::Assistant,
                "technician" | "tech" => BillingCategory::Technician,
                "none" | "" => BillingCategory::None,
                other => {
                    return Err(format!(
                        "billing must be provider, assistant, technician or none, not '{other}'"
                    ));
                }
            }
        }
        UserField::PartTime => u.part_time = parse_bool(name, value)?,
        UserField::Aide => u.aide = parse_bool(name, value)?,
        UserField::ChatUser => u.chat_user = parse_bool(name, value)?,
        UserField::DataScope | UserField::NpsScope => {
            let scope = match value.trim().to_lowercase().as_str() {
                "own" => DataScope::Own,
                "facility" => DataScope::Facility,
                "all" => DataScope::All,
                other => {
                    return Err(format!(
                        "{name} must be own, facility or all, not '{other}'"
                    ));
                }
            };
            if field == UserField::DataScope {
                u.data_scope = scope;
            } else {
                u.nps_scope = scope;
            }
        }
        UserField::Npi => p.npi = opt(value),
        UserField::Taxonomy => p.taxonomy = opt(value).map(|v| v.to_uppercase()),
        UserField::Bio => p.bio = value.trim().to_string(),
        UserField::PmsProviderId => p.pms_provider_id = opt(value),
        UserField::Capacity => p.capacity = parse_num(name, value)?,
        UserField::SchedulingStep => p.scheduling_step_minutes = parse_num(name, value)?,
        UserField::DefaultDoctor => p.default_doctor = parse_bool(name, value)?,
        UserField::CanSignForms => p.can_sign_forms = parse_bool(name, value)?,
        UserField::ShowInApp => p.show_in_app = parse_bool(name, value)?,
        UserField::Extension => p.screen_pop_extension = opt(value),
        UserField::RtmDefault => p.rtm_default = parse_bool(name, value)?,
        UserField::LocationPopup => p.location_popup = parse_bool(name, value)?,
        UserField::SecureMessaging => n.secure_messaging = parse_bool(name, value)?,
        UserField::BillableCodesEmail => n.billable_codes_email = parse_bool(name, value)?,
        UserField::NewLead => n.new_lead = parse_bool(name, value)?,
        UserField::NewIntake => n.new_intake = parse_bool(name, value)?,
        UserField::LowScoreAlert => n.low_score_alert = parse_bool(name, value)?,
        UserField::PassiveScoreAlert => n.passive_score_alert = parse_bool(name, value)?,
        UserField::PromoterScoreAlert => n.promoter_score_alert = parse_bool(name, value)?,
        UserField::DosThreshold => {
            n.dos_threshold = match opt(value) {
                None => None,
                Some(v) => Some(parse_num(name, &v)?),
            }
        }
        UserField::DefaultLocation => {
            n.default_location = match opt(value) {
                None => None,
                Some(v) => Some(facility_ref(svc, &v)?.id),
            }
        }
        UserField::Note => u.note = value.trim().to_string(),
    }
    Ok(())
}

/// Rules that need other records: role exists and suits an aide, facility active, practice email.
fn check_relations(svc: &Service, u: &User) -> Result<()> {
    let mut errs = Vec::new();
    match svc.store.get::<Role>(TreeId::Roles, &id_key(u.role_id))? {
        None => errs.push(FieldError::new(
            "role",
            "a role is required; pick one of the practice's roles",
        )),
        Some(role) => errs.extend(role_rules(u, &role)),
    }
    if svc
        .store
        .get::<Facility>(TreeId::Facilities, &id_key(u.primary_facility))?
        .is_none()
    {
        errs.push(FieldError::new(
            "facility",
            "a primary facility is required; pick one of the practice's facilities",
        ));
    }
    if u.login_method == LoginMethod::Email {
        let practice = super::practice::show(svc)?;
        if practice.email.eq_ignore_ascii_case(u.email.trim()) {
            errs.push(FieldError::new(
                "email",
                format!(
                    "{} is the practice's contact email and cannot be used to log in; use the person's own email, or log in by username",
                    u.email
                ),
            ));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errs))
    }
}

/// Rules between a user's flags and what their role grants.
pub(crate) fn role_rules(u: &User, role: &Role) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if u.aide {
        let held: Vec<&str> = AIDE_FORBIDDEN
            .iter()
            .copied()
            .filter(|k| role.permissions.contains(*k))
            .collect();
        if !held.is_empty() {
            errs.push(FieldError::new(
                "aide",
                format!(
                    "an aide cannot hold {}, which role '{}' grants; choose a role without them (e.g. Aide) or clear the aide flag",
                    held.join(" or "),
                    role.name
                ),
            ));
        }
    }
    if u.billing == BillingCategory::Technician {
        let held: Vec<&str> = TECHNICIAN_FORBIDDEN
            .iter()
            .copied()
            .filter(|k| role.permissions.contains(*k))
            .collect();
        if !held.is_empty() {
            errs.push(FieldError::new(
                "billing",
                format!(
                    "a Technician seat is free because it has no {}, which role '{}' grants; choose the Technician role, or a provider or assistant seat",
                    held.join(" or "),
                    role.name
                ),
            ));
        }
    }
    if u.provider.can_sign_forms && !role.permissions.contains("forms.sign") {
        errs.push(FieldError::new(
            "can_sign_forms",
            format!(
                "role '{}' does not grant forms.sign, so this user cannot co-sign forms; choose a role that does, or add forms.sign to the role",
                role.name
            ),
        ));
    }
    errs
}

/// A blank user, before fields are applied.
fn blank(now: jiff::Timestamp) -> User {
    User {
        id: 0,
        username: None,
        email: String::new(),
        contact_email: None,
        login_method: LoginMethod::Email,
        first_name: String::new(),
        last_name: String::new(),
        public_name: None,
        status: UserStatus::Invited,
        role_id: 0,
        billing: BillingCategory::None,
        part_time: false,
        aide: false,
        chat_user: false,
        primary_facility: 0,
        access: FacilityAccess::Only(BTreeSet::new()),
        data_scope: DataScope::Facility,
        nps_scope: DataScope::Own,
        provider: ProviderProfile::default(),
        notifications: NotificationPrefs::default(),
        note: String::new(),
        created_at: now,
        updated_at: now,
        activated_at: None,
        deactivated_at: None,
        deactivation_reason: None,
        revision: 1,
    }
}

/// Validates a user completely: each field, then the rules across records.
fn validate_all(svc: &Service, u: &User, field_errs: Vec<FieldError>) -> Result<()> {
    let mut errs = field_errs;
    if let Err(Error::Invalid(more)) = u.validate() {
        for e in more {
            if !errs.iter().any(|x| x.field == e.field) {
                errs.push(e);
            }
        }
    }
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    check_relations(svc, u)
}

/// The user that `fields` describe, checked as adding them would check them (every field,
/// the rules across records, and whether the operator may hand out the role); not yet stored.
pub(crate) fn draft_new(op: &Op<'_>, fields: &UserFields) -> Result<User> {
    let svc = op.svc;
    let mut u = blank(op.now);
    let mut login_given = false;
    let mut errs = apply_fields(svc, &mut u, fields, &mut login_given);
    if !login_given && u.username.is_some() {
        u.login_method = LoginMethod::Username;
    }
    for field in [UserField::Role, UserField::Facility] {
        let given = fields
            .iter()
            .any(|(f, v)| *f == field && !v.trim().is_empty());
        if !given && !errs.iter().any(|e| e.field == field.name()) {
            let list = if field == UserField::Role {
                "role"
            } else {
                "facility"
            };
            errs.push(FieldError::new(
                field.name(),
                format!("a {list} is required; pick one of the practice's {list}s"),
            ));
        }
    }
    validate_all(svc, &u, errs)?;
    check_role_grant(op, u.role_id)?;
    Ok(u)
}

/// Stores a drafted user (giving them an id) with their indexes, their invitation when given,
/// and the `user.create` and `invite.create` events, inside the caller's transaction.
pub(crate) fn write_new(
    tx: &Tx<'_>,
    op: &Op<'_>,
    draft: &User,
    invite: Option<&Invite>,
) -> TxResult<User> {
    let mut u = draft.clone();
    u.id = tx.next_id("user")?;
    write_indexes(tx, None, Some(&u))?;
    claim_default_doctor(tx, None, Some(&u))?;
    tx.put(TreeId::Users, &id_key(u.id), &u)?;
    let changes = diff(None, Some(&u));
    append_event(
        tx,
        &op.draft("user.create", Target::new("user", u.id, label(&u)), changes),
    )?;
    if let Some(invite) = invite {
        let mut inv = invite.clone();
        inv.user_id = u.id;
        super::invite::store(tx, &inv)?;
        append_event(
            tx,
            &op.draft(
                "invite.create",
                Target::new("user", u.id, label(&u)),
                vec![
                    Change::secret("code"),
                    Change::new("expires_at", None, Some(inv.expires_at.to_string())),
                ],
            ),
        )?;
    }
    Ok(u)
}

/// Stores many drafted users as [`write_new`] stores one, with all their events appended at
/// once (an import of thousands writes each chunk of the log once). Returns them with ids.
pub(crate) fn write_many(
    tx: &Tx<'_>,
    op: &Op<'_>,
    drafts: &[User],
    invites: &[Option<&Invite>],
) -> TxResult<Vec<User>> {
    let mut stored = Vec::with_capacity(drafts.len());
    let mut events = Vec::with_capacity(drafts.len() * 2);
    for (draft, invite) in drafts.iter().zip(invites) {
        let mut u = draft.clone();
        u.id = tx.next_id("user")?;
        write_indexes(tx, None, Some(&u))?;
        claim_default_doctor(tx, None, Some(&u))?;
        tx.put(TreeId::Users, &id_key(u.id), &u)?;
        let target = Target::new("user", u.id, label(&u));
        events.push(op.draft("user.create", target.clone(), diff(None, Some(&u))));
        if let Some(invite) = invite {
            let mut inv = (*invite).clone();
            inv.user_id = u.id;
            super::invite::store(tx, &inv)?;
            events.push(op.draft(
                "invite.create",
                target,
                vec![
                    Change::secret("code"),
                    Change::new("expires_at", None, Some(inv.expires_at.to_string())),
                ],
            ));
        }
        stored.push(u);
    }
    crate::store::audit_log::append_drafts(tx, events)?;
    Ok(stored)
}

/// Adds a user with status Invited.
pub fn add(op: &Op<'_>, fields: UserFields) -> Result<UserDetail> {
    let svc = op.svc;
    let u = draft_new(op, &fields)?;
    // Every new user is invited: a one-time code, stored only as a hash.
    let practice = super::practice::show(svc)?;
    let (invite, code) = super::invite::prepare(&practice, 0, op.now)?;
    let id = svc
        .store
        .transact(|tx| write_new(tx, op, &u, Some(&invite)).map(|u| u.id))?;
    let mut detail = show(svc, &id.to_string())?;
    detail.invitation = Some(super::invite::deliver(
        svc,
        &practice,
        &detail.user,
        code,
        invite.expires_at,
    ));
    Ok(detail)
}

/// An event a user causes about their own account (login, activation, a new device).
pub(crate) fn own_event(
    u: &User,
    origin: &crate::audit::Origin,
    at: jiff::Timestamp,
    action: &str,
    changes: Vec<Change>,
    outcome: crate::audit::Outcome,
) -> crate::audit::EventDraft {
    crate::audit::EventDraft {
        at,
        actor: crate::audit::Actor::User {
            id: u.id,
            label: label(u),
        },
        origin: origin.clone(),
        action: action.to_string(),
        target: Some(Target::new("user", u.id, label(u))),
        changes,
        outcome,
    }
}

/// The label of a user in audit targets: username, else email.
pub fn label(u: &User) -> String {
    u.username.clone().unwrap_or_else(|| u.email.clone())
}

/// Refuses a role the operator may not hand out (see [`authority::check_grantable`]).
fn check_role_grant(op: &Op<'_>, role_id: Id) -> Result<()> {
    let role: Option<Role> = op.svc.store.get(TreeId::Roles, &id_key(role_id))?;
    match role.map(|r| authority::check_grantable(&op.permissions, &r)) {
        Some(Err(m)) => Err(Error::invalid("role", m)),
        _ => Ok(()),
    }
}

/// Refuses a change that would leave the practice without an active full administrator.
fn keep_an_administrator(svc: &Service, old: &User, field: &str) -> Result<()> {
    if old.status == UserStatus::Active
        && authority::is_full_administrator(svc, old)?
        && authority::other_active_administrators(svc, old.id)? == 0
    {
        return Err(Error::invalid(
            field,
            format!(
                "{} is the last active administrator (the only one whose role grants admin.users and admin.settings); give someone else such a role first",
                old.full_name()
            ),
        ));
    }
    Ok(())
}

/// Writes a changed user with its indexes and one audit event.
fn save(
    op: &Op<'_>,
    old: &User,
    mut u: User,
    action: &str,
    extra: Vec<Change>,
    revoke: &[Invite],
) -> Result<UserDetail> {
    u.revision = old.revision + 1;
    u.updated_at = op.now;
    let mut changes = diff(Some(old), Some(&u));
    changes.extend(extra);
    let draft = op.draft(action, Target::new("user", u.id, label(&u)), changes);
    op.svc.store.transact(|tx| {
        write_indexes(tx, Some(old), Some(&u))?;
        claim_default_doctor(tx, Some(old), Some(&u))?;
        tx.put(TreeId::Users, &id_key(u.id), &u)?;
        for inv in revoke {
            let mut inv = inv.clone();
            inv.status = InviteStatus::Revoked;
            tx.put(TreeId::Invites, &id_key(inv.id), &inv)?;
        }
        append_event(tx, &draft)?;
        Ok(())
    })?;
    show(op.svc, &u.id.to_string())
}

/// Edits a user's fields.
pub fn edit(op: &Op<'_>, reference: &str, fields: UserFields) -> Result<UserDetail> {
    let svc = op.svc;
    let old = resolve::user(svc, reference)?;
    let mut u = old.clone();
    let mut login_given = false;
    let errs = apply_fields(svc, &mut u, &fields, &mut login_given);
    validate_all(svc, &u, errs)?;
    if u.role_id != old.role_id {
        check_role_grant(op, u.role_id)?;
        let still = svc
            .store
            .get::<Role>(TreeId::Roles, &id_key(u.role_id))?
            .is_some_and(|r| authority::is_administrative(&r));
        if !still {
            keep_an_administrator(svc, &old, "role")?;
        }
    }
    if u == old {
        return show(svc, &old.id.to_string());
    }
    save(op, &old, u, "user.update", Vec::new(), &[])
}

/// Deactivates a user: login refused from now on, invitations revoked, everything else kept.
pub fn deactivate(op: &Op<'_>, reference: &str, reason: &str) -> Result<UserDetail> {
    let svc = op.svc;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            "a reason is required (e.g. \"left the practice 2026-11-30\")",
        ));
    }
    crate::model::validate::free_text("reason", reason, 500)
        .map_err(|m| Error::invalid("reason", m))?;
    let old = resolve::user(svc, reference)?;
    if old.status == UserStatus::Deactivated {
        return Err(Error::Conflict(format!(
            "{} (#{}) is already deactivated",
            old.full_name(),
            old.id
        )));
    }
    if old.id == op.operator.id {
        return Err(Error::Conflict(
            "you cannot deactivate your own account; ask another administrator".into(),
        ));
    }
    keep_an_administrator(svc, &old, "status").map_err(|e| match e {
        Error::Invalid(f) => Error::Conflict(f.into_iter().map(|f| f.message).collect()),
        other => other,
    })?;
    let mut u = old.clone();
    u.status = UserStatus::Deactivated;
    u.deactivated_at = Some(op.now);
    u.deactivation_reason = Some(reason.to_string());
    let pending: Vec<Invite> = invites_of(svc, u.id)?
        .into_iter()
        .filter(|i| i.status == InviteStatus::Pending)
        .collect();
    let extra = if pending.is_empty() {
        Vec::new()
    } else {
        vec![Change::new(
            "invites_revoked",
            None,
            Some(pending.len().to_string()),
        )]
    };
    save(op, &old, u, "user.deactivate", extra, &pending)
}

/// A user's invitations.
pub fn invites_of(svc: &Service, user: Id) -> Result<Vec<Invite>> {
    let mut out = Vec::new();
    for item in svc.store.scan::<Invite>(TreeId::Invites) {
        if let Ok(inv) = item?
            && inv.user_id == user
        {
            out.push(inv);
        }
    }
    Ok(out)
}

/// Reactivates a deactivated user (Active if they had activated before, else Invited).
pub fn reactivate(op: &Op<'_>, reference: &str) -> Result<UserDetail> {
    let old = resolve::user(op.svc, reference)?;
    if old.status != UserStatus::Deactivated {
        return Err(Error::Conflict(format!(
            "{} (#{}) is {}, not deactivated",
            old.full_name(),
            old.id,
            old.status.as_str()
        )));
    }
    let mut u = old.clone();
    u.status = if u.activated_at.is_some() {
        UserStatus::Active
    } else {
        UserStatus::Invited
    };
    u.deactivated_at = None;
    u.deactivation_reason = None;
    check_relations(op.svc, &u)?;
    save(op, &old, u, "user.reactivate", Vec::new(), &[])
}

/// Deletes a user who never activated and is not deactivated (deactivation keeps the user).
/// The audit trail keeps the record of them.
pub fn delete(op: &Op<'_>, reference: &str) -> Result<(Id, String)> {
    let svc = op.svc;
    let u = resolve::user(svc, reference)?;
    if u.activated_at.is_some() {
        return Err(Error::Conflict(format!(
            "{} (#{}) has activated their account, so it cannot be deleted; deactivate it instead (`staffctl user deactivate {} --reason ...`)",
            u.full_name(),
            u.id,
            u.id
        )));
    }
    if u.status == UserStatus::Deactivated {
        return Err(Error::Conflict(format!(
            "{} (#{}) is deactivated; deactivated users are kept with their history (reactivate them to delete an unused invitation)",
            u.full_name(),
            u.id
        )));
    }
    if u.id == op.operator.id {
        return Err(Error::Conflict("you cannot delete your own account".into()));
    }
    let invites = invites_of(svc, u.id)?;
    let draft = op.draft(
        "user.delete",
        Target::new("user", u.id, label(&u)),
        diff(Some(&u), None),
    );
    svc.store.transact(|tx| {
        write_indexes(tx, Some(&u), None)?;
        claim_default_doctor(tx, Some(&u), None)?;
        tx.remove(TreeId::Users, &id_key(u.id))?;
        tx.remove(TreeId::Credentials, &id_key(u.id))?;
        for inv in &invites {
            tx.remove(TreeId::Invites, &id_key(inv.id))?;
        }
        append_event(tx, &draft)?;
        Ok(())
    })?;
    Ok((u.id, u.full_name()))
}

fn summary(u: User, login: &LoginState, names: &Names, admins: &BTreeSet<Id>) -> UserSummary {
    UserSummary {
        id: u.id,
        name: u.full_name(),
        role: names.role(u.role_id),
        facility: names.facility(u.primary_facility),
        status: u.status,
        locked: login.locked_until.is_some(),
        billing: u.billing,
        admin: admins.contains(&u.role_id),
        npi: u.provider.npi,
        last_login_at: login.last_login_at,
        username: u.username,
        email: u.email,
        public_name: u.public_name,
    }
}

/// A user's login bookkeeping, from their credential (no secrets).
pub(crate) fn login_state(svc: &Service, id: Id, now: jiff::Timestamp) -> Result<LoginState> {
    let cred: Option<Credential> = svc.store.get(TreeId::Credentials, &id_key(id))?;
    Ok(LoginState::of(cred.as_ref(), now))
}

/// Lists users matching the filter, in id order.
pub fn list(svc: &Service, filter: &UserFilter) -> Result<Listing<UserSummary>> {
    let names = Names::load(svc)?;
    let role = filter
        .role
        .as_deref()
        .map(|r| resolve::role(svc, r))
        .transpose()?;
    let facility = filter
        .facility
        .as_deref()
        .map(|f| resolve::facility(svc, f))
        .transpose()?;
    let now = svc.now();
    let admins = names.operator_roles.clone();
    let keep = |u: &User| {
        filter.status.is_none_or(|s| u.status == s)
            && role.as_ref().is_none_or(|r| u.role_id == r.id)
            && facility.as_ref().is_none_or(|f| u.can_access(f.id))
    };
    let mut out = Listing::default();
    let needle = filter
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    if let Some(needle) = needle {
        // Scan the compact search index first and decode only the users that match.
        for id in search_index::matching(&svc.store, &needle)? {
            match svc.store.get::<User>(TreeId::Users, &id_key(id)) {
                Ok(Some(u)) if keep(&u) => {
                    let login = login_state(svc, u.id, now)?;
                    out.items.push(summary(u, &login, &names, &admins));
                }
                Ok(_) => {}
                Err(e) => out.unreadable.push(super::UnreadableRecord {
                    tree: "users".into(),
                    key: hex::encode(id_key(id)),
                    problem: e.to_string(),
                }),
            }
        }
        return Ok(out);
    }
    // Unfiltered, the list holds every user. Every user holds one role, so the per-role head
    // counts add up to that number: sizing the list once avoids holding two copies of it
    // while it grows.
    if filter.status.is_none() && role.is_none() && facility.is_none() {
        let users: u64 = svc
            .store
            .scan_prefix_raw(TreeId::Meta, b"count:role:")
            .filter_map(|item| item.ok().and_then(|(_, v)| crate::store::key_id(&v)))
            .sum();
        out.items
            .reserve(usize::try_from(users).unwrap_or(0).min(10_000_000));
    }
    // Credentials are keyed like users, so one pass over each tree in step pairs them up.
    let mut creds = svc.store.scan::<Credential>(TreeId::Credentials).peekable();
    for item in svc.store.scan::<User>(TreeId::Users) {
        match item? {
            Ok(u) if keep(&u) => {
                let mut cred = None;
                while let Some(next) = creds.peek() {
                    match next {
                        Ok(Ok(c)) if c.user_id < u.id => {}
                        Ok(Ok(c)) if c.user_id == u.id => {
                            if let Some(Ok(Ok(c))) = creds.next() {
                                cred = Some(c);
                            }
                            break;
                        }
                        Ok(Ok(_)) => break,
                        // An unreadable credential shows as no login; the users tree is what
                        // the listing reports on.
                        Ok(Err(_)) | Err(_) => {}
                    }
                    creds.next();
                }
                let login = LoginState::of(cred.as_ref(), now);
                out.items.push(summary(u, &login, &names, &admins));
            }
            Ok(_) => {}
            Err(bad) => out.unreadable.push(bad.into()),
        }
    }
    Ok(out)
}

/// Everything about one user.
pub fn show(svc: &Service, reference: &str) -> Result<UserDetail> {
    let user = resolve::user(svc, reference)?;
    let names = Names::load(svc)?;
    let permissions = authority::permissions_of(svc, &user)?.into_iter().collect();
    let access = match &user.access {
        FacilityAccess::All => vec!["all".to_string()],
        FacilityAccess::Only(set) => {
            let mut ids: BTreeSet<Id> = set.clone();
            ids.insert(user.primary_facility);
            ids.into_iter().map(|id| names.facility(id)).collect()
        }
    };
    Ok(UserDetail {
        status: user.status,
        role: names.role(user.role_id),
        facility: names.facility(user.primary_facility),
        access,
        permissions,
        history: super::history::of(svc, "user", user.id)?,
        invitation: None,
        login: login_state(svc, user.id, svc.now())?,
        default_location: user
            .notifications
            .default_location
            .map(|id| names.facility(id)),
        user,
    })
}

/// Saves a change of facility access (audited as `action`).
pub(crate) fn save_access(op: &Op<'_>, old: &User, u: User, action: &str) -> Result<UserDetail> {
    save(op, old, u, action, Vec::new(), &[])
}

/// Unlocks an account locked after failed logins and forgets its failures. Only the credential
/// changes: the profile (and its revision) stays as it is.
pub fn unlock(op: &Op<'_>, reference: &str) -> Result<UserDetail> {
    let svc = op.svc;
    let u = resolve::user(svc, reference)?;
    let cred: Option<Credential> = svc.store.get(TreeId::Credentials, &id_key(u.id))?;
    let failures = cred.as_ref().map_or(0, |c| c.failed_logins);
    let locked_until = cred
        .as_ref()
        .and_then(|c| c.locked_until)
        .filter(|t| *t > op.now);
    let Some(mut c) = cred.filter(|_| locked_until.is_some() || failures > 0) else {
        return Err(Error::Conflict(format!(
            "{} (#{}) is not locked",
            u.full_name(),
            u.id
        )));
    };
    let mut changes = Vec::new();
    if let Some(t) = locked_until {
        changes.push(Change::new("locked_until", Some(t.to_string()), None));
    }
    changes.push(Change::new(
        "failed_logins",
        Some(failures.to_string()),
        Some("0".into()),
    ));
    c.clear_failures();
    c.locked_until = None;
    let draft = op.draft("user.unlock", Target::new("user", u.id, label(&u)), changes);
    svc.store.transact(|tx| {
        tx.put(TreeId::Credentials, &id_key(c.user_id), &c)?;
        append_event(tx, &draft)?;
        Ok(())
    })?;
    show(svc, &u.id.to_string())
}
