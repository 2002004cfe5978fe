//! Golden bytes: each message staffctl sends over its socket, as a fixed value, must encode to
//! the bytes committed in `tests/fixtures/protocol-v{PROTOCOL}/NAME.hex`, and those bytes must
//! decode to the same value. A change to any type that travels (a model record inside a
//! response, a new request, a reordered variant) changes bytes here, and fails until it is made
//! on purpose: `PROTOCOL` bumped, so that a client and a server of different builds say so
//! instead of misreading each other, and the new version's fixtures written once with
//! `STAFFCTL_BLESS_PROTOCOL=1 cargo test --lib every_message_variant_has_a_fixture`.
//! A version's fixtures never change once committed: blessing refuses a directory that exists.

mod values;

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::de::{DeserializeOwned, Visitor};

use super::*;
use crate::error::FieldError;
use crate::service::ExportFormat as Format;
use crate::service::{FacilityField, FileContent, PracticeField, UserField, UserFilter};
use values::*;

/// Set to write the fixtures of a new protocol version.
const BLESS_ENV: &str = "STAFFCTL_BLESS_PROTOCOL";

/// Bytes per line in a fixture file.
const HEX_LINE: usize = 32;

/// A whole frame of one of the four kinds that travel.
#[derive(Debug, Clone, PartialEq)]
enum Frame {
    Hello(Hello),
    Welcome(Welcome),
    Client(ClientMsg),
    Server(ServerMsg),
}

impl From<Hello> for Frame {
    fn from(m: Hello) -> Self {
        Self::Hello(m)
    }
}

impl From<Welcome> for Frame {
    fn from(m: Welcome) -> Self {
        Self::Welcome(m)
    }
}

impl From<ClientMsg> for Frame {
    fn from(m: ClientMsg) -> Self {
        Self::Client(m)
    }
}

impl From<ServerMsg> for Frame {
    fn from(m: ServerMsg) -> Self {
        Self::Server(m)
    }
}

impl From<Request> for Frame {
    fn from(r: Request) -> Self {
        Self::Client(ClientMsg::Call(r))
    }
}

impl From<Response> for Frame {
    fn from(r: Response) -> Self {
        Self::Server(ServerMsg::Response(Ok(r)))
    }
}

impl From<Error> for Frame {
    fn from(e: Error) -> Self {
        Self::Server(ServerMsg::Done(Err(e)))
    }
}

fn frame_bytes<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut out = Vec::new();
    write_frame(&mut out, msg).unwrap();
    out
}

fn decode_as<T: DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, String> {
    read_reply(&mut &bytes[..]).map_err(|e| e.to_string())
}

impl Frame {
    /// The frame as it goes over the socket: length prefix and payload.
    fn bytes(&self) -> Vec<u8> {
        match self {
            Self::Hello(m) => frame_bytes(m),
            Self::Welcome(m) => frame_bytes(m),
            Self::Client(m) => frame_bytes(m),
            Self::Server(m) => frame_bytes(m),
        }
    }

    /// `bytes` read as a frame of the same kind.
    fn decode(&self, bytes: &[u8]) -> std::result::Result<Self, String> {
        Ok(match self {
            Self::Hello(_) => Self::Hello(decode_as(bytes)?),
            Self::Welcome(_) => Self::Welcome(decode_as(bytes)?),
            Self::Client(_) => Self::Client(decode_as(bytes)?),
            Self::Server(_) => Self::Server(decode_as(bytes)?),
        })
    }
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("protocol-v{PROTOCOL}"))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes
        .chunks(HEX_LINE)
        .map(|line| hex::encode(line) + "\n")
        .collect()
}

fn from_hex(text: &str) -> std::result::Result<Vec<u8>, String> {
    let digits: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    hex::decode(&digits).map_err(|e| format!("not hex: {e}"))
}

/// What to do when the wire format moved.
fn bump_advice() -> String {
    format!(
        "if the change is meant, bump `PROTOCOL` in src/remote/protocol.rs (now {PROTOCOL}) and write the new version's fixtures with `{BLESS_ENV}=1 cargo test --lib every_message_variant_has_a_fixture`; otherwise undo the change"
    )
}

