use super::*;
use crate::model::{InviteStatus, UserStatus};
use crate::service::{UserFilter, UserSummary};
use crate::store::{TreeId, audit_log, key_id, meta};

struct Demo {
    svc: Service,
    admin: Session,
    before: Timestamp,
    after: Timestamp,
    _dir: tempfile::TempDir,
}

fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::open(dir.path(), &OpenOptions::default()).unwrap();
    let before = Timestamp::now();
    let admin = populate(&svc).unwrap();
    let after = Timestamp::now();
    Demo {
        svc,
        admin,
        before,
        after,
        _dir: dir,
    }
}

fn users(d: &Demo) -> Vec<UserSummary> {
    match d
        .svc
        .call(&d.admin, Request::UserList(UserFilter::default()))
        .unwrap()
    {
        Response::Users(l) => l.items,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_history_is_intact_in_time_order_and_ends_now() {
    let d = demo();
    let verify = match d
        .svc
        .call(&d.admin, Request::AuditVerify { expect: None })
        .unwrap()
    {
        Response::Verify(v) => v,
        other => panic!("{other:?}"),
    };
    assert!(verify.ok, "{verify:?}");
    let head = key_id(
        &d.svc
            .store()
            .get_raw(TreeId::Meta, meta::AUDIT_HEAD)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let history: Vec<_> = audit_log::chunks(d.svc.store(), head, false)
        .flat_map(|c| audit_log::decode(&c.unwrap().1).unwrap())
        .collect();
    assert_eq!(history.len() as u64, verify.checked);
    let times: Vec<Timestamp> = history.iter().map(|e| e.at()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "times go back");
    assert!(
        *times.last().unwrap() <= d.after,
        "an event lies in the future"
    );
    let months = SignedDuration::from_hours(24 * script::HISTORY_DAYS);
    let start = d.before.checked_sub(months).unwrap();
    assert!(times[0] >= start && times[0] <= d.after.checked_sub(months).unwrap());
    assert_eq!(history[0].action, "practice.create");
    // Spread over the months, ending minutes ago.
    let last = *times.last().unwrap();
    assert!(d.before.duration_since(last) < SignedDuration::from_mins(5));
    let first_half = times
        .iter()
        .filter(|t| t.duration_since(start) < months / 2)
        .count();
    assert!(
        first_half > times.len() / 4,
        "{first_half} of {}",
        times.len()
    );
}

#[test]
fn the_staff_look_like_a_practice() {
    let d = demo();
    let list = users(&d);
    assert_eq!(list.len(), 1 + script::STAFF);
    let with = |s: UserStatus| list.iter().filter(|u| u.status == s).count();
    assert_eq!(with(UserStatus::Invited), 4);
    assert_eq!(with(UserStatus::Deactivated), 4);
    assert_eq!(with(UserStatus::Active), 1 + script::STAFF - 8);
    let active_with_login = list
        .iter()
        .filter(|u| u.status == UserStatus::Active && u.last_login_at.is_some())
        .count();
    assert!(
        active_with_login * 4 >= with(UserStatus::Active) * 3,
        "{active_with_login}"
    );
    let locked: Vec<&str> = list
        .iter()
        .filter(|u| u.locked)
        .map(|u| u.email.as_str())
        .collect();
    assert_eq!(locked, [email(script::LOCKED)]);
    for u in list.iter().filter(|u| u.status == UserStatus::Deactivated) {
        let shown = match d
            .svc
            .call(&d.admin, Request::UserShow(u.id.to_string()))
            .unwrap()
        {
            Response::User(detail) => detail,
            other => panic!("{other:?}"),
        };
        let reason = shown.user.deactivation_reason.unwrap_or_default();
        assert!(!reason.is_empty(), "{} has no reason", u.name);
    }
}

#[test]
fn invitations_and_devices_are_in_every_state() {
    let d = demo();
    let invites = match d.svc.call(&d.admin, Request::InviteList).unwrap() {
        Response::Invites(l) => l.items,
        other => panic!("{other:?}"),
    };
    let count = |s: InviteStatus| invites.iter().filter(|i| i.status == s).count();
    assert_eq!(count(InviteStatus::Pending), 3);
    assert_eq!(count(InviteStatus::Expired), 1);
    assert_eq!(count(InviteStatus::Revoked), 1, "the withdrawn offer");
    assert_eq!(count(InviteStatus::Accepted), script::STAFF - 5);
    let newest = invites.iter().max_by_key(|i| i.last_sent_at).unwrap();
    assert_eq!(newest.email, email(script::STAFF - 1));
    let devices = match d.svc.call(&d.admin, Request::DeviceList).unwrap() {
        Response::Devices(l) => l.items,
        other => panic!("{other:?}"),
    };
    let states: Vec<(&str, DeviceStatus)> = devices
        .iter()
        .map(|v| (v.device.fingerprint.as_str(), v.device.status))
        .collect();
    assert_eq!(
        states,
        [
            ("frontdesk-01", DeviceStatus::Approved),
            ("lakeside-tablet", DeviceStatus::Declined),
            ("uptown-kiosk", DeviceStatus::Pending),
        ]
    );
}

#[test]
fn the_clock_is_the_system_clock_again_afterwards() {
    let d = demo();
    d.svc
        .call(
            &d.admin,
            Request::UserEdit("2".into(), vec![(UserField::Note, "after the demo".into())]),
        )
        .unwrap();
    let shown = match d.svc.call(&d.admin, Request::UserShow("2".into())).unwrap() {
        Response::User(detail) => detail,
        other => panic!("{other:?}"),
    };
    assert!(shown.user.updated_at >= d.after);
}
