//! Invitations and activation: a new user gets a one-time code (stored only as an argon2 hash)
//! that is shown once to the operator and, when the practice has a mail command, mailed to the
//! person. With the code they choose their own password and the account becomes Active.

use jiff::{SignedDuration, Timestamp};

use super::{
    Invitation, InviteView, Listing, OneTimeCode, Op, Service, append_event, resolve, user,
};
use crate::audit::{Actor, Change, EventDraft, Origin, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::{Credential, Id, Invite, InviteStatus, Practice, User, UserStatus};
use crate::security::{code, password};
use crate::store::{TreeId, Tx, TxResult, id_key};

/// A new invitation for `user`: the record to store and the clear code to hand over.
pub(crate) fn prepare(
    practice: &Practice,
    user_id: Id,
    now: Timestamp,
) -> Result<(Invite, OneTimeCode)> {
    let clear = code::generate()?;
    let hash = password::hash_code(&code::normalise(&clear));
    let expires_at = now
        .checked_add(SignedDuration::from_hours(i64::from(
            practice.invite_expiry_hours,
        )))
        .map_err(|e| Error::Storage(format!("invitation expiry out of range: {e}")))?;
    Ok((
        Invite {
            id: 0,
            user_id,
            code_hash: hash,
            created_at: now,
            expires_at,
            last_sent_at: now,
            send_count: 1,
            status: InviteStatus::Pending,
        },
        OneTimeCode(clear),
    ))
}

/// Stores a prepared invitation inside the caller's transaction and returns its id.
pub(crate) fn store(tx: &Tx<'_>, invite: &Invite) -> TxResult<Id> {
    let mut inv = invite.clone();
    if inv.id == 0 {
        inv.id = tx.next_id("invite")?;
    }
    tx.put(TreeId::Invites, &id_key(inv.id), &inv)?;
    Ok(inv.id)
}

/// The status as people see it: a pending invitation past its expiry is Expired.
fn effective(inv: &Invite, now: Timestamp) -> InviteStatus {
    if inv.status == InviteStatus::Pending && inv.expires_at <= now {
        InviteStatus::Expired
    } else {
        inv.status
    }
}

/// The newest invitation of a user.
fn latest(svc: &Service, user_id: Id) -> Result<Option<Invite>> {
    Ok(user::invites_of(svc, user_id)?
        .into_iter()
        .max_by_key(|i| i.id))
}

/// Every user's newest invitation.
pub fn list(svc: &Service) -> Result<Listing<InviteView>> {
    let now = svc.now();
    let mut newest: std::collections::BTreeMap<Id, Invite> = std::collections::BTreeMap::new();
    let mut out = Listing::default();
    for item in svc.store.scan::<Invite>(TreeId::Invites) {
        match item? {
            Ok(inv) => {
                if newest.get(&inv.user_id).is_none_or(|old| old.id < inv.id) {
                    newest.insert(inv.user_id, inv);
                }
            }
            Err(bad) => out.unreadable.push(bad.into()),
        }
    }
    for inv in newest.into_values() {
        let Some(u) = svc.store.get::<User>(TreeId::Users, &id_key(inv.user_id))? else {
            continue;
        };
        out.items.push(InviteView {
            user_id: u.id,
            name: u.full_name(),
            email: u.email.clone(),
            status: effective(&inv, now),
            send_count: inv.send_count,
            last_sent_at: inv.last_sent_at,
            expires_at: inv.expires_at,
        });
    }
    Ok(out)
}

/// Sends the invitation again with a new code, unless the cool-down has not passed.
pub fn resend(op: &Op<'_>, reference: &str) -> Result<super::UserDetail> {
    let svc = op.svc;
    let u = resolve::user(svc, reference)?;
    if u.status != UserStatus::Invited {
        return Err(Error::Conflict(format!(
            "{} (#{}) is {}; only invited users get invitations",
            u.full_name(),
            u.id,
            u.status.as_str()
        )));
    }
    let practice = super::practice::show(svc)?;
    let previous = latest(svc, u.id)?;
    if let Some(prev) = &previous {
        let cooldown = SignedDuration::from_mins(i64::from(practice.invite_cooldown_minutes));
        let since = op.now.duration_since(prev.last_sent_at);
        if prev.status != InviteStatus::Revoked && since < cooldown {
            let wait = ((cooldown - since).as_secs() + 59) / 60;
            return Err(Error::Conflict(format!(
                "the invitation to {} was sent at {}; it can be sent again in {wait} minute(s) (cool-down {} minutes)",
                u.full_name(),
                prev.last_sent_at.strftime("%H:%M UTC"),
                practice.invite_cooldown_minutes
            )));
        }
    }
    let (mut invite, code) = prepare(&practice, u.id, op.now)?;
    let mut changes = vec![Change::secret("code")];
    if let Some(prev) = &previous {
        // Same record, new code: the old code stops working.
        invite.id = prev.id;
        invite.created_at = prev.created_at;
        invite.send_count = prev.send_count + 1;
        changes.push(Change::new(
            "send_count",
            Some(prev.send_count.to_string()),
            Some(invite.send_count.to_string()),
        ));
    }
    changes.push(Change::new(
        "expires_at",
        None,
        Some(invite.expires_at.to_string()),
    ));
    let draft = op.draft(
        "invite.resend",
        Target::new("user", u.id, user::label(&u)),
        changes,
    );
    svc.store.transact(|tx| {
        store(tx, &invite)?;
        append_event(tx, &draft)?;
        Ok(())
    })?;
    let mut detail = user::show(svc, &u.id.to_string())?;
    detail.invitation = Some(deliver(svc, &practice, &u, code, invite.expires_at));
    Ok(detail)
}

/// Withdraws a pending invitation.
pub fn revoke(op: &Op<'_>, reference: &str) -> Result<super::UserDetail> {
    let svc = op.svc;
    let u = resolve::user(svc, reference)?;
    let Some(mut inv) =
        latest(svc, u.id)?.filter(|i| effective(i, op.now) == InviteStatus::Pending)
    else {
        return Err(Error::Conflict(format!(
            "{} (#{}) has no pending invitation",
            u.full_name(),
            u.id
        )));
    };
    inv.status = InviteStatus::Revoked;
    let draft = op.draft(
        "invite.revoke",
        Target::new("user", u.id, user::label(&u)),
        vec![Change::new(
            "invite",
            Some("pending".into()),
            Some("revoked".into()),
        )],
    );
    svc.store.transact(|tx| {
        store(tx, &inv)?;
        append_event(tx, &draft)?;
        Ok(())
    })?;
    user::show(svc, &u.id.to_string())
}

/// Hands the code over: always back to the operator, and by mail when the server has a mail
/// command. A failed mail is reported, never fatal: the invitation stays valid.
pub(crate) fn deliver(
    svc: &Service,
    practice: &Practice,
    u: &User,
    code: OneTimeCode,
    expires_at: Timestamp,
) -> Invitation {
    let mail = svc.mail.command.as_deref().map(|cmd| {
        invitation_mail(svc, practice, u, &code, expires_at)
            .and_then(|m| super::mail::send(cmd, &m))
    });
    Invitation {
        code,
        expires_at,
        mail,
    }
}

/// The invitation as an RFC 5322 message to the user's mail address.
fn invitation_mail(
    svc: &Service,
    practice: &Practice,
    u: &User,
    code: &OneTimeCode,
    expires_at: Timestamp,
) -> std::result::Result<Vec<u8>, String> {
    let login = u.username.clone().unwrap_or_else(|| u.email.clone());
    let body = format!(
        "Hello {first},\n\n{practice} has created a staff account for you.\n\n\
         Your activation code: {code}\n\
         Your login: {login}\n\
         The code works once and expires {expires}.\n\n\
         To activate, run `staffctl activate` on the practice server (or press F2, \"activate\n\
         account\", on the staffctl login screen), give your login and this code, and choose your\n\
         password.\n\n\
         If you did not expect this message, tell your practice's IT contact.\n",
        first = u.first_name,
        practice = practice.name,
        code = code.0,
        expires = svc.clock_text(expires_at),
    );
    super::mail::message(
        practice,
        &[(u.full_name(), u.mail_address().to_string())],
        &format!("Your {} staff account", practice.name),
        body,
    )
}

impl Service {
    /// Activates an invited account: `login` (username or email), the invitation code and a new
    /// password. Every attempt is audited; the caller learns only that it failed.
    pub fn activate(
        &self,
        login: &str,
        typed_code: &str,
        new_password: &str,
        origin: &Origin,
    ) -> Result<()> {
        let _guard = self.lock_writes();
        let now = self.now();
        let label = crate::security::sanitize::for_terminal(login.trim())
            .chars()
            .take(120)
            .collect::<String>();
        let found: Option<User> = resolve::by_login(self, &label)?;
        let invite = match &found {
            Some(u) => latest(self, u.id)?,
            None => None,
        };
        let code_ok = invite
            .as_ref()
            .is_some_and(|i| password::verify_code(&i.code_hash, &code::normalise(typed_code)));
        let reason = match (&found, &invite) {
            (None, _) => Some("no such user".to_string()),
            (Some(u), _) if u.status != UserStatus::Invited => {
                Some(format!("account is {}", u.status.as_str()))
            }
            (Some(_), None) => Some("no invitation".to_string()),
            (Some(_), Some(i)) if effective(i, now) != InviteStatus::Pending => {
                Some(format!("invitation is {}", effective(i, now).as_str()))
            }
            (Some(_), Some(_)) if !code_ok => Some("wrong code".to_string()),
            _ => None,
        };
        let failed = |why: String, target: Option<&User>| EventDraft {
            at: now,
            actor: Actor::Anonymous {
                label: label.clone(),
            },
            origin: origin.clone(),
            action: "auth.activate_failed".into(),
            target: target.map(|u| Target::new("user", u.id, user::label(u))),
            changes: Vec::new(),
            outcome: Outcome::Denied(why),
        };
        let refused = || {
            Error::Denied(
                "activation failed: the login, the code or the invitation is not valid (ask an administrator to send a new invitation)"
                    .into(),
            )
        };
        if let Some(why) = reason {
            self.record(failed(why, found.as_ref()))?;
            return Err(refused());
        }
        let (Some(u), Some(mut inv)) = (found, invite) else {
            return Err(refused());
        };
        let practice = super::practice::show(self)?;
        password::check_policy(
            new_password,
            practice.password_min_length,
            u.username.as_deref(),
            &u.email,
        )?;
        let hash = password::hash(new_password)?;
        let mut active = u.clone();
        active.status = UserStatus::Active;
        active.activated_at = Some(now);
        active.revision += 1;
        active.updated_at = now;
        inv.status = InviteStatus::Accepted;
        let mut changes = super::diff::diff(Some(&u), Some(&active));
        changes.push(Change::secret("password"));
        let draft = user::own_event(&u, origin, now, "user.activate", changes, Outcome::Success);
        self.store.transact(|tx| {
            user::write_indexes(tx, Some(&u), Some(&active))?;
            tx.put(TreeId::Users, &id_key(active.id), &active)?;
            let cred = Credential::new(u.id, Some(hash.clone()));
            tx.put(TreeId::Credentials, &id_key(u.id), &cred)?;
            store(tx, &inv)?;
            append_event(tx, &draft)?;
            Ok(())
        })?;
        Ok(())
    }
}
