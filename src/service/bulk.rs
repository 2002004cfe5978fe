//! Bulk generation of a believable practice, for benchmarks, demos and whole-process timing.
//!
//! [`generate`] adds facilities, staff and a long audit history to a store that
//! [`Service::init`] has initialised. It does not go through one transaction per record: the
//! records are built and the events sealed in memory, then written in large batches
//! ([`Store::bulk_insert`], on two writer threads), and the audit head last; 100,000 users and
//! 1,000,000 events take about half a minute on two cores. The result is meant to be
//! indistinguishable from a store built through the service:
//!
//! * every added facility and user has its `*.create` event, and every later change to them is
//!   an event whose field changes are exactly what the service would have recorded (debug builds
//!   check each one against [`diff`](super::diff::diff));
//! * the events continue the hash chain from the existing head, with their per-target index
//!   entries, and the head is moved to the last one;
//! * the user indexes (`users_by_login`, `users_by_role`, `users_by_facility`, `users_search`),
//!   `facilities_by_name`, the `next_id:<kind>` counters, the per-role and per-facility head
//!   counts and the default doctor are written from the final records, as the service keeps
//!   them.
//!
//! What the service cannot do yet is approximated: generated users who are active were created
//! active (as `init` creates the first administrator) rather than through an invitation, and they
//! share one password hash ([`BulkSpec::staff_password`]) so that their logins are plausible.
//! No invitations or devices are generated. The history lies after the existing head, so with a
//! freshly initialised store most of it is dated in the future.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::sync::mpsc;

use jiff::Timestamp;

use super::resolve::{email_key, name_key, username_key};
use super::user::label;
use super::{AuditHead, Service, decode_head, diff::diff};
use crate::audit::{Actor, AuditEvent, Change, EventDraft, Origin, Outcome, Target, ZERO_HASH};
use crate::error::{Error, Result};
use crate::model::validate::SCHEDULING_STEPS;
use crate::model::{
    BillingCategory, Credential, DataScope, Facility, FacilityAccess, Id, LoginMethod,
    NotificationPrefs, ProviderProfile, User, UserStatus,
};
use crate::security::password;
use crate::store::{Store, TreeId, audit_log, codec, id_key, meta};

/// Password of every generated user who has activated, when [`BulkSpec::staff_password`] is
/// left at its default. Generated stores are fixtures: never use one for a real practice.
pub const DEFAULT_STAFF_PASSWORD: &str = "generated staff fixture passphrase";

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkSpec {
    /// Facilities to add (default 20).
    pub facilities: usize,
    /// Users to add (default 100,000).
    pub users: usize,
    /// Audit events to append (default 1,000,000), counting the `*.create` event of each added
    /// record and the deactivation of each user who ends deactivated. A smaller number is raised
    /// to what those mandatory events need.
    pub events: u64,
    /// Seed of the pseudo-random choices: the same seed on the same initial store gives the same
    /// records and events.
    pub seed: u64,
    /// Days the generated history spans, after the existing head event (default 365).
    pub span_days: u32,
    /// Password hashed once and stored for every generated user who has activated; `None`
    /// stores no credentials (their `auth.login` events then describe logins that could not
    /// happen).
    pub staff_password: Option<String>,
    /// Records per sled batch (default 20,000).
    pub batch: usize,
}

impl Default for BulkSpec {
    fn default() -> Self {
        Self {
            facilities: 20,
            users: 100_000,
            events: 1_000_000,
            seed: 0x5eed_c111,
            span_days: 365,
            staff_password: Some(DEFAULT_STAFF_PASSWORD.to_string()),
            batch: 20_000,
        }
    }
}

/// What [`generate`] added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkReport {
    /// Facilities added.
    pub facilities: usize,
    /// Users added.
    pub users: usize,
    /// Audit events appended.
    pub events: u64,
    /// The audit head after generation.
    pub head: AuditHead,
}

/// Adds `spec.facilities` facilities, `spec.users` users and `spec.events` audit events to an
/// initialised store. Holds the service's write lock throughout; on error the store may hold a
/// partial load (events past the recorded head make `audit verify` fail), so generate into a
/// scratch store.
pub fn generate(svc: &Service, spec: &BulkSpec) -> Result<BulkReport> {
    let _guard = svc.lock_writes();
    let store = &svc.store;
    if !store.is_initialised()? {
        return Err(Error::NotFound(format!(
            "the store in {} is not initialised; run init before generating",
            store.dir().display()
        )));
    }
    if spec.span_days > 36_500 {
        return Err(Error::invalid(
            "span_days",
            "the generated history may span at most 100 years",
        ));
    }
    // The simulation (drafting, sealing, encoding) runs here; sled inserts run on two writer
    // threads, one for the audit tree and one for everything else, so a 2-core machine keeps
    // both cores busy.
    let (report, meta_items) = std::thread::scope(|scope| {
        let (audit_tx, audit_rx) = mpsc::sync_channel::<Job>(2);
        let (other_tx, other_rx) = mpsc::sync_channel::<Job>(2);
        let writers = [
            scope.spawn(move || write_jobs(store, audit_rx)),
            scope.spawn(move || write_jobs(store, other_rx)),
        ];
        let sink = Sink {
            audit: audit_tx,
            other: other_tx,
        };
        let generated = Gen::load(store, spec, sink).and_then(|mut g| {
            g.run()?;
            g.write_records()
        });
        // The senders are gone with the generator: the writers drain their queues and stop.
        let mut written = Ok(());
        for w in writers {
            let outcome = w
                .join()
                .unwrap_or_else(|_| Err(Error::Storage("a bulk writer thread panicked".into())));
            written = written.and(outcome);
        }
        // A writer's own error explains a failed send better than the send does.
        written.and(generated)
    })?;
    store.rebuild_indexes()?;
    // Counters and the head last, atomically, once everything they describe is written.
    store.batch_put(TreeId::Meta, meta_items)?;
    store.flush()?;
    Ok(report)
}

/// A raw key and value.
type Entry = (Vec<u8>, Vec<u8>);

/// Records for one tree, on their way to a writer thread.
type Job = (TreeId, Vec<Entry>);

fn write_jobs(store: &Store, jobs: mpsc::Receiver<Job>) -> Result<()> {
    for (tree, items) in jobs {
        store.bulk_insert(tree, items)?;
    }
    Ok(())
}

/// The writer threads' queues.
struct Sink {
    audit: mpsc::SyncSender<Job>,
    other: mpsc::SyncSender<Job>,
}

impl Sink {
    /// Queues records on the audit writer whatever their tree.
    fn audit_queue_send(&self, tree: TreeId, items: Vec<Entry>) -> Result<()> {
        self.audit
            .send((tree, items))
            .map_err(|_| Error::Storage("a bulk writer thread stopped".into()))
    }

