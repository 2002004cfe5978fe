//! Every editable user field, described once: its name on the command line and in `--set`, its
//! label and kind in the interface's form, its section, the spreadsheet headers people use for
//! it, and how its current value reads as text. The CLI, the form, the detail views and the
//! import columns are all driven from this table; the service parses values (`user::apply`).

use serde::{Deserialize, Serialize};

use crate::model::User;

/// Where a field sits in forms and detail views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Section {
    /// Names and login.
    Identity,
    /// Role, seat and flags.
    RoleAndFlags,
    /// Facilities and data access.
    Facilities,
    /// Provider credentials and scheduling.
    Provider,
    /// Notification preferences.
    Notifications,
    /// Notes for administrators.
    Administration,
}

impl Section {
    /// Every section, in form order.
    pub const ALL: [Section; 6] = [
        Self::Identity,
        Self::RoleAndFlags,
        Self::Facilities,
        Self::Provider,
        Self::Notifications,
        Self::Administration,
    ];

    /// The heading people read.
    pub fn title(self) -> &'static str {
        match self {
            Self::Identity => "Identity",
            Self::RoleAndFlags => "Role & flags",
            Self::Facilities => "Facilities & access",
            Self::Provider => "Provider credentials",
            Self::Notifications => "Notifications",
            Self::Administration => "Administration",
        }
    }
}

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text.
    Text,
    /// Yes or no.
    Toggle,
    /// One of fixed values (value, label); the first is what a new user gets.
    Choice(&'static [(&'static str, &'static str)]),
    /// One of the practice's roles (by id).
    Role,
    /// One of the practice's active facilities (by id).
    Facility,
    /// A facility, or none.
    OptionalFacility,
}

/// A field's description.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field.
    pub field: UserField,
    /// snake_case name, as in `--set name=value` and in messages.
    pub name: &'static str,
    /// Label in forms and detail views.
    pub label: &'static str,
    /// Section it belongs to.
    pub section: Section,
    /// How it is edited.
    pub kind: FieldKind,
    /// What a new user gets when nothing is given.
    pub default: &'static str,
    /// Other spreadsheet headers meaning this field (compared case- and punctuation-free).
    pub aliases: &'static [&'static str],
    /// The current value as text (ids as numbers, yes/no for toggles, empty for none).
    pub value: fn(&User) -> String,
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

const LOGIN: &[(&str, &str)] = &[("email", "email"), ("username", "username")];
const BILLING: &[(&str, &str)] = &[
    ("none", "none"),
    ("provider", "provider (billable)"),
    ("assistant", "provider assistant (billable)"),
    ("technician", "technician (free)"),
];
const DATA_SCOPE: &[(&str, &str)] = &[("facility", "facility"), ("own", "own"), ("all", "all")];
const NPS_SCOPE: &[(&str, &str)] = &[("own", "own"), ("facility", "facility"), ("all", "all")];
const STEPS: &[(&str, &str)] = &[
    ("15", "15 min"),
    ("5", "5 min"),
    ("10", "10 min"),
    ("20", "20 min"),
    ("30", "30 min"),
    ("60", "60 min"),
];
const DOS: &[(&str, &str)] = &[
    ("", "off"),
    ("1", "1"),
    ("2", "2"),
    ("3", "3"),
    ("4", "4"),
    ("5", "5"),
];

macro_rules! user_fields {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $name:literal, $label:literal, $section:ident, $kind:expr,
            default $default:literal, aliases [$($alias:literal),* $(,)?], |$u:ident| $value:expr;
    )*) => {
        /// Editable user fields. Values travel as text and are parsed by the service, so every
        /// front end gets the same parsing and the same per-field messages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum UserField {
            $($(#[$doc])* $variant,)*
        }

        /// The table, in form order.
        pub const FIELDS: &[FieldSpec] = &[
            $(FieldSpec {
                field: UserField::$variant,
                name: $name,
                label: $label,
                section: Section::$section,
                kind: $kind,
                default: $default,
                aliases: &[$($alias),*],
                value: |$u: &User| $value,
            },)*
        ];

        impl UserField {
            /// Every field, in form order.
            pub const ALL: &'static [UserField] = &[$(UserField::$variant),*];
        }
    };
}