/// Compares a frame's bytes now with the committed ones.
fn compare(name: &str, committed: &[u8], now: &[u8]) -> std::result::Result<(), String> {
    if committed == now {
        return Ok(());
    }
    let at = committed
        .iter()
        .zip(now)
        .position(|(a, b)| a != b)
        .unwrap_or(committed.len().min(now.len()));
    Err(format!(
        "the wire bytes of `{name}` changed: {} bytes committed, {} now, first difference at byte {at}. A type that travels between staffctl processes encodes differently, so a client and a server of different builds would misread each other; {}.\ncommitted:\n{}now:\n{}",
        committed.len(),
        now.len(),
        bump_advice(),
        to_hex(committed),
        to_hex(now)
    ))
}

/// The test of one golden frame.
fn check(name: &str, frame: &Frame) {
    let path = fixture_dir().join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no golden bytes for `{name}` ({}: {e}): a new message or variant changes the protocol; {}",
            path.display(),
            bump_advice()
        )
    });
    let committed = from_hex(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if let Err(e) = compare(name, &committed, &frame.bytes()) {
        panic!("{e}");
    }
    assert_eq!(
        frame.decode(&committed).as_ref(),
        Ok(frame),
        "the committed bytes of `{name}` no longer decode to the value; {}",
        bump_advice()
    );
}

/// One test per golden frame, and the list of them all.
macro_rules! golden {
    ($($name:ident = $value:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), &Frame::from($value));
            }
        )*

        fn samples() -> Vec<(&'static str, Frame)> {
            vec![$((stringify!($name), Frame::from($value))),*]
        }
    };
}

