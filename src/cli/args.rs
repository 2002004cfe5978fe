//! The command-line grammar. Spellings here are a contract: scripts and docs depend on them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::output::OutputFormat;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  store or I/O failure
  2  bad command line
  3  invalid input or conflict with existing data (nothing was changed)
  4  not found
  5  authentication or permission refused
  6  store busy (another staffctl holds it)
  7  audit chain or record failed verification

Environment:
  STAFFCTL_DATA      data directory (same as --data)
  STAFFCTL_USER      operator username or email (same as --as)
  STAFFCTL_PASSWORD  operator password for scripts (otherwise prompted)";

/// Manage a clinic's staff users, roles, facilities and access, with a tamper-evident audit log.
///
/// Every command (except init, recover and permission list) runs as an administrator: pass
/// --as USER (or set STAFFCTL_USER); the password is prompted, or read from STAFFCTL_PASSWORD.
#[derive(Debug, Parser)]
#[command(name = "staffctl", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// Data directory holding the store [default: $STAFFCTL_DATA, else /var/lib/staffctl when
    /// writable, else ~/.local/share/staffctl]
    #[arg(long, global = true, value_name = "DIR", env = "STAFFCTL_DATA")]
    pub data: Option<PathBuf>,

    /// Operator (administrator) username, email or id
    #[arg(long = "as", global = true, value_name = "USER", env = "STAFFCTL_USER")]
    pub operator: Option<String>,

    /// Output format for read commands
    #[arg(long, global = true, value_enum, default_value = "table")]
    pub output: OutputFormat,

    /// Talk to the `staffctl serve` on this socket [default: the data directory's socket, then
    /// /run/staffctl/staffctl.sock, else open the store directly]. With `serve`: where to listen.
    #[arg(long, global = true, value_name = "PATH", env = "STAFFCTL_SOCKET")]
    pub socket: Option<PathBuf>,

    /// Open the store directly even if a server is running (it will then be busy)
    #[arg(long, global = true, conflicts_with = "socket")]
    pub direct: bool,

    /// Key bindings for the interface: default, vim, or a keymap file
    #[arg(long, global = true, value_name = "NAME|PATH", env = "STAFFCTL_KEYMAP")]
    pub keymap: Option<String>,

    /// What to do (without one, staffctl opens the interactive interface)
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Top-level commands (noun, then verb).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new store: practice, first facility, built-in roles, first administrator
    Init(InitArgs),
    /// Practice settings and policies
    #[command(subcommand)]
    Practice(PracticeCmd),
    /// Facilities (locations)
    #[command(subcommand)]
    Facility(FacilityCmd),
    /// Roles and their permissions
    #[command(subcommand)]
    Role(RoleCmd),
    /// The permission catalogue
    #[command(subcommand)]
    Permission(PermissionCmd),
    /// Staff users
    #[command(subcommand)]
    User(UserCmd),
    /// Which facilities a user may access
    #[command(subcommand)]
    Access(AccessCmd),
    /// The audit log: list, export, verify
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Break-glass: set a new password for an administrator (needs OS access to the store)
    Recover(RecoverArgs),
    /// Key bindings: check a keymap file
    #[command(subcommand)]
    Keymap(KeymapCmd),
    /// Open the interface on a throw-away practice with sample staff, to look around
    Demo,
    /// Own the store and serve administrators and programs over a Unix socket
    Serve,
    /// Devices waiting for approval, and approved ones
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Invitations of users who have not activated yet
    #[command(subcommand)]
    Invite(InviteCmd),
    /// Activate your invited account: your login, the code you were given, a new password
    Activate(ActivateArgs),
    /// Answers for the clinic's other programs (PAM, scripts): logins and permissions
    #[command(subcommand)]
    Auth(AuthCmd),
    /// Add staff from a spreadsheet (CSV): template, preview, commit
    #[command(subcommand)]
    Import(ImportCmd),
    /// Logical backups: create, verify, restore into a new store
    #[command(subcommand)]
    Backup(BackupCmd),
}