user_fields! {
    /// First name.
    FirstName => "first_name", "First name", Identity, FieldKind::Text,
        default "", aliases ["first", "firstname", "given name", "forename"], |u| u.first_name.clone();
    /// Last name.
    LastName => "last_name", "Last name", Identity, FieldKind::Text,
        default "", aliases ["last", "lastname", "surname", "family name"], |u| u.last_name.clone();
    /// Name shown to patients.
    PublicName => "public_name", "Public name", Identity, FieldKind::Text,
        default "", aliases ["display name", "name in app"], |u| opt(&u.public_name);
    /// Email (login or contact).
    Email => "email", "Email", Identity, FieldKind::Text,
        default "", aliases ["e-mail", "email address", "login email", "work email"], |u| u.email.clone();
    /// Separate contact email for someone who logs in by email.
    ContactEmail => "contact_email", "Contact email", Identity, FieldKind::Text,
        default "", aliases ["contact", "personal email", "notification email"], |u| opt(&u.contact_email);
    /// Username.
    Username => "username", "Username", Identity, FieldKind::Text,
        default "", aliases ["user name", "login", "user id", "userid"], |u| opt(&u.username);
    /// `email` or `username`.
    LoginMethod => "login_method", "Logs in with", Identity, FieldKind::Choice(LOGIN),
        default "", aliases ["login with", "logs in with"], |u| format!("{:?}", u.login_method).to_lowercase();
    /// Role reference.
    Role => "role", "Role", RoleAndFlags, FieldKind::Role,
        default "", aliases ["title", "position", "job title", "position role"], |u| u.role_id.to_string();
    /// `provider`, `assistant`, `technician` or `none`.
    Billing => "billing", "Billing seat", RoleAndFlags, FieldKind::Choice(BILLING),
        default "none", aliases ["billing role", "billing category", "seat"], |u| u.billing.as_str().to_string();
    /// Part-time flag.
    PartTime => "part_time", "Part-time", RoleAndFlags, FieldKind::Toggle,
        default "no", aliases ["parttime", "pt"], |u| yes(u.part_time);
    /// Aide flag.
    Aide => "aide", "Aide (unlicensed)", RoleAndFlags, FieldKind::Toggle,
        default "no", aliases ["unlicensed"], |u| yes(u.aide);
    /// Team chat user.
    ChatUser => "chat_user", "Chat user", RoleAndFlags, FieldKind::Toggle,
        default "no", aliases ["chat"], |u| yes(u.chat_user);
    /// Primary facility reference.
    Facility => "facility", "Primary facility", Facilities, FieldKind::Facility,
        default "", aliases ["primary facility", "location", "site", "office", "clinic", "primary location"], |u| u.primary_facility.to_string();
    /// Default location (facility reference, empty = none).
    DefaultLocation => "default_location", "Default location", Facilities, FieldKind::OptionalFacility,
        default "", aliases [], |u| u.notifications.default_location.map(|i| i.to_string()).unwrap_or_default();
    /// `own`, `facility` or `all`.
    DataScope => "data_scope", "Data access", Facilities, FieldKind::Choice(DATA_SCOPE),
        default "facility", aliases ["data access"], |u| format!("{:?}", u.data_scope).to_lowercase();
    /// `own`, `facility` or `all`.
    NpsScope => "nps_scope", "NPS access", Facilities, FieldKind::Choice(NPS_SCOPE),
        default "own", aliases ["nps access"], |u| format!("{:?}", u.nps_scope).to_lowercase();
    /// NPI.
    Npi => "npi", "NPI", Provider, FieldKind::Text,
        default "", aliases ["npi number", "national provider identifier"], |u| opt(&u.provider.npi);
    /// Taxonomy code.
    Taxonomy => "taxonomy", "Taxonomy code", Provider, FieldKind::Text,
        default "", aliases ["taxonomy code", "specialty code"], |u| opt(&u.provider.taxonomy);
    /// PMS provider id.
    PmsProviderId => "pms_provider_id", "PMS provider id", Provider, FieldKind::Text,
        default "", aliases ["pms id", "provider id", "pms provider"], |u| opt(&u.provider.pms_provider_id);
    /// Capacity.
    Capacity => "capacity", "Capacity", Provider, FieldKind::Text,
        default "1", aliases ["concurrent appointments"], |u| u.provider.capacity.to_string();
    /// Scheduling step in minutes.
    SchedulingStep => "scheduling_step", "Scheduling step", Provider, FieldKind::Choice(STEPS),
        default "15", aliases ["step", "appointment step", "scheduling step minutes"], |u| u.provider.scheduling_step_minutes.to_string();
    /// Default doctor flag.
    DefaultDoctor => "default_doctor", "Default doctor", Provider, FieldKind::Toggle,
        default "no", aliases [], |u| yes(u.provider.default_doctor);
    /// Can sign forms.
    CanSignForms => "can_sign_forms", "Can sign forms", Provider, FieldKind::Toggle,
        default "no", aliases ["signs forms", "form signer"], |u| yes(u.provider.can_sign_forms);
    /// Show in the patient app.
    ShowInApp => "show_in_app", "Show in app", Provider, FieldKind::Toggle,
        default "no", aliases ["show in the app", "public profile"], |u| yes(u.provider.show_in_app);
    /// Screen-pop extension.
    Extension => "extension", "Screen-pop ext.", Provider, FieldKind::Text,
        default "", aliases ["screen pop extension", "phone extension", "ext"], |u| opt(&u.provider.screen_pop_extension);
    /// RTM on by default.
    RtmDefault => "rtm_default", "RTM on by default", Provider, FieldKind::Toggle,
        default "yes", aliases ["default rtm status", "rtm"], |u| yes(u.provider.rtm_default);
    /// Location and RTM pop-up.
    LocationPopup => "location_popup", "Location pop-up", Provider, FieldKind::Toggle,
        default "no", aliases ["location rtm popup", "display location rtm popup"], |u| yes(u.provider.location_popup);
    /// Biography.
    Bio => "bio", "Bio", Provider, FieldKind::Text,
        default "", aliases ["biography", "about"], |u| u.provider.bio.clone();
    /// Secure messaging.
    SecureMessaging => "secure_messaging", "Secure messaging", Notifications, FieldKind::Toggle,
        default "no", aliases ["enable messaging", "messaging"], |u| yes(u.notifications.secure_messaging);
    /// Billable codes email.
    BillableCodesEmail => "billable_codes_email", "Billable codes email", Notifications, FieldKind::Toggle,
        default "no", aliases ["billable codes notification"], |u| yes(u.notifications.billable_codes_email);
    /// New lead notifications.
    NewLead => "new_lead", "New lead", Notifications, FieldKind::Toggle,
        default "no", aliases [], |u| yes(u.notifications.new_lead);
    /// New intake notifications.
    NewIntake => "new_intake", "New intake", Notifications, FieldKind::Toggle,
        default "no", aliases [], |u| yes(u.notifications.new_intake);
    /// Low score alerts.
    LowScoreAlert => "low_score_alert", "Low score alert", Notifications, FieldKind::Toggle,
        default "no", aliases [], |u| yes(u.notifications.low_score_alert);
    /// Passive score alerts.
    PassiveScoreAlert => "passive_score_alert", "Passive score alert", Notifications, FieldKind::Toggle,
        default "no", aliases [], |u| yes(u.notifications.passive_score_alert);
    /// Promoter score alerts.
    PromoterScoreAlert => "promoter_score_alert", "Promoter alert", Notifications, FieldKind::Toggle,
        default "no", aliases [], |u| yes(u.notifications.promoter_score_alert);
    /// Daily outcome score threshold (1-5, empty = off).
    DosThreshold => "dos_threshold", "DOS threshold", Notifications, FieldKind::Choice(DOS),
        default "", aliases ["daily outcome score threshold", "dos"], |u| u.notifications.dos_threshold.map(|t| t.to_string()).unwrap_or_default();
    /// Administrator note.
    Note => "note", "Note", Administration, FieldKind::Text,
        default "", aliases ["notes", "comment", "comments"], |u| u.note.clone();
}

