//! Shared fixture of the service scenario tests: a practice ("Riverside Physio", facility
//! Downtown, administrator `admin`) driven through `Service::call` as every front end does.
#![allow(dead_code)]

use staffctl::audit::{AuditEvent, Origin, Outcome};
use staffctl::error::Error;
use staffctl::model::Id;
use staffctl::service::{
    AccessView, AuditQuery, FacilityDetail, InitRequest, Listing, Request, Response, RoleDetail,
    Service, Session, UserDetail, UserField, UserFilter, UserSummary, VerifyReport,
};
use staffctl::store::OpenOptions;
use tempfile::TempDir;

pub const ADMIN_PW: &str = "correct horse battery staple";
pub const BOB_PW: &str = "purple elephants marching slowly";
pub const PRACTICE_EMAIL: &str = "office@riverside.example";

pub struct Clinic {
    // Field order matters: the service (and its store) must drop before the directory.
    pub svc: Service,
    pub admin: Session,
    pub dir: TempDir,
}

pub fn init_request() -> InitRequest {
    InitRequest {
        practice_name: "Riverside Physio".into(),
        practice_email: PRACTICE_EMAIL.into(),
        facility: "Downtown".into(),
        admin_username: "admin".into(),
        admin_email: "it@riverside.example".into(),
        admin_first: "Ada".into(),
        admin_last: "Admin".into(),
        admin_password: ADMIN_PW.into(),
    }
}

pub fn clinic() -> Clinic {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = Service::open(dir.path(), &OpenOptions::default()).expect("open store");
    let admin = svc.init(&init_request(), &Origin::default()).expect("init");
    Clinic { svc, admin, dir }
}

pub fn fields(pairs: &[(UserField, &str)]) -> Vec<(UserField, String)> {
    pairs.iter().map(|(f, v)| (*f, v.to_string())).collect()
}

/// A valid front-desk user logging in by email, plus any overrides (later entries win).
pub fn staff(first: &str, last: &str, email: &str, extra: &[(UserField, &str)]) -> Request {
    let mut f = fields(&[
        (UserField::FirstName, first),
        (UserField::LastName, last),
        (UserField::Email, email),
        (UserField::Role, "Front Desk"),
        (UserField::Facility, "Downtown"),
    ]);
    f.extend(fields(extra));
    Request::UserAdd(f)
}

pub fn user(r: Response) -> UserDetail {
    match r {
        Response::User(d) => *d,
        other => panic!("expected a user, got {other:?}"),
    }
}

pub fn users(r: Response) -> Listing<UserSummary> {
    match r {
        Response::Users(l) => l,
        other => panic!("expected users, got {other:?}"),
    }
}

pub fn role(r: Response) -> RoleDetail {
    match r {
        Response::Role(d) => d,
        other => panic!("expected a role, got {other:?}"),
    }
}

pub fn facility(r: Response) -> FacilityDetail {
    match r {
        Response::Facility(d) => d,
        other => panic!("expected a facility, got {other:?}"),
    }
}

pub fn access(r: Response) -> AccessView {
    match r {
        Response::Access(a) => a,
        other => panic!("expected access, got {other:?}"),
    }
}

pub fn verify_report(r: Response) -> VerifyReport {
    match r {
        Response::Verify(v) => v,
        other => panic!("expected a verify report, got {other:?}"),
    }
}

impl Clinic {
    pub fn call(&self, req: Request) -> Result<Response, Error> {
        self.svc.call(&self.admin, req)
    }

    pub fn ok(&self, req: Request) -> Response {
        let shown = format!("{req:?}");
        self.call(req)
            .unwrap_or_else(|e| panic!("{shown} failed: {e:?}"))
    }

    pub fn add(
        &self,
        first: &str,
        last: &str,
        email: &str,
        extra: &[(UserField, &str)],
    ) -> UserDetail {
        user(self.ok(staff(first, last, email, extra)))
    }

    pub fn show(&self, reference: &str) -> UserDetail {
        user(self.ok(Request::UserShow(reference.into())))
    }

    pub fn user_list(&self) -> Listing<UserSummary> {
        users(self.ok(Request::UserList(UserFilter::default())))
    }

    pub fn user_ids(&self) -> Vec<Id> {
        self.user_list().items.iter().map(|u| u.id).collect()
    }

    /// Audit events whose action starts with `action`, newest first.
    pub fn events(&self, action: &str) -> Vec<AuditEvent> {
        match self.ok(Request::AuditList(AuditQuery {
            action: Some(action.into()),
            limit: Some(100_000),
            ..AuditQuery::default()
        })) {
            Response::Audit(l) => l.items,
            other => panic!("expected audit events, got {other:?}"),
        }
    }

    pub fn newest_event(&self) -> AuditEvent {
        match self.ok(Request::AuditList(AuditQuery {
            limit: Some(1),
            ..AuditQuery::default()
        })) {
            Response::Audit(l) => l.items.into_iter().next().expect("an event"),
            other => panic!("expected audit events, got {other:?}"),
        }
    }

    pub fn verify(&self) -> VerifyReport {
        verify_report(self.ok(Request::AuditVerify { expect: None }))
    }

    pub fn head_seq(&self) -> u64 {
        match self.ok(Request::AuditHead) {
            Response::Head(h) => h.seq,
            other => panic!("expected the head, got {other:?}"),
        }
    }

    /// A second administrator "bob" with a password (via break-glass recovery) and a session.
    pub fn bob(&self) -> (Id, Session) {
        let bob = self.add(
            "Bob",
            "Builder",
            "bob@riverside.example",
            &[
                (UserField::Username, "bob"),
                (UserField::Role, "Administrator"),
            ],
        );
        self.svc
            .recover("bob", BOB_PW, &Origin::default())
            .expect("recover bob");
        let session = self
            .svc
            .login("bob", BOB_PW, &Origin::default())
            .expect("bob logs in");
        assert_eq!(session.user_id(), bob.user.id);
        (bob.user.id, session)
    }
}

pub fn has_action(d: &UserDetail, action: &str) -> bool {
    d.history.iter().any(|h| h.action == action)
}

pub fn field_names(e: &Error) -> Vec<&str> {
    e.field_errors().iter().map(|f| f.field.as_str()).collect()
}

pub fn message_of(e: &Error, field: &str) -> String {
    e.field_errors()
        .iter()
        .find(|f| f.field == field)
        .map(|f| f.message.clone())
        .unwrap_or_else(|| panic!("no error for field {field} in {e:?}"))
}

pub fn assert_rejected(ev: &AuditEvent, action: &str, reason_part: &str) {
    assert_eq!(ev.action, action);
    match &ev.outcome {
        Outcome::Rejected(r) => assert!(r.contains(reason_part), "reason {r:?}"),
        other => panic!("expected a rejected {action}, got {other:?}"),
    }
}

/// A clinic whose server runs `command` for mail (as the server's owner would configure it).
pub fn clinic_with_mail(command: &str) -> Clinic {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = Service::open(dir.path(), &OpenOptions::default())
        .expect("open store")
        .with_mail(staffctl::service::MailSetting {
            command: Some(command.into()),
            source: "test configuration".into(),
            problem: None,
        });
    let admin = svc.init(&init_request(), &Origin::default()).expect("init");
    Clinic { svc, admin, dir }
}