/// Where a backup's passphrase comes from.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// Read the passphrase from FILE (first line); else STAFFCTL_BACKUP_PASSPHRASE, else a prompt
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// `staffctl backup ...`.
#[derive(Debug, Subcommand)]
pub enum BackupCmd {
    /// Write a backup of every record and the whole audit log to FILE (mode 0600), encrypted
    /// with a passphrase (the age format) unless --unencrypted
    Create {
        /// The backup file to write (it must not exist yet)
        file: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArgs,
        /// Write the backup without encryption (it then holds password hashes in the clear)
        #[arg(long)]
        unencrypted: bool,
    },
    /// Check a backup: structure, checksum and the audit chain inside; print its header
    Verify {
        /// The backup file
        file: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Restore a backup into a new store in an empty data directory (--data DIR)
    Restore {
        /// The backup file
        file: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
}

/// `staffctl import ...`.
#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Write a CSV with a header for every importable field and one example row
    Template {
        /// Write to FILE instead of standard output
        #[arg(short = 'o', long = "output-file", value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Show, row by row, whether each person can be added and what is wrong
    Preview {
        /// The CSV file (UTF-8, UTF-16 or Windows-1252; `,`, `;` or tab separated)
        file: PathBuf,
    },
    /// Add every eligible row in one transaction (all of them or none)
    Commit {
        /// The CSV file
        file: PathBuf,
        /// Do not create invitations (activate people later with `invite resend`)
        #[arg(long)]
        no_invite: bool,
        /// Write the rejected rows, with a Reason column, to FILE (mode 0600)
        #[arg(long, value_name = "FILE")]
        rejected_out: Option<PathBuf>,
        /// Also write the activation codes to FILE (mode 0600; they are shown only once)
        #[arg(long, value_name = "FILE")]
        codes_out: Option<PathBuf>,
    },
}

/// `staffctl invite ...`.
#[derive(Debug, Subcommand)]
pub enum InviteCmd {
    /// Every invitation: pending, accepted, expired or revoked, with send count and expiry
    List,
    /// Send again with a new code (the old code stops working; refused within the cool-down)
    Resend {
        /// User id, username, email or full name
        user: String,
    },
    /// Withdraw a pending invitation
    Revoke {
        /// User id, username, email or full name
        user: String,
    },
}

/// `staffctl device ...`.
#[derive(Debug, Subcommand)]
pub enum DeviceCmd {
    /// Every device with its user and status
    List,
    /// Let the device's user log in from it
    Approve {
        /// Device id (from `device list`)
        id: u64,
    },
    /// Refuse a pending device
    Decline {
        /// Device id
        id: u64,
    },
    /// Withdraw an approved device
    Revoke {
        /// Device id
        id: u64,
    },
}

/// `staffctl activate`.
#[derive(Debug, Args)]
pub struct ActivateArgs {
    /// Your username or email (prompted when left out)
    #[arg(long)]
    pub user: Option<String>,
}

/// `staffctl auth ...`.
#[derive(Debug, Subcommand)]
pub enum AuthCmd {
    /// Check a login: username on the first line of stdin, password on the second (or the
    /// username in PAM_USER and the password on stdin, as pam_exec expose_authtok sends it).
    /// Exit 0 if allowed, 5 if denied; prints nothing secret.
    Verify {
        /// Also require access to this facility
        #[arg(long)]
        facility: Option<String>,
        /// The device the login comes from; with new-device approval on, an unseen device
        /// waits for an administrator (`staffctl device list`)
        #[arg(long)]
        device: Option<String>,
    },
    /// Exit 0 if the user is active and holds the permission (and may use the facility), 5 if not
    Can {
        /// User id, username or email
        #[arg(long)]
        user: String,
        /// Permission key (see `staffctl permission list`)
        #[arg(long)]
        permission: String,
        /// Facility the action happens at
        #[arg(long)]
        facility: Option<String>,
    },
}

/// `staffctl keymap ...`.
#[derive(Debug, Subcommand)]
pub enum KeymapCmd {
    /// Report unknown actions, unparsable keys and conflicts (default: your override file)
    Check {
        /// Keymap file (default: ~/.config/staffctl/keymap.toml)
        path: Option<PathBuf>,
    },
}

/// `staffctl init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Practice name
    #[arg(long, value_name = "NAME")]
    pub practice: String,
    /// Practice contact email (staff cannot log in with it)
    #[arg(long, value_name = "EMAIL")]
    pub practice_email: String,
    /// First facility (location)
    #[arg(long, value_name = "NAME")]
    pub facility: String,
    /// First administrator's username
    #[arg(long, value_name = "USER")]
    pub admin_username: String,
    /// First administrator's email
    #[arg(long, value_name = "EMAIL")]
    pub admin_email: String,
    /// First administrator's first name
    #[arg(long, value_name = "F")]
    pub admin_first: String,
    /// First administrator's last name
    #[arg(long, value_name = "L")]
    pub admin_last: String,
}

/// `staffctl practice ...`.
#[derive(Debug, Subcommand)]
pub enum PracticeCmd {
    /// Show settings and policies
    Show,
    /// Change settings: --set FIELD=VALUE (name, email, invite_expiry_hours,
    /// invite_cooldown_minutes, lockout_threshold, lockout_window_minutes,
    /// lockout_duration_minutes, idle_timeout_minutes, password_min_length, time_zone,
    /// device_approval). The mail command is not a practice setting: the server's
    /// administrator sets it in /etc/staffctl/config.toml
    Edit {
        /// FIELD=VALUE, repeatable
        #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
        set: Vec<String>,
    },
}

/// `staffctl facility ...`.
#[derive(Debug, Subcommand)]
pub enum FacilityCmd {
    /// List facilities with head counts
    List {
        /// Include archived facilities
        #[arg(long)]
        all: bool,
    },
    /// Show a facility, its staff and who can access it
    Show {
        /// Facility id, name or code
        facility: String,
    },
    /// Add a facility
    Add {
        /// Name (unique)
        name: String,
        #[command(flatten)]
        details: FacilityDetails,
    },
    /// Edit a facility
    Edit {
        /// Facility id, name or code
        facility: String,
        /// New name
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        details: FacilityDetails,
    },
    /// Archive a facility (refused while it is someone's primary facility)
    Archive {
        /// Facility id, name or code
        facility: String,
    },
    /// Restore an archived facility
    Restore {
        /// Facility id, name or code
        facility: String,
    },
}

/// Optional facility details.
#[derive(Debug, Args)]
pub struct FacilityDetails {
    /// Short code (e.g. DT)
    #[arg(long)]
    pub code: Option<String>,
    /// Street address
    #[arg(long)]
    pub address: Option<String>,
    /// Phone number
    #[arg(long)]
    pub phone: Option<String>,
}

/// `staffctl role ...`.
#[derive(Debug, Subcommand)]
pub enum RoleCmd {
    /// List roles with user counts
    List,
    /// Show a role's permissions and users
    Show {
        /// Role id or name
        role: String,
    },
    /// Add a role
    Add {
        /// Name (unique)
        name: String,
        /// What the role is for
        #[arg(long, default_value = "")]
        description: String,
        /// Permission key to include (repeatable; see `staffctl permission list`)
        #[arg(long = "permission", value_name = "KEY")]
        permissions: Vec<String>,
    },
    /// Change a role: all its users change at once
    Edit {
        /// Role id or name
        role: String,
        /// Permission key to add (repeatable)
        #[arg(long, value_name = "KEY")]
        grant: Vec<String>,
        /// Permission key to remove (repeatable)
        #[arg(long, value_name = "KEY")]
        revoke: Vec<String>,
        /// New name
        #[arg(long, value_name = "NAME")]
        rename: Option<String>,
        /// New description
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a role (refused while assigned, and for built-in roles)
    Delete {
        /// Role id or name
        role: String,
    },
}

/// `staffctl permission ...`.
#[derive(Debug, Subcommand)]
pub enum PermissionCmd {
    /// List every permission key by module
    List,
}

/// Billing categories on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Billing {
    /// Billable provider seat
    Provider,
    /// Billable provider-assistant seat (PTA)
    Assistant,
    /// Free seat (no RTM timer)
    Technician,
    /// Not a clinical seat
    None,
}

/// Login methods on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Login {
    /// Log in with the email address
    Email,
    /// Log in with the username
    Username,
}