/// A header or name reduced to letters and digits, lowercase: `E-mail`, `e_mail` and `EMAIL`
/// all read `email`.
pub fn normalise_name(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl UserField {
    /// The field's description.
    pub fn spec(self) -> &'static FieldSpec {
        // The table lists every variant in declaration order.
        &FIELDS[self as usize]
    }

    /// The snake_case name used in messages and on the command line (`--set name=value`).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Parses a field name (`first_name`, `first-name`).
    pub fn parse(name: &str) -> Option<Self> {
        let norm = name.trim().replace('-', "_").to_lowercase();
        FIELDS.iter().find(|f| f.name == norm).map(|f| f.field)
    }

    /// The field a spreadsheet header means: its name or label or one of its aliases, compared
    /// without case or punctuation ("First Name", "E-mail", "Location").
    pub fn from_header(header: &str) -> Option<Self> {
        let h = normalise_name(header);
        if h.is_empty() {
            return None;
        }
        FIELDS
            .iter()
            .find(|f| {
                normalise_name(f.name) == h
                    || normalise_name(f.label) == h
                    || f.aliases.iter().any(|a| normalise_name(a) == h)
            })
            .map(|f| f.field)
    }

    /// The fields of one section, in form order.
    pub fn in_section(section: Section) -> impl Iterator<Item = &'static FieldSpec> {
        FIELDS.iter().filter(move |f| f.section == section)
    }
}

