//! Plain data types and their validation. No I/O: nothing here touches sled, files or terminals.
//!
//! Records are stored with serde + bincode (see `store::codec`), so every field change here is a
//! schema change: bump the record's version and add a migration.

pub mod legacy;
pub mod permission;
pub mod validate;

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};

/// Numeric identifier of a stored record, unique per kind and never reused.
pub type Id = u64;

/// Practice-wide settings and policies (a singleton).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Practice {
    /// Practice name shown in headers and invitation mails.
    pub name: String,
    /// The practice's contact email ("Practice Info"); staff may not log in with it.
    pub email: String,
    /// How long an invitation code stays valid, in hours (default 7 days).
    pub invite_expiry_hours: u32,
    /// Minimum time between two sends of the same invitation, in minutes (default 60).
    pub invite_cooldown_minutes: u32,
    /// Failed logins within the window that lock an account (default 5).
    pub lockout_threshold: u32,
    /// Window in which failed logins are counted, in minutes (default 15).
    pub lockout_window_minutes: u32,
    /// How long a locked account stays locked, in minutes (default 15).
    pub lockout_duration_minutes: u32,
    /// Idle time before the TUI locks, in minutes (default 15).
    pub idle_timeout_minutes: u32,
    /// Minimum password length in Unicode code points (default 15, never below 8).
    pub password_min_length: u32,
    /// IANA time zone that tables and screens show times in (`America/Chicago`); `None` uses the
    /// server's own zone. Exports, JSON and the audit chain are always UTC.
    pub time_zone: Option<String>,
    /// Whether logins from unseen devices wait for an administrator's approval.
    pub device_approval: bool,
    /// Bumped on every change (optimistic concurrency).
    pub revision: u64,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Bounds for practice policy numbers: (field, min, max).
const POLICY_BOUNDS: &[(&str, u32, u32)] = &[
    ("invite_expiry_hours", 1, 24 * 90),
    ("invite_cooldown_minutes", 0, 24 * 60),
    ("lockout_threshold", 1, 100),
    ("lockout_window_minutes", 1, 24 * 60),
    ("lockout_duration_minutes", 1, 7 * 24 * 60),
    ("idle_timeout_minutes", 1, 24 * 60),
    ("password_min_length", 8, 64),
];

impl Practice {
    /// Default policies for a new practice.
    pub fn new(name: String, email: String, now: Timestamp) -> Self {
        Self {
            name,
            email,
            invite_expiry_hours: 7 * 24,
            invite_cooldown_minutes: 60,
            lockout_threshold: 5,
            lockout_window_minutes: 15,
            lockout_duration_minutes: 15,
            idle_timeout_minutes: 15,
            password_min_length: 15,
            time_zone: None,
            device_approval: false,
            revision: 1,
            updated_at: now,
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        let mut errs = Vec::new();
        push(
            &mut errs,
            "practice_name",
            validate::name("practice name", &self.name, 120),
        );
        push(&mut errs, "practice_email", validate::email(&self.email));
        for (field, lo, hi) in POLICY_BOUNDS {
            let v = self.policy_value(field);
            if !(*lo..=*hi).contains(&v) {
                errs.push(FieldError::new(
                    *field,
                    format!("{} must be {lo} to {hi}, not {v}", field.replace('_', " ")),
                ));
            }
        }
        if let Some(zone) = &self.time_zone {
            push(&mut errs, "time_zone", validate::time_zone(zone));
        }
        finish(errs)
    }

    /// A numeric policy by field name (used by validation and the settings views).
    pub fn policy_value(&self, field: &str) -> u32 {
        match field {
            "invite_expiry_hours" => self.invite_expiry_hours,
            "invite_cooldown_minutes" => self.invite_cooldown_minutes,
            "lockout_threshold" => self.lockout_threshold,
            "lockout_window_minutes" => self.lockout_window_minutes,
            "lockout_duration_minutes" => self.lockout_duration_minutes,
            "idle_timeout_minutes" => self.idle_timeout_minutes,
            "password_min_length" => self.password_min_length,
            _ => 0,
        }
    }
}

/// A location of the practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facility {
    /// Identifier.
    pub id: Id,
    /// Unique name (case-insensitive).
    pub name: String,
    /// Short code, e.g. for reports (`DT` for Downtown).
    pub code: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Archived facilities keep their history but take no new staff.
    pub archived: bool,
    /// Created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Bumped on every change.
    pub revision: u64,
}