/// Status filter on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Status {
    /// Added, not yet activated
    Invited,
    /// Activated
    Active,
    /// Left the practice
    Deactivated,
}

impl Status {
    /// The status a word that is not one most likely means: a synonym ("inactive" is
    /// deactivated, not active, however alike they look), the start of one, or a near spelling.
    fn meant(word: &str) -> Option<Status> {
        let w = word.trim().to_lowercase();
        let synonym = match w.as_str() {
            "inactive" | "deactive" | "deactivate" | "disabled" | "disable" | "removed"
            | "left" | "former" | "gone" | "terminated" | "suspended" | "archived" | "off" => {
                Some(Status::Deactivated)
            }
            "pending" | "invite" | "new" | "unactivated" | "not-activated" | "waiting" => {
                Some(Status::Invited)
            }
            "enabled" | "enable" | "activated" | "current" | "on" => Some(Status::Active),
            _ => None,
        };
        let name = |s: &Status| {
            s.to_possible_value()
                .map(|p| p.get_name().to_string())
                .unwrap_or_default()
        };
        synonym
            .or_else(|| {
                Status::value_variants()
                    .iter()
                    .find(|s| w.len() >= 3 && name(s).starts_with(&w))
                    .copied()
            })
            .or_else(|| {
                Status::value_variants()
                    .iter()
                    .map(|s| (edit_distance(&w, &name(s)), *s))
                    .filter(|(d, _)| *d <= 2)
                    .min_by_key(|(d, _)| *d)
                    .map(|(_, s)| s)
            })
    }
}