golden! {
    hello = Hello {
        protocol: PROTOCOL,
        version: "0.1.0".into(),
        origin: origin(),
    };
    welcome_ok = Welcome::Ok {
        version: "0.1.0".into(),
        data_dir: "/var/lib/staffctl".into(),
    };
    welcome_incompatible = Welcome::Incompatible {
        protocol: 2,
        version: "0.0.9".into(),
    };
    welcome_busy = Welcome::Busy { max_connections: 64 };

    client_is_initialised = ClientMsg::IsInitialised;
    client_init = ClientMsg::Init(crate::service::InitRequest {
        practice_name: "Riverside Physical Therapy".into(),
        practice_email: "office@riverside.example".into(),
        facility: "Downtown".into(),
        admin_username: "ira".into(),
        admin_email: "ira@riverside.example".into(),
        admin_first: "Ira".into(),
        admin_last: "Tech".into(),
        admin_password: "correct horse battery staple".into(),
    });
    client_login = ClientMsg::Login {
        login: "ira".into(),
        password: "correct horse battery staple".into(),
    };
    client_export = ClientMsg::Export {
        query: crate::service::AuditQuery {
            since: Some(at(0)),
            until: Some(at(86_400)),
            actor: Some("ira".into()),
            target: Some("user:12".into()),
            action: Some("user.".into()),
            limit: Some(500),
        },
        format: Format::Csv,
    };
    client_logout = ClientMsg::Logout;
    client_backup = ClientMsg::Backup;
    client_auth_verify = ClientMsg::AuthVerify {
        login: "nia".into(),
        password: "another good passphrase".into(),
        facility: Some("Uptown".into()),
        device: Some("front-desk-2".into()),
    };
    client_activate = ClientMsg::Activate {
        login: "sam@riverside.example".into(),
        code: "7K3M-9QXD-2PWR-H4TZ-8NVB-6CJE".into(),
        password: "my own long passphrase".into(),
    };
    client_auth_can = ClientMsg::AuthCan {
        user: "nia".into(),
        permission: "clinical.write_notes".into(),
        facility: None,
    };

    call_who_am_i = Request::WhoAmI;
    call_practice_show = Request::PracticeShow;
    call_practice_edit = Request::PracticeEdit(vec![
        (PracticeField::TimeZone, "America/Chicago".into()),
        (PracticeField::DeviceApproval, "yes".into()),
    ]);
    call_facility_list = Request::FacilityList { include_archived: true };
    call_facility_show = Request::FacilityShow("Uptown".into());
    call_facility_add = Request::FacilityAdd(vec![
        (FacilityField::Name, "Uptown".into()),
        (FacilityField::Code, "UP".into()),
        (FacilityField::Address, "1 Main St".into()),
        (FacilityField::Phone, "+1 555 010 2000".into()),
    ]);
    call_facility_edit = Request::FacilityEdit(
        "#2".into(),
        vec![(FacilityField::Code, "UT".into())],
    );
    call_facility_archive = Request::FacilityArchive("Uptown".into());
    call_facility_restore = Request::FacilityRestore("Uptown".into());
    call_role_list = Request::RoleList;
    call_role_show = Request::RoleShow("Provider".into());
    call_role_add = Request::RoleAdd {
        name: "Clinic Manager".into(),
        description: "Runs the front office".into(),
        permissions: vec!["calendar.view".into(), "reports.nps".into()],
    };
    call_role_edit = Request::RoleEdit {
        role: "Front Desk".into(),
        rename: Some("Reception".into()),
        description: None,
        grant: vec!["billing.issue_refunds".into()],
        revoke: vec!["calendar.delete".into()],
    };
    call_role_delete = Request::RoleDelete("Clinic Manager".into());
    call_permission_list = Request::PermissionList;
    call_user_list = Request::UserList(UserFilter {
        status: Some(crate::model::UserStatus::Invited),
        facility: Some("Uptown".into()),
        role: Some("Provider".into()),
        search: Some("smith".into()),
    });
    call_user_show = Request::UserShow("alice@riverside.example".into());
    call_user_add = Request::UserAdd(vec![
        (UserField::FirstName, "Alice".into()),
        (UserField::LastName, "Smith".into()),
        (UserField::Email, "alice@riverside.example".into()),
        (UserField::Role, "Provider".into()),
        (UserField::Facility, "Downtown".into()),
        (UserField::Npi, "1245319599".into()),
    ]);
    call_user_edit = Request::UserEdit(
        "asmith".into(),
        vec![(UserField::DefaultLocation, "Uptown".into())],
    );
    call_user_deactivate = Request::UserDeactivate {
        user: "slee".into(),
        reason: "left the practice 2026-11-30".into(),
    };
    call_user_reactivate = Request::UserReactivate("slee".into());
    call_user_delete = Request::UserDelete("#13".into());
    call_user_unlock = Request::UserUnlock("asmith".into());
    call_invite_list = Request::InviteList;
    call_invite_resend = Request::InviteResend("slee".into());
    call_invite_revoke = Request::InviteRevoke("slee".into());
    call_device_list = Request::DeviceList;
    call_device_approve = Request::DeviceApprove(3);
    call_device_decline = Request::DeviceDecline(4);
    call_device_revoke = Request::DeviceRevoke(5);
    call_access_show = Request::AccessShow("asmith".into());
    call_access_grant = Request::AccessGrant {
        user: "asmith".into(),
        facilities: vec!["Uptown".into()],
    };
    call_access_revoke = Request::AccessRevoke {
        user: "asmith".into(),
        facilities: vec!["Uptown".into(), "#3".into()],
    };
    call_access_all = Request::AccessAll("asmith".into());
    call_access_only = Request::AccessOnly {
        user: "asmith".into(),
        facilities: vec!["Downtown".into()],
    };
    call_audit_list = Request::AuditList(crate::service::AuditQuery {
        since: Some(at(0)),
        until: None,
        actor: None,
        target: Some("user:asmith".into()),
        action: None,
        limit: Some(20),
    });
    call_audit_verify = Request::AuditVerify { expect: Some(format!("42:{}", "c3".repeat(32))) };
    call_audit_head = Request::AuditHead;
    call_audit_quarantine = Request::AuditQuarantine;
    call_import_preview = Request::ImportPreview {
        file_name: "staff.csv".into(),
        content: FileContent(b"First Name,Email\r\nAna,ana@riverside.example\r\n".to_vec()),
    };
    call_import_commit = Request::ImportCommit {
        file_name: "staff.csv".into(),
        content: FileContent(b"First Name,Email\r\n".to_vec()),
        invite: true,
    };
    call_expect = Request::Expect {
        revision: 4,
        request: Box::new(Request::UserEdit(
            "#12".into(),
            vec![(UserField::Capacity, "2".into())],
        )),
    };

    server_initialised = ServerMsg::Initialised(true);
    server_logged_in = ServerMsg::LoggedIn { user_id: 1, label: "ira".into() };
    server_response_refused = ServerMsg::Response(Err(Error::Denied(
        "your role does not hold admin.settings".into(),
    )));
    server_export_chunk =
        ServerMsg::ExportChunk(b"seq,time\r\n1,2026-01-01T00:00:00Z\r\n".to_vec());
    server_export_done = ServerMsg::ExportDone(Ok(1_000_000));
    server_backup_header = ServerMsg::BackupHeader(Box::new(backup_header()));
    server_export_failed = ServerMsg::ExportDone(Err(Error::Storage("disk full".into())));
    server_done = ServerMsg::Done(Ok(()));

    response_operator = Response::Operator(operator());
    response_practice = Response::Practice(Box::new(practice_view()));
    response_facilities = Response::Facilities(listing(facility_summary()));
    response_facility = Response::Facility(facility_detail());
    response_roles = Response::Roles(listing(role_summary()));
    response_role = Response::Role(role_detail());
    response_permissions = Response::Permissions(vec![permission()]);
    response_users = Response::Users(listing(user_summary()));
    response_user = Response::User(Box::new(user_detail()));
    response_deleted = Response::Deleted(13, "sam@riverside.example".into());
    response_access = Response::Access(access());
    response_audit = Response::Audit(listing(event()));
    response_verify = Response::Verify(verify_report());
    response_head = Response::Head(head());
    response_quarantine = Response::Quarantine(vec![quarantine()]);
    response_invites = Response::Invites(listing(invite()));
    response_devices = Response::Devices(listing(device()));
    response_device = Response::Device(device());
    response_import_preview = Response::ImportPreview(Box::new(import_report()));
    response_import_commit = Response::ImportCommit(Box::new(import_result()));

    error_invalid = Error::Invalid(vec![
        FieldError::new("npi", "NPI '1234567890' fails its check digit"),
        FieldError::new("email", "'nope' is not an email address"),
    ]);
    error_conflict = Error::Conflict("email alice@x is already used by user #12".into());
    error_not_found = Error::NotFound("no user 'bob'".into());
    error_denied = Error::Denied("login denied".into());
    error_busy = Error::Busy("store /var/lib/staffctl is in use by pid 42".into());
    error_integrity = Error::Integrity("audit event 17: hash does not match".into());
    error_storage = Error::Storage("cannot write: disk full".into());
    error_terminal = Error::Terminal("cannot switch the terminal to raw mode".into());
    error_connection = Error::Connection("staffctl serve closed the connection".into());
    error_internal = Error::Internal("internal error: an unexpected answer".into());
    error_usage = Error::Usage("bad request: frame too large".into());
    error_pending =
        Error::Pending("login waits for an administrator to approve this device".into());
}

