//! The demo practice's five months, as steps at times before "now": the practice set up, staff
//! hired over the months (most activate within a day and log in, a few never do), access
//! granted, notes written, people leaving and one coming back from leave, device approval
//! turned on, and an account locked out minutes ago.

use jiff::SignedDuration;

/// Staff members in the demo (besides the administrator).
pub(super) const STAFF: usize = 40;

/// How long the history is.
pub(super) const HISTORY_DAYS: i64 = 150;

/// Who never activates: three recent invitations still pending, one that expired.
pub(super) const PENDING: [usize; 3] = [37, 38, 39];
/// The invitation that expired unused.
pub(super) const EXPIRED: usize = 33;
/// Someone whose offer was withdrawn before they started (deactivated, never activated).
pub(super) const WITHDRAWN: usize = 30;
/// People who left, with why.
pub(super) const LEFT: [(usize, &str); 3] = [
    (7, "Left the practice (moved to Denver)"),
    (16, "Contract ended"),
    (25, "Retired after 30 years in practice"),
];
/// On parental leave for two months, then back.
pub(super) const LEAVE: usize = 20;
/// Locked out by mistyped passwords a few minutes ago.
pub(super) const LOCKED: usize = 12;
/// Administrator besides the practice's IT contact.
pub(super) const SECOND_ADMIN: usize = 4;

