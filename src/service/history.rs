//! A record's history as an administrator reads it: from the per-target index, with ids named
//! ("role: Provider -> Administrator", not "role_id: 2 -> 1") and times to the minute in the
//! practice's zone. The audit log itself keeps the raw values its hashes cover.

use super::names::Names;
use super::{HistoryEntry, LocalTime, Service};
use crate::audit::Change;
use crate::error::Result;
use crate::model::Id;
use crate::store::{audit_log, target_index};

/// The history of record `kind` `id`, oldest first.
pub fn of(svc: &Service, kind: &str, id: Id) -> Result<Vec<HistoryEntry>> {
    let seqs = target_index::seqs(&svc.store, kind, id)?;
    let names = Names::load(svc)?;
    let local = svc.local_time();
    let mut out = Vec::with_capacity(seqs.len());
    for seq in seqs {
        let Some(e) = audit_log::get(&svc.store, seq)? else {
            continue;
        };
        let changes = if e.changes.is_empty() {
            Some(e.outcome.reason().to_string())
                .filter(|s| !s.is_empty())
                .into_iter()
                .collect()
        } else {
            e.changes
                .iter()
                .map(|c| readable(c, &names, &local))
                .collect()
        };
        out.push(HistoryEntry {
            seq: e.seq,
            time: e.at(),
            actor: e.actor.label(),
            action: e.action.clone(),
            outcome: e.outcome.kind().to_string(),
            changes,
        });
    }
    Ok(out)
}

/// One change as `field: old -> new`, with ids as names and times as local minutes.
fn readable(c: &Change, names: &Names, local: &LocalTime) -> String {
    type Show<'a> = Box<dyn Fn(&str) -> String + 'a>;
    let (field, value): (&str, Show<'_>) = match c.field.as_str() {
        "role_id" => ("role", Box::new(|v| id_name(v, |id| names.role(id)))),
        "primary_facility" => (
            "primary facility",
            Box::new(|v| id_name(v, |id| names.facility(id))),
        ),
        "notifications.default_location" => (
            "default location",
            Box::new(|v| id_name(v, |id| names.facility(id))),
        ),
        "access.only" => ("access", Box::new(|v| id_list(v, names))),
        f => (f, Box::new(|v| time_or_text(v, local))),
    };
    let show = |v: Option<&str>| v.map_or_else(|| "(none)".to_string(), &value);
    format!(
        "{field}: {} -> {}",
        show(c.old.as_deref()),
        show(c.new.as_deref())
    )
}

fn id_name(v: &str, name: impl Fn(Id) -> String) -> String {
    v.parse::<Id>().map_or_else(|_| v.to_string(), name)
}

/// `[1,3]` as "Downtown, Uptown".
fn id_list(v: &str, names: &Names) -> String {
    let inner = v.trim_start_matches('[').trim_end_matches(']');
    if inner.trim().is_empty() {
        return "only the primary facility".into();
    }
    inner
        .split(',')
        .map(|id| id_name(id.trim(), |id| names.facility(id)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An RFC 3339 time as local minutes; anything else as it is.
fn time_or_text(v: &str, local: &LocalTime) -> String {
    match v.parse::<jiff::Timestamp>() {
        Ok(t) if v.len() >= 20 => local.minute(t),
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_to_the_minute() {
        let local = LocalTime::utc();
        assert_eq!(
            time_or_text("2026-03-03T09:00:12.123456789Z", &local),
            "2026-03-03 09:00 UTC"
        );
        assert_eq!(time_or_text("Provider", &local), "Provider");
        assert_eq!(time_or_text("2026", &local), "2026");
    }
}