    fn send(&self, tree: TreeId, items: Vec<Entry>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let queue = if tree == TreeId::Audit {
            &self.audit
        } else {
            &self.other
        };
        queue
            .send((tree, items))
            .map_err(|_| Error::Storage("a bulk writer thread stopped".into()))
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed vocabularies.

/// (display, ASCII slug) first names.
const FIRST: &[(&str, &str)] = &[
    ("Olivia", "olivia"),
    ("Liam", "liam"),
    ("Emma", "emma"),
    ("Noah", "noah"),
    ("Ava", "ava"),
    ("Elijah", "elijah"),
    ("Sophia", "sophia"),
    ("James", "james"),
    ("Isabella", "isabella"),
    ("William", "william"),
    ("Mia", "mia"),
    ("Benjamin", "benjamin"),
    ("Charlotte", "charlotte"),
    ("Lucas", "lucas"),
    ("Amelia", "amelia"),
    ("Henry", "henry"),
    ("Harper", "harper"),
    ("Alexander", "alexander"),
    ("Evelyn", "evelyn"),
    ("Daniel", "daniel"),
    ("Abigail", "abigail"),
    ("Michael", "michael"),
    ("Emily", "emily"),
    ("Mateo", "mateo"),
    ("Ella", "ella"),
    ("Sebastian", "sebastian"),
    ("Grace", "grace"),
    ("Jack", "jack"),
    ("Chloé", "chloe"),
    ("Owen", "owen"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Siobhán", "siobhan"),
    ("Björn", "bjorn"),
    ("Mei", "mei"),
    ("Aarav", "aarav"),
    ("Fatima", "fatima"),
    ("Kwame", "kwame"),
    ("Yuki", "yuki"),
    ("Priya", "priya"),
    ("Omar", "omar"),
    ("Ingrid", "ingrid"),
    ("Tomás", "tomas"),
    ("Aisha", "aisha"),
    ("Dmitri", "dmitri"),
    ("Leilani", "leilani"),
    ("Santiago", "santiago"),
    ("Nadia", "nadia"),
    ("Hiroshi", "hiroshi"),
    ("Maya", "maya"),
];

/// (display, ASCII slug) last names.
const LAST: &[(&str, &str)] = &[
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("Williams", "williams"),
    ("Brown", "brown"),
    ("Jones", "jones"),
    ("García", "garcia"),
    ("Miller", "miller"),
    ("Davis", "davis"),
    ("Rodriguez", "rodriguez"),
    ("Martinez", "martinez"),
    ("Hernández", "hernandez"),
    ("Lopez", "lopez"),
    ("Gonzalez", "gonzalez"),
    ("Wilson", "wilson"),
    ("Anderson", "anderson"),
    ("Thomas", "thomas"),
    ("Taylor", "taylor"),
    ("Moore", "moore"),
    ("Jackson", "jackson"),
    ("Martin", "martin"),
    ("Lee", "lee"),
    ("Perez", "perez"),
    ("Thompson", "thompson"),
    ("White", "white"),
    ("Harris", "harris"),
    ("Clark", "clark"),
    ("Lewis", "lewis"),
    ("Robinson", "robinson"),
    ("Walker", "walker"),
    ("Young", "young"),
    ("O'Brien", "obrien"),
    ("Nguyen", "nguyen"),
    ("Müller", "muller"),
    ("Kowalski", "kowalski"),
    ("Okafor", "okafor"),
    ("Patel", "patel"),
    ("Johansson", "johansson"),
    ("van der Berg", "vanderberg"),
    ("Kim", "kim"),
    ("Chen", "chen"),
    ("Tanaka", "tanaka"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Novak", "novak"),
    ("Haddad", "haddad"),
    ("Mensah", "mensah"),
    ("Silva", "silva"),
    ("Ivanova", "ivanova"),
    ("Singh", "singh"),
    ("McAllister", "mcallister"),
];

const DOMAINS: &[&str] = &[
    "staff.clinic.example",
    "mail.example",
    "health.example",
    "example.org",
];

const FACILITY_NAMES: &[&str] = &[
    "Downtown",
    "Northside",
    "Riverside",
    "Westgate",
    "Lakeview",
    "Hillcrest",
    "Oak Park",
    "Maple Grove",
    "Eastfield",
    "Harbor Point",
    "Cedar Ridge",
    "Southpark",
    "Pinewood",
    "Brookside",
    "Fairview",
    "Meadowbrook",
    "Stonebridge",
    "Willow Creek",
    "Highland",
    "Bayside",
    "Kingsway",
    "Elmhurst",
    "Sunnyvale",
    "Ashford",
    "Glenwood",
    "Parkside",
    "Redwood",
    "Clearwater",
    "Foxhill",
    "Silver Lake",
];

const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Market St",
    "Elm St",
    "2nd Ave",
    "Lincoln Blvd",
    "Park Rd",
    "Mill Ln",
];

const PROVIDER_TAXONOMY: &[&str] = &[
    "225100000X",
    "207Q00000X",
    "208D00000X",
    "363LF0000X",
    "363A00000X",
    "225X00000X",
    "2251S0007X",
];

const ASSISTANT_TAXONOMY: &[&str] = &["225200000X", "224Z00000X"];

const NOTES: &[&str] = &[
    "Covers Saturday clinics",
    "Prefers morning shifts",
    "On call every other weekend",
    "Mentor for new front desk staff",
    "Bilingual (English/Spanish)",
    "Pelvic health certified",
    "Back from leave; phased return",
    "Works remotely on Fridays",
];

const BIOS: &[&str] = &[
    "Physical therapist focused on sports injuries and return to play.",
    "Orthopaedic specialist with a decade of post-surgical rehab experience.",
    "Treats chronic back and neck pain with manual therapy and exercise.",
    "Board-certified in geriatric physical therapy.",
    "Vestibular rehabilitation and balance training.",
];

const DEACTIVATION_REASONS: &[&str] = &[
    "left the practice",
    "moved to another clinic",
    "contract ended",
    "retired",
    "duplicate account",
    "role eliminated",
];

const LEAVE_REASONS: &[&str] = &["parental leave", "extended medical leave", "sabbatical"];

const ANON_LOGINS: &[&str] = &[
    "adimn",
    "frontdesk",
    "reception",
    "root",
    "test",
    "jsmtih",
    "drlee",
    "billing",
    "nurse",
    "guest",
];

const OS_OPERATORS: &[&str] = &["admin", "itops", "office", "pracmgr"];

// ---------------------------------------------------------------------------------------------
// A small deterministic generator (SplitMix64): the crate has no `rand` dependency.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a collection of `len` items.
    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `percent`/100.
    fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One item of a non-empty constant list.
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }
}

/// Luhn check digit of an NPI's nine base digits, over the card-issuer prefix 80840.
fn npi_check_digit(base: u64) -> u64 {
    let mut digits = [8, 0, 8, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut b = base;
    for d in digits[5..].iter_mut().rev() {
        *d = b % 10;
        b /= 10;
    }
    let mut sum = 0;
    for (i, d) in digits.iter().rev().enumerate() {
        sum += if i % 2 == 0 {
            let x = d * 2;
            if x > 9 { x - 9 } else { x }
        } else {
            *d
        };
    }
    (10 - sum % 10) % 10
}

/// A valid, unique-per-`n` NPI starting with 1 or 2, as real ones do.
fn npi(n: u64, salt: u64) -> String {
    let base = 100_000_000 + (n.wrapping_mul(104_729).wrapping_add(salt)) % 200_000_000;
    format!("{base}{}", npi_check_digit(base))
}

// ---------------------------------------------------------------------------------------------
// Field-level changes, rendered exactly as `diff` renders them.

/// The user fields a generated edit touches, by their dotted diff path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F {
    AccessAll,
    AccessOnly,
    Billing,
    DataScope,
    DeactivatedAt,
    DeactivationReason,
    Email,
    LastName,
    Note,
    DosThreshold,
    LowScoreAlert,
    NewIntake,
    NewLead,
    SecureMessaging,
    NpsScope,
    PartTime,
    PrimaryFacility,
    CanSignForms,
    Capacity,
    Npi,
    Step,
    ShowInApp,
    Taxonomy,
    PublicName,
    RoleId,
    Status,
}

fn scope_text(s: DataScope) -> &'static str {
    match s {
        DataScope::Own => "own",
        DataScope::Facility => "facility",
        DataScope::All => "all",
    }
}