impl Facility {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        let mut errs = Vec::new();
        push(
            &mut errs,
            "name",
            validate::name("facility name", &self.name, 80),
        );
        if let Some(code) = &self.code {
            push(&mut errs, "code", validate::name("facility code", code, 16));
        }
        if let Some(a) = &self.address {
            push(&mut errs, "address", validate::free_text("address", a, 300));
        }
        if let Some(p) = &self.phone {
            push(&mut errs, "phone", validate::phone(p));
        }
        finish(errs)
    }
}

/// A named set of permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Identifier.
    pub id: Id,
    /// Unique name (case-insensitive).
    pub name: String,
    /// What the role is for.
    pub description: String,
    /// Permission keys from the catalogue.
    pub permissions: BTreeSet<String>,
    /// Seeded at init; may be edited but not deleted.
    pub builtin: bool,
    /// Created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Bumped on every change.
    pub revision: u64,
}

impl Role {
    /// Checks every field, including that each permission is in the catalogue.
    pub fn validate(&self) -> Result<()> {
        let mut errs = Vec::new();
        push(
            &mut errs,
            "name",
            validate::name("role name", &self.name, 60),
        );
        push(
            &mut errs,
            "description",
            validate::free_text("description", &self.description, 300),
        );
        for key in &self.permissions {
            if permission::find(key).is_none() {
                errs.push(FieldError::new(
                    "permissions",
                    format!(
                        "unknown permission '{key}'; `staffctl permission list` shows the catalogue"
                    ),
                ));
            }
        }
        finish(errs)
    }
}

/// The built-in roles seeded at init: (name, description, permissions).
pub fn builtin_roles() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    let all: Vec<&str> = permission::all_keys().collect();
    let clinical = [
        "calendar.view",
        "calendar.create",
        "calendar.delete",
        "clinical.view_charts",
        "clinical.write_notes",
        "clinical.manage_medications",
        "patients.assignable",
        "messaging.patients",
        "messaging.team_chat",
        "forms.sign",
        "reports.nps",
        "rtm.timer",
    ];
    vec![
        (
            "Administrator",
            "Full access, including staff, settings and audit export",
            all,
        ),
        (
            "Provider",
            "Licensed clinician: patients, charts, notes, RTM",
            clinical.to_vec(),
        ),
        (
            "Provider Assistant",
            "Assists providers (e.g. PTA); billable seat",
            vec![
                "calendar.view",
                "calendar.create",
                "clinical.view_charts",
                "clinical.write_notes",
                "patients.assignable",
                "messaging.patients",
                "messaging.team_chat",
                "rtm.timer",
            ],
        ),
        (
            "Technician",
            "Full clinical access except the RTM timer; free seat",
            clinical
                .iter()
                .copied()
                .filter(|k| *k != "rtm.timer")
                .collect(),
        ),
        (
            "Front Desk",
            "Scheduling, payments and patient messages",
            vec![
                "calendar.view",
                "calendar.create",
                "calendar.delete",
                "billing.process_payments",
                "messaging.patients",
                "messaging.team_chat",
            ],
        ),
        (
            "Billing Manager",
            "Payments, refunds and revenue reports",
            vec![
                "calendar.view",
                "billing.process_payments",
                "billing.issue_refunds",
                "billing.view_revenue",
                "messaging.team_chat",
            ],
        ),
        (
            "Aide",
            "Unlicensed helper: never assigned patients, no patient messaging",
            vec![
                "calendar.view",
                "clinical.view_charts",
                "messaging.team_chat",
            ],
        ),
    ]
}

/// Account lifecycle: Invited -> Active -> Deactivated (and back by reactivation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// Added, not yet activated.
    Invited,
    /// Activated; may log in.
    Active,
    /// Left the practice; login refused, history kept.
    Deactivated,
}

impl UserStatus {
    /// Lowercase name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
            Self::Deactivated => "deactivated",
        }
    }
}

/// Billing category: Provider and Provider Assistant are billable seats; Technician is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillingCategory {
    /// Billable provider seat.
    Provider,
    /// Billable provider-assistant seat (e.g. PTA).
    Assistant,
    /// Free seat; no RTM timer.
    Technician,
    /// Not a clinical seat (front desk, billing staff).
    None,
}

impl BillingCategory {
    /// Lowercase name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Assistant => "assistant",
            Self::Technician => "technician",
            Self::None => "none",
        }
    }

    /// Whether the seat is charged.
    pub fn is_billable(self) -> bool {
        matches!(self, Self::Provider | Self::Assistant)
    }
}

