//! `staffctl demo`: a throw-away practice with believable staff, opened in the interface and
//! logged in as its administrator, so a newcomer can look around without touching real data.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::audit::Origin;
use crate::error::Result;
use crate::model::validate::complete_npi;
use crate::service::{
    FacilityField, InitRequest, OpenOptions, Request, Service, Session, UserField,
};

/// The demo administrator.
pub const DEMO_ADMIN: &str = "admin";
/// The demo administrator's password (the store is throw-away).
pub const DEMO_PASSWORD: &str = "riverside demo passphrase";

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

/// Fills `svc` with the demo practice and returns the administrator's session.
pub fn populate(svc: &Service) -> Result<Session> {
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
    let s = svc.login(DEMO_ADMIN, DEMO_PASSWORD, &origin)?;
    for (name, code, phone) in [
        ("Uptown", "UP", "+1 555 010 2000"),
        ("Lakeside", "LK", "+1 555 010 3000"),
    ] {
        svc.call(
            &s,
            Request::FacilityAdd(vec![
                (FacilityField::Name, name.into()),
                (FacilityField::Code, code.into()),
                (FacilityField::Phone, phone.into()),
            ]),
        )?;
    }
    let facilities = ["Downtown", "Uptown", "Lakeside"];
    for i in 0..40usize {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i * 7) % LAST.len()];
        let (role, billing, taxonomy) = ROLES[i % ROLES.len()];
        let ascii = |s: &str| {
            s.to_lowercase()
                .replace('ë', "e")
                .replace('í', "i")
                .replace('\'', "")
        };
        let email = format!("{}.{}{i}@riverside-pt.example", ascii(first), ascii(last));
        let mut fields = vec![
            (UserField::FirstName, first.to_string()),
            (UserField::LastName, last.to_string()),
            (UserField::Email, email),
            (UserField::Role, role.to_string()),
            (UserField::Facility, facilities[i % 3].to_string()),
            (UserField::Billing, billing.to_string()),
            (
                UserField::PartTime,
                if i % 5 == 0 { "yes" } else { "no" }.to_string(),
            ),
            (
                UserField::Aide,
                if role == "Aide" { "yes" } else { "no" }.to_string(),
            ),
        ];
        if let Some(t) = taxonomy {
            fields.push((
                UserField::Npi,
                complete_npi(u32::try_from(148_000_000 + i * 7919).unwrap_or(148_000_000)),
            ));
            fields.push((UserField::Taxonomy, t.to_string()));
            fields.push((UserField::Capacity, (1 + i % 3).to_string()));
            fields.push((
                UserField::SchedulingStep,
                ["15", "30", "20"][i % 3].to_string(),
            ));
            fields.push((UserField::SecureMessaging, "yes".into()));
            fields.push((UserField::DosThreshold, (2 + i % 3).to_string()));
        }
        if i == 0 {
            fields.push((UserField::DefaultDoctor, "yes".into()));
            fields.push((UserField::CanSignForms, "yes".into()));
        }
        svc.call(&s, Request::UserAdd(fields))?;
    }
    // Some history: edits, access changes, people who left.
    let users = match svc.call(&s, Request::UserList(Default::default()))? {
        crate::service::Response::Users(l) => l.items,
        _ => Vec::new(),
    };
    for (n, u) in users
        .iter()
        .filter(|u| u.username.as_deref() != Some(DEMO_ADMIN))
        .enumerate()
    {
        match n % 9 {
            1 => {
                svc.call(
                    &s,
                    Request::AccessGrant {
                        user: u.id.to_string(),
                        facilities: vec!["Uptown".into(), "Lakeside".into()],
                    },
                )?;
            }
            3 => {
                svc.call(
                    &s,
                    Request::UserEdit(
                        u.id.to_string(),
                        vec![(UserField::Note, "Covers Saturday clinics".into())],
                    ),
                )?;
            }
            7 => {
                svc.call(
                    &s,
                    Request::UserDeactivate {
                        user: u.id.to_string(),
                        reason: "Left the practice".into(),
                    },
                )?;
            }
            _ => {}
        }
    }
    svc.call(
        &s,
        Request::RoleEdit {
            role: "Front Desk".into(),
            rename: None,
            description: None,
            grant: vec!["billing.issue_refunds".into()],
            revoke: vec![],
        },
    )?;
    Ok(admin)
}

fn demo_dir() -> PathBuf {
    let stamp = jiff::Timestamp::now().as_second();
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
}
