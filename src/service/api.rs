//! The request and response vocabulary shared by every front end. All types are plain serde
//! data, so the same values travel in-process or over a socket.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
use crate::model::{BillingCategory, Facility, Id, Practice, Role, User, UserStatus};

/// A reference to a user, role or facility as a person types it: an id (`12` or `#12`), a
/// name or username, or an email.
pub type Ref = String;

pub use super::user_field::{FIELDS as USER_FIELDS, FieldKind, FieldSpec, Section, UserField};

/// Field values for adding or editing a user; later entries win.
pub type UserFields = Vec<(UserField, String)>;

/// Editable facility fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityField {
    /// Name.
    Name,
    /// Short code.
    Code,
    /// Address.
    Address,
    /// Phone.
    Phone,
}

impl FacilityField {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Code => "code",
            Self::Address => "address",
            Self::Phone => "phone",
        }
    }
}

/// Editable practice settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PracticeField {
    /// Practice name.
    Name,
    /// Practice contact email.
    Email,
    /// Invitation validity in hours.
    InviteExpiryHours,
    /// Resend cool-down in minutes.
    InviteCooldownMinutes,
    /// Failed logins before lockout.
    LockoutThreshold,
    /// Failed-login window in minutes.
    LockoutWindowMinutes,
    /// Lockout duration in minutes.
    LockoutDurationMinutes,
    /// Idle auto-lock in minutes.
    IdleTimeoutMinutes,
    /// Minimum password length.
    PasswordMinLength,
    /// Time zone for tables and screens (empty = the server's).
    TimeZone,
    /// New-device approval on/off.
    DeviceApproval,
}

impl PracticeField {
    /// Every field.
    pub const ALL: [PracticeField; 11] = [
        Self::Name,
        Self::Email,
        Self::InviteExpiryHours,
        Self::InviteCooldownMinutes,
        Self::LockoutThreshold,
        Self::LockoutWindowMinutes,
        Self::LockoutDurationMinutes,
        Self::IdleTimeoutMinutes,
        Self::PasswordMinLength,
        Self::TimeZone,
        Self::DeviceApproval,
    ];

    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Email => "email",
            Self::InviteExpiryHours => "invite_expiry_hours",
            Self::InviteCooldownMinutes => "invite_cooldown_minutes",
            Self::LockoutThreshold => "lockout_threshold",
            Self::LockoutWindowMinutes => "lockout_window_minutes",
            Self::LockoutDurationMinutes => "lockout_duration_minutes",
            Self::IdleTimeoutMinutes => "idle_timeout_minutes",
            Self::PasswordMinLength => "password_min_length",
            Self::TimeZone => "time_zone",
            Self::DeviceApproval => "device_approval",
        }
    }

    /// Parses a field name.
    pub fn parse(name: &str) -> Option<Self> {
        let norm = name.trim().replace('-', "_").to_lowercase();
        Self::ALL.into_iter().find(|f| f.name() == norm)
    }
}

/// Filters for listing users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFilter {
    /// Only this status.
    pub status: Option<UserStatus>,
    /// Only users who can access this facility.
    pub facility: Option<Ref>,
    /// Only users with this role.
    pub role: Option<Ref>,
    /// Case-insensitive substring of name, email, username or NPI.
    pub search: Option<String>,
}

/// Filters for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Events at or after this time.
    pub since: Option<Timestamp>,
    /// Events before this time.
    pub until: Option<Timestamp>,
    /// Actor: user reference, `system`, or a login typed by someone unauthenticated.
    pub actor: Option<String>,
    /// Target as `KIND:ID` (e.g. `user:12`) or `KIND:REF` (e.g. `user:alice`).
    pub target: Option<String>,
    /// Action prefix (`user.` or `user.deactivate`).
    pub action: Option<String>,
    /// At most this many events (newest first when listing).
    pub limit: Option<usize>,
}

/// The bytes of a file a front end hands over (a staff spreadsheet). `Debug` shows only its
/// size: files hold people's details, which never go to logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FileContent(pub Vec<u8>);

impl std::fmt::Debug for FileContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} bytes]", self.0.len())
    }
}

