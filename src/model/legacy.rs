//! Record layouts written by older releases, kept so that their bytes can still be read.
//! `store::codec` upgrades single records through these; `store::migrate` uses them where an
//! upgrade needs other records too (the administrator flag of a v1 user becomes a role).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{
    BillingCategory, Credential, DataScope, FacilityAccess, Id, LoginMethod, NotificationPrefs,
    Practice, ProviderProfile, User, UserStatus,
};

/// `User`, layout 1: login bookkeeping (lock, last login) lived in the profile, and staffctl's
/// own authority came from an administrator flag rather than from the role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserV1 {
    pub id: Id,
    pub username: Option<String>,
    pub email: String,
    pub login_method: LoginMethod,
    pub first_name: String,
    pub last_name: String,
    pub public_name: Option<String>,
    pub status: UserStatus,
    pub locked_until: Option<Timestamp>,
    pub role_id: Id,
    pub billing: BillingCategory,
    pub is_admin: bool,
    pub part_time: bool,
    pub aide: bool,
    pub primary_facility: Id,
    pub access: FacilityAccess,
    pub data_scope: DataScope,
    pub nps_scope: DataScope,
    pub provider: ProviderProfile,
    pub notifications: NotificationPrefs,
    pub note: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub activated_at: Option<Timestamp>,
    pub last_login_at: Option<Timestamp>,
    pub deactivated_at: Option<Timestamp>,
    pub deactivation_reason: Option<String>,
    pub revision: u64,
}

impl UserV1 {
    /// The profile in today's layout. The lock, the last login and the administrator flag are
    /// not part of it: the schema 4 migration moves the first two into the credential and turns
    /// the flag into the Administrator role.
    pub fn into_current(self) -> User {
        User {
            id: self.id,
            username: self.username,
            email: self.email,
            contact_email: None,
            login_method: self.login_method,
            first_name: self.first_name,
            last_name: self.last_name,
            public_name: self.public_name,
            status: self.status,
            role_id: self.role_id,
            billing: self.billing,
            part_time: self.part_time,
            aide: self.aide,
            // Chat was open to everyone whose role granted it; aides never message patients.
            chat_user: !self.aide,
            primary_facility: self.primary_facility,
            access: self.access,
            data_scope: self.data_scope,
            nps_scope: self.nps_scope,
            provider: self.provider,
            notifications: self.notifications,
            note: self.note,
            created_at: self.created_at,
            updated_at: self.updated_at,
            activated_at: self.activated_at,
            deactivated_at: self.deactivated_at,
            deactivation_reason: self.deactivation_reason,
            revision: self.revision,
        }
    }
}

/// `Credential`, layout 1: no lock or last login (they were in the user record).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialV1 {
    pub user_id: Id,
    pub password_hash: Option<String>,
    pub failed_logins: u32,
    pub failed_window_start: Option<Timestamp>,
}

impl CredentialV1 {
    /// Today's layout, with nothing locked and no login known.
    pub fn into_current(self) -> Credential {
        Credential {
            user_id: self.user_id,
            password_hash: self.password_hash,
            failed_logins: self.failed_logins,
            failed_window_start: self.failed_window_start,
            locked_until: None,
            last_login_at: None,
            last_login_from: None,
            last_login_pid: None,
        }
    }
}

/// `Practice`, layout 1: the mail command was a practice setting, which let any staffctl
/// administrator choose a program for the server to run. It now lives in the server's
/// configuration, which only the server's owner can write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeV1 {
    pub name: String,
    pub email: String,
    pub invite_expiry_hours: u32,
    pub invite_cooldown_minutes: u32,
    pub lockout_threshold: u32,
    pub lockout_window_minutes: u32,
    pub lockout_duration_minutes: u32,
    pub idle_timeout_minutes: u32,
    pub password_min_length: u32,
    pub mail_command: Option<String>,
    pub device_approval: bool,
    pub revision: u64,
    pub updated_at: Timestamp,
}

impl PracticeV1 {
    /// Today's layout: the server's own time zone, and no mail command.
    pub fn into_current(self) -> Practice {
        Practice {
            name: self.name,
            email: self.email,
            invite_expiry_hours: self.invite_expiry_hours,
            invite_cooldown_minutes: self.invite_cooldown_minutes,
            lockout_threshold: self.lockout_threshold,
            lockout_window_minutes: self.lockout_window_minutes,
            lockout_duration_minutes: self.lockout_duration_minutes,
            idle_timeout_minutes: self.idle_timeout_minutes,
            password_min_length: self.password_min_length,
            time_zone: None,
            device_approval: self.device_approval,
            revision: self.revision,
            updated_at: self.updated_at,
        }
    }
}