/// How a user signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginMethod {
    /// With the email address (must be unique and differ from the practice email).
    Email,
    /// With the username; the email is then only for contact.
    Username,
}

/// Which facilities a user may access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FacilityAccess {
    /// Every facility, including ones added later.
    All,
    /// Only these facilities (the primary facility is always included).
    Only(BTreeSet<Id>),
}

/// Scope of data a user sees for patients, lists, content, workflows and NPS reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataScope {
    /// Only what they created or are assigned.
    Own,
    /// Everything at the facilities they can access.
    Facility,
    /// Everything in the practice.
    All,
}

/// Professional data for clinical staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderProfile {
    /// National Provider Identifier (10 digits, Luhn-checked).
    pub npi: Option<String>,
    /// Health Care Provider Taxonomy code (e.g. 207Q00000X).
    pub taxonomy: Option<String>,
    /// Patient-facing biography.
    pub bio: String,
    /// Provider id in the practice-management system.
    pub pms_provider_id: Option<String>,
    /// Appointments the provider can handle at once (>= 1).
    pub capacity: u32,
    /// Calendar step in minutes (5, 10, 15, 20, 30 or 60).
    pub scheduling_step_minutes: u16,
    /// Name used on forms and consents; at most one per practice.
    pub default_doctor: bool,
    /// May co-sign forms with a patient.
    pub can_sign_forms: bool,
    /// Profile shown in the patient app and online scheduling.
    pub show_in_app: bool,
    /// Screen-pop extension: digits, or `*` for all.
    pub screen_pop_extension: Option<String>,
    /// RTM tracking on by default for new patients.
    pub rtm_default: bool,
    /// Ask for a location and RTM when importing a patient.
    pub location_popup: bool,
}

impl Default for ProviderProfile {
    fn default() -> Self {
        Self {
            npi: None,
            taxonomy: None,
            bio: String::new(),
            pms_provider_id: None,
            capacity: 1,
            scheduling_step_minutes: 15,
            default_doctor: false,
            can_sign_forms: false,
            show_in_app: false,
            screen_pop_extension: None,
            rtm_default: true,
            location_popup: false,
        }
    }
}

/// What a user is notified about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPrefs {
    /// Patients may send this user secure messages.
    pub secure_messaging: bool,
    /// Email when billable RTM codes are ready.
    pub billable_codes_email: bool,
    /// New lead submissions.
    pub new_lead: bool,
    /// New intake submissions.
    pub new_intake: bool,
    /// Low NPS score alerts (detractors).
    pub low_score_alert: bool,
    /// Passive NPS score alerts.
    pub passive_score_alert: bool,
    /// Promoter NPS score alerts.
    pub promoter_score_alert: bool,
    /// Email when a patient's daily outcome score is below this (1 to 5); `None` = off.
    pub dos_threshold: Option<u8>,
    /// Location preselected when adding patients.
    pub default_location: Option<Id>,
}

/// A staff member. Secrets (password hash, failed-login counters) live in [`Credential`], so a
/// `User` can be shown, exported and logged as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Identifier.
    pub id: Id,
    /// Optional username (unique, lowercase).
    pub username: Option<String>,
    /// Email address: the login email when the user logs in by email (unique), else the
    /// contact address.
    pub email: String,
    /// A separate address for mail to someone who logs in by email (`None`: mail goes to the
    /// login email).
    pub contact_email: Option<String>,
    /// How the user logs in.
    pub login_method: LoginMethod,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Name shown to patients, when different.
    pub public_name: Option<String>,
    /// Lifecycle status.
    pub status: UserStatus,
    /// Assigned role. Everything the user may do, staffctl itself included (`admin.users`,
    /// `admin.settings`, `audit.export`), comes from it.
    pub role_id: Id,
    /// Billing seat.
    pub billing: BillingCategory,
    /// Works part-time.
    pub part_time: bool,
    /// Unlicensed aide: never assignable to patients, no patient messaging.
    pub aide: bool,
    /// Takes part in team chat.
    pub chat_user: bool,
    /// Facility the user is attributed to.
    pub primary_facility: Id,
    /// Facilities the user may access.
    pub access: FacilityAccess,
    /// Scope for patients, lists, content and workflows.
    pub data_scope: DataScope,
    /// Scope for NPS reports.
    pub nps_scope: DataScope,
    /// Provider credentials and scheduling.
    pub provider: ProviderProfile,
    /// Notification preferences.
    pub notifications: NotificationPrefs,
    /// Free-text note for administrators.
    pub note: String,
    /// Added.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// First activation; `None` means never activated (the user may still be deleted).
    pub activated_at: Option<Timestamp>,
    /// When the user was deactivated.
    pub deactivated_at: Option<Timestamp>,
    /// Why the user was deactivated.
    pub deactivation_reason: Option<String>,
    /// Bumped on every change.
    pub revision: u64,
}

