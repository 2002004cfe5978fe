//! Typed service calls: one method per request, answering with the type that request returns.
//! Front ends call `calls.user_list(filter)?` and get a listing, or an error that says the
//! answer was of the wrong kind, instead of matching on [`Response`] and silently ignoring an
//! unexpected variant. The methods are provided for anything that can [`Call`]: the service in
//! this process bound to a session, or a connection to `staffctl serve`.

use super::FileContent;
use super::import::{ImportReport, ImportResult};
use super::{
    AccessView, AuditHead, AuditQuery, DeviceView, FacilityDetail, FacilityField, FacilitySummary,
    InviteView, Listing, OperatorView, PermissionInfo, PracticeField, PracticeView,
    QuarantineEntry, Ref, Request, Response, RoleDetail, RoleSummary, Service, Session, UserDetail,
    UserFields, UserFilter, UserSummary, VerifyReport,
};
use crate::audit::AuditEvent;
use crate::error::{Error, Result};
use crate::model::Id;

/// Something that answers requests for one operator.
pub trait Call {
    /// Runs one request.
    fn call(&self, request: Request) -> Result<Response>;
}

/// The service in this process, acting for one session.
pub struct Bound<'a> {
    /// The service.
    pub service: &'a Service,
    /// Whose requests these are.
    pub session: &'a Session,
}

impl Call for Bound<'_> {
    fn call(&self, request: Request) -> Result<Response> {
        self.service.call(self.session, request)
    }
}

/// The error for an answer of the wrong kind: a bug (or a server of another version), never
/// something to ignore.
pub fn unexpected(wanted: &str, got: &Response) -> Error {
    let got = format!("{got:?}");
    let kind = got.split(['(', ' ', '{']).next().unwrap_or("?");
    Error::Internal(format!(
        "internal error: expected {wanted}, the service answered {kind}; this is a bug (or staffctl and its server differ in version)"
    ))
}

