use jiff::Timestamp;

use super::*;
use crate::audit::AuditEvent;
use crate::model::{InviteStatus, User, UserStatus};
use crate::service::{
    InviteView, OpenOptions, Request, Response, UserField, UserFilter, UserSummary, label,
};
use crate::store::{TreeId, audit_log, id_key};

fn init_request() -> InitRequest {
    InitRequest {
        practice_name: "Riverside Physio".into(),
        practice_email: "office@riverside.example".into(),
        facility: "Main Street".into(),
        admin_username: "admin".into(),
        admin_email: "owner@riverside.example".into(),
        admin_first: "Pat".into(),
        admin_last: "Owner".into(),
        admin_password: "correct horse battery staple".into(),
    }
}

fn open(dir: &std::path::Path) -> Service {
    Service::open(
        dir,
        &OpenOptions {
            cache_bytes: 16 << 20,
            create: true,
        },
    )
    .unwrap()
}

fn small() -> Spec {
    Spec {
        facilities: 2,
        users: 50,
        events: 500,
        batch: 64,
        end: Some(Timestamp::from_second(1_760_000_000).unwrap()),
        ..Spec::default()
    }
}

fn events(svc: &Service) -> Vec<AuditEvent> {
    let head = match svc
        .store()
        .get_raw(TreeId::Meta, crate::store::meta::AUDIT_HEAD)
    {
        Ok(Some(raw)) => crate::store::key_id(&raw).unwrap(),
        other => panic!("{other:?}"),
    };
    audit_log::chunks(svc.store(), head, false)
        .flat_map(|c| audit_log::decode(&c.unwrap().1).unwrap())
        .collect()
}

