//! Fixed values for the golden frames: every field set, times and ids constant, so the bytes
//! change only when an encoding does.

use std::collections::BTreeSet;

use jiff::Timestamp;

use crate::audit::{Actor, AuditEvent, Change, Origin, Outcome, Target};
use crate::model::{
    BillingCategory, DataScope, Device, DeviceStatus, Facility, FacilityAccess, InviteStatus,
    LoginMethod, NotificationPrefs, Practice, ProviderProfile, Role, User, UserStatus,
};
use crate::service::import::{
    IgnoredColumn, ImportReport, ImportResult, ImportRow, ImportedUser, RowProblem,
};
use crate::service::{
    AccessView, AuditHead, DeviceView, FacilityCheck, FacilityDetail, FacilitySummary,
    HistoryEntry, Invitation, InviteView, Listing, LoginState, MailSetting, OneTimeCode,
    OperatorView, PermissionInfo, Person, PracticeView, QuarantineEntry, RoleDetail, RoleSummary,
    SeatCount, UnreadableRecord, UserDetail, UserSummary, VerifyReport,
};

/// 2026-01-01T00:00:00Z plus `seconds`.
pub(super) fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_767_225_600 + seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(super) fn origin() -> Origin {
    Origin {
        os_user: "ira".into(),
        pid: 4242,
        ssh_client: Some("10.0.0.7".into()),
        tty: Some("/dev/pts/3".into()),
    }
}

pub(super) fn practice() -> Practice {
    Practice {
        name: "Riverside Physical Therapy".into(),
        email: "office@riverside.example".into(),
        invite_expiry_hours: 168,
        invite_cooldown_minutes: 60,
        lockout_threshold: 5,
        lockout_window_minutes: 15,
        lockout_duration_minutes: 15,
        idle_timeout_minutes: 15,
        password_min_length: 15,
        time_zone: Some("America/Chicago".into()),
        device_approval: true,
        revision: 7,
        updated_at: at(60),
    }
}

pub(super) fn facility() -> Facility {
    Facility {
        id: 2,
        name: "Uptown".into(),
        code: Some("UP".into()),
        address: Some("1 Main St".into()),
        phone: Some("+1 555 010 2000".into()),
        archived: false,
        created_at: at(0),
        updated_at: at(30),
        revision: 3,
    }
}

pub(super) fn role() -> Role {
    Role {
        id: 2,
        name: "Provider".into(),
        description: "Licensed clinician".into(),
        permissions: BTreeSet::from(["calendar.view".to_string(), "forms.sign".to_string()]),
        builtin: true,
        created_at: at(0),
        updated_at: at(10),
        revision: 2,
    }
}

pub(super) fn user() -> User {
    User {
        id: 12,
        username: Some("asmith".into()),
        email: "alice@riverside.example".into(),
        contact_email: Some("alice@home.example".into()),
        login_method: LoginMethod::Username,
        first_name: "Alice".into(),
        last_name: "Smith".into(),
        public_name: Some("Dr. Alice".into()),
        status: UserStatus::Active,
        role_id: 2,
        billing: BillingCategory::Provider,
        part_time: true,
        aide: false,
        chat_user: true,
        primary_facility: 1,
        access: FacilityAccess::Only(BTreeSet::from([1, 2])),
        data_scope: DataScope::Facility,
        nps_scope: DataScope::Own,
        provider: ProviderProfile {
            npi: Some("1245319599".into()),
            taxonomy: Some("225100000X".into()),
            bio: "Sports injuries".into(),
            pms_provider_id: Some("P-17".into()),
            capacity: 2,
            scheduling_step_minutes: 30,
            default_doctor: true,
            can_sign_forms: true,
            show_in_app: true,
            screen_pop_extension: Some("204".into()),
            rtm_default: false,
            location_popup: true,
        },
        notifications: NotificationPrefs {
            secure_messaging: true,
            billable_codes_email: true,
            new_lead: false,
            new_intake: true,
            low_score_alert: true,
            passive_score_alert: false,
            promoter_score_alert: true,
            dos_threshold: Some(3),
            default_location: Some(2),
        },
        note: "Mondays at Uptown".into(),
        created_at: at(100),
        updated_at: at(200),
        activated_at: Some(at(150)),
        deactivated_at: None,
        deactivation_reason: None,
        revision: 4,
    }
}