/// The lowercase search text of a user from its parts: "First Last", email, then username,
/// public name and NPI where set. [`User::search_text`] and listings of users share it, so the
/// interface's `/` filter finds exactly what `--search` finds.
pub fn search_text(full_name: &str, email: &str, extras: [Option<&str>; 3]) -> String {
    let mut s = format!("{full_name} {email}");
    for extra in extras.into_iter().flatten() {
        s.push(' ');
        s.push_str(extra);
    }
    s.to_lowercase()
}

impl User {
    /// "First Last".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// Lowercase text the `/` filter and `--search` look in: name, email, username, public
    /// name and NPI.
    pub fn search_text(&self) -> String {
        search_text(
            &self.full_name(),
            &self.email,
            [
                self.username.as_deref(),
                self.public_name.as_deref(),
                self.provider.npi.as_deref(),
            ],
        )
    }

    /// Whether the user may use `facility`.
    pub fn can_access(&self, facility: Id) -> bool {
        facility == self.primary_facility
            || match &self.access {
                FacilityAccess::All => true,
                FacilityAccess::Only(set) => set.contains(&facility),
            }
    }

    /// The login email, when the user logs in with email.
    pub fn login_email(&self) -> Option<&str> {
        (self.login_method == LoginMethod::Email).then_some(self.email.as_str())
    }

    /// Where mail to the user goes: the contact email when set, else the email.
    pub fn mail_address(&self) -> &str {
        self.contact_email.as_deref().unwrap_or(&self.email)
    }

    /// Checks every field on its own (rules that need other records live in the service).
    pub fn validate(&self) -> Result<()> {
        let mut errs = Vec::new();
        push(
            &mut errs,
            "first_name",
            validate::name("first name", &self.first_name, 60),
        );
        push(
            &mut errs,
            "last_name",
            validate::name("last name", &self.last_name, 60),
        );
        if let Some(p) = &self.public_name {
            push(
                &mut errs,
                "public_name",
                validate::name("public name", p, 120),
            );
        }
        push(&mut errs, "email", validate::email(&self.email));
        if let Some(contact) = &self.contact_email {
            push(&mut errs, "contact_email", validate::email(contact));
        }
        match &self.username {
            Some(u) => push(&mut errs, "username", validate::username(u)),
            None if self.login_method == LoginMethod::Username => errs.push(FieldError::new(
                "username",
                "a username is required to log in by username (or log in by email)",
            )),
            None => {}
        }
        let p = &self.provider;
        if let Some(npi) = &p.npi {
            push(&mut errs, "npi", validate::npi(npi));
        }
        if let Some(t) = &p.taxonomy {
            push(&mut errs, "taxonomy", validate::taxonomy(t));
        }
        push(&mut errs, "bio", validate::free_text("bio", &p.bio, 2000));
        if let Some(pms) = &p.pms_provider_id {
            push(
                &mut errs,
                "pms_provider_id",
                validate::name("PMS provider id", pms, 40),
            );
        }
        push(&mut errs, "capacity", validate::capacity(p.capacity));
        push(
            &mut errs,
            "scheduling_step",
            validate::scheduling_step(p.scheduling_step_minutes),
        );
        if let Some(ext) = &p.screen_pop_extension {
            push(&mut errs, "extension", validate::extension(ext));
        }
        if let Some(t) = self.notifications.dos_threshold {
            push(&mut errs, "dos_threshold", validate::dos_threshold(t));
        }
        push(
            &mut errs,
            "note",
            validate::free_text("note", &self.note, 2000),
        );
        if self.aide && self.billing.is_billable() {
            errs.push(FieldError::new(
                "billing",
                "an aide is not licensed and cannot hold a billable provider seat; choose technician or none",
            ));
        }
        if self.aide {
            // Aides are not licensed: no patient messaging, no provider identity, no signing.
            let licensed_only = [
                (
                    self.notifications.secure_messaging,
                    "secure_messaging",
                    "aides do not message patients; turn secure messaging off or clear the aide flag",
                ),
                (
                    self.chat_user,
                    "chat_user",
                    "a chat user messages patients, which aides do not; turn chat off or clear the aide flag",
                ),
                (
                    self.provider.npi.is_some(),
                    "npi",
                    "an NPI belongs to a licensed provider; aides have none (clear the NPI or the aide flag)",
                ),
                (
                    self.provider.can_sign_forms,
                    "can_sign_forms",
                    "aides are not licensed to co-sign forms; turn it off or clear the aide flag",
                ),
            ];
            for (set, field, message) in licensed_only {
                if set {
                    errs.push(FieldError::new(field, message));
                }
            }
        }
        if let Some(loc) = self.notifications.default_location
            && !self.can_access(loc)
        {
            errs.push(FieldError::new(
                "default_location",
                format!(
                    "the default location (facility #{loc}) is not one this user can access; grant access to it first or pick another"
                ),
            ));
        }
        finish(errs)
    }
}

