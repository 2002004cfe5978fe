//! Reading, verifying and exporting the audit log.

use std::io::Write;

use jiff::Timestamp;

use super::{
    AuditHead, AuditQuery, Listing, QuarantineEntry, Service, Session, VerifyReport, decode_head,
    resolve,
};
use crate::audit::event::{ActorView, ChainVerifier, EventView};
use crate::audit::export::{self, CsvExporter, Format};
use crate::audit::{AuditEvent, Change, EventDraft, Outcome, Target};
use crate::error::{Error, Result};
use crate::model::Id;
use crate::store::damage::RESTORE_ADVICE;
use crate::store::head_file::{self, Recorded};
use crate::store::{Bytes, CorruptRecord, TreeId, audit_log, meta, target_index};

/// A query with references resolved, ready to test events against.
struct Matcher {
    since: Option<i64>,
    until: Option<i64>,
    actor: Option<ActorMatch>,
    action: Option<String>,
    target: Option<(String, Id)>,
}

enum ActorMatch {
    User(Id),
    System,
    Anonymous(String),
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

impl Matcher {
    fn new(svc: &Service, q: &AuditQuery) -> Result<Self> {
        let actor = match q.actor.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) if a.eq_ignore_ascii_case("system") => Some(ActorMatch::System),
            Some(a) => match resolve::user(svc, a) {
                Ok(u) => Some(ActorMatch::User(u.id)),
                Err(Error::NotFound(_)) => Some(ActorMatch::Anonymous(a.to_lowercase())),
                Err(e) => return Err(e),
            },
        };
        let target = match q.target.as_deref() {
            None => None,
            Some(t) => Some(parse_target(svc, t)?),
        };
        Ok(Self {
            since: q.since.map(micros),
            until: q.until.map(micros),
            actor,
            action: q.action.clone().filter(|a| !a.is_empty()),
            target,
        })
    }

    fn matches(&self, e: &EventView<'_>) -> bool {
        self.since.is_none_or(|s| e.at_micros >= s)
            && self.until.is_none_or(|u| e.at_micros < u)
            && self
                .action
                .as_deref()
                .is_none_or(|a| e.action.starts_with(a))
            && self.target.as_ref().is_none_or(|(k, id)| {
                e.target
                    .as_ref()
                    .is_some_and(|t| t.kind == k && t.id == *id)
            })
            && match &self.actor {
                None => true,
                Some(ActorMatch::System) => e.actor == ActorView::System,
                Some(ActorMatch::User(id)) => e.actor.user_id() == Some(*id),
                Some(ActorMatch::Anonymous(l)) => {
                    matches!(e.actor, ActorView::Anonymous { label } if label.to_lowercase() == *l)
                }
            }
    }
}

/// Parses `KIND:ID` or `KIND:REF` (`user:alice`).
fn parse_target(svc: &Service, text: &str) -> Result<(String, Id)> {
    let Some((kind, r)) = text.split_once(':') else {
        return Err(Error::invalid(
            "target",
            format!("target '{text}' must be KIND:ID, e.g. user:12 or role:Provider"),
        ));
    };
    let kind = kind.trim().to_lowercase();
    let id = match (kind.as_str(), resolve::parse_id(r)) {
        (_, Some(id)) => id,
        ("user", None) => resolve::user(svc, r)?.id,
        ("role", None) => resolve::role(svc, r)?.id,
        ("facility", None) => resolve::facility(svc, r)?.id,
        ("practice", None) => 0,
        _ => {
            return Err(Error::invalid(
                "target",
                format!("target '{text}' must be KIND:ID, e.g. user:12"),
            ));
        }
    };
    Ok((kind, id))
}

/// Visits matching events in sequence order (oldest first), or newest first when `reverse`.
/// Uses the per-target index when the query names a target. Chunks are read one point lookup
/// at a time (see `store::audit_log`) and decoded as borrowed views of the stored bytes (no
/// string is copied); a chunk in an older layout is decoded (upgraded) as owned events.
fn each_event(
    svc: &Service,
    q: &AuditQuery,
    reverse: bool,
    mut visit: impl FnMut(std::result::Result<&EventView<'_>, CorruptRecord>) -> Result<bool>,
) -> Result<()> {
    let m = Matcher::new(svc, q)?;
    if let Some((kind, id)) = &m.target {
        let mut seqs = target_index::seqs(&svc.store, kind, *id)?;
        if reverse {
            seqs.reverse();
        }
        // Consecutive events about one target often share a chunk: read each chunk once.
        let mut chunk: Option<(u64, Bytes)> = None;
        for seq in seqs {
            let number = audit_log::chunk_number(seq);
            if chunk.as_ref().is_none_or(|(n, _)| *n != number) {
                chunk = svc
                    .store
                    .get_raw(TreeId::Audit, &audit_log::chunk_key(seq))?
                    .map(|bytes| (number, bytes));
            }
            let Some((_, bytes)) = &chunk else { continue };
            let keep_going =
                audit_log::with_views(bytes, |events| match events.iter().find(|e| e.seq == seq) {
                    Some(e) if m.matches(e) => visit(Ok(e)),
                    _ => Ok(true),
                })
                // As `Store::get` reports it: a record behind the index must be readable.
                .map_err(|problem| audit_log::unreadable(number, &problem))??;
            if !keep_going {
                break;
            }
        }
        return Ok(());
    }
    let last = head(svc)?.seq;
    for item in audit_log::chunks(&svc.store, last, reverse) {
        let (number, bytes) = item?;
        let keep_going = audit_log::with_views(&bytes, |events| -> Result<bool> {
            let mut ordered: Box<dyn Iterator<Item = &EventView<'_>>> = if reverse {
                Box::new(events.iter().rev())
            } else {
                Box::new(events.iter())
            };
            ordered.try_fold(true, |going, e| {
                Ok(if going && m.matches(e) {
                    visit(Ok(e))?
                } else {
                    going
                })
            })
        })
        .unwrap_or_else(|problem| visit(Err(audit_log::unreadable_record(number, &problem))))?;
        if !keep_going {
            break;
        }
    }
    Ok(())
}