/// Every operation a front end can ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Who the session's operator is and what they may do.
    WhoAmI,
    /// Practice settings.
    PracticeShow,
    /// Change practice settings.
    PracticeEdit(Vec<(PracticeField, String)>),
    /// List facilities.
    FacilityList {
        /// Include archived ones.
        include_archived: bool,
    },
    /// One facility and who can access it.
    FacilityShow(Ref),
    /// Add a facility.
    FacilityAdd(Vec<(FacilityField, String)>),
    /// Edit a facility.
    FacilityEdit(Ref, Vec<(FacilityField, String)>),
    /// Archive a facility (refused while it is someone's primary facility).
    FacilityArchive(Ref),
    /// Bring an archived facility back.
    FacilityRestore(Ref),
    /// List roles with user counts.
    RoleList,
    /// One role with its permissions and users.
    RoleShow(Ref),
    /// Add a role.
    RoleAdd {
        /// Name.
        name: String,
        /// Description.
        description: String,
        /// Permission keys.
        permissions: Vec<String>,
    },
    /// Rename, describe, grant and revoke.
    RoleEdit {
        /// Role.
        role: Ref,
        /// New name.
        rename: Option<String>,
        /// New description.
        description: Option<String>,
        /// Keys to add.
        grant: Vec<String>,
        /// Keys to remove.
        revoke: Vec<String>,
    },
    /// Delete a role (refused while assigned or built in).
    RoleDelete(Ref),
    /// The permission catalogue.
    PermissionList,
    /// List users.
    UserList(UserFilter),
    /// One user with history.
    UserShow(Ref),
    /// Add a user (status Invited).
    UserAdd(UserFields),
    /// Edit a user.
    UserEdit(Ref, UserFields),
    /// Deactivate with a reason.
    UserDeactivate {
        /// User.
        user: Ref,
        /// Why.
        reason: String,
    },
    /// Reactivate.
    UserReactivate(Ref),
    /// Delete a never-activated user.
    UserDelete(Ref),
    /// Unlock an account locked by failed logins (and forget its failures).
    UserUnlock(Ref),
    /// Every invitation with its status.
    InviteList,
    /// Send a user's invitation again with a new code (the old one stops working).
    InviteResend(Ref),
    /// Withdraw a user's pending invitation.
    InviteRevoke(Ref),
    /// Every device and its approval.
    DeviceList,
    /// Approve a device.
    DeviceApprove(Id),
    /// Decline a pending device.
    DeviceDecline(Id),
    /// Revoke an approved device.
    DeviceRevoke(Id),
    /// A user's facility access.
    AccessShow(Ref),
    /// Add facilities to a user's access.
    AccessGrant {
        /// User.
        user: Ref,
        /// Facilities.
        facilities: Vec<Ref>,
    },
    /// Remove facilities from a user's access.
    AccessRevoke {
        /// User.
        user: Ref,
        /// Facilities.
        facilities: Vec<Ref>,
    },
    /// Give a user access to every facility.
    AccessAll(Ref),
    /// Set a user's access to exactly these facilities.
    AccessOnly {
        /// User.
        user: Ref,
        /// Facilities.
        facilities: Vec<Ref>,
    },
    /// List audit events, newest first.
    AuditList(AuditQuery),
    /// Verify the hash chain, optionally against a recorded head `SEQ:HASH`.
    AuditVerify {
        /// Expected head.
        expect: Option<String>,
    },
    /// The newest sequence number and hash.
    AuditHead,
    /// The audit records kept aside in quarantine, for investigation.
    AuditQuarantine,
    /// Reads a staff spreadsheet and says, row by row, what importing it would do.
    ImportPreview {
        /// The file's name, for the report and the audit log.
        file_name: String,
        /// The file's bytes.
        content: FileContent,
    },
    /// Adds every eligible row of a staff spreadsheet in one transaction.
    ImportCommit {
        /// The file's name, for the report and the audit log.
        file_name: String,
        /// The file's bytes.
        content: FileContent,
        /// Whether each new user gets an invitation.
        invite: bool,
    },
    /// Runs `request` only if its target record still has `revision` (optimistic concurrency:
    /// an edit made from a stale form is refused, never silently overwrites).
    Expect {
        /// The revision the editor saw.
        revision: u64,
        /// The change to make.
        request: Box<Request>,
    },
}