/// A user's secrets and login counters, stored apart from the profile.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The user these belong to.
    pub user_id: Id,
    /// Argon2id PHC string; `None` until the account is activated.
    pub password_hash: Option<String>,
    /// Failed logins in the current window.
    pub failed_logins: u32,
    /// Start of the current failed-login window.
    pub failed_window_start: Option<Timestamp>,
    /// Locked after too many failed logins, until this time.
    pub locked_until: Option<Timestamp>,
    /// Last successful login.
    pub last_login_at: Option<Timestamp>,
    /// Where the last successful login came from (OS user, SSH address, terminal; no process
    /// id), so that a burst of commands from one terminal is audited as one login.
    pub last_login_from: Option<String>,
    /// The process the last successful login came from.
    pub last_login_pid: Option<u32>,
}

impl Credential {
    /// The credential of a user whose password (or none yet) is `password_hash`, with no failed
    /// logins counted.
    pub fn new(user_id: Id, password_hash: Option<String>) -> Self {
        Self {
            user_id,
            password_hash,
            failed_logins: 0,
            failed_window_start: None,
            locked_until: None,
            last_login_at: None,
            last_login_from: None,
            last_login_pid: None,
        }
    }

    /// Whether failed logins lock the account at `now`.
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }

    /// Forgets counted failed logins (after a success, an unlock or a new password).
    pub fn clear_failures(&mut self) {
        self.failed_logins = 0;
        self.failed_window_start = None;
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("user_id", &self.user_id)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "[redacted]"),
            )
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .field("last_login_at", &self.last_login_at)
            .finish()
    }
}

/// Invitation lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InviteStatus {
    /// Sent, not yet used.
    Pending,
    /// Used to activate the account.
    Accepted,
    /// Past its expiry.
    Expired,
    /// Withdrawn by an administrator or by deactivation.
    Revoked,
}

impl InviteStatus {
    /// Lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// An invitation to activate an account. The clear code is never stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// Identifier.
    pub id: Id,
    /// Invited user.
    pub user_id: Id,
    /// Argon2id hash of the one-time code.
    pub code_hash: String,
    /// Created.
    pub created_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
    /// Last (re)send.
    pub last_sent_at: Timestamp,
    /// Number of sends.
    pub send_count: u32,
    /// Status.
    pub status: InviteStatus,
}

impl std::fmt::Debug for Invite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invite")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("code_hash", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("send_count", &self.send_count)
            .field("status", &self.status)
            .finish()
    }
}

/// Device approval status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceStatus {
    /// Waiting for an administrator.
    Pending,
    /// May log in.
    Approved,
    /// Refused.
    Declined,
}

impl DeviceStatus {
    /// Lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Declined => "declined",
        }
    }
}

/// A device a user logged in from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Identifier.
    pub id: Id,
    /// Owner.
    pub user_id: Id,
    /// Human label (host name, browser).
    pub label: String,
    /// Fingerprint presented at login.
    pub fingerprint: String,
    /// First login attempt from it.
    pub first_seen: Timestamp,
    /// Status.
    pub status: DeviceStatus,
    /// Administrator who decided.
    pub decided_by: Option<Id>,
    /// When they decided.
    pub decided_at: Option<Timestamp>,
}

fn push(errs: &mut Vec<FieldError>, field: &str, r: std::result::Result<(), String>) {
    if let Err(message) = r {
        errs.push(FieldError::new(field, message));
    }
}