/// Events matching the query, newest first.
pub fn list(svc: &Service, q: &AuditQuery) -> Result<Listing<AuditEvent>> {
    let limit = q.limit.unwrap_or(100);
    let mut out = Listing::default();
    each_event(svc, q, true, |item| {
        match item {
            Ok(e) => out.items.push(e.to_event()),
            Err(bad) => out.unreadable.push(bad.into()),
        }
        Ok(out.items.len() < limit)
    })?;
    Ok(out)
}

/// The records kept in quarantine, with what can still be read from each.
pub fn quarantine(svc: &Service) -> Result<Vec<QuarantineEntry>> {
    Ok(audit_log::quarantine(&svc.store)?
        .into_iter()
        .map(|q| {
            // A chunk, or a single event from a pre-chunk log (`legacy`).
            let readable_events =
                audit_log::with_views(&q.bytes, |events| events.iter().map(|e| e.seq).collect())
                    .or_else(|_| {
                        crate::store::codec::decode::<AuditEvent>(&q.bytes).map(|e| vec![e.seq])
                    })
                    .unwrap_or_default();
            QuarantineEntry {
                reason: q.reason,
                stored_under: q.stored_under,
                displaced_by: q.displaced_by,
                size: q.bytes.len(),
                readable_events,
                data_hex: hex::encode(&q.bytes),
            }
        })
        .collect())
}

/// The newest sequence number and hash.
pub fn head(svc: &Service) -> Result<AuditHead> {
    Ok(match svc.store.get_raw(TreeId::Meta, meta::AUDIT_HEAD)? {
        None => AuditHead {
            seq: 0,
            hash: hex::encode(crate::audit::ZERO_HASH),
        },
        Some(raw) => {
            let (seq, hash) = decode_head(&raw)?;
            AuditHead {
                seq,
                hash: hex::encode(hash),
            }
        }
    })
}

/// Walks the whole chain; reports the first broken event and checks an expected head.
pub fn verify(svc: &Service, expect: Option<&str>) -> Result<VerifyReport> {
    let mut v = ChainVerifier::new();
    let mut broken: Option<(u64, String)> = None;
    let mut expected_found: Option<bool> = None;
    let wanted = expect.map(parse_expect).transpose()?;
    let stored_head = head(svc)?;
    // The head recorded outside sled, and the hash the log holds at its sequence number.
    let recorded = svc.store.recorded_head();
    let recorded_seq = match &recorded {
        Recorded::Head(r) => Some(r.seq),
        _ => None,
    };
    let mut hash_at_recorded: Option<[u8; 32]> = None;
    let mut note_expected = |seq: u64, hash: &[u8; 32]| {
        if let Some((wseq, whash)) = &wanted
            && seq == *wseq
        {
            expected_found = Some(hex::encode(hash) == *whash);
        }
        if recorded_seq == Some(seq) {
            hash_at_recorded = Some(*hash);
        }
    };
    for item in audit_log::chunks(&svc.store, stored_head.seq, false) {
        let (number, bytes) = item?;
        // Borrowed views, checked without allocating.
        let checked = audit_log::with_views(&bytes, |events| {
            events.iter().try_for_each(|e| {
                v.check_view(e)?;
                note_expected(e.seq, &e.hash);
                Ok(())
            })
        });
        match checked {
            Ok(Ok(())) => {}
            Ok(Err(problem)) => {
                broken = Some((v.checked + 1, problem));
                break;
            }
            Err(problem) => {
                let first = audit_log::first_seq(number);
                broken = Some((
                    first.max(v.checked + 1),
                    format!(
                        "events #{first}-#{} are unreadable: {problem}",
                        first + audit_log::CHUNK - 1
                    ),
                ));
                break;
            }
        }
    }
    let last_checked = v.checked;
    let past_head = audit_log::last_chunk(&svc.store)?
        .is_some_and(|c| stored_head.seq == 0 || c > audit_log::chunk_number(stored_head.seq));
    if broken.is_none()
        && (stored_head.seq != v.checked
            || stored_head.hash != hex::encode(v.head_hash())
            || past_head)
    {
        broken = Some((
            stored_head.seq,
            format!(
                "the recorded head #{} does not match the last event in the log (#{last_checked}); events were removed or added",
                stored_head.seq
            ),
        ));
    }
    if broken.is_none() {
        broken = recorded_head_problem(svc, &recorded, stored_head.seq, hash_at_recorded);
    }
    let expectation = wanted.as_ref().map(|(seq, hash)| match expected_found {
        Some(true) => {
            format!("event #{seq} has the expected hash: the log still holds the recorded head")
        }
        Some(false) => {
            format!("event #{seq} does NOT have the expected hash {hash}: the log was rewritten")
        }
        None => format!("event #{seq} is missing: the log was truncated or rewritten"),
    });
    let ok = broken.is_none() && wanted.is_none_or(|_| expected_found == Some(true));
    Ok(VerifyReport {
        checked: v.checked,
        head_seq: stored_head.seq,
        head_hash: stored_head.hash,
        broken,
        expectation,
        quarantined: audit_log::quarantined(&svc.store)?,
        ok,
    })
}