impl Request {
    /// The audit action name for mutations; `None` for reads.
    pub fn action(&self) -> Option<&'static str> {
        Some(match self {
            Self::Expect { request, .. } => return request.action(),
            Self::PracticeEdit(_) => "practice.update",
            Self::FacilityAdd(_) => "facility.create",
            Self::FacilityEdit(..) => "facility.update",
            Self::FacilityArchive(_) => "facility.archive",
            Self::FacilityRestore(_) => "facility.restore",
            Self::RoleAdd { .. } => "role.create",
            Self::RoleEdit { .. } => "role.update",
            Self::RoleDelete(_) => "role.delete",
            Self::UserAdd(_) => "user.create",
            Self::UserEdit(..) => "user.update",
            Self::UserDeactivate { .. } => "user.deactivate",
            Self::UserReactivate(_) => "user.reactivate",
            Self::UserDelete(_) => "user.delete",
            Self::UserUnlock(_) => "user.unlock",
            Self::InviteResend(_) => "invite.resend",
            Self::InviteRevoke(_) => "invite.revoke",
            Self::DeviceApprove(_) => "device.approve",
            Self::DeviceDecline(_) => "device.decline",
            Self::DeviceRevoke(_) => "device.revoke",
            Self::AccessGrant { .. } => "access.grant",
            Self::AccessRevoke { .. } => "access.revoke",
            Self::AccessAll(_) => "access.all",
            Self::AccessOnly { .. } => "access.set",
            Self::ImportCommit { .. } => "import.commit",
            _ => return None,
        })
    }

    /// What a refused mutation was aimed at: (kind, reference as typed).
    pub fn target_hint(&self) -> Option<(&'static str, String)> {
        match self {
            Self::Expect { request, .. } => request.target_hint(),
            Self::PracticeEdit(_) => Some(("practice", String::new())),
            Self::FacilityAdd(f) => Some(("facility", first_value(f, FacilityField::Name))),
            Self::FacilityEdit(r, _) | Self::FacilityArchive(r) | Self::FacilityRestore(r) => {
                Some(("facility", r.clone()))
            }
            Self::RoleAdd { name, .. } => Some(("role", name.clone())),
            Self::RoleEdit { role, .. } => Some(("role", role.clone())),
            Self::RoleDelete(r) => Some(("role", r.clone())),
            Self::UserAdd(f) => Some(("user", first_value(f, UserField::Email))),
            Self::ImportCommit { file_name, .. } => Some(("import", file_name.clone())),
            Self::UserEdit(r, _)
            | Self::UserReactivate(r)
            | Self::UserDelete(r)
            | Self::UserUnlock(r)
            | Self::InviteResend(r)
            | Self::InviteRevoke(r)
            | Self::AccessAll(r) => Some(("user", r.clone())),
            Self::UserDeactivate { user, .. }
            | Self::AccessGrant { user, .. }
            | Self::AccessRevoke { user, .. }
            | Self::AccessOnly { user, .. } => Some(("user", user.clone())),
            _ => None,
        }
    }
}

fn first_value<F: PartialEq + Copy>(fields: &[(F, String)], want: F) -> String {
    fields
        .iter()
        .rev()
        .find(|(f, _)| *f == want)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// A stored record that could not be read, reported instead of aborting a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableRecord {
    /// Where it is stored (the store's tree name).
    pub tree: String,
    /// Its key, hex-encoded.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for UnreadableRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "record {}/{} is unreadable: {}",
            self.tree, self.key, self.problem
        )
    }
}

/// A listing plus any records that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing<T> {
    /// The readable records.
    pub items: Vec<T>,
    /// Records skipped because they are corrupt.
    pub unreadable: Vec<UnreadableRecord>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            unreadable: Vec::new(),
        }
    }
}

/// A user named in a listing (who holds a role, who works at a facility).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// User id.
    pub id: Id,
    /// "First Last".
    pub name: String,
}

/// One active facility in a user's access checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityCheck {
    /// Facility id.
    pub id: Id,
    /// Facility name.
    pub name: String,
    /// Whether the user can access it.
    pub can_access: bool,
    /// Whether it is the user's primary facility.
    pub primary: bool,
}

/// A user row in listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// Id.
    pub id: Id,
    /// "First Last".
    pub name: String,
    /// Username.
    pub username: Option<String>,
    /// Email.
    pub email: String,
    /// Role name.
    pub role: String,
    /// Primary facility name.
    pub facility: String,
    /// Status.
    pub status: UserStatus,
    /// Locked after failed logins.
    pub locked: bool,
    /// Billing seat.
    pub billing: BillingCategory,
    /// Whether their role lets them operate staffctl (admin.users, admin.settings or
    /// audit.export).
    pub admin: bool,
    /// NPI.
    pub npi: Option<String>,
    /// Last login.
    pub last_login_at: Option<Timestamp>,
    /// Name shown to patients.
    pub public_name: Option<String>,
}

impl UserSummary {
    /// The text `--search` looks in ([`User::search_text`]), for filtering listed rows.
    pub fn search_text(&self) -> String {
        crate::model::search_text(
            &self.name,
            &self.email,
            [
                self.username.as_deref(),
                self.public_name.as_deref(),
                self.npi.as_deref(),
            ],
        )
    }
}