fn finish(errs: Vec<FieldError>) -> Result<()> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errs))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_user() -> User {
        let now = Timestamp::UNIX_EPOCH;
        User {
            id: 1,
            username: None,
            email: "alice@clinic.example".into(),
            contact_email: None,
            login_method: LoginMethod::Email,
            first_name: "Alice".into(),
            last_name: "Smith".into(),
            public_name: None,
            status: UserStatus::Invited,
            role_id: 1,
            billing: BillingCategory::Provider,
            part_time: false,
            aide: false,
            chat_user: false,
            primary_facility: 1,
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

    #[test]
    fn valid_user_passes() {
        assert!(sample_user().validate().is_ok());
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut u = sample_user();
        u.email = "nope".into();
        u.provider.npi = Some("1234567890".into());
        u.provider.taxonomy = Some("bad".into());
        u.provider.capacity = 0;
        u.provider.scheduling_step_minutes = 7;
        u.provider.screen_pop_extension = Some("x".into());
        u.notifications.dos_threshold = Some(9);
        let err = u.validate().unwrap_err();
        let fields: Vec<_> = err
            .field_errors()
            .iter()
            .map(|f| f.field.as_str())
            .collect();
        assert_eq!(
            fields,
            [
                "email",
                "npi",
                "taxonomy",
                "capacity",
                "scheduling_step",
                "extension",
                "dos_threshold"
            ]
        );
    }

    #[test]
    fn username_login_needs_a_username() {
        let mut u = sample_user();
        u.login_method = LoginMethod::Username;
        assert_eq!(
            u.validate().unwrap_err().field_errors()[0].field,
            "username"
        );
    }

    #[test]
    fn aide_is_refused_what_needs_a_licence() {
        let mut u = sample_user();
        u.billing = BillingCategory::None;
        u.aide = true;
        u.notifications.secure_messaging = true;
        u.provider.npi = Some("1234567893".into());
        u.provider.can_sign_forms = true;
        u.chat_user = true;
        let err = u.validate().unwrap_err();
        let fields: Vec<_> = err
            .field_errors()
            .iter()
            .map(|f| f.field.as_str())
            .collect();
        assert_eq!(
            fields,
            ["secure_messaging", "chat_user", "npi", "can_sign_forms"]
        );
    }

    #[test]
    fn default_location_must_be_accessible() {
        let mut u = sample_user();
        u.notifications.default_location = Some(2);
        let err = u.validate().unwrap_err();
        assert_eq!(err.field_errors()[0].field, "default_location");
        u.access = FacilityAccess::Only([2].into());
        assert!(u.validate().is_ok());
        u.notifications.default_location = Some(1);
        assert!(u.validate().is_ok());
    }

    #[test]
    fn aide_cannot_hold_billable_seat() {
        let mut u = sample_user();
        u.aide = true;
        assert_eq!(u.validate().unwrap_err().field_errors()[0].field, "billing");
        u.billing = BillingCategory::None;
        assert!(u.validate().is_ok());
    }

    #[test]
    fn builtin_roles_are_valid_and_aide_safe() {
        let now = Timestamp::UNIX_EPOCH;
        for (name, desc, perms) in builtin_roles() {
            let r = Role {
                id: 1,
                name: name.into(),
                description: desc.into(),
                permissions: perms.iter().map(|s| s.to_string()).collect(),
                builtin: true,
                created_at: now,
                updated_at: now,
                revision: 1,
            };
            assert!(r.validate().is_ok(), "{name}");
            if name == "Aide" {
                for k in permission::AIDE_FORBIDDEN {
                    assert!(!r.permissions.contains(*k));
                }
            }
            if name == "Technician" {
                assert!(!r.permissions.contains("rtm.timer"));
            }
        }
    }

    #[test]
    fn practice_policies_are_bounded() {
        let mut p = Practice::new(
            "Clinic".into(),
            "office@clinic.example".into(),
            Timestamp::UNIX_EPOCH,
        );
        assert!(p.validate().is_ok());
        p.password_min_length = 7;
        p.lockout_threshold = 0;
        let err = p.validate().unwrap_err();
        assert_eq!(err.field_errors().len(), 2);
    }

    #[test]
    fn credential_debug_hides_hash() {
        let c = Credential {
            user_id: 1,
            password_hash: Some("$argon2id$secret".into()),
            failed_logins: 0,
            failed_window_start: None,
            locked_until: None,
            last_login_at: None,
            last_login_from: None,
            last_login_pid: None,
        };
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn access_includes_primary() {
        let u = sample_user();
        assert!(u.can_access(1));
        assert!(!u.can_access(2));
    }
}