/// The `--set` help: every field name, wrapped.
pub fn set_help() -> String {
    let names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
    format!("Any field: --set FIELD=VALUE ({})", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_enum_and_names_are_unique() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(f.field as usize, i, "{} is out of order", f.name);
            assert_eq!(UserField::parse(f.name), Some(f.field));
            assert_eq!(f.field.spec().name, f.name);
        }
        let mut keys: Vec<String> = FIELDS
            .iter()
            .flat_map(|f| {
                [normalise_name(f.name), normalise_name(f.label)]
                    .into_iter()
                    .chain(f.aliases.iter().map(|a| normalise_name(a)))
                    .collect::<std::collections::BTreeSet<_>>()
            })
            .collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "a header would mean two fields");
    }

    #[test]
    fn spreadsheet_headers_find_their_field() {
        for (header, field) in [
            ("First Name", UserField::FirstName),
            ("E-mail", UserField::Email),
            ("Location", UserField::Facility),
            ("Site", UserField::Facility),
            ("Title", UserField::Role),
            ("NPI Number", UserField::Npi),
            ("part_time", UserField::PartTime),
            ("  SURNAME ", UserField::LastName),
        ] {
            assert_eq!(UserField::from_header(header), Some(field), "{header}");
        }
        assert_eq!(UserField::from_header("Favourite colour"), None);
        assert_eq!(UserField::from_header("--"), None);
    }

    #[test]
    fn values_read_back_as_the_service_parses_them() {
        let u = crate::model::tests::sample_user();
        assert_eq!((UserField::Email.spec().value)(&u), "alice@clinic.example");
        assert_eq!((UserField::PartTime.spec().value)(&u), "no");
        assert_eq!((UserField::Billing.spec().value)(&u), "provider");
        assert_eq!((UserField::SchedulingStep.spec().value)(&u), "15");
    }
}