/// One entry in a record's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Audit sequence number.
    pub seq: u64,
    /// When.
    pub time: Timestamp,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// `success`, `denied` or `rejected`.
    pub outcome: String,
    /// Field changes as `field: old -> new`.
    pub changes: Vec<String>,
}

/// A user with everything an administrator looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    /// The profile (no secrets: those live in a separate record).
    pub user: User,
    /// Status (repeated at the top level for scripts).
    pub status: UserStatus,
    /// Role name.
    pub role: String,
    /// Primary facility name.
    pub facility: String,
    /// Names of the facilities the user can access (`["all"]` for all).
    pub access: Vec<String>,
    /// Name of the default location, when set.
    #[serde(default)]
    pub default_location: Option<String>,
    /// Effective permissions (role, minus what an aide may not hold).
    pub permissions: Vec<String>,
    /// Audit history of this user, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The invitation just created or re-sent (only in the answer to that request).
    #[serde(default)]
    pub invitation: Option<Invitation>,
    /// Login bookkeeping (lock, failures, last login).
    pub login: LoginState,
}

/// A user's login bookkeeping, as administrators see it (no secrets).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    /// Locked after failed logins until then (only while in the future).
    pub locked_until: Option<Timestamp>,
    /// Failed logins counted in the current window.
    pub failed_logins: u32,
    /// Last successful login.
    pub last_login_at: Option<Timestamp>,
    /// Whether a password is set (the account was activated or recovered).
    pub has_password: bool,
}

impl LoginState {
    /// The state a credential records at `now`.
    pub fn of(cred: Option<&crate::model::Credential>, now: Timestamp) -> Self {
        cred.map_or_else(Self::default, |c| Self {
            locked_until: c.locked_until.filter(|t| *t > now),
            failed_logins: c.failed_logins,
            last_login_at: c.last_login_at,
            has_password: c.password_hash.is_some(),
        })
    }
}

/// A one-time code in clear, shown once to the operator; never stored, logged or printed by
/// `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OneTimeCode(pub String);

impl std::fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// An invitation as handed to the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// The activation code (give it to the person).
    pub code: OneTimeCode,
    /// Valid until.
    pub expires_at: Timestamp,
    /// What happened to the mail: `None` when no mail command is set.
    pub mail: Option<std::result::Result<(), String>>,
}

/// A device with its user's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    /// The device.
    pub device: crate::model::Device,
    /// Its user's name.
    pub user: String,
}

/// An invitation row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    /// Invited user id.
    pub user_id: Id,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Pending, Accepted, Expired (pending past its expiry) or Revoked.
    pub status: crate::model::InviteStatus,
    /// Times sent.
    pub send_count: u32,
    /// Last sent.
    pub last_sent_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
}

/// A role row with its user count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSummary {
    /// The role.
    pub role: Role,
    /// Users assigned.
    pub users: usize,
}

/// A role with its users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDetail {
    /// The role.
    pub role: Role,
    /// Users assigned: (id, name).
    pub users: Vec<Person>,
}

/// A facility with the users attributed to it and who can access it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityDetail {
    /// The facility.
    pub facility: Facility,
    /// Users whose primary facility it is: (id, name).
    pub primary_users: Vec<Person>,
    /// Users who can access it (primary, listed, or all facilities): (id, name).
    pub access_users: Vec<Person>,
}

/// A facility row with its head count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilitySummary {
    /// The facility.
    pub facility: Facility,
    /// Users whose primary facility it is.
    pub primary_users: usize,
}

/// A user's facility access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessView {
    /// User id.
    pub user_id: Id,
    /// User name.
    pub user: String,
    /// Every facility.
    pub all: bool,
    /// Each active facility: (id, name, can access, is primary).
    pub facilities: Vec<FacilityCheck>,
}

/// A catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionInfo {
    /// Key.
    pub key: String,
    /// Module.
    pub module: String,
    /// Description.
    pub description: String,
}

/// Result of verifying the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Events that verified.
    pub checked: u64,
    /// Newest sequence number in the store.
    pub head_seq: u64,
    /// Its hash (hex).
    pub head_hash: String,
    /// First broken sequence number and what is wrong, if any.
    pub broken: Option<(u64, String)>,
    /// Result of `--expect`, if given.
    pub expectation: Option<String>,
    /// Audit records kept aside, unchanged, because they could not stay in the log (damaged,
    /// or found past the head). Each also leaves a gap that `broken` reports, unless it lay
    /// past the head.
    pub quarantined: u64,
    /// Whether everything checked out.
    pub ok: bool,
}