/// The variant names of enum `T`, as its serde derive lists them.
fn variants<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Capture<'a>(&'a mut &'static [&'static str]);

    impl<'de> serde::Deserializer<'de> for Capture<'_> {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(
            self,
            _visitor: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("not an enum"))
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _name: &'static str,
            variants: &'static [&'static str],
            _visitor: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            *self.0 = variants;
            Err(serde::de::Error::custom("variants captured"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
            ignored_any
        }
    }

    let mut found: &'static [&'static str] = &[];
    let _ = T::deserialize(Capture(&mut found));
    assert!(!found.is_empty(), "not an enum");
    found
}

/// The variant index of an enum value: bincode writes it first (one byte below 251).
fn index_of<T: Serialize>(value: &T) -> usize {
    usize::from(payload_bytes(value)[0])
}

fn payload_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).unwrap()
}

/// Variants covered by the samples, per enum name.
fn covered() -> Vec<(&'static str, &'static [&'static str], BTreeSet<usize>)> {
    let mut sets = [
        ("Welcome", variants::<Welcome>(), BTreeSet::new()),
        ("ClientMsg", variants::<ClientMsg>(), BTreeSet::new()),
        ("ServerMsg", variants::<ServerMsg>(), BTreeSet::new()),
        ("Request", variants::<Request>(), BTreeSet::new()),
        ("Response", variants::<Response>(), BTreeSet::new()),
        ("Error", variants::<Error>(), BTreeSet::new()),
    ];
    let mut mark = |which: usize, index: usize| {
        sets[which].2.insert(index);
    };
    for (_, frame) in samples() {
        match &frame {
            Frame::Hello(_) => {}
            Frame::Welcome(w) => mark(0, index_of(w)),
            Frame::Client(m) => {
                mark(1, index_of(m));
                if let ClientMsg::Call(r) = m {
                    mark(3, index_of(r));
                }
            }
            Frame::Server(m) => {
                mark(2, index_of(m));
                match m {
                    ServerMsg::Response(Ok(r)) => mark(4, index_of(r)),
                    ServerMsg::Response(Err(e))
                    | ServerMsg::ExportDone(Err(e))
                    | ServerMsg::Done(Err(e)) => mark(5, index_of(e)),
                    _ => {}
                }
            }
        }
    }
    sets.into()
}

/// Writes the fixtures of the current protocol version into a directory that must not exist.
fn bless() {
    let dir = fixture_dir();
    assert!(
        !dir.exists(),
        "{} exists: the golden bytes of a protocol version never change once committed; bump `PROTOCOL` first",
        dir.display()
    );
    std::fs::create_dir_all(&dir).unwrap();
    for (name, frame) in samples() {
        std::fs::write(dir.join(format!("{name}.hex")), to_hex(&frame.bytes())).unwrap();
    }
}

#[test]
fn every_message_variant_has_a_fixture() {
    if std::env::var_os(BLESS_ENV).is_some() {
        bless();
    }
    for (name, all, seen) in covered() {
        let missing: Vec<&str> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| !seen.contains(i))
            .map(|(_, v)| *v)
            .collect();
        assert!(
            missing.is_empty(),
            "no golden frame holds {name}::{{{}}}: add one to remote/protocol/golden.rs; a new variant changes the protocol, so {}",
            missing.join(", "),
            bump_advice()
        );
    }
    let names: BTreeSet<String> = samples().iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(names.len(), samples().len(), "sample names are unique");
    let files: BTreeSet<String> = std::fs::read_dir(fixture_dir())
        .unwrap_or_else(|e| panic!("{}: {e}; {}", fixture_dir().display(), bump_advice()))
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".hex"))
                .map(str::to_string)
        })
        .collect();
    let orphans: Vec<&String> = files.difference(&names).collect();
    assert!(
        orphans.is_empty(),
        "golden bytes without a sample: {orphans:?}; a message that no longer exists changes the protocol, so {}",
        bump_advice()
    );
}

#[test]
fn a_changed_encoding_fails_and_says_to_bump_the_protocol() {
    let before = Frame::from(Request::AuditHead).bytes();
    let mut after = before.clone();
    after[4] ^= 1;
    assert_eq!(compare("call_audit_head", &before, &before), Ok(()));
    let err = compare("call_audit_head", &before, &after).unwrap_err();
    assert!(err.contains("first difference at byte 4"), "{err}");
    assert!(
        err.contains(&format!(
            "bump `PROTOCOL` in src/remote/protocol.rs (now {PROTOCOL})"
        )),
        "{err}"
    );
    let longer = [before.as_slice(), &[0]].concat();
    let err = compare("call_audit_head", &before, &longer).unwrap_err();
    assert!(
        err.contains(&format!("first difference at byte {}", before.len())),
        "{err}"
    );
}

#[test]
fn fixtures_read_back_as_written() {
    let bytes: Vec<u8> = (0..=255u8).collect();
    let text = to_hex(&bytes);
    assert_eq!(text.lines().count(), 256 / HEX_LINE);
    assert_eq!(from_hex(&text), Ok(bytes.clone()));
    assert_eq!(from_hex(&format!("# a note\n{text}")), Ok(bytes));
    assert!(from_hex("0g").is_err());
}