/// One thing that happens in the demo history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// The administrator logs in.
    AdminLogin,
    /// A facility opens.
    Facility(&'static str, &'static str, &'static str),
    /// Staff member `n` is added (and invited).
    Hire(usize),
    /// Staff member `n` activates with their invitation.
    Activate(usize),
    /// Staff member `n` logs in.
    Login(usize),
    /// Staff member `n` mistypes their password.
    WrongPassword(usize),
    /// Staff member `n` may also work at these facilities.
    Grant(usize, &'static [&'static str]),
    /// An administrator writes a note on staff member `n`.
    Note(usize, &'static str),
    /// Staff member `n`'s capacity changes.
    Capacity(usize, u32),
    /// Staff member `n` is deactivated.
    Deactivate(usize, &'static str),
    /// Staff member `n` is back.
    Reactivate(usize),
    /// A role is granted a permission.
    RoleGrant(&'static str, &'static str),
    /// A facility's phone number changes.
    FacilityPhone(&'static str, &'static str),
    /// Logins from unseen devices wait for approval from now on.
    DeviceApproval,
    /// Staff member `n` logs in from a device (`auth verify --device`).
    DeviceLogin(usize, &'static str),
    /// An administrator approves (`true`) or declines a waiting device.
    DeviceDecision(&'static str, bool),
}

/// A time before now.
fn ago(days: i64, hours: i64, minutes: i64) -> SignedDuration {
    SignedDuration::from_mins((days * 24 + hours) * 60 + minutes)
}

/// When staff member `n` is hired: most in the first two weeks, the others over the months,
/// the last three invitations in the last days.
fn hired(n: usize) -> SignedDuration {
    const LATER: [i64; 16] = [
        128, 120, 110, 101, 93, 84, 75, 66, 52, 25, 18, 12, 6, 3, 1, 0,
    ];
    let n64 = n as i64;
    match n {
        0..24 => ago(HISTORY_DAYS - 1, 0, 0) - SignedDuration::from_mins(n64 * 13 * 60),
        _ if n == STAFF - 1 => ago(0, 0, 20),
        _ => ago(LATER[n - 24], 10, (n64 * 17) % 60),
    }
}

/// Whether staff member `n` ever activates.
pub(super) fn activates(n: usize) -> bool {
    !PENDING.contains(&n) && n != EXPIRED && n != WITHDRAWN
}

fn left(n: usize) -> Option<(SignedDuration, &'static str)> {
    let when = |n: usize| match n {
        7 => ago(90, 3, 0),
        16 => ago(45, 7, 0),
        _ => ago(10, 6, 0),
    };
    LEFT.iter()
        .find(|(who, _)| *who == n)
        .map(|(who, why)| (when(*who), *why))
}

/// The whole history, oldest first (steps at the same time keep this order).
pub(super) fn steps() -> Vec<(SignedDuration, Step)> {
    let mut out = vec![
        (ago(HISTORY_DAYS, 0, -5), Step::AdminLogin),
        (
            ago(HISTORY_DAYS, 0, -10),
            Step::Facility("Uptown", "UP", "+1 555 010 2000"),
        ),
        (
            ago(HISTORY_DAYS, 0, -15),
            Step::Facility("Lakeside", "LK", "+1 555 010 3000"),
        ),
        (
            ago(140, 2, 0),
            Step::RoleGrant("Front Desk", "billing.issue_refunds"),
        ),
        (
            ago(100, 5, 0),
            Step::FacilityPhone("Lakeside", "+1 555 010 3100"),
        ),
        (ago(60, 4, 0), Step::Capacity(0, 3)),
        (ago(35, 6, 0), Step::DeviceApproval),
        (ago(34, 1, 0), Step::DeviceLogin(11, "frontdesk-01")),
        (ago(33, 23, 0), Step::DeviceDecision("frontdesk-01", true)),
        (ago(20, 3, 0), Step::DeviceLogin(18, "lakeside-tablet")),
        (
            ago(19, 22, 0),
            Step::DeviceDecision("lakeside-tablet", false),
        ),
        (ago(0, 2, 0), Step::DeviceLogin(22, "uptown-kiosk")),
        (ago(80, 2, 0), Step::Deactivate(LEAVE, "Parental leave")),
        (ago(20, 1, 0), Step::Reactivate(LEAVE)),
        (
            ago(69, 4, 0),
            Step::Deactivate(WITHDRAWN, "Offer withdrawn before the start date"),
        ),
        (ago(0, 0, 1), Step::Note(5, "Moves to Uptown next month")),
    ];
    for days in [98, 17, 1] {
        out.push((ago(days, 1, 30), Step::AdminLogin));
    }
    for n in 0..STAFF {
        let hire = hired(n);
        out.push((hire, Step::Hire(n)));
        if !activates(n) {
            continue;
        }
        let active = hire - SignedDuration::from_mins(3 * 60 + (n as i64 * 97) % (24 * 60));
        out.push((active, Step::Activate(n)));
        if n % 9 == 1 {
            out.push((
                active - SignedDuration::from_hours(30),
                Step::Grant(n, &["Uptown", "Lakeside"]),
            ));
        }
        if n % 9 == 3 {
            out.push((
                active - SignedDuration::from_hours(200),
                Step::Note(n, "Covers Saturday clinics"),
            ));
        }
        let gone = left(n);
        if let Some((when, why)) = gone {
            out.push((when, Step::Deactivate(n, why)));
        }
        // Most log in now and then; the last login is what the lists show.
        if n % 4 != 3 || n == LOCKED {
            let recent = SignedDuration::from_mins(30 + (n as i64 * 7919) % (8 * 24 * 60));
            let last = match gone {
                Some((when, _)) => when + SignedDuration::from_hours(50),
                None => recent.min(active - SignedDuration::from_hours(2)),
            };
            out.push((last, Step::Login(n)));
        }
    }
    for minutes in [6, 5, 4, 3, 2] {
        out.push((ago(0, 0, minutes), Step::WrongPassword(LOCKED)));
    }
    // Oldest first; a stable sort keeps the order of steps at the same time.
    out.sort_by_key(|(ago, _)| std::cmp::Reverse(*ago));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_about_someone_comes_after_they_joined_and_activated() {
        let steps = steps();
        let at = |wanted: &Step| {
            steps
                .iter()
                .position(|(_, s)| s == wanted)
                .unwrap_or(usize::MAX)
        };
        for (i, (_, step)) in steps.iter().enumerate() {
            let who = match step {
                Step::Login(n)
                | Step::WrongPassword(n)
                | Step::Grant(n, _)
                | Step::Note(n, _)
                | Step::Capacity(n, _)
                | Step::DeviceLogin(n, _) => Some(*n),
                _ => None,
            };
            if let Some(n) = who {
                assert!(at(&Step::Activate(n)) < i, "{step:?} before #{n} activated");
            }
            if let Step::Activate(n) = step {
                assert!(at(&Step::Hire(*n)) < i, "#{n} activates before being hired");
            }
        }
        assert_eq!(steps[0].1, Step::AdminLogin);
        assert!(steps.windows(2).all(|w| w[0].0 >= w[1].0), "oldest first");
        let start = ago(HISTORY_DAYS, 0, 0);
        assert!(
            steps
                .iter()
                .all(|(before, _)| *before > SignedDuration::ZERO)
        );
        assert!(steps.iter().all(|(before, _)| *before < start));
    }
}
