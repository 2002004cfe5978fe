//! The Audit tab: events newest first, filters, an event's full field changes, the chain
//! verification result in the header, and the export dialog.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row};

use super::{Effect, Look, Screen};
use crate::audit::AuditEvent;
use crate::security::sanitize::for_terminal;
use crate::service::Calls;
use crate::service::{AuditQuery, LocalTime, VerifyReport};
use crate::tui::action::Action;
use crate::tui::app::Ctx;
use crate::tui::forms::{self, Purpose};
use crate::tui::keymap::Section;
use crate::tui::widgets::list::{ListState, TableSpec};
use crate::tui::widgets::{ellipsize, table_column_widths};

/// Events loaded per refresh.
const LOADED: usize = 500;

/// State of the Audit tab.
#[derive(Debug, Default)]
pub struct AuditScreen {
    list: ListState<AuditEvent>,
    /// Current filters.
    pub query: AuditQuery,
    /// Last verification.
    pub verify: Option<VerifyReport>,
    /// Verification running.
    pub verifying: bool,
    /// Newest sequence number.
    pub head_seq: u64,
}

impl Screen for AuditScreen {
    /// Reloads the newest events matching the filters.
    fn refresh(&mut self, ctx: &Ctx<'_>) -> crate::Result<()> {
        let q = AuditQuery {
            limit: Some(LOADED),
            ..self.query.clone()
        };
        self.list.set_rows(ctx.audit_list(q)?.items);
        self.head_seq = ctx.audit_head()?.seq;
        Ok(())
    }

    fn hints(&self) -> &'static [Action] {
        &[
            Action::Open,
            Action::AuditFilter,
            Action::AuditExport,
            Action::AuditVerify,
        ]
    }

    fn handle(&mut self, action: Action, ctx: &Ctx<'_>) -> Effect {
        if self.list.navigate(action) {
            return Effect::None;
        }
        match action {
            Action::AuditFilter | Action::Filter => {
                Effect::Form(forms::audit_filter(&self.query), Purpose::AuditFilter)
            }
            Action::Back if self.query != AuditQuery::default() => {
                self.query = AuditQuery::default();
                match self.refresh(ctx) {
                    Ok(()) => Effect::Info("Audit filters cleared.".into()),
                    Err(e) => Effect::from_error(&e),
                }
            }
            Action::Open => match self.list.selected() {
                Some(e) => Effect::Detail {
                    title: format!("Audit event #{}", e.seq),
                    lines: event_lines(e, ctx.time),
                },
                None => Effect::None,
            },
            _ => Effect::None,
        }
    }

    fn draw(&self, frame: &mut Frame<'_>, area: Rect, look: &Look<'_>) {
        let theme = look.theme;
        let [head, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
        let verify = match (&self.verify, self.verifying) {
            (_, true) => Span::styled(" chain: verifying... ", theme.dim()),
            (Some(r), _) if r.ok => {
                Span::styled(format!(" chain OK up to #{} ", r.head_seq), theme.ok())
            }
            (Some(r), _) => Span::styled(
                format!(
                    " CHAIN BROKEN at #{} ",
                    r.broken.as_ref().map_or(0, |b| b.0)
                ),
                theme.error(),
            ),
            (None, false) => Span::styled(
                match look.keymap.key(Section::Audit, Action::AuditVerify) {
                    Some(key) => format!(" chain: not verified ({key}) "),
                    None => " chain: not verified ".to_string(),
                },
                theme.dim(),
            ),
        };
        let mut spans = vec![verify];
        if let Some(r) = self.verify.as_ref().filter(|r| r.quarantined > 0) {
            spans.push(Span::styled(
                format!(" {} record(s) quarantined ", r.quarantined),
                theme.error(),
            ));
        }
        let q = &self.query;
        for (label, v) in [
            ("actor", q.actor.clone()),
            ("action", q.action.clone()),
            ("target", q.target.clone()),
            ("since", q.since.map(|t| look.time.minute(t))),
            ("until", q.until.map(|t| look.time.minute(t))),
        ] {
            if let Some(v) = v {
                spans.push(Span::raw(format!(" {label}={} ", for_terminal(&v))));
            }
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), head);
        let narrow = body.width < 100;
        let widths = vec![
            Constraint::Length(7),
            Constraint::Length(if narrow { 11 } else { 19 }),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Length(8),
        ];
        // Text columns are cut with "…" where they do not fit, so nothing looks whole that is not.
        let fit = table_column_widths(body, &widths, 2);
        let fit = |col: usize, text: &str| ellipsize(text, fit.get(col).copied().unwrap_or(0));
        let row = |e: &AuditEvent| {
            let target = e.target.as_ref().map_or_else(
                || "-".into(),
                |t| format!("{}:{} {}", t.kind, t.id, t.label),
            );
            Row::new(vec![
                e.seq.to_string(),
                if narrow {
                    look.time.format(e.at(), "%m-%d %H:%M")
                } else {
                    look.time.second(e.at())
                },
                fit(2, &for_terminal(&e.actor.label())),
                fit(3, &e.action),
                fit(4, &for_terminal(&target)),
                e.outcome.kind().to_string(),
            ])
        };
        let spec = TableSpec {
            block: Block::default()
                .borders(Borders::ALL)
                .title(format!(
                    " Audit log, newest first ({} of {}) ",
                    self.list.total(),
                    self.head_seq
                ))
                .title(look.zone_title()),
            header: Row::new(vec!["Seq", "Time", "Actor", "Action", "Target", "Outcome"]),
            widths,
            row: &row,
            empty: None,
        };
        self.list.draw(frame, body, spec, theme);
    }
}

/// Every field of one event; its time as the practice reads it, then exactly, in UTC, as the
/// chain and exports record it.
pub fn event_lines(e: &AuditEvent, time: &LocalTime) -> Vec<String> {
    let mut lines = vec![
        format!("Time      {} {}", time.second(e.at()), time.name()),
        format!("          {}", e.at()),
        format!("Actor     {}", e.actor.label()),
        format!("Origin    {}", e.origin.label()),
        format!("Action    {}", e.action),
        format!(
            "Target    {}",
            e.target.as_ref().map_or_else(
                || "-".into(),
                |t| format!("{}:{} {}", t.kind, t.id, t.label)
            )
        ),
        format!("Outcome   {} {}", e.outcome.kind(), e.outcome.reason()),
        format!("Hash      {}", e.hash_hex()),
        format!("Previous  {}", hex::encode(e.prev_hash)),
        String::new(),
        format!("CHANGES ({})", e.changes.len()),
    ];
    for c in &e.changes {
        lines.push(format!(
            "  {}: {} -> {}",
            c.field,
            c.old.as_deref().unwrap_or("(none)"),
            c.new.as_deref().unwrap_or("(none)")
        ));
    }
    lines
        .into_iter()
        .map(|l| for_terminal(&l).into_owned())
        .collect()
}