macro_rules! typed_calls {
    ($(
        $(#[$doc:meta])*
        fn $method:ident($($arg:ident: $ty:ty),*) -> $out:ty = $request:expr, $variant:ident($($bind:pat),+) => $value:expr;
    )*) => {
        /// One method per request; provided for every [`Call`].
        pub trait Calls: Call {
            $(
                $(#[$doc])*
                fn $method(&self, $($arg: $ty),*) -> Result<$out> {
                    match self.call($request)? {
                        Response::$variant($($bind),+) => Ok($value),
                        other => Err(unexpected(stringify!($variant), &other)),
                    }
                }
            )*
        }
    };
}

typed_calls! {
    /// Who the operator is and what they may do.
    fn who_am_i() -> OperatorView = Request::WhoAmI, Operator(v) => v;
    /// Practice settings.
    fn practice() -> PracticeView = Request::PracticeShow, Practice(v) => *v;
    /// Changes practice settings.
    fn practice_edit(fields: Vec<(PracticeField, String)>) -> PracticeView = Request::PracticeEdit(fields), Practice(v) => *v;
    /// Facilities.
    fn facility_list(include_archived: bool) -> Listing<FacilitySummary> = Request::FacilityList { include_archived }, Facilities(l) => l;
    /// One facility.
    fn facility_show(facility: Ref) -> FacilityDetail = Request::FacilityShow(facility), Facility(d) => d;
    /// Adds a facility.
    fn facility_add(fields: Vec<(FacilityField, String)>) -> FacilityDetail = Request::FacilityAdd(fields), Facility(d) => d;
    /// Edits a facility.
    fn facility_edit(facility: Ref, fields: Vec<(FacilityField, String)>) -> FacilityDetail = Request::FacilityEdit(facility, fields), Facility(d) => d;
    /// Archives a facility.
    fn facility_archive(facility: Ref) -> FacilityDetail = Request::FacilityArchive(facility), Facility(d) => d;
    /// Restores an archived facility.
    fn facility_restore(facility: Ref) -> FacilityDetail = Request::FacilityRestore(facility), Facility(d) => d;
    /// Roles.
    fn role_list() -> Listing<RoleSummary> = Request::RoleList, Roles(l) => l;
    /// One role.
    fn role_show(role: Ref) -> RoleDetail = Request::RoleShow(role), Role(d) => d;
    /// Adds a role.
    fn role_add(name: String, description: String, permissions: Vec<String>) -> RoleDetail = Request::RoleAdd { name, description, permissions }, Role(d) => d;
    /// Edits a role.
    fn role_edit(role: Ref, rename: Option<String>, description: Option<String>, grant: Vec<String>, revoke: Vec<String>) -> RoleDetail = Request::RoleEdit { role, rename, description, grant, revoke }, Role(d) => d;
    /// Deletes a role: (id, name).
    fn role_delete(role: Ref) -> (Id, String) = Request::RoleDelete(role), Deleted(id, name) => (id, name);
    /// The permission catalogue.
    fn permission_list() -> Vec<PermissionInfo> = Request::PermissionList, Permissions(p) => p;
    /// Users.
    fn user_list(filter: UserFilter) -> Listing<UserSummary> = Request::UserList(filter), Users(l) => l;
    /// One user.
    fn user_show(user: Ref) -> UserDetail = Request::UserShow(user), User(d) => *d;
    /// Adds a user (invited).
    fn user_add(fields: UserFields) -> UserDetail = Request::UserAdd(fields), User(d) => *d;
    /// Edits a user.
    fn user_edit(user: Ref, fields: UserFields) -> UserDetail = Request::UserEdit(user, fields), User(d) => *d;
    /// Deactivates a user.
    fn user_deactivate(user: Ref, reason: String) -> UserDetail = Request::UserDeactivate { user, reason }, User(d) => *d;
    /// Reactivates a user.
    fn user_reactivate(user: Ref) -> UserDetail = Request::UserReactivate(user), User(d) => *d;
    /// Deletes a never-activated user: (id, name).
    fn user_delete(user: Ref) -> (Id, String) = Request::UserDelete(user), Deleted(id, name) => (id, name);
    /// Unlocks a user.
    fn user_unlock(user: Ref) -> UserDetail = Request::UserUnlock(user), User(d) => *d;
    /// Invitations.
    fn invite_list() -> Listing<InviteView> = Request::InviteList, Invites(l) => l;
    /// Sends an invitation again with a new code.
    fn invite_resend(user: Ref) -> UserDetail = Request::InviteResend(user), User(d) => *d;
    /// Withdraws an invitation.
    fn invite_revoke(user: Ref) -> UserDetail = Request::InviteRevoke(user), User(d) => *d;
    /// Devices.
    fn device_list() -> Listing<DeviceView> = Request::DeviceList, Devices(l) => l;
    /// Approves a device.
    fn device_approve(device: Id) -> DeviceView = Request::DeviceApprove(device), Device(v) => v;
    /// Declines a device.
    fn device_decline(device: Id) -> DeviceView = Request::DeviceDecline(device), Device(v) => v;
    /// Revokes an approved device.
    fn device_revoke(device: Id) -> DeviceView = Request::DeviceRevoke(device), Device(v) => v;
    /// A user's facility access.
    fn access_show(user: Ref) -> AccessView = Request::AccessShow(user), Access(v) => v;
    /// Grants facilities.
    fn access_grant(user: Ref, facilities: Vec<Ref>) -> AccessView = Request::AccessGrant { user, facilities }, Access(v) => v;
    /// Revokes facilities.
    fn access_revoke(user: Ref, facilities: Vec<Ref>) -> AccessView = Request::AccessRevoke { user, facilities }, Access(v) => v;
    /// Grants every facility.
    fn access_all(user: Ref) -> AccessView = Request::AccessAll(user), Access(v) => v;
    /// Grants exactly these facilities.
    fn access_only(user: Ref, facilities: Vec<Ref>) -> AccessView = Request::AccessOnly { user, facilities }, Access(v) => v;
    /// Audit events, newest first.
    fn audit_list(query: AuditQuery) -> Listing<AuditEvent> = Request::AuditList(query), Audit(l) => l;
    /// Verifies the chain.
    fn audit_verify(expect: Option<String>) -> VerifyReport = Request::AuditVerify { expect }, Verify(r) => r;
    /// The chain's head.
    fn audit_head() -> AuditHead = Request::AuditHead, Head(h) => h;
    /// Records kept in quarantine.
    fn audit_quarantine() -> Vec<QuarantineEntry> = Request::AuditQuarantine, Quarantine(q) => q;
    /// What importing a staff spreadsheet would do.
    fn import_preview(file_name: String, content: Vec<u8>) -> ImportReport = Request::ImportPreview { file_name, content: FileContent(content) }, ImportPreview(r) => *r;
    /// Imports a staff spreadsheet's eligible rows.
    fn import_commit(file_name: String, content: Vec<u8>, invite: bool) -> ImportResult = Request::ImportCommit { file_name, content: FileContent(content), invite }, ImportCommit(r) => *r;
}

impl<T: Call + ?Sized> Calls for T {}

/// Wraps `request` in a revision check: it runs only if its record is still at `revision`.
pub fn expect_revision(revision: u64, request: Request) -> Request {
    Request::Expect {
        revision,
        request: Box::new(request),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Canned(Response);

    impl Call for Canned {
        fn call(&self, _: Request) -> Result<Response> {
            Ok(self.0.clone())
        }
    }

    #[test]
    fn an_answer_of_the_wrong_kind_is_an_error_not_ignored() {
        let wrong = Canned(Response::Deleted(3, "x".into()));
        let err = wrong.role_list().unwrap_err();
        assert!(err.to_string().contains("expected Roles"), "{err}");
        assert!(err.to_string().contains("Deleted"), "{err}");
        let right = Canned(Response::Roles(Listing::default()));
        assert!(right.role_list().unwrap().items.is_empty());
        assert!(
            right
                .user_delete("1".into())
                .unwrap_err()
                .to_string()
                .contains("expected Deleted")
        );
    }
}
