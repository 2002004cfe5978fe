//! Fixed vocabularies of generated practices: names, places, notes and reasons, and the staff
//! archetypes with their built-in roles.

/// (display, ASCII slug) first names.
pub(super) const FIRST: &[(&str, &str)] = &[
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
pub(super) const LAST: &[(&str, &str)] = &[
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

pub(super) const DOMAINS: &[&str] = &[
    "staff.clinic.example",
    "mail.example",
    "health.example",
    "example.org",
];

pub(super) const FACILITY_NAMES: &[&str] = &[
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

pub(super) const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Market St",
    "Elm St",
    "2nd Ave",
    "Lincoln Blvd",
    "Park Rd",
    "Mill Ln",
];

pub(super) const PROVIDER_TAXONOMY: &[&str] = &[
    "225100000X",
    "207Q00000X",
    "208D00000X",
    "363LF0000X",
    "363A00000X",
    "225X00000X",
    "2251S0007X",
];

pub(super) const ASSISTANT_TAXONOMY: &[&str] = &["225200000X", "224Z00000X"];

pub(super) const NOTES: &[&str] = &[
    "Covers Saturday clinics",
    "Prefers morning shifts",
    "On call every other weekend",
    "Mentor for new front desk staff",
    "Bilingual (English/Spanish)",
    "Pelvic health certified",
    "Back from leave; phased return",
    "Works remotely on Fridays",
];

pub(super) const BIOS: &[&str] = &[
    "Physical therapist focused on sports injuries and return to play.",
    "Orthopaedic specialist with a decade of post-surgical rehab experience.",
    "Treats chronic back and neck pain with manual therapy and exercise.",
    "Board-certified in geriatric physical therapy.",
    "Vestibular rehabilitation and balance training.",
];

pub(super) const DEACTIVATION_REASONS: &[&str] = &[
    "left the practice",
    "moved to another clinic",
    "contract ended",
    "retired",
    "duplicate account",
    "role eliminated",
];

pub(super) const LEAVE_REASONS: &[&str] =
    &["parental leave", "extended medical leave", "sabbatical"];

pub(super) const ANON_LOGINS: &[&str] = &[
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

pub(super) const OS_OPERATORS: &[&str] = &["admin", "itops", "office", "pracmgr"];

/// Staff archetypes, by built-in role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Admin,
    Provider,
    Assistant,
    Technician,
    FrontDesk,
    Billing,
    Aide,
}

/// (kind, built-in role name, weight per 1000).
pub(super) const KINDS: &[(Kind, &str, u64)] = &[
    (Kind::Admin, "Administrator", 8),
    (Kind::Provider, "Provider", 220),
    (Kind::Assistant, "Provider Assistant", 150),
    (Kind::Technician, "Technician", 150),
    (Kind::FrontDesk, "Front Desk", 252),
    (Kind::Billing, "Billing Manager", 80),
    (Kind::Aide, "Aide", 140),
];