pub(super) fn person() -> Person {
    Person {
        id: 12,
        name: "Alice Smith".into(),
    }
}

pub(super) fn unreadable() -> UnreadableRecord {
    UnreadableRecord {
        tree: "users".into(),
        key: "000000000000000d".into(),
        problem: "layout version 9 is newer than this staffctl".into(),
    }
}

/// A listing of `item` with one unreadable record.
pub(super) fn listing<T>(item: T) -> Listing<T> {
    Listing {
        items: vec![item],
        unreadable: vec![unreadable()],
    }
}

pub(super) fn operator() -> OperatorView {
    OperatorView {
        id: 1,
        login: "ira".into(),
        name: "Ira Tech".into(),
        role: "Administrator".into(),
        permissions: vec!["admin.settings".into(), "admin.users".into()],
        time_zone: "America/Chicago".into(),
    }
}

pub(super) fn practice_view() -> PracticeView {
    PracticeView {
        settings: practice(),
        mail: MailSetting {
            command: Some("/usr/sbin/sendmail -t".into()),
            source: "/etc/staffctl/config.toml".into(),
            problem: Some("group-writable".into()),
        },
        time_zone: "America/Chicago".into(),
        seats: SeatCount {
            provider: 3,
            assistant: 1,
            technician: 2,
        },
    }
}

pub(super) fn facility_summary() -> FacilitySummary {
    FacilitySummary {
        facility: facility(),
        primary_users: 4,
    }
}

pub(super) fn facility_detail() -> FacilityDetail {
    FacilityDetail {
        facility: facility(),
        primary_users: vec![person()],
        access_users: vec![
            person(),
            Person {
                id: 13,
                name: "Sam Lee".into(),
            },
        ],
    }
}

pub(super) fn role_summary() -> RoleSummary {
    RoleSummary {
        role: role(),
        users: 5,
    }
}

pub(super) fn role_detail() -> RoleDetail {
    RoleDetail {
        role: role(),
        users: vec![person()],
    }
}

pub(super) fn permission() -> PermissionInfo {
    PermissionInfo {
        key: "calendar.view".into(),
        module: "calendar".into(),
        description: "See the calendar".into(),
    }
}

pub(super) fn user_summary() -> UserSummary {
    UserSummary {
        id: 12,
        name: "Alice Smith".into(),
        public_name: Some("Dr. Smith".into()),
        username: Some("asmith".into()),
        email: "alice@riverside.example".into(),
        role: "Provider".into(),
        facility: "Downtown".into(),
        status: UserStatus::Active,
        locked: true,
        billing: BillingCategory::Assistant,
        admin: false,
        npi: Some("1245319599".into()),
        last_login_at: Some(at(300)),
    }
}

pub(super) fn user_detail() -> UserDetail {
    UserDetail {
        user: user(),
        status: UserStatus::Active,
        role: "Provider".into(),
        facility: "Downtown".into(),
        access: vec!["Downtown".into(), "Uptown".into()],
        default_location: Some("Uptown".into()),
        permissions: vec!["calendar.view".into()],
        history: vec![HistoryEntry {
            seq: 9,
            time: at(200),
            actor: "ira".into(),
            action: "user.update".into(),
            outcome: "success".into(),
            changes: vec!["capacity: 1 -> 2".into()],
        }],
        invitation: Some(Invitation {
            code: OneTimeCode("7K3M-9QXD-2PWR-H4TZ-8NVB-6CJE".into()),
            expires_at: at(604_800),
            mail: Some(Err("sendmail exited with status 75".into())),
        }),
        login: LoginState {
            locked_until: Some(at(900)),
            failed_logins: 5,
            last_login_at: Some(at(300)),
            has_password: true,
        },
    }
}

pub(super) fn access() -> AccessView {
    AccessView {
        user_id: 12,
        user: "Alice Smith".into(),
        all: false,
        facilities: vec![
            FacilityCheck {
                id: 1,
                name: "Downtown".into(),
                can_access: true,
                primary: true,
            },
            FacilityCheck {
                id: 2,
                name: "Uptown".into(),
                can_access: false,
                primary: false,
            },
        ],
    }
}