/// Levenshtein distance between two short words.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// Parses `--status`; a value that is not a status is refused with the valid ones and the one
/// it most likely means ([`Status::meant`]), not merely the one it is spelt most like.
#[derive(Debug, Clone, Copy)]
pub struct StatusParser;

impl clap::builder::TypedValueParser for StatusParser {
    type Value = Status;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Status, clap::Error> {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let text = value.to_string_lossy();
        if let Ok(status) = Status::from_str(&text, false) {
            return Ok(status);
        }
        let mut err = clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd);
        let names: Vec<String> = Status::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value)
            .map(|p| p.get_name().to_string())
            .collect();
        err.insert(
            ContextKind::InvalidArg,
            ContextValue::String(arg.map_or_else(|| "--status".to_string(), ToString::to_string)),
        );
        err.insert(
            ContextKind::InvalidValue,
            ContextValue::String(text.into_owned()),
        );
        err.insert(ContextKind::ValidValue, ContextValue::Strings(names));
        if let Some(meant) =
            Status::meant(&value.to_string_lossy()).and_then(|s| s.to_possible_value())
        {
            err.insert(
                ContextKind::SuggestedValue,
                ContextValue::String(meant.get_name().to_string()),
            );
        }
        Err(err)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            Status::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

/// Profile fields shared by `user add` and `user edit`.
#[derive(Debug, Args, Default)]
pub struct UserProfileArgs {
    /// Username (lowercase; with it the user logs in by username unless --login email)
    #[arg(long)]
    pub username: Option<String>,
    /// How the user logs in
    #[arg(long, value_enum)]
    pub login: Option<Login>,
    /// Billing seat
    #[arg(long, value_enum)]
    pub billing: Option<Billing>,
    /// National Provider Identifier (10 digits)
    #[arg(long)]
    pub npi: Option<String>,
    /// Provider taxonomy code (e.g. 207Q00000X)
    #[arg(long)]
    pub taxonomy: Option<String>,
    /// Any field: --set FIELD=VALUE (`--help` lists them)
    #[arg(long = "set", value_name = "FIELD=VALUE", long_help = crate::service::user_field::set_help())]
    pub set: Vec<String>,
}

/// `staffctl user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// List users (filters combine)
    List {
        /// Only users with this status
        #[arg(long, value_parser = StatusParser)]
        status: Option<Status>,
        /// Only users who can access this facility
        #[arg(long)]
        facility: Option<String>,
        /// Only users with this role
        #[arg(long)]
        role: Option<String>,
        /// Text in name, email, username or NPI (case-insensitive)
        #[arg(long)]
        search: Option<String>,
    },
    /// Show a user with their full history
    Show {
        /// User id, username, email or full name
        user: String,
    },
    /// Add a user (they start as invited)
    Add {
        /// First name
        #[arg(long)]
        first: String,
        /// Last name
        #[arg(long)]
        last: String,
        /// Email address
        #[arg(long)]
        email: String,
        /// Role id or name
        #[arg(long)]
        role: String,
        /// Primary facility id, name or code
        #[arg(long)]
        facility: String,
        /// Works part-time
        #[arg(long)]
        part_time: bool,
        /// Gone: what a user may do in staffctl comes from their role (--role Administrator)
        #[arg(long, hide = true)]
        admin: bool,
        /// Aide: unlicensed, never assigned patients, no patient messaging
        #[arg(long)]
        aide: bool,
        #[command(flatten)]
        profile: UserProfileArgs,
    },
    /// Edit a user
    Edit {
        /// User id, username, email or full name
        user: String,
        /// First name
        #[arg(long)]
        first: Option<String>,
        /// Last name
        #[arg(long)]
        last: Option<String>,
        /// Email address
        #[arg(long)]
        email: Option<String>,
        /// Role id or name
        #[arg(long)]
        role: Option<String>,
        /// Primary facility id, name or code
        #[arg(long)]
        facility: Option<String>,
        #[command(flatten)]
        profile: UserProfileArgs,
    },
    /// Deactivate a user who left: login refused, invitations revoked, history kept
    Deactivate {
        /// User id, username, email or full name
        user: String,
        /// Why (kept in the record and the audit log)
        #[arg(long)]
        reason: String,
    },
    /// Reactivate a deactivated user
    Reactivate {
        /// User id, username, email or full name
        user: String,
    },
    /// Delete a user who never activated their account (others: deactivate)
    Delete {
        /// User id, username, email or full name
        user: String,
    },
    /// Unlock an account locked after too many failed logins
    Unlock {
        /// User id, username, email or full name
        user: String,
    },
}

