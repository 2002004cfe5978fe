//! Times as people read them: tables, screens and messages show the practice's time zone (the
//! server's own unless the practice chose one), with the zone named. Exports, JSON and the
//! audit chain stay UTC RFC 3339.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::model::Practice;

/// Shows timestamps in one time zone.
#[derive(Debug, Clone)]
pub struct LocalTime {
    zone: TimeZone,
    name: String,
}

impl LocalTime {
    /// The zone named `name` (IANA, e.g. `America/Chicago`), or the system's zone for `None`.
    /// An unknown name falls back to UTC, which is always correct, only less convenient.
    pub fn new(name: Option<&str>) -> Self {
        let zone = match name {
            Some(n) => TimeZone::get(n).unwrap_or(TimeZone::UTC),
            None => TimeZone::system(),
        };
        let name = zone.iana_name().unwrap_or("UTC").to_string();
        Self { zone, name }
    }

    /// The practice's zone.
    pub fn of(practice: &Practice) -> Self {
        Self::new(practice.time_zone.as_deref())
    }

    /// Always UTC (for tests and for output that must not depend on the machine).
    pub fn utc() -> Self {
        Self {
            zone: TimeZone::UTC,
            name: "UTC".into(),
        }
    }

    /// The zone's IANA name, for headers ("times in Europe/Berlin").
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `2026-03-03 09:00 CET`: to the minute, with the zone's abbreviation.
    pub fn minute(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.zone.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// `2026-03-03 09:00:12`: to the second, without the zone (tables name it in the header).
    pub fn second(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.zone.clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// `t` in this zone, formatted by `pattern` (strftime: `%Y-%m-%d`, `%m-%d %H:%M`), for
    /// columns narrower than [`LocalTime::minute`].
    pub fn format(&self, t: Timestamp, pattern: &str) -> String {
        t.to_zoned_datetime(self.zone.clone())
            .strftime(pattern)
            .to_string()
    }

    /// `09:00 CET`.
    pub fn clock(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.zone.clone())
            .strftime("%H:%M %Z")
            .to_string()
    }
}

/// Whether `name` is a time zone the system's database knows.
pub fn check_zone(name: &str) -> std::result::Result<(), String> {
    crate::model::validate::time_zone(name)?;
    TimeZone::get(name).map(|_| ()).map_err(|_| {
        format!(
            "time zone '{name}' is not in this server's time zone database; expected one like America/Chicago (see `timedatectl list-timezones`)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_zones_show_local_time_with_abbreviation() {
        let t: Timestamp = "2026-03-03T15:00:00Z".parse().unwrap();
        let chicago = LocalTime::new(Some("America/Chicago"));
        assert_eq!(chicago.name(), "America/Chicago");
        assert_eq!(chicago.minute(t), "2026-03-03 09:00 CST");
        let summer: Timestamp = "2026-07-03T15:00:00Z".parse().unwrap();
        assert_eq!(chicago.minute(summer), "2026-07-03 10:00 CDT");
        assert_eq!(LocalTime::utc().second(t), "2026-03-03 15:00:00");
        assert_eq!(chicago.format(t, "%m-%d %H:%M"), "03-03 09:00");
        assert_eq!(LocalTime::new(Some("Nowhere/Atlantis")).name(), "UTC");
    }

    #[test]
    fn unknown_zones_are_refused_with_an_example() {
        assert!(check_zone("Europe/Berlin").is_ok());
        let err = check_zone("Mars/Olympus").unwrap_err();
        assert!(err.contains("America/Chicago"), "{err}");
        assert!(check_zone("Europe/Berlin; rm -rf /").is_err());
    }
}
