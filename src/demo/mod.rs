//! `staffctl demo`: a throw-away practice with believable staff and five months of history,
//! opened in the interface and logged in as its administrator, so a newcomer can look around
//! without touching real data.
//!
//! The practice is made with the service's own operations (init, adding and editing staff,
//! activations, logins, deactivations, device approvals), each run at its moment in the past
//! with the service's clock pinned to it ([`Service::pin_clock`]), so the history is in time
//! order, ends now, and follows the same rules as any other.

mod script;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::audit::Origin;
use crate::error::{Error, Result};
use crate::model::validate::complete_npi;
use crate::model::{DeviceStatus, Id};
use crate::service::{
    Bound, Calls, FacilityField, InitRequest, OpenOptions, PracticeField, Request, Response,
    Service, Session, UserField,
};
use script::Step;

/// The demo administrator.
pub const DEMO_ADMIN: &str = "admin";
/// The demo administrator's password (the store is throw-away).
pub const DEMO_PASSWORD: &str = "riverside demo passphrase";
/// The password every demo staff member who activated chose (the store is throw-away).
pub const DEMO_STAFF_PASSWORD: &str = "riverside staff passphrase";

const FIRST: &[&str] = &[
    "Alice", "Bruno", "Chloe", "Darius", "Elena", "Farah", "Gavin", "Hana", "Ivan", "Jade", "Kofi",
    "Lena", "Marco", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sanjay", "Tessa", "Umar", "Vera",
    "Wes", "Xiomara", "Yusuf", "Zoë", "Aaron", "Beth", "Carlos", "Dana", "Emil", "Fiona", "Grace",
    "Hugo", "Iris", "Jonah", "Kara", "Luis", "Mei",
];
const LAST: &[&str] = &[
    "Smith",
    "Okafor",
    "Nguyen",
    "Patel",
    "García",
    "Kowalski",
    "O'Brien",
    "Haddad",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Schmidt",
    "Rossi",
    "Kim",
    "Adeyemi",
    "Novak",
    "Silva",
    "Cohen",
    "Dubois",
    "Ivanova",
];

/// (role, billing, taxonomy) rotation for the sample staff.
const ROLES: &[(&str, &str, Option<&str>)] = &[
    ("Provider", "provider", Some("225100000X")),
    ("Provider", "provider", Some("225100000X")),
    ("Provider Assistant", "assistant", Some("225200000X")),
    ("Technician", "technician", None),
    ("Front Desk", "none", None),
    ("Billing Manager", "none", None),
    ("Aide", "none", None),
];

const FACILITIES: [&str; 3] = ["Downtown", "Uptown", "Lakeside"];

/// Staff member `n`'s login email.
fn email(n: usize) -> String {
    let ascii = |s: &str| {
        s.to_lowercase()
            .replace('ë', "e")
            .replace('í', "i")
            .replace('\'', "")
    };
    let first = FIRST[n % FIRST.len()];
    let last = LAST[(n * 7) % LAST.len()];
    format!("{}.{}{n}@riverside-pt.example", ascii(first), ascii(last))
}

/// Everything `user add` is given for staff member `n`.
fn fields(n: usize) -> Vec<(UserField, String)> {
    let (role, billing, taxonomy) = ROLES[n % ROLES.len()];
    let mut fields = vec![
        (UserField::FirstName, FIRST[n % FIRST.len()].to_string()),
        (UserField::LastName, LAST[(n * 7) % LAST.len()].to_string()),
        (UserField::Email, email(n)),
        (UserField::Role, role.to_string()),
        (UserField::Facility, FACILITIES[n % 3].to_string()),
        (UserField::Billing, billing.to_string()),
        (
            UserField::PartTime,
            if n.is_multiple_of(5) { "yes" } else { "no" }.to_string(),
        ),
        (
            UserField::Aide,
            if role == "Aide" { "yes" } else { "no" }.to_string(),
        ),
    ];
    if let Some(t) = taxonomy {
        fields.push((
            UserField::Npi,
            complete_npi(u32::try_from(148_000_000 + n * 7919).unwrap_or(148_000_000)),
        ));
        fields.push((UserField::Taxonomy, t.to_string()));
        fields.push((UserField::Capacity, (1 + n % 3).to_string()));
        fields.push((
            UserField::SchedulingStep,
            ["15", "30", "20"][n % 3].to_string(),
        ));
        fields.push((UserField::SecureMessaging, "yes".into()));
        fields.push((UserField::DosThreshold, (2 + n % 3).to_string()));
    }
    if n == 0 {
        fields.push((UserField::DefaultDoctor, "yes".into()));
        fields.push((UserField::CanSignForms, "yes".into()));
    }
    if n == script::SECOND_ADMIN {
        fields.push((UserField::Role, "Administrator".into()));
    }
    fields
}