impl F {
    fn path(self) -> &'static str {
        match self {
            Self::AccessAll => "access",
            Self::AccessOnly => "access.only",
            Self::Billing => "billing",
            Self::DataScope => "data_scope",
            Self::DeactivatedAt => "deactivated_at",
            Self::DeactivationReason => "deactivation_reason",
            Self::Email => "email",
            Self::LastName => "last_name",
            Self::Note => "note",
            Self::DosThreshold => "notifications.dos_threshold",
            Self::LowScoreAlert => "notifications.low_score_alert",
            Self::NewIntake => "notifications.new_intake",
            Self::NewLead => "notifications.new_lead",
            Self::SecureMessaging => "notifications.secure_messaging",
            Self::NpsScope => "nps_scope",
            Self::PartTime => "part_time",
            Self::PrimaryFacility => "primary_facility",
            Self::CanSignForms => "provider.can_sign_forms",
            Self::Capacity => "provider.capacity",
            Self::Npi => "provider.npi",
            Self::Step => "provider.scheduling_step_minutes",
            Self::ShowInApp => "provider.show_in_app",
            Self::Taxonomy => "provider.taxonomy",
            Self::PublicName => "public_name",
            Self::RoleId => "role_id",
            Self::Status => "status",
        }
    }

    fn render(self, u: &User) -> Option<String> {
        let p = &u.provider;
        let n = &u.notifications;
        match self {
            // Externally tagged: `"all"`, or `{"only": [ids]}`.
            Self::AccessAll => matches!(u.access, FacilityAccess::All).then(|| "all".to_string()),
            Self::AccessOnly => match &u.access {
                FacilityAccess::All => None,
                FacilityAccess::Only(set) => Some(format!(
                    "[{}]",
                    set.iter().map(Id::to_string).collect::<Vec<_>>().join(",")
                )),
            },
            Self::Billing => Some(u.billing.as_str().to_string()),
            Self::DataScope => Some(scope_text(u.data_scope).to_string()),
            Self::DeactivatedAt => u.deactivated_at.map(|t| t.to_string()),
            Self::DeactivationReason => u.deactivation_reason.clone(),
            Self::Email => Some(u.email.clone()),
            Self::LastName => Some(u.last_name.clone()),
            Self::Note => Some(u.note.clone()),
            Self::DosThreshold => n.dos_threshold.map(|t| t.to_string()),
            Self::LowScoreAlert => Some(n.low_score_alert.to_string()),
            Self::NewIntake => Some(n.new_intake.to_string()),
            Self::NewLead => Some(n.new_lead.to_string()),
            Self::SecureMessaging => Some(n.secure_messaging.to_string()),
            Self::NpsScope => Some(scope_text(u.nps_scope).to_string()),
            Self::PartTime => Some(u.part_time.to_string()),
            Self::PrimaryFacility => Some(u.primary_facility.to_string()),
            Self::CanSignForms => Some(p.can_sign_forms.to_string()),
            Self::Capacity => Some(p.capacity.to_string()),
            Self::Npi => p.npi.clone(),
            Self::Step => Some(p.scheduling_step_minutes.to_string()),
            Self::ShowInApp => Some(p.show_in_app.to_string()),
            Self::Taxonomy => p.taxonomy.clone(),
            Self::PublicName => u.public_name.clone(),
            Self::RoleId => Some(u.role_id.to_string()),
            Self::Status => Some(u.status.as_str().to_string()),
        }
    }
}

/// The changes between `old` and `new` in `fields`, in `diff`'s order (sorted by path). Debug
/// builds check the result against `diff` itself, which is exact but too slow for a million
/// events.
fn changes(old: &User, new: &User, fields: &[F]) -> Result<Vec<Change>> {
    let mut fields = fields.to_vec();
    fields.sort_by_key(|f| f.path());
    fields.dedup();
    let out: Vec<Change> = fields
        .into_iter()
        .filter_map(|f| {
            let (o, n) = (f.render(old), f.render(new));
            (o != n).then(|| Change::new(f.path(), o, n))
        })
        .collect();
    if cfg!(debug_assertions) {
        let expected = diff(Some(old), Some(new));
        if expected != out {
            return Err(Error::Integrity(format!(
                "bulk generator recorded {out:?} where the service records {expected:?}"
            )));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The audit chain writer.

struct Chain {
    sink: Sink,
    seq: u64,
    prev: [u8; 32],
    /// Events of the newest chunk, not yet complete (`store::audit_log`).
    open: Vec<AuditEvent>,
    /// Complete chunks on their way to the writer.
    audit: Vec<Entry>,
    batch: usize,
    appended: u64,
}

impl Chain {
    /// Seals `draft` as the next event, as `append_event` does.
    fn push(&mut self, draft: EventDraft) -> Result<()> {
        let event = AuditEvent::seal(draft, self.seq + 1, self.prev);
        self.seq = event.seq;
        self.prev = event.hash;
        self.appended += 1;
        self.open.push(event);
        if self.seq.is_multiple_of(audit_log::CHUNK) {
            self.audit.push((
                audit_log::chunk_key(self.seq).to_vec(),
                audit_log::encode(&self.open)?,
            ));
            self.open.clear();
            if self.audit.len() as u64 * audit_log::CHUNK >= self.batch as u64 {
                self.sink
                    .send(TreeId::Audit, std::mem::take(&mut self.audit))?;
            }
        }
        Ok(())
    }

    /// Queues every complete chunk and the newest, incomplete one (which a later flush or
    /// the service may rewrite).
    fn flush(&mut self) -> Result<()> {
        if !self.open.is_empty() {
            self.audit.push((
                audit_log::chunk_key(self.seq).to_vec(),
                audit_log::encode(&self.open)?,
            ));
        }
        self.sink
            .send(TreeId::Audit, std::mem::take(&mut self.audit))
    }
}

// ---------------------------------------------------------------------------------------------
// The simulation.

/// How a generated user ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Active,
    Invited,
    /// Deactivated; `true` when they had activated first.
    Deactivated(bool),
}

/// Staff archetypes, by built-in role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Admin,
    Provider,
    Assistant,
    Technician,
    FrontDesk,
    Billing,
    Aide,
}

/// (kind, built-in role name, weight per 1000).
const KINDS: &[(Kind, &str, u64)] = &[
    (Kind::Admin, "Administrator", 8),
    (Kind::Provider, "Provider", 220),
    (Kind::Assistant, "Provider Assistant", 150),
    (Kind::Technician, "Technician", 150),
    (Kind::FrontDesk, "Front Desk", 252),
    (Kind::Billing, "Billing Manager", 80),
    (Kind::Aide, "Aide", 140),
];

/// Per-user generator state that is not part of the record.
#[derive(Debug, Clone, Copy)]
struct Meta {
    first: usize,
    last: usize,
    fate: Fate,
    kind: Kind,
    /// Must stay active (administrators, the default doctor).
    keep_active: bool,
}

/// A scheduled event that must happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    Deactivate(usize),
    Reactivate(usize),
}

struct Gen<'a> {
    store: &'a Store,
    spec: BulkSpec,
    rng: Rng,
    chain: Chain,
    /// Time of the current event, in microseconds since the epoch.
    now: i64,
    /// Mean gap between events, in microseconds.
    gap: u64,
    roles: HashMap<&'static str, Id>,
    /// Every facility (existing first), and whether it must be written back.
    facilities: Vec<(Facility, bool)>,
    new_facility_id: Id,
    facilities_added: usize,
    /// Cumulative weights for drawing a primary facility.
    facility_weights: Vec<u64>,
    users: Vec<User>,
    meta: Vec<Meta>,
    first_user_id: Id,
    /// Active administrators who may operate: (id, label).
    operators: Vec<(Id, String)>,
    taken_logins: HashSet<Vec<u8>>,
    default_doctor: Option<Id>,
    heap: BinaryHeap<Reverse<(u64, Due)>>,
    fates: Vec<Fate>,
    /// Users not yet created who must be deactivated later.
    future_deactivations: u64,
    events: u64,
}