/// What is wrong with a log whose chain verified, compared with the head recorded outside
/// sled (`store::head_file`): events it no longer holds, or a different event at the recorded
/// sequence number. `hash_at_recorded` is the hash the log holds there.
fn recorded_head_problem(
    svc: &Service,
    recorded: &Recorded,
    store_seq: u64,
    hash_at_recorded: Option<[u8; 32]>,
) -> Option<(u64, String)> {
    let file = svc.store.dir().join(head_file::HEAD_FILE);
    match recorded {
        Recorded::Missing => None,
        Recorded::Unreadable(why) => Some((
            store_seq,
            format!("the head recorded outside the store cannot be checked: {why}"),
        )),
        Recorded::Head(r) if r.seq > store_seq => {
            Some((store_seq + 1, head_file::lost_events(store_seq, r)))
        }
        Recorded::Head(r) if r.seq > 0 && hash_at_recorded != Some(r.hash) => Some((
            r.seq,
            format!(
                "event #{} is not the one recorded in {} on {} ({}): the log was rewritten; {}",
                r.seq,
                file.display(),
                r.recorded_on(),
                r.seq_hash(),
                RESTORE_ADVICE
            ),
        )),
        Recorded::Head(_) => None,
    }
}

fn parse_expect(text: &str) -> Result<(u64, String)> {
    let bad = || {
        Error::invalid(
            "expect",
            format!("'{text}' must be SEQ:HASH as printed by `staffctl audit head`"),
        )
    };
    let (seq, hash) = text.trim().split_once(':').ok_or_else(bad)?;
    let seq: u64 = seq.trim().parse().map_err(|_| bad())?;
    let hash = hash.trim().to_lowercase();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok((seq, hash))
}

/// Streams matching events (oldest first) to `out`, then audits the export itself.
/// Returns the number of events written.
pub fn export(
    svc: &Service,
    session: &Session,
    q: &AuditQuery,
    format: Format,
    out: &mut dyn Write,
) -> Result<u64> {
    let mut count = 0u64;
    let mut unreadable = 0u64;
    match format {
        Format::Csv => {
            let mut x = CsvExporter::new(&mut *out)?;
            each_event(svc, q, false, |item| {
                match item {
                    Ok(e) => {
                        x.write_view(e)?;
                        count += 1;
                    }
                    Err(_) => unreadable += 1,
                }
                Ok(true)
            })?;
            x.finish()?;
        }
        Format::Jsonl => {
            let mut w = std::io::BufWriter::with_capacity(64 << 10, &mut *out);
            each_event(svc, q, false, |item| {
                match item {
                    Ok(e) => {
                        export::write_jsonl_view(&mut w, e)?;
                        count += 1;
                    }
                    Err(_) => unreadable += 1,
                }
                Ok(true)
            })?;
            w.flush()?;
        }
    }
    out.flush()?;
    let mut changes = vec![
        Change::new("format", None, Some(format!("{format:?}").to_lowercase())),
        Change::new("events", None, Some(count.to_string())),
    ];
    for (name, v) in [
        ("since", q.since.map(|t| t.to_string())),
        ("until", q.until.map(|t| t.to_string())),
        ("actor", q.actor.clone()),
        ("target", q.target.clone()),
        ("action", q.action.clone()),
    ] {
        if v.is_some() {
            changes.push(Change::new(name, None, v));
        }
    }
    if unreadable > 0 {
        changes.push(Change::new(
            "unreadable_skipped",
            None,
            Some(unreadable.to_string()),
        ));
    }
    let recorded = svc.record(EventDraft {
        at: svc.now(),
        actor: session.actor(),
        origin: session.origin().clone(),
        action: "audit.export".into(),
        target: Some(Target::new("audit", 0, "audit log")),
        changes,
        outcome: Outcome::Success,
    });
    // Like a login, an export on a full disk is not refused for want of its audit event.
    svc.answer_unaudited(
        &format!("{} exported {count} audit events", session.label()),
        recorded.map(|_| ()),
    )?;
    Ok(count)
}