/// An audit record kept aside, unchanged, because it could not stay in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// `damaged`, `past-head` or `legacy`.
    pub reason: String,
    /// The audit key it was stored under, hex.
    pub stored_under: String,
    /// The event being appended when it was set aside.
    pub displaced_by: Option<u64>,
    /// Its size in bytes.
    pub size: usize,
    /// Sequence numbers of the events that can still be read from it (none if it does not
    /// decode at all).
    pub readable_events: Vec<u64>,
    /// The bytes, hex-encoded.
    pub data_hex: String,
}

/// The newest audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    /// Sequence number (0 when the log is empty).
    pub seq: u64,
    /// Hash (hex).
    pub hash: String,
}

impl std::fmt::Display for AuditHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// Every answer a front end can get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// The session's operator.
    Operator(OperatorView),
    /// Practice settings.
    Practice(Box<PracticeView>),
    /// Facilities.
    Facilities(Listing<FacilitySummary>),
    /// One facility.
    Facility(FacilityDetail),
    /// Roles.
    Roles(Listing<RoleSummary>),
    /// One role.
    Role(RoleDetail),
    /// The catalogue.
    Permissions(Vec<PermissionInfo>),
    /// Users.
    Users(Listing<UserSummary>),
    /// One user.
    User(Box<UserDetail>),
    /// Deleted (id and label of what was removed).
    Deleted(Id, String),
    /// Facility access.
    Access(AccessView),
    /// Audit events.
    Audit(Listing<AuditEvent>),
    /// Chain verification.
    Verify(VerifyReport),
    /// Audit head.
    Head(AuditHead),
    /// Audit records kept in quarantine.
    Quarantine(Vec<QuarantineEntry>),
    /// Invitations.
    Invites(Listing<InviteView>),
    /// Devices.
    Devices(Listing<DeviceView>),
    /// One device after a decision.
    Device(DeviceView),
    /// What importing a file would do.
    ImportPreview(Box<super::import::ImportReport>),
    /// What importing a file did.
    ImportCommit(Box<super::import::ImportResult>),
}

/// The operator of a session, for front ends that show only what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorView {
    /// User id.
    pub id: Id,
    /// The login they used.
    pub login: String,
    /// "First Last".
    pub name: String,
    /// Their role's name.
    pub role: String,
    /// What their role lets them do (effective permission keys).
    pub permissions: Vec<String>,
    /// The IANA time zone times are shown in.
    pub time_zone: String,
}

impl OperatorView {
    /// Whether the operator holds `key`.
    pub fn may(&self, key: &str) -> bool {
        self.permissions.iter().any(|p| p == key)
    }
}

/// Billable seats: Provider and Provider Assistant seats are charged, Technicians are free.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatCount {
    /// Provider seats held by users who are not deactivated.
    pub provider: u64,
    /// Provider Assistant seats.
    pub assistant: u64,
    /// Technician seats (free).
    pub technician: u64,
}

impl SeatCount {
    /// Seats the practice pays for.
    pub fn billable(&self) -> u64 {
        self.provider + self.assistant
    }
}

/// Practice settings with what is decided outside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeView {
    /// The settings.
    pub settings: Practice,
    /// The mail command, set by the server's administrator (read-only here).
    pub mail: super::MailSetting,
    /// The time zone times are shown in (the practice's, else the server's).
    pub time_zone: String,
    /// Billable seats in use.
    pub seats: SeatCount,
}

impl PermissionInfo {
    /// The whole catalogue (static: needs no store).
    pub fn catalogue() -> Vec<Self> {
        crate::model::permission::CATALOGUE
            .iter()
            .map(|p| Self {
                key: p.key.into(),
                module: p.module.into(),
                description: p.description.into(),
            })
            .collect()
    }
}

/// Parses a time typed by a person: RFC 3339 (`2026-11-25T09:00:00Z`) or a date (`2026-11-25`,
/// midnight UTC). The error names `field`.
pub fn parse_time(field: &str, text: &str) -> crate::error::Result<Timestamp> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return d
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| crate::error::Error::invalid(field, format!("{t}: {e}")));
    }
    Err(crate::error::Error::invalid(
        field,
        format!("'{t}' is not a time; use RFC 3339 (2026-11-25T09:00:00Z) or a date (2026-11-25)"),
    ))
}