impl<'a> Gen<'a> {
    fn load(store: &'a Store, spec: &BulkSpec, sink: Sink) -> Result<Self> {
        let (seq, prev) = match store.get_raw(TreeId::Meta, meta::AUDIT_HEAD)? {
            Some(raw) => decode_head(&raw)?,
            None => (0, ZERO_HASH),
        };
        // The newest chunk, when incomplete, is carried on rather than overwritten.
        let open: Vec<AuditEvent> = match store
            .get_raw(TreeId::Audit, &audit_log::chunk_key(seq))?
        {
            Some(bytes) if seq > 0 => audit_log::decode(&bytes)
                .map_err(|problem| audit_log::unreadable(audit_log::chunk_number(seq), &problem))?,
            _ => Vec::new(),
        };
        let head_time = match open.last() {
            _ if seq == 0 => Timestamp::now(),
            Some(e) if e.seq == seq => e.at(),
            _ => return Err(Error::Integrity(format!("audit head #{seq} is missing"))),
        };
        let open = if seq.is_multiple_of(audit_log::CHUNK) {
            Vec::new()
        } else {
            open
        };
        let mut roles = HashMap::new();
        for (_, name, _) in KINDS {
            let id = store
                .get_id(TreeId::RolesByName, &name_key(name))?
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "built-in role '{name}' is missing; generate into a freshly initialised store"
                    ))
                })?;
            roles.insert(*name, id);
        }
        let mut facilities = Vec::new();
        for f in store.scan::<Facility>(TreeId::Facilities) {
            if let Ok(f) = f? {
                facilities.push((f, false));
            }
        }
        let mut operators = Vec::new();
        for u in store.scan::<User>(TreeId::Users) {
            if let Ok(u) = u?
                && u.is_admin
                && u.status == UserStatus::Active
            {
                operators.push((u.id, label(&u)));
            }
        }
        if operators.is_empty() {
            return Err(Error::NotFound(
                "the store has no active administrator to act as operator".into(),
            ));
        }
        let mut taken_logins = HashSet::new();
        for item in store.scan_raw(TreeId::UsersByLogin) {
            taken_logins.insert(item?.0.to_vec());
        }
        if let Some(p) = store.get::<crate::model::Practice>(TreeId::Meta, meta::PRACTICE)? {
            taken_logins.insert(email_key(&p.email));
        }
        let next = |kind: &str| -> Result<Id> {
            let key = format!("{}{kind}", meta::NEXT_ID);
            Ok(store.get_id(TreeId::Meta, key.as_bytes())?.unwrap_or(1))
        };
        let mut rng = Rng(spec.seed);
        let fates: Vec<Fate> = (0..spec.users)
            .map(|_| match rng.below(100) {
                0..72 => Fate::Active,
                72..85 => Fate::Invited,
                85..97 => Fate::Deactivated(true),
                _ => Fate::Deactivated(false),
            })
            .collect();
        let future_deactivations = fates
            .iter()
            .filter(|f| matches!(f, Fate::Deactivated(_)))
            .count() as u64;
        let mandatory = (spec.facilities + spec.users) as u64 + future_deactivations;
        let events = spec.events.max(mandatory);
        let span = u64::from(spec.span_days) * 86_400_000_000;
        let start = head_time.as_microsecond() + 1_000_000;
        let end = i64::try_from(span.saturating_mul(2).saturating_add(events))
            .ok()
            .and_then(|d| start.checked_add(d));
        if end.is_none_or(|end| Timestamp::from_microsecond(end).is_err()) {
            return Err(Error::invalid(
                "span_days",
                "the generated history would end past the year 9999",
            ));
        }
        let mut generator = Self {
            store,
            spec: spec.clone(),
            rng,
            chain: Chain {
                sink,
                seq,
                prev,
                open,
                audit: Vec::new(),
                batch: spec.batch.max(1),
                appended: 0,
            },
            now: start,
            gap: (span / events.max(1)).max(1),
            roles,
            new_facility_id: next("facility")?,
            facilities_added: 0,
            facilities,
            facility_weights: Vec::new(),
            users: Vec::with_capacity(spec.users),
            meta: Vec::with_capacity(spec.users),
            first_user_id: next("user")?,
            operators,
            taken_logins,
            default_doctor: store.get_id(TreeId::Meta, meta::DEFAULT_DOCTOR)?,
            heap: BinaryHeap::new(),
            fates,
            future_deactivations,
            events,
        };
        generator.reweigh();
        Ok(generator)
    }

    fn at(&self) -> Timestamp {
        // `load` checked that the whole history is in range.
        Timestamp::from_microsecond(self.now).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn tick(&mut self) {
        self.now += 1 + self.rng.below(2 * self.gap) as i64;
    }

    fn role(&self, name: &str) -> Id {
        self.roles.get(name).copied().unwrap_or_default()
    }

    /// A random active administrator and where they work from.
    fn operator(&mut self) -> (Actor, Origin) {
        let i = self.rng.index(self.operators.len());
        let (id, label) = self.operators[i].clone();
        let origin = Origin {
            os_user: OS_OPERATORS[(id as usize) % OS_OPERATORS.len()].to_string(),
            pid: 1000 + self.rng.below(60_000) as u32,
            ssh_client: self.rng.percent(60).then(|| {
                format!(
                    "10.{}.{}.{}",
                    self.rng.below(4),
                    self.rng.below(256),
                    1 + self.rng.below(254)
                )
            }),
            tty: Some(format!("/dev/pts/{}", self.rng.below(8))),
        };
        (Actor::User { id, label }, origin)
    }

    /// The origin of a staff member's own session (the TUI on the practice server).
    fn staff_origin(&mut self) -> Origin {
        Origin {
            os_user: "staff".into(),
            pid: 1000 + self.rng.below(60_000) as u32,
            ssh_client: Some(format!(
                "192.168.{}.{}",
                self.rng.below(8),
                2 + self.rng.below(250)
            )),
            tty: Some(format!("/dev/pts/{}", self.rng.below(32))),
        }
    }

    fn emit(
        &mut self,
        actor: Actor,
        origin: Origin,
        action: &str,
        target: Option<Target>,
        changes: Vec<Change>,
        outcome: Outcome,
    ) -> Result<()> {
        let draft = EventDraft {
            at: self.at(),
            actor,
            origin,
            action: action.to_string(),
            target,
            changes,
            outcome,
        };
        self.chain.push(draft)
    }

    /// An operator's successful change.
    fn admin_event(&mut self, action: &str, target: Target, changes: Vec<Change>) -> Result<()> {
        let (actor, origin) = self.operator();
        self.emit(
            actor,
            origin,
            action,
            Some(target),
            changes,
            Outcome::Success,
        )
    }

    fn run(&mut self) -> Result<()> {
        let total = self.events;
        let f_count = self.spec.facilities as u64;
        let u_count = self.spec.users as u64;
        // Facilities first, then staff joining over the first 90% of the history.
        let create_window = (total.saturating_sub(f_count) * 9 / 10).max(1);
        let mut slot = 0;
        while slot < total {
            self.tick();
            if (self.facilities_added as u64) < f_count {
                self.create_facility()?;
                slot += 1;
                continue;
            }
            let created = self.users.len() as u64;
            let remaining = total - slot;
            let mandatory =
                (u_count - created) + self.future_deactivations + self.heap.len() as u64;
            let create_due = created < u_count
                && u128::from(slot - f_count) * u128::from(u_count)
                    >= u128::from(created) * u128::from(create_window);
            let forced = remaining <= mandatory;
            if created < u_count && (create_due || forced) {
                self.create_user(slot, total)?;
            } else if let Some(Reverse((due, what))) = self.heap.peek().copied()
                && (due <= slot || forced)
            {
                self.heap.pop();
                match what {
                    Due::Deactivate(i) => {
                        let reason = self.rng.pick(DEACTIVATION_REASONS);
                        self.deactivate(i, reason)?;
                    }
                    Due::Reactivate(i) => self.reactivate(i)?,
                }
            } else {
                let room = remaining > mandatory + 1;
                self.filler(slot, total, room)?;
            }
            slot += 1;
        }
        self.chain.flush()
    }

    fn create_facility(&mut self) -> Result<()> {
        let n = self.facilities_added;
        let base = FACILITY_NAMES[n % FACILITY_NAMES.len()];
        let round = n / FACILITY_NAMES.len();
        let mut name = if round == 0 {
            base.to_string()
        } else {
            format!("{base} {}", round + 1)
        };
        while self
            .facilities
            .iter()
            .any(|(f, _)| name_key(&f.name) == name_key(&name))
            || self
                .store
                .get_id(TreeId::FacilitiesByName, &name_key(&name))?
                .is_some()
        {
            name.push_str(" Annex");
        }
        let code: String = name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .collect::<String>()
            .to_uppercase();
        let now = self.at();
        let f = Facility {
            id: self.new_facility_id,
            name,
            code: Some(format!("{code}{}", n + 1)),
            address: Some(format!(
                "{} {}, Springfield",
                100 + self.rng.below(9000),
                self.rng.pick(STREETS)
            )),
            phone: Some(format!(
                "+1 555 01{} {:04}",
                self.rng.below(10),
                self.rng.below(10_000)
            )),
            archived: false,
            created_at: now,
            updated_at: now,
            revision: 1,
        };
        f.validate()?;
        self.new_facility_id += 1;
        self.facilities_added += 1;
        let changes = diff(None, Some(&f));
        let target = Target::new("facility", f.id, f.name.clone());
        self.facilities.push((f, true));
        self.reweigh();
        self.admin_event("facility.create", target, changes)
    }

    /// Primary-facility weights: the first facilities are the big ones.
    fn reweigh(&mut self) {
        self.facility_weights = self
            .facilities
            .iter()
            .enumerate()
            .scan(0, |acc, (i, _)| {
                *acc += 100 + 900 / (i as u64 + 1);
                Some(*acc)
            })
            .collect();
    }

    fn random_facility(&mut self) -> Id {
        let total = self.facility_weights.last().copied().unwrap_or(0);
        let x = self.rng.below(total);
        let i = self.facility_weights.partition_point(|w| *w <= x);
        self.facilities
            .get(i)
            .or(self.facilities.first())
            .map_or(0, |(f, _)| f.id)
    }

    fn all_facility_ids(&self) -> BTreeSet<Id> {
        self.facilities
            .iter()
            .filter(|(f, _)| !f.archived)
            .map(|(f, _)| f.id)
            .collect()
    }

    fn free_login(&self, key: Vec<u8>) -> bool {
        !self.taken_logins.contains(&key)
    }

    fn email_for(&mut self, id: Id, m: &Meta) -> String {
        let (_, first) = FIRST[m.first];
        let (_, last) = LAST[m.last];
        let domain = self.rng.pick(DOMAINS);
        let mut local = format!("{first}.{last}{id}");
        while !self.free_login(email_key(&format!("{local}@{domain}"))) {
            local.push('x');
        }
        format!("{local}@{domain}")
    }

    fn create_user(&mut self, slot: u64, total: u64) -> Result<()> {
        let i = self.users.len();
        let id = self.first_user_id + i as u64;
        let fate = self.fates.get(i).copied().unwrap_or(Fate::Active);
        let r = self.rng.below(1000);
        let mut acc = 0;
        let mut kind = Kind::FrontDesk;
        for (k, _, w) in KINDS {
            acc += w;
            if r < acc {
                kind = *k;
                break;
            }
        }
        let doctor =
            kind == Kind::Provider && fate == Fate::Active && self.default_doctor.is_none();
        let keep_active = kind == Kind::Admin || doctor;
        let fate = if keep_active { Fate::Active } else { fate };
        let m = Meta {
            first: self.rng.index(FIRST.len()),
            last: self.rng.index(LAST.len()),
            fate,
            kind,
            keep_active,
        };
        let now = self.at();
        let email = self.email_for(id, &m);
        let with_username = kind == Kind::Admin || self.rng.percent(65);
        let username = with_username.then(|| {
            let (_, first) = FIRST[m.first];
            let (_, last) = LAST[m.last];
            let mut u = format!("{}{}{id}", &first[..1], &last[..last.len().min(20)]);
            while !self.free_login(username_key(&u)) {
                u.push('x');
            }
            u
        });
        let login_method = if username.is_some() && self.rng.percent(60) {
            LoginMethod::Username
        } else {
            LoginMethod::Email
        };
        let activated = matches!(fate, Fate::Active | Fate::Deactivated(true));
        let role_name = KINDS
            .iter()
            .find(|(k, _, _)| *k == kind)
            .map_or("Front Desk", |(_, n, _)| *n);
        let primary = self.random_facility();
        let access = if kind == Kind::Admin || self.rng.percent(15) {
            FacilityAccess::All
        } else if self.rng.percent(30) {
            let mut set = BTreeSet::new();
            for _ in 0..1 + self.rng.below(2) {
                let f = self.random_facility();
                if f != primary {
                    set.insert(f);
                }
            }
            FacilityAccess::Only(set)
        } else {
            FacilityAccess::Only(BTreeSet::new())
        };
        let clinical = matches!(kind, Kind::Provider | Kind::Assistant);
        let (billing, aide) = match kind {
            Kind::Provider => (BillingCategory::Provider, false),
            Kind::Assistant => (BillingCategory::Assistant, false),
            Kind::Technician => (BillingCategory::Technician, false),
            Kind::Aide => (
                if self.rng.percent(40) {
                    BillingCategory::Technician
                } else {
                    BillingCategory::None
                },
                true,
            ),
            Kind::Admin | Kind::FrontDesk | Kind::Billing => (BillingCategory::None, false),
        };
        let (first_name, _) = FIRST[m.first];
        let (last_name, _) = LAST[m.last];
        let provider = ProviderProfile {
            npi: match kind {
                Kind::Provider if self.rng.percent(92) => Some(npi(id, self.spec.seed)),
                Kind::Assistant if self.rng.percent(35) => Some(npi(id, self.spec.seed)),
                _ => None,
            },
            taxonomy: match kind {
                Kind::Provider if self.rng.percent(85) => {
                    Some(self.rng.pick(PROVIDER_TAXONOMY).to_string())
                }
                Kind::Assistant if self.rng.percent(50) => {
                    Some(self.rng.pick(ASSISTANT_TAXONOMY).to_string())
                }
                _ => None,
            },
            bio: if kind == Kind::Provider && self.rng.percent(50) {
                self.rng.pick(BIOS).to_string()
            } else {
                String::new()
            },
            pms_provider_id: (clinical && self.rng.percent(40)).then(|| format!("PMS-{id:06}")),
            capacity: if clinical {
                1 + self.rng.below(3) as u32
            } else {
                1
            },
            scheduling_step_minutes: if clinical {
                self.rng.pick(&SCHEDULING_STEPS)
            } else {
                15
            },
            default_doctor: doctor,
            can_sign_forms: kind == Kind::Provider && self.rng.percent(60),
            show_in_app: clinical && self.rng.percent(70),
            screen_pop_extension: (kind == Kind::FrontDesk && self.rng.percent(50))
                .then(|| format!("{}", 200 + self.rng.below(300))),
            rtm_default: true,
            location_popup: kind == Kind::FrontDesk && self.rng.percent(30),
        };
        let notifications = NotificationPrefs {
            secure_messaging: clinical && self.rng.percent(50),
            billable_codes_email: kind == Kind::Provider && self.rng.percent(30),
            new_lead: kind == Kind::FrontDesk && self.rng.percent(40),
            new_intake: kind == Kind::FrontDesk && self.rng.percent(40),
            low_score_alert: clinical && self.rng.percent(25),
            passive_score_alert: false,
            promoter_score_alert: kind == Kind::Provider && self.rng.percent(10),
            dos_threshold: (kind == Kind::Provider && self.rng.percent(20)).then_some(2),
            default_location: self.rng.percent(20).then_some(primary),
        };
        let u = User {
            id,
            username,
            email,
            login_method,
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
            public_name: (kind == Kind::Provider && self.rng.percent(30))
                .then(|| format!("Dr. {last_name}")),
            status: if activated {
                UserStatus::Active
            } else {
                UserStatus::Invited
            },
            locked_until: None,
            role_id: self.role(role_name),
            billing,
            is_admin: kind == Kind::Admin,
            part_time: self.rng.percent(20),
            aide,
            primary_facility: primary,
            access,
            data_scope: match kind {
                Kind::Admin | Kind::Billing => DataScope::All,
                Kind::Provider | Kind::Assistant if self.rng.percent(50) => DataScope::Own,
                _ => DataScope::Facility,
            },
            nps_scope: if kind == Kind::Admin {
                DataScope::All
            } else {
                DataScope::Own
            },
            provider,
            notifications,
            note: if self.rng.percent(5) {
                self.rng.pick(NOTES).to_string()
            } else {
                String::new()
            },
            created_at: now,
            updated_at: now,
            activated_at: activated.then_some(now),
            last_login_at: None,
            deactivated_at: None,
            deactivation_reason: None,
            revision: 1,
        };
        u.validate()?;
        if doctor {
            self.default_doctor = Some(id);
        }
        if let Fate::Deactivated(_) = fate {
            self.future_deactivations = self.future_deactivations.saturating_sub(1);
            let due = slot + 1 + self.rng.below(total.saturating_sub(slot + 1).max(1));
            self.heap.push(Reverse((due, Due::Deactivate(i))));
        } else if let Some(Fate::Deactivated(_)) = self.fates.get(i) {
            // Promoted to stay active (administrator or default doctor).
            self.future_deactivations = self.future_deactivations.saturating_sub(1);
        }
        let changes = diff(None, Some(&u));
        let target = Target::new("user", id, label(&u));
        if u.is_admin {
            self.operators.push((id, label(&u)));
        }
        self.users.push(u);
        self.meta.push(m);
        self.admin_event("user.create", target, changes)
    }

    /// Saves `new` over user `i` as `save` does and records `action`.
    fn save(&mut self, i: usize, mut new: User, action: &str, fields: &[F]) -> Result<()> {
        let Some(old) = self.users.get(i) else {
            return Ok(());
        };
        new.revision = old.revision + 1;
        new.updated_at = self.at();
        let changes = changes(old, &new, fields)?;
        let target = Target::new("user", new.id, label(&new));
        self.users[i] = new;
        self.admin_event(action, target, changes)
    }

    fn deactivate(&mut self, i: usize, reason: &str) -> Result<()> {
        let Some(old) = self.users.get(i) else {
            return Ok(());
        };
        let mut u = old.clone();
        let now = self.at();
        u.status = UserStatus::Deactivated;
        u.deactivated_at = Some(now);
        let date = now.strftime("%Y-%m-%d");
        u.deactivation_reason = Some(format!("{reason} {date}"));
        self.save(
            i,
            u,
            "user.deactivate",
            &[F::Status, F::DeactivatedAt, F::DeactivationReason],
        )
    }

    fn reactivate(&mut self, i: usize) -> Result<()> {
        let Some(old) = self.users.get(i) else {
            return Ok(());
        };
        let mut u = old.clone();
        u.status = if u.activated_at.is_some() {
            UserStatus::Active
        } else {
            UserStatus::Invited
        };
        u.deactivated_at = None;
        u.deactivation_reason = None;
        self.save(
            i,
            u,
            "user.reactivate",
            &[F::Status, F::DeactivatedAt, F::DeactivationReason],
        )
    }

    fn filler(&mut self, slot: u64, total: u64, room: bool) -> Result<()> {
        if self.users.is_empty() {
            return self.anonymous_failure();
        }
        let i = self.rng.index(self.users.len());
        let done = match self.rng.below(10_000) {
            0..4_400 => false,
            4_400..4_600 => return self.anonymous_failure(),
            4_600..7_400 => self.update(i)?,
            7_400..8_200 => self.access_change(i)?,
            8_200..8_300 => self.rejection(i)?,
            8_300..8_400 => self.facility_update()?,
            8_400..8_460 if room => self.leave(i, slot, total)?,
            8_460..8_466 => self.export_event()?,
            _ => false,
        };
        if done { Ok(()) } else { self.login(i) }
    }

    fn login(&mut self, i: usize) -> Result<()> {
        let Some(u) = self.users.get(i) else {
            return Ok(());
        };
        let who = label(u);
        let actor = Actor::User {
            id: u.id,
            label: who.clone(),
        };
        let target = Some(Target::new("user", u.id, who));
        // Only activated users have a password; the password is checked before the status.
        let failure = if u.activated_at.is_none() || self.rng.percent(7) {
            Some("wrong password".to_string())
        } else if u.status != UserStatus::Active {
            Some(format!("account is {}", u.status.as_str()))
        } else {
            None
        };
        let origin = self.staff_origin();
        match failure {
            Some(why) => self.emit(
                actor,
                origin,
                "auth.login_failed",
                target,
                Vec::new(),
                Outcome::Denied(why),
            ),
            None => {
                let now = self.at();
                self.users[i].last_login_at = Some(now);
                self.emit(
                    actor,
                    origin,
                    "auth.login",
                    target,
                    Vec::new(),
                    Outcome::Success,
                )
            }
        }
    }

    fn anonymous_failure(&mut self) -> Result<()> {
        let label = self.rng.pick(ANON_LOGINS).to_string();
        let origin = self.staff_origin();
        self.emit(
            Actor::Anonymous { label },
            origin,
            "auth.login_failed",
            None,
            Vec::new(),
            Outcome::Denied("no such user".into()),
        )
    }

    /// One `user.update`; `false` when the drawn edit does not apply to this user.
    fn update(&mut self, i: usize) -> Result<bool> {
        let Some(old) = self.users.get(i).cloned() else {
            return Ok(false);
        };
        let Some(m) = self.meta.get(i).copied() else {
            return Ok(false);
        };
        let mut u = old.clone();
        let clinical = matches!(m.kind, Kind::Provider | Kind::Assistant);
        let fields: Vec<F> = match self.rng.below(15) {
            0 => {
                u.part_time = !u.part_time;
                vec![F::PartTime]
            }
            1 => {
                u.note = if u.note.is_empty() {
                    self.rng.pick(NOTES).to_string()
                } else {
                    String::new()
                };
                vec![F::Note]
            }
            2 => {
                u.public_name = match u.public_name {
                    Some(_) => None,
                    None => Some(format!("{} {}", u.first_name, u.last_name)),
                };
                vec![F::PublicName]
            }
            3 if clinical => {
                u.provider.capacity = 1 + (u.provider.capacity + self.rng.below(3) as u32) % 4;
                vec![F::Capacity]
            }
            4 if clinical => {
                u.provider.scheduling_step_minutes = self.rng.pick(&SCHEDULING_STEPS);
                vec![F::Step]
            }
            5 => {
                let n = &mut u.notifications;
                match self.rng.below(4) {
                    0 => {
                        n.secure_messaging = !n.secure_messaging;
                        vec![F::SecureMessaging]
                    }
                    1 => {
                        n.new_lead = !n.new_lead;
                        vec![F::NewLead]
                    }
                    2 => {
                        n.new_intake = !n.new_intake;
                        vec![F::NewIntake]
                    }
                    _ => {
                        n.low_score_alert = !n.low_score_alert;
                        vec![F::LowScoreAlert]
                    }
                }
            }
            6 if clinical => {
                u.notifications.dos_threshold = match u.notifications.dos_threshold {
                    Some(_) => None,
                    None => Some(1 + self.rng.below(5) as u8),
                };
                vec![F::DosThreshold]
            }
            7 => {
                u.email = self.email_for(u.id, &m);
                vec![F::Email]
            }
            8 if self.rng.percent(30) => {
                u.last_name = LAST[self.rng.index(LAST.len())].0.to_string();
                vec![F::LastName]
            }
            9 if !u.aide => {
                let (to, billing) = match m.kind {
                    Kind::Assistant => ("Provider", BillingCategory::Provider),
                    Kind::Technician => ("Provider Assistant", BillingCategory::Assistant),
                    Kind::FrontDesk => ("Billing Manager", BillingCategory::None),
                    _ => return Ok(false),
                };
                let role = self.role(to);
                if u.role_id == role {
                    return Ok(false);
                }
                u.role_id = role;
                u.billing = billing;
                vec![F::RoleId, F::Billing]
            }
            10 => {
                u.primary_facility = self.random_facility();
                vec![F::PrimaryFacility]
            }
            11 if m.kind != Kind::Admin => {
                let scopes = [DataScope::Own, DataScope::Facility, DataScope::All];
                if self.rng.percent(50) {
                    u.data_scope = self.rng.pick(&scopes);
                    vec![F::DataScope]
                } else {
                    u.nps_scope = self.rng.pick(&scopes);
                    vec![F::NpsScope]
                }
            }
            12 if clinical => {
                if self.rng.percent(50) {
                    u.provider.show_in_app = !u.provider.show_in_app;
                    vec![F::ShowInApp]
                } else {
                    u.provider.can_sign_forms = !u.provider.can_sign_forms;
                    vec![F::CanSignForms]
                }
            }
            13 if clinical && u.provider.npi.is_none() => {
                u.provider.npi = Some(npi(u.id, self.spec.seed));
                if u.provider.taxonomy.is_none() {
                    u.provider.taxonomy = Some(self.rng.pick(PROVIDER_TAXONOMY).to_string());
                }
                vec![F::Npi, F::Taxonomy]
            }
            _ => return Ok(false),
        };
        if u == old {
            return Ok(false);
        }
        if cfg!(debug_assertions) {
            u.validate()?;
        }
        if fields.contains(&F::Email) {
            self.taken_logins.insert(email_key(&u.email));
        }
        self.save(i, u, "user.update", &fields)?;
        Ok(true)
    }

    /// One `access.*` change, as the access service computes it.
    fn access_change(&mut self, i: usize) -> Result<bool> {
        let Some(old) = self.users.get(i).cloned() else {
            return Ok(false);
        };
        let everything = self.all_facility_ids();
        let pick = self.random_facility();
        let (action, mut access) = match (&old.access, self.rng.below(4)) {
            (FacilityAccess::Only(set), 0 | 1) => {
                let mut set = set.clone();
                set.insert(pick);
                ("access.grant", FacilityAccess::Only(set))
            }
            (FacilityAccess::Only(_), 2) => ("access.all", FacilityAccess::All),
            (FacilityAccess::Only(set), _) => {
                if pick == old.primary_facility {
                    return Ok(false);
                }
                let mut set = set.clone();
                set.remove(&pick);
                ("access.revoke", FacilityAccess::Only(set))
            }
            (FacilityAccess::All, 0 | 1) => {
                if pick == old.primary_facility {
                    return Ok(false);
                }
                let mut set = everything;
                set.remove(&pick);
                ("access.revoke", FacilityAccess::Only(set))
            }
            (FacilityAccess::All, _) => {
                let mut set = BTreeSet::new();
                set.insert(pick);
                ("access.set", FacilityAccess::Only(set))
            }
        };
        if let FacilityAccess::Only(set) = &mut access {
            set.remove(&old.primary_facility);
        }
        if access == old.access {
            return Ok(false);
        }
        let mut u = old.clone();
        u.access = access;
        self.save(i, u, action, &[F::AccessAll, F::AccessOnly])?;
        Ok(true)
    }

    /// A refused operator action, recorded as `record_refusal` records it.
    fn rejection(&mut self, i: usize) -> Result<bool> {
        let Some(u) = self.users.get(i) else {
            return Ok(false);
        };
        let (action, target, error) = match (u.status, self.rng.below(3)) {
            (_, 0) if u.login_method == LoginMethod::Email => (
                "user.create",
                // A refused create names no record.
                Target::new("user", 0, u.email.clone()),
                Error::invalid(
                    "email",
                    format!(
                        "email {} is already used by user #{} ({}); use another email or log in by username",
                        u.email,
                        u.id,
                        u.full_name()
                    ),
                ),
            ),
            (UserStatus::Deactivated, _) => (
                "user.deactivate",
                Target::new("user", u.id, u.id.to_string()),
                Error::Conflict(format!(
                    "{} (#{}) is already deactivated",
                    u.full_name(),
                    u.id
                )),
            ),
            _ if u.activated_at.is_some() => (
                "user.delete",
                Target::new("user", u.id, u.id.to_string()),
                Error::Conflict(format!(
                    "{} (#{}) has activated their account, so it cannot be deleted; deactivate it instead (`staffctl user deactivate {} --reason ...`)",
                    u.full_name(),
                    u.id,
                    u.id
                )),
            ),
            _ => return Ok(false),
        };
        let (actor, origin) = self.operator();
        self.emit(
            actor,
            origin,
            action,
            Some(target),
            Vec::new(),
            Outcome::Rejected(error.to_string()),
        )?;
        Ok(true)
    }

    fn facility_update(&mut self) -> Result<bool> {
        let i = self.rng.index(self.facilities.len());
        let Some((old, _)) = self.facilities.get(i) else {
            return Ok(false);
        };
        let mut f = old.clone();
        if self.rng.percent(50) {
            f.phone = Some(format!(
                "+1 555 02{} {:04}",
                self.rng.below(10),
                self.rng.below(10_000)
            ));
        } else {
            f.address = Some(format!(
                "{} {}, Springfield",
                100 + self.rng.below(9000),
                self.rng.pick(STREETS)
            ));
        }
        if &f == old {
            return Ok(false);
        }
        f.revision += 1;
        f.updated_at = self.at();
        let changes = diff(Some(old), Some(&f));
        let target = Target::new("facility", f.id, f.name.clone());
        self.facilities[i] = (f, true);
        self.admin_event("facility.update", target, changes)?;
        Ok(true)
    }

    /// Deactivates an active user for a leave, scheduling their reactivation.
    fn leave(&mut self, i: usize, slot: u64, total: u64) -> Result<bool> {
        let Some(m) = self.meta.get(i) else {
            return Ok(false);
        };
        let eligible = m.fate == Fate::Active
            && !m.keep_active
            && self
                .users
                .get(i)
                .is_some_and(|u| u.status == UserStatus::Active);
        if !eligible {
            return Ok(false);
        }
        let reason = self.rng.pick(LEAVE_REASONS);
        self.deactivate(i, reason)?;
        let back = slot
            + 1
            + self
                .rng
                .below(total.saturating_sub(slot + 1).clamp(1, 50_000));
        self.heap.push(Reverse((back, Due::Reactivate(i))));
        Ok(true)
    }

    fn export_event(&mut self) -> Result<bool> {
        let format = if self.rng.percent(70) { "csv" } else { "jsonl" };
        let changes = vec![
            Change::new("format", None, Some(format.into())),
            Change::new("events", None, Some(self.chain.seq.to_string())),
        ];
        self.admin_event(
            "audit.export",
            Target::new("audit", 0, "audit log"),
            changes,
        )?;
        Ok(true)
    }

    /// Queues the records and their indexes for the writers, and returns the report with the
    /// meta entries (counters, default doctor, head) to write once the writers are done.
    fn write_records(mut self) -> Result<(BulkReport, Vec<Entry>)> {
        self.chain.flush()?;
        let sink = &self.chain.sink;
        let hash = match &self.spec.staff_password {
            Some(p) if self.users.iter().any(|u| u.activated_at.is_some()) => {
                Some(password::hash(p)?)
            }
            _ => None,
        };
        let mut facilities = Vec::new();
        let mut by_name = Vec::new();
        // New and edited facilities.
        for (f, dirty) in &self.facilities {
            if !dirty {
                continue;
            }
            facilities.push((
                id_key(f.id).to_vec(),
                codec::encode(f).map_err(Error::Storage)?,
            ));
            by_name.push((name_key(&f.name), id_key(f.id).to_vec()));
        }
        sink.send(TreeId::Facilities, facilities)?;
        sink.send(TreeId::FacilitiesByName, by_name)?;
        for chunk in self.users.chunks(self.chain.batch) {
            let mut users = Vec::with_capacity(chunk.len());
            let mut login = Vec::with_capacity(chunk.len() * 2);
            let mut credentials = Vec::new();
            for u in chunk {
                u.validate()?;
                let id = id_key(u.id).to_vec();
                // The login entries `user::write_indexes` writes for a new user (the other
                // indexes are rebuilt once everything is stored).
                if let Some(e) = u.login_email() {
                    login.push((email_key(e), id.clone()));
                }
                if let Some(name) = &u.username {
                    login.push((username_key(name), id.clone()));
                }
                if let (Some(h), Some(_)) = (&hash, u.activated_at) {
                    let c = Credential::new(u.id, Some(h.clone()));
                    credentials.push((id.clone(), codec::encode(&c).map_err(Error::Storage)?));
                }
                users.push((id, codec::encode(u).map_err(Error::Storage)?));
            }
            // Users go down the audit writer's queue, which is idle by now.
            self.chain.sink.audit_queue_send(TreeId::Users, users)?;
            sink.send(TreeId::UsersByLogin, login)?;
            sink.send(TreeId::Credentials, credentials)?;
        }
        let mut head = Vec::with_capacity(40);
        head.extend_from_slice(&id_key(self.chain.seq));
        head.extend_from_slice(&self.chain.prev);
        let mut meta_items = vec![
            (
                format!("{}user", meta::NEXT_ID).into_bytes(),
                id_key(self.first_user_id + self.users.len() as u64).to_vec(),
            ),
            (
                format!("{}facility", meta::NEXT_ID).into_bytes(),
                id_key(self.new_facility_id).to_vec(),
            ),
            (meta::AUDIT_HEAD.to_vec(), head),
        ];
        if let Some(d) = self.default_doctor {
            meta_items.push((meta::DEFAULT_DOCTOR.to_vec(), id_key(d).to_vec()));
        }
        let report = BulkReport {
            facilities: self.facilities_added,
            users: self.users.len(),
            events: self.chain.appended,
            head: AuditHead {
                seq: self.chain.seq,
                hash: hex::encode(self.chain.prev),
            },
        };
        Ok((report, meta_items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validate;
    use crate::service::{InitRequest, Request, Response, UserFilter};
    use crate::store::OpenOptions;

    fn init(dir: &std::path::Path) -> (Service, crate::service::Session) {
        let svc = Service::open(
            dir,
            &OpenOptions {
                cache_bytes: 16 << 20,
                create: true,
            },
        )
        .unwrap();
        let session = svc
            .init(
                &InitRequest {
                    practice_name: "Riverside Physio".into(),
                    practice_email: "office@riverside.example".into(),
                    facility: "Main Street".into(),
                    admin_username: "admin".into(),
                    admin_email: "owner@riverside.example".into(),
                    admin_first: "Pat".into(),
                    admin_last: "Owner".into(),
                    admin_password: "correct horse battery staple".into(),
                },
                &Origin::default(),
            )
            .unwrap();
        (svc, session)
    }

    #[test]
    fn npis_pass_the_validator() {
        for n in 0..2_000 {
            let v = npi(n, 77);
            assert!(validate::npi(&v).is_ok(), "{v}");
        }
        assert_eq!(npi_check_digit(123_456_789), 3);
    }

    #[test]
    fn small_practice_is_consistent() {
        let dir = tempfile::tempdir().unwrap();
        let (svc, session) = init(dir.path());
        let spec = BulkSpec {
            facilities: 2,
            users: 50,
            events: 500,
            batch: 64,
            ..BulkSpec::default()
        };
        let report = generate(&svc, &spec).unwrap();
        assert_eq!(report.users, 50);
        assert_eq!(report.facilities, 2);
        assert_eq!(report.events, 500);

        let verify = match svc
            .call(&session, Request::AuditVerify { expect: None })
            .unwrap()
        {
            Response::Verify(v) => v,
            other => panic!("{other:?}"),
        };
        assert!(verify.ok, "{verify:?}");
        assert_eq!(verify.head_seq, report.head.seq);
        assert_eq!(verify.head_hash, report.head.hash);

        let users = match svc
            .call(&session, Request::UserList(UserFilter::default()))
            .unwrap()
        {
            Response::Users(l) => l,
            other => panic!("{other:?}"),
        };
        assert_eq!(users.items.len(), 51);
        assert!(users.unreadable.is_empty());
        let store = svc.store();
        assert_eq!(store.count(TreeId::Facilities), 3);
        assert_eq!(store.count(TreeId::FacilitiesByName), 3);

        let mut logins = 0;
        for row in &users.items {
            let u: User = store.get(TreeId::Users, &id_key(row.id)).unwrap().unwrap();
            if let Some(email) = u.login_email() {
                logins += 1;
                let shown = match svc
                    .call(&session, Request::UserShow(email.to_uppercase()))
                    .unwrap()
                {
                    Response::User(d) => d,
                    other => panic!("{other:?}"),
                };
                assert_eq!(shown.user.id, u.id);
                // Every event about the user is reachable from the per-target index.
                assert_eq!(shown.history.first().unwrap().action, "user.create");
            }
            if let Some(name) = &u.username {
                logins += 1;
                let shown = match svc.call(&session, Request::UserShow(name.clone())).unwrap() {
                    Response::User(d) => d,
                    other => panic!("{other:?}"),
                };
                assert_eq!(shown.user.id, u.id);
            }
            let text = crate::store::search_index::get(store, u.id).unwrap();
            assert_eq!(text, Some(u.search_text()));
        }
        assert_eq!(store.count(TreeId::UsersByLogin), logins);
        // Role and facility listings count what the users say.
        let roles = match svc.call(&session, Request::RoleList).unwrap() {
            Response::Roles(l) => l.items,
            other => panic!("{other:?}"),
        };
        for r in roles {
            let holders = users.items.iter().filter(|u| u.role == r.role.name).count();
            assert_eq!(r.users, holders, "{}", r.role.name);
        }
        let facilities = match svc
            .call(
                &session,
                Request::FacilityList {
                    include_archived: true,
                },
            )
            .unwrap()
        {
            Response::Facilities(l) => l.items,
            other => panic!("{other:?}"),
        };
        assert_eq!(facilities.len(), 3);
        for f in facilities {
            let attributed = users
                .items
                .iter()
                .filter(|u| u.facility == f.facility.name)
                .count();
            assert_eq!(f.primary_users, attributed, "{}", f.facility.name);
        }
        // Every event with a target is indexed, in blocks.
        let index_records = crate::store::target_index::records(store) as u64;
        assert!(index_records > 20 && index_records < verify.checked / 4);

        // The service carries on from the generated counters and indexes.
        let added = match svc
            .call(
                &session,
                Request::UserAdd(vec![
                    (crate::service::UserField::FirstName, "Nora".into()),
                    (crate::service::UserField::LastName, "New".into()),
                    (crate::service::UserField::Email, "nora@new.example".into()),
                    (crate::service::UserField::Role, "Provider".into()),
                    (crate::service::UserField::Facility, "Downtown".into()),
                ]),
            )
            .unwrap()
        {
            Response::User(d) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(added.user.id, 52);
        let taken = users
            .items
            .iter()
            .find_map(|r| {
                let u: User = store.get(TreeId::Users, &id_key(r.id)).unwrap().unwrap();
                u.login_email().map(str::to_string)
            })
            .unwrap();
        let err = svc
            .call(
                &session,
                Request::UserAdd(vec![
                    (crate::service::UserField::FirstName, "Dup".into()),
                    (crate::service::UserField::LastName, "Licate".into()),
                    (crate::service::UserField::Email, taken),
                    (crate::service::UserField::Role, "Aide".into()),
                    (crate::service::UserField::Facility, "1".into()),
                ]),
            )
            .unwrap_err();
        assert!(err.to_string().contains("already used"), "{err}");
        let again = match svc
            .call(&session, Request::AuditVerify { expect: None })
            .unwrap()
        {
            Response::Verify(v) => v,
            other => panic!("{other:?}"),
        };
        assert!(again.ok, "{again:?}");
        // user.create and invite.create for the new user, and the refused duplicate.
        assert_eq!(again.checked, verify.checked + 3);
    }

    #[test]
    fn generated_staff_can_log_in() {
        let dir = tempfile::tempdir().unwrap();
        let (svc, _) = init(dir.path());
        let spec = BulkSpec {
            facilities: 1,
            users: 20,
            events: 100,
            ..BulkSpec::default()
        };
        generate(&svc, &spec).unwrap();
        let active = svc
            .store()
            .scan::<User>(TreeId::Users)
            .filter_map(|u| u.unwrap().ok())
            .find(|u| u.id > 1 && u.status == UserStatus::Active)
            .unwrap();
        let session = svc
            .login(&label(&active), DEFAULT_STAFF_PASSWORD, &Origin::default())
            .unwrap();
        assert_eq!(session.user_id(), active.id);
    }
}