/// `staffctl access ...`.
#[derive(Debug, Subcommand)]
pub enum AccessCmd {
    /// Show which facilities a user can access
    Show {
        /// User id, username, email or full name
        user: String,
    },
    /// Let a user access more facilities
    Grant {
        /// User id, username, email or full name
        user: String,
        /// Facility ids, names or codes
        #[arg(required = true)]
        facilities: Vec<String>,
    },
    /// Stop a user accessing facilities (not their primary one)
    Revoke {
        /// User id, username, email or full name
        user: String,
        /// Facility ids, names or codes
        #[arg(required = true)]
        facilities: Vec<String>,
    },
    /// Let a user access every facility, including ones added later
    All {
        /// User id, username, email or full name
        user: String,
    },
    /// Set a user's access to exactly these facilities (plus their primary one)
    Only {
        /// User id, username, email or full name
        user: String,
        /// Facility ids, names or codes (none: primary facility only)
        facilities: Vec<String>,
    },
}

/// Filters shared by `audit list` and `audit export`.
#[derive(Debug, Args)]
pub struct AuditFilter {
    /// Events at or after this time (RFC 3339, or YYYY-MM-DD for midnight UTC)
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Events before this time (RFC 3339, or YYYY-MM-DD)
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Only events by this user (id, username, email), or "system"
    #[arg(long, value_name = "U")]
    pub actor: Option<String>,
    /// Only events about this record, as KIND:ID (user:12, role:Provider, facility:3)
    #[arg(long, value_name = "KIND:ID")]
    pub target: Option<String>,
    /// Only actions starting with this (user., user.deactivate, auth.login_failed)
    #[arg(long)]
    pub action: Option<String>,
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// RFC 4180 CSV, spreadsheet-safe
    Csv,
    /// One JSON object per line
    Jsonl,
}

/// `staffctl audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// List events, newest first
    List {
        #[command(flatten)]
        filter: AuditFilter,
        /// At most this many events
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Export events for auditors (streams; any size)
    Export {
        /// File format
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output file (default: standard output)
        #[arg(short = 'o', long = "output-file", value_name = "FILE")]
        file: Option<PathBuf>,
        #[command(flatten)]
        filter: AuditFilter,
    },
    /// Check the hash chain; with --expect, prove the log still holds a recorded head
    Verify {
        /// A head recorded earlier with `staffctl audit head`
        #[arg(long, value_name = "SEQ:HASH")]
        expect: Option<String>,
    },
    /// Print the newest sequence number and hash (keep a copy off the server)
    Head,
    /// List audit records kept aside because they could not stay in the log (damaged, or
    /// found past the head), with their bytes in --output json
    Quarantine,
}

/// `staffctl recover`.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// Administrator to reset (id, username or email)
    #[arg(long)]
    pub user: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_error(value: &str) -> String {
        match Cli::try_parse_from(["staffctl", "user", "list", "--status", value]) {
            Ok(c) => panic!("{value} accepted: {c:?}"),
            Err(e) => {
                assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue, "{e}");
                e.to_string()
            }
        }
    }

    #[test]
    fn a_status_that_does_not_exist_lists_the_valid_ones_and_suggests_the_meant_one() {
        let text = status_error("inactive");
        assert!(
            text.contains("[possible values: invited, active, deactivated]"),
            "{text}"
        );
        assert!(text.contains("'deactivated'"), "{text}");
        assert!(!text.contains("'active'"), "{text}");
        for (typed, meant) in [
            ("disabled", "deactivated"),
            ("pending", "invited"),
            ("enabled", "active"),
            ("deact", "deactivated"),
            ("activ", "active"),
            ("invted", "invited"),
        ] {
            let text = status_error(typed);
            assert!(text.contains(&format!("'{meant}'")), "{typed}: {text}");
        }
        let text = status_error("banana");
        assert!(
            !text.contains("tip:"),
            "no guess for a word that means nothing: {text}"
        );
    }

    #[test]
    fn the_statuses_parse_as_before() {
        for (typed, status) in [
            ("invited", "Invited"),
            ("active", "Active"),
            ("deactivated", "Deactivated"),
        ] {
            let cli = Cli::try_parse_from(["staffctl", "user", "list", "--status", typed])
                .expect("a valid status");
            let Some(Command::User(UserCmd::List {
                status: Some(s), ..
            })) = cli.command
            else {
                panic!("{cli:?}");
            };
            assert_eq!(format!("{s:?}"), status);
        }
    }
}