/// Where staff member `n` works from: their own session on the practice server.
fn staff_origin(n: usize) -> Origin {
    Origin {
        os_user: "staff".into(),
        pid: 4000 + n as u32,
        ssh_client: Some(format!("192.168.10.{}", 20 + n)),
        tty: Some(format!("/dev/pts/{}", n % 8)),
    }
}

/// Releases the pinned clock however the demo ends.
struct Release<'a>(&'a Service);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.pin_clock(None);
    }
}

/// Runs the script's steps against the service.
struct Runner<'a> {
    svc: &'a Service,
    admin: Session,
    origin: Origin,
    /// Staff ids by their number in the script.
    ids: HashMap<usize, Id>,
    /// Invitation codes not used yet, by staff number.
    codes: HashMap<usize, String>,
}

impl Runner<'_> {
    fn call(&self, request: Request) -> Result<Response> {
        self.svc.call(&self.admin, request)
    }

    fn id(&self, n: usize) -> Result<String> {
        self.ids
            .get(&n)
            .map(Id::to_string)
            .ok_or_else(|| Error::NotFound(format!("demo staff member {n} was never added")))
    }

    /// A login that the script expects to be refused.
    fn refused(outcome: Result<impl std::fmt::Debug>) -> Result<()> {
        match outcome {
            Err(Error::Denied(_) | Error::Pending(_)) => Ok(()),
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        }
    }

    fn run(&mut self, step: &Step) -> Result<()> {
        match step {
            Step::AdminLogin => {
                self.admin = self.svc.login(DEMO_ADMIN, DEMO_PASSWORD, &self.origin)?;
            }
            Step::Facility(name, code, phone) => {
                self.call(Request::FacilityAdd(vec![
                    (FacilityField::Name, (*name).into()),
                    (FacilityField::Code, (*code).into()),
                    (FacilityField::Phone, (*phone).into()),
                ]))?;
            }
            Step::Hire(n) => {
                let d = Bound {
                    service: self.svc,
                    session: &self.admin,
                }
                .user_add(fields(*n))?;
                self.ids.insert(*n, d.user.id);
                if let Some(inv) = d.invitation {
                    self.codes.insert(*n, inv.code.0);
                }
            }
            Step::Activate(n) => {
                let code = self.codes.remove(n).ok_or_else(|| {
                    Error::NotFound(format!("demo staff member {n} has no invitation code"))
                })?;
                self.svc
                    .activate(&email(*n), &code, DEMO_STAFF_PASSWORD, &staff_origin(*n))?;
            }
            Step::Login(n) => {
                self.svc
                    .login(&email(*n), DEMO_STAFF_PASSWORD, &staff_origin(*n))?;
            }
            Step::WrongPassword(n) => Self::refused(self.svc.login(
                &email(*n),
                "riverside staff passphrose",
                &staff_origin(*n),
            ))?,
            Step::Grant(n, facilities) => {
                self.call(Request::AccessGrant {
                    user: self.id(*n)?,
                    facilities: facilities.iter().map(|f| f.to_string()).collect(),
                })?;
            }
            Step::Note(n, note) => {
                self.call(Request::UserEdit(
                    self.id(*n)?,
                    vec![(UserField::Note, (*note).into())],
                ))?;
            }
            Step::Capacity(n, capacity) => {
                self.call(Request::UserEdit(
                    self.id(*n)?,
                    vec![(UserField::Capacity, capacity.to_string())],
                ))?;
            }
            Step::Deactivate(n, reason) => {
                self.call(Request::UserDeactivate {
                    user: self.id(*n)?,
                    reason: (*reason).into(),
                })?;
            }
            Step::Reactivate(n) => {
                self.call(Request::UserReactivate(self.id(*n)?))?;
            }
            Step::RoleGrant(role, permission) => {
                self.call(Request::RoleEdit {
                    role: (*role).into(),
                    rename: None,
                    description: None,
                    grant: vec![(*permission).into()],
                    revoke: vec![],
                })?;
            }
            Step::FacilityPhone(facility, phone) => {
                self.call(Request::FacilityEdit(
                    (*facility).into(),
                    vec![(FacilityField::Phone, (*phone).into())],
                ))?;
            }
            Step::DeviceApproval => {
                self.call(Request::PracticeEdit(vec![(
                    PracticeField::DeviceApproval,
                    "yes".into(),
                )]))?;
            }
            Step::DeviceLogin(n, device) => Self::refused(self.svc.verify_login(
                &email(*n),
                DEMO_STAFF_PASSWORD,
                None,
                Some(device),
                &staff_origin(*n),
            ))?,
            Step::DeviceDecision(fingerprint, approve) => {
                let Response::Devices(list) = self.call(Request::DeviceList)? else {
                    return Ok(());
                };
                let waiting = list.items.iter().find(|d| {
                    d.device.fingerprint == *fingerprint && d.device.status == DeviceStatus::Pending
                });
                if let Some(d) = waiting {
                    let id = d.device.id;
                    self.call(if *approve {
                        Request::DeviceApprove(id)
                    } else {
                        Request::DeviceDecline(id)
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// Fills the empty store of `svc` with the demo practice, its history ending now, and
/// returns the administrator's session.
pub fn populate(svc: &Service) -> Result<Session> {
    let now = Timestamp::now();
    let at = |before: SignedDuration| {
        now.checked_sub(before)
            .map_err(|e| Error::Storage(format!("the demo history does not fit the clock: {e}")))
    };
    let _release = Release(svc);
    svc.pin_clock(Some(at(SignedDuration::from_hours(
        24 * script::HISTORY_DAYS,
    ))?));
    let origin = Origin::current();
    let admin = svc.init(
        &InitRequest {
            practice_name: "Riverside Physical Therapy".into(),
            practice_email: "office@riverside-pt.example".into(),
            facility: "Downtown".into(),
            admin_username: DEMO_ADMIN.into(),
            admin_email: "it@riverside-pt.example".into(),
            admin_first: "Ira".into(),
            admin_last: "Tech".into(),
            admin_password: DEMO_PASSWORD.into(),
        },
        &origin,
    )?;
    let mut runner = Runner {
        svc,
        admin: admin.clone(),
        origin,
        ids: HashMap::new(),
        codes: HashMap::new(),
    };
    for (before, step) in script::steps() {
        svc.pin_clock(Some(at(before)?));
        runner.run(&step)?;
    }
    Ok(admin)
}

fn demo_dir() -> PathBuf {
    let stamp = Timestamp::now().as_second();
    std::env::temp_dir().join(format!("staffctl-demo-{}-{stamp}", std::process::id()))
}

/// Creates the demo store and opens the interface on it.
pub fn run(keymap: Option<String>) -> Result<()> {
    let dir = demo_dir();
    let svc = Arc::new(Service::open(&dir, &OpenOptions::default())?);
    populate(&svc)?;
    let opts = crate::tui::TuiOptions {
        keymap,
        auto_login: Some((DEMO_ADMIN.into(), DEMO_PASSWORD.into())),
    };
    let result = crate::tui::run(
        Arc::new(crate::remote::backend::Backend::Local(Arc::clone(&svc))),
        &opts,
    );
    drop(svc);
    print_credentials(&dir);
    result
}

fn print_credentials(dir: &Path) {
    println!(
        "The demo practice is in {} (throw-away; delete it when done).",
        dir.display()
    );
    println!(
        "Open it again with: staffctl --data {} (log in as {DEMO_ADMIN}, password \"{DEMO_PASSWORD}\")",
        dir.display()
    );
    println!("Staff members log in with their email and the password \"{DEMO_STAFF_PASSWORD}\".");
}

#[cfg(test)]
mod tests;