fn users(svc: &Service, session: &Session) -> Vec<UserSummary> {
    match svc
        .call(session, Request::UserList(UserFilter::default()))
        .unwrap()
    {
        Response::Users(l) => {
            assert!(l.unreadable.is_empty());
            l.items
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_history_starts_with_init_and_ends_at_the_end_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let svc = open(dir.path());
    let spec = small();
    let made = generate(&svc, &init_request(), &spec).unwrap();
    let end = spec.end.unwrap();
    assert_eq!(made.span.1, end);
    assert_eq!(
        made.span.0,
        end.checked_sub(jiff::SignedDuration::from_hours(24 * 365))
            .unwrap()
    );
    let log = events(&svc);
    assert_eq!(log.len() as u64, made.head.seq);
    assert_eq!(log[0].action, "practice.create");
    assert_eq!(log[0].at(), made.span.0, "init is dated at the start");
    for pair in log.windows(2) {
        assert!(
            pair[0].at() <= pair[1].at(),
            "{:?} then {:?}",
            pair[0],
            pair[1]
        );
    }
    let last = log.last().unwrap().at();
    assert!(last <= end, "{last} is after the end {end}");
    // The history reaches the end: the lockouts of the last minutes.
    assert!(end.duration_since(last) < jiff::SignedDuration::from_mins(15));
    // And it is spread over the year, not bunched at one end.
    let mid = made.span.0.as_second() + (end.as_second() - made.span.0.as_second()) / 2;
    let early = log.iter().filter(|e| e.at().as_second() < mid).count();
    assert!(
        early > log.len() / 4 && early < log.len() * 3 / 4,
        "{early}"
    );
}

#[test]
fn a_generated_practice_has_every_status_and_its_indexes_agree() {
    let dir = tempfile::tempdir().unwrap();
    let svc = open(dir.path());
    let made = generate(&svc, &init_request(), &small()).unwrap();
    let session = &made.session;
    assert_eq!((made.users, made.facilities, made.events), (50, 2, 500));

    let verify = match svc
        .call(session, Request::AuditVerify { expect: None })
        .unwrap()
    {
        Response::Verify(v) => v,
        other => panic!("{other:?}"),
    };
    assert!(verify.ok, "{verify:?}");
    assert_eq!(verify.head_seq, made.head.seq);
    assert_eq!(verify.head_hash, made.head.hash);

    let list = users(&svc, session);
    assert_eq!(list.len(), 51);
    let with = |s: UserStatus| list.iter().filter(|u| u.status == s).count();
    assert!(with(UserStatus::Active) > 30, "most staff are active");
    assert!(with(UserStatus::Invited) >= 1);
    assert!(with(UserStatus::Deactivated) >= 1);
    let logged_in = list
        .iter()
        .filter(|u| u.status == UserStatus::Active && u.last_login_at.is_some())
        .count();
    assert!(
        logged_in * 10 >= with(UserStatus::Active) * 7,
        "{logged_in} logged in"
    );
    // The lockouts of the last minutes still hold at the end.
    assert_eq!(made.locked.len(), 3);
    svc.pin_clock(
        made.span
            .1
            .checked_sub(jiff::SignedDuration::from_secs(1))
            .ok(),
    );
    let locked: Vec<_> = users(&svc, session)
        .into_iter()
        .filter(|u| u.locked)
        .map(|u| u.id)
        .collect();
    svc.pin_clock(None);
    let mut expected = made.locked.clone();
    expected.sort_unstable();
    assert_eq!(locked, expected);
    let mut deactivated: Vec<_> = list
        .iter()
        .filter(|u| u.status == UserStatus::Deactivated)
        .map(|u| u.id)
        .collect();
    deactivated.sort_unstable();
    assert_eq!(deactivated, made.deactivated);

    let store = svc.store();
    for row in &list {
        let u: User = store.get(TreeId::Users, &id_key(row.id)).unwrap().unwrap();
        if u.status == UserStatus::Deactivated {
            assert!(u.deactivation_reason.is_some(), "#{} has no reason", u.id);
        }
        let shown = match svc.call(session, Request::UserShow(label(&u))).unwrap() {
            Response::User(d) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(shown.user.id, u.id);
        let first = &shown.history.first().unwrap().action;
        assert_eq!(
            first, "user.create",
            "#{}'s history starts with its creation",
            u.id
        );
        if u.id > 1 {
            assert_eq!(shown.history[1].action, "invite.create");
        }
        if u.activated_at.is_some() && u.id > 1 {
            assert!(shown.history.iter().any(|h| h.action == "user.activate"));
        }
    }
    // Every invited user has a pending invitation (expired or not); activated users accepted
    // theirs.
    let invites: Vec<InviteView> = match svc.call(session, Request::InviteList).unwrap() {
        Response::Invites(l) => l.items,
        other => panic!("{other:?}"),
    };
    assert_eq!(invites.len(), 50);
    for inv in &invites {
        let u = list.iter().find(|u| u.id == inv.user_id).unwrap();
        match u.status {
            UserStatus::Invited => assert!(matches!(
                inv.status,
                InviteStatus::Pending | InviteStatus::Expired
            )),
            UserStatus::Active => assert_eq!(inv.status, InviteStatus::Accepted),
            UserStatus::Deactivated => assert!(matches!(
                inv.status,
                InviteStatus::Accepted | InviteStatus::Revoked
            )),
        }
    }
    // Derived indexes are what a rebuild writes: generating left nothing to repair.
    assert!(store.rebuild_indexes().unwrap().problems.is_empty());
}

#[test]
fn the_service_carries_on_from_a_generated_practice() {
    let dir = tempfile::tempdir().unwrap();
    let svc = open(dir.path());
    let made = generate(&svc, &init_request(), &small()).unwrap();
    let session = &made.session;
    let list = users(&svc, session);
    let add = |email: &str| {
        svc.call(
            session,
            Request::UserAdd(vec![
                (UserField::FirstName, "Nora".into()),
                (UserField::LastName, "New".into()),
                (UserField::Email, email.into()),
                (UserField::Role, "Provider".into()),
                (UserField::Facility, "Downtown".into()),
            ]),
        )
    };
    match add("nora@new.example").unwrap() {
        Response::User(d) => assert_eq!(d.user.id, 52),
        other => panic!("{other:?}"),
    }
    let taken = list
        .iter()
        .find_map(|r| {
            let u: User = svc
                .store()
                .get(TreeId::Users, &id_key(r.id))
                .unwrap()
                .unwrap();
            u.login_email().map(str::to_string)
        })
        .unwrap();
    let err = add(&taken.to_uppercase()).unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");
    let again = match svc
        .call(session, Request::AuditVerify { expect: None })
        .unwrap()
    {
        Response::Verify(v) => v,
        other => panic!("{other:?}"),
    };
    assert!(again.ok, "{again:?}");
    // user.create and invite.create for the new user, and the refused duplicate.
    assert_eq!(again.checked, made.head.seq + 3);
}

#[test]
fn generated_staff_log_in_with_the_fixture_password() {
    let dir = tempfile::tempdir().unwrap();
    let svc = open(dir.path());
    let spec = Spec {
        facilities: 1,
        users: 20,
        events: 100,
        lockouts: 0,
        ..Spec::default()
    };
    generate(&svc, &init_request(), &spec).unwrap();
    let active = svc
        .store()
        .scan::<User>(TreeId::Users)
        .filter_map(|u| u.unwrap().ok())
        .find(|u| u.id > 1 && u.status == UserStatus::Active)
        .unwrap();
    let session = svc
        .login(&label(&active), DEFAULT_STAFF_PASSWORD, &Origin::default())
        .unwrap();
    assert_eq!(session.user_id(), active.id);
}

#[test]
fn the_same_seed_and_end_give_the_same_history() {
    let heads: Vec<AuditHead> = (0..2)
        .map(|_| {
            let dir = tempfile::tempdir().unwrap();
            let svc = open(dir.path());
            generate(&svc, &init_request(), &small()).unwrap().head
        })
        .collect();
    assert_eq!(heads[0], heads[1]);
    let dir = tempfile::tempdir().unwrap();
    let svc = open(dir.path());
    let other = Spec { seed: 7, ..small() };
    assert_ne!(
        generate(&svc, &init_request(), &other).unwrap().head,
        heads[0]
    );
}

#[test]
fn an_initialised_store_or_an_impossible_span_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let svc = open(dir.path());
    let bad = Spec {
        span_days: 0,
        ..small()
    };
    let err = generate(&svc, &init_request(), &bad).unwrap_err();
    assert!(err.to_string().contains("1 to 36,500 days"), "{err}");
    assert!(!svc.is_initialised().unwrap(), "nothing was written");
    let early = Spec {
        end: Some(Timestamp::MIN),
        ..small()
    };
    assert!(generate(&svc, &init_request(), &early).is_err());
    generate(&svc, &init_request(), &small()).unwrap();
    let err = generate(&svc, &init_request(), &small()).unwrap_err();
    assert!(err.to_string().contains("already initialised"), "{err}");
}

#[test]
fn a_spec_never_shows_the_staff_password() {
    let shown = format!("{:?}", Spec::default());
    assert!(!shown.contains(DEFAULT_STAFF_PASSWORD), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}