pub(super) fn event() -> AuditEvent {
    AuditEvent {
        seq: 9,
        at_micros: at(200).as_microsecond() + 123_456,
        actor: Actor::User {
            id: 1,
            label: "ira".into(),
        },
        origin: origin(),
        action: "user.update".into(),
        target: Some(Target::new("user", 12, "alice@riverside.example")),
        changes: vec![
            Change::new("capacity", Some("1".into()), Some("2".into())),
            Change::secret("password"),
        ],
        outcome: Outcome::Rejected("changed by sam at 09:14; reload".into()),
        prev_hash: [0x5a; 32],
        hash: [0xc3; 32],
    }
}

pub(super) fn verify_report() -> VerifyReport {
    VerifyReport {
        checked: 41,
        head_seq: 42,
        head_hash: "c3".repeat(32),
        broken: Some((17, "hash does not match".into())),
        expectation: Some("the log holds 40:ab".into()),
        quarantined: 1,
        ok: false,
    }
}

pub(super) fn head() -> AuditHead {
    AuditHead {
        seq: 42,
        hash: "c3".repeat(32),
    }
}

pub(super) fn quarantine() -> QuarantineEntry {
    QuarantineEntry {
        reason: "damaged".into(),
        stored_under: "0000000000000004".into(),
        displaced_by: Some(17),
        size: 3,
        readable_events: vec![13, 14],
        data_hex: "00ff10".into(),
    }
}

pub(super) fn invite() -> InviteView {
    InviteView {
        user_id: 13,
        name: "Sam Lee".into(),
        email: "sam@riverside.example".into(),
        status: InviteStatus::Pending,
        send_count: 2,
        last_sent_at: at(400),
        expires_at: at(605_200),
    }
}

pub(super) fn device() -> DeviceView {
    DeviceView {
        device: Device {
            id: 3,
            user_id: 12,
            label: "front-desk-2".into(),
            fingerprint: "sha256:9f86d081884c7d65".into(),
            first_seen: at(500),
            status: DeviceStatus::Approved,
            decided_by: Some(1),
            decided_at: Some(at(560)),
        },
        user: "Alice Smith".into(),
    }
}

pub(super) fn import_report() -> ImportReport {
    ImportReport {
        file: "staff.csv".into(),
        sha256: "ab".repeat(32),
        encoding: "UTF-8".into(),
        delimiter: ",".into(),
        headers: vec!["First name".into(), "Email".into(), "Shoe size".into()],
        ignored_columns: vec![IgnoredColumn {
            header: "Shoe size".into(),
            why: "not a user field staffctl knows".into(),
        }],
        rows: vec![
            ImportRow {
                row: 2,
                name: "Ana Lee".into(),
                email: "ana@riverside.example".into(),
                cells: vec!["Ana".into(), "ana@riverside.example".into(), "38".into()],
                problems: Vec::new(),
            },
            ImportRow {
                row: 3,
                name: "Bo".into(),
                email: String::new(),
                cells: vec!["Bo".into(), String::new(), String::new()],
                problems: vec![RowProblem {
                    column: "Email".into(),
                    message: "email is required".into(),
                }],
            },
        ],
    }
}

pub(super) fn import_result() -> ImportResult {
    ImportResult {
        report: import_report(),
        created: vec![ImportedUser {
            row: 2,
            id: 14,
            name: "Ana Lee".into(),
            login: "ana@riverside.example".into(),
            invitation: Some(Invitation {
                code: OneTimeCode("7K3M-9QXD-2PWR-H4TZ-8NVB-6CJE".into()),
                expires_at: at(604_800),
                mail: None,
            }),
        }],
    }
}

pub(super) fn backup_header() -> crate::service::backup::BackupHeader {
    crate::service::backup::BackupHeader {
        format: 1,
        staffctl: "0.1.0".into(),
        practice: "Riverside Physio".into(),
        created_at: at(86_400),
        created_by: "ira (ira ssh=10.0.0.5 tty=/dev/pts/3)".into(),
        audit_head: format!("42:{}", "c3".repeat(32)),
        counts: crate::service::backup::BackupCounts {
            users: 41,
            roles: 7,
            facilities: 3,
            invites: 40,
            devices: 2,
            events: 42,
            quarantined: 0,
        },
        encrypted: false,
    }
}
