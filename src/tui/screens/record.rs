//! The record a supervisor reads: every step as the screener left it, the placement with its
//! reasons, referrals with deadlines and whether each was met, crisis actions, notices and
//! consent, addenda, reviews and the audit history.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::clock::county_time;
use crate::domain::outcome::{Intake, ProgramMatch};
use crate::domain::placement::{Decision, Triage};
use crate::domain::quadrant::{CellId, Level};
use crate::domain::scoring::Evaluation;
use crate::tui::app::App;
use crate::tui::call::{CRISIS_ACTIONS, NOTICES};
use crate::tui::review::RecordView;
use crate::tui::screens::referral::due_text;
use crate::tui::theme::Theme;

/// The outcome as a record holds it: all of it, or, in a view received without the caller's
/// consent (`sync::withhold`), its mental-health parts only — no addiction acuity, no cell,
/// no substance-use results, reasons, deadlines or programs. Each part is shown if present.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutcomeParts {
    age: Option<u32>,
    service_area: Option<u8>,
    evaluation: Option<Evaluation>,
    placement: PlacementParts,
    chosen_cell: Option<CellId>,
    triage: Option<Decision<Triage>>,
    programs: Vec<ProgramMatch>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PlacementParts {
    mh_severity: Option<Decision<Level>>,
    addiction_acuity: Option<Decision<Level>>,
    cell: Option<CellId>,
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    county_time(t).format("%Y-%m-%d %H:%M").to_string()
}

/// The record as lines (also used by tests and reports).
pub fn lines<'a>(app: &App, r: &RecordView, theme: &Theme) -> Vec<Line<'a>> {
    let Some(data) = &r.data else {
        return vec![Line::raw(" Loading…")];
    };
    let Some(cur) = data.revisions.last() else {
        return vec![Line::raw(" No such encounter.")];
    };
    let h = |t: &str| Line::styled(format!(" {t}"), theme.title);
    let mut out = vec![Line::from(vec![
        Span::styled(format!(" {} ", cur.summary.caller_display), theme.title),
        Span::raw(format!(
            "· received {} · screener {} on {} · revision {} of {} · {}",
            when(cur.summary.received_at),
            cur.screener,
            cur.device,
            cur.revision,
            data.revisions.len(),
            cur.status
        )),
    ])];
    out.push(Line::raw(format!(
        "  review: {} · sync: {} · hash {}",
        cur.review_state.map_or("—", |s| s.as_str()),
        cur.sync_state.map_or("—", |s| s.as_str()),
        cur.payload_sha256
            .as_deref()
            .map_or("—", |h| &h[..12.min(h.len())])
    )));
    let payload: Value = cur
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null);
    if payload.is_null() {
        out.push(Line::styled(
            "  A draft: nothing to review until the screener finalizes it.",
            theme.warning,
        ));
    }
    let intake: Intake = serde_json::from_value(payload["intake"].clone()).unwrap_or_default();
    let outcome: Option<OutcomeParts> = payload
        .get("outcome")
        .filter(|o| o.is_object())
        .and_then(|o| serde_json::from_value(o.clone()).ok());
    if payload
        .get(crate::sync::withhold::MARKER_KEY)
        .is_some_and(|m| !m.is_null())
    {
        // A record received from a device without the caller's consent to share substance-use
        // information (42 CFR Part 2): those details never left the device.
        out.push(Line::styled(
            "  Substance-use details withheld: the caller did not consent to sharing them.",
            theme.warning,
        ));
    }
    out.push(h("Intake"));
    out.push(Line::raw(format!(
        "  {} · {} · age {} · {}{} · Medi-Cal {} · ZIP {} (SA {})",
        intake.caller_type.as_deref().unwrap_or("caller ?"),
        intake.callback_number.as_deref().unwrap_or("no callback"),
        outcome
            .as_ref()
            .and_then(|o| o.age)
            .map_or("?".into(), |a| a.to_string()),
        intake.language.as_deref().unwrap_or("language ?"),
        if intake.interpreter {
            " with interpreter"
        } else {
            ""
        },
        intake.medi_cal.as_deref().unwrap_or("?"),
        intake.zip.as_deref().unwrap_or("?"),
        outcome
            .as_ref()
            .and_then(|o| o.service_area)
            .map_or("?".into(), |a| a.to_string()),
    )));
    if let Some(reason) = &intake.reason {
        out.push(Line::raw(format!("  Reason: “{reason}”")));
    }
    let crisis = &payload["crisis"];
    if payload["crisis_opened"].as_bool() == Some(true) || crisis["opened"].as_bool() == Some(true)
    {
        out.push(Line::styled(" Crisis protocol", theme.crisis));
        for (id, label) in CRISIS_ACTIONS {
            if let Some(t) = crisis["actions"][*id].as_str() {
                let t = chrono::DateTime::parse_from_rfc3339(t)
                    .map(|t| when(t.with_timezone(&chrono::Utc)))
                    .unwrap_or_else(|_| t.to_owned());
                out.push(Line::raw(format!("  {t}  {label}")));
            }
        }
    }
    if let Some(o) = &outcome {
        if let Some(e) = &o.evaluation {
            out.push(h("Scores"));
            out.extend(super::scores::lines(&app.defs, e, theme, true));
        }
        out.push(h("Placement"));
        let p = &o.placement;
        match (p.cell, o.chosen_cell) {
            (Some(cell), Some(chosen)) => out.push(Line::raw(format!(
                "  computed {} · chosen {}",
                cell.id(),
                chosen.id()
            ))),
            _ => out.push(Line::styled(
                "  cell withheld (it names the addiction acuity)",
                theme.dim,
            )),
        }
        if let Some(reason) = payload["override_reason"].as_str() {
            out.push(Line::raw(format!("  override reason: {reason}")));
        }
        for (axis, d) in [
            ("MH severity", &p.mh_severity),
            ("addiction acuity", &p.addiction_acuity),
        ] {
            let Some(d) = d else {
                out.push(Line::styled(format!("  {axis}: withheld"), theme.dim));
                continue;
            };
            out.push(Line::raw(format!("  {axis} {}:", d.level.as_str())));
            for x in &d.reasons {
                out.push(Line::raw(format!("    • {}", x.reason)));
            }
        }
        if let Some(t) = &o.triage {
            out.push(Line::raw(format!("  triage {}:", t.level.as_str())));
            for x in &t.reasons {
                out.push(Line::raw(format!("    • {}", x.reason)));
            }
        }
        out.push(h("Referrals"));
        let referrals: Vec<Value> = match (&payload["referrals"], &payload["referral"]) {
            (Value::Array(a), _) => a.clone(),
            (_, Value::Object(_)) => vec![payload["referral"].clone()],
            _ => Vec::new(),
        };
        if referrals.is_empty() {
            out.push(Line::styled("  none", theme.warning));
        }
        for x in referrals {
            let id = x["service_id"].as_str().unwrap_or("?");
            let name = app
                .defs
                .directory
                .service(id)
                .map_or(id.to_owned(), |s| s.name.clone());
            let warm = x["warm_handoff"].as_bool() == Some(true);
            let due = o
                .programs
                .iter()
                .find(|m| m.service.service_id == id)
                .and_then(|m| m.due.clone());
            let state = match (&due, warm) {
                (_, true) => "met (warm hand-off)".to_owned(),
                (Some(d), false) if d.due_at.with_timezone(&chrono::Utc) < app.now => {
                    "missed unless the appointment was kept".to_owned()
                }
                (Some(_), false) => "pending (appointment)".to_owned(),
                (None, false) => "appointment".to_owned(),
            };
            out.push(Line::raw(format!("  {name} — {state}")));
            if let Some(d) = due {
                out.push(Line::raw(format!("    {}", due_text(&d))));
            }
        }
    }
    out.push(h("Notices and consent"));
    let given: Vec<&str> = NOTICES
        .iter()
        .filter(|(id, _)| {
            payload["notices"]
                .as_array()
                .is_some_and(|a| a.iter().any(|n| n == id))
        })
        .map(|(_, label)| *label)
        .collect();
    out.push(Line::raw(format!(
        "  {} · substance-use consent: {}",
        if given.is_empty() {
            "no notices recorded".to_owned()
        } else {
            given.join("; ")
        },
        match &payload["sud_consent"] {
            Value::String(s) => s.replace('_', " "),
            Value::Bool(true) => "given".into(),
            Value::Bool(false) => "declined".into(),
            _ => "not recorded".into(),
        }
    )));
    if data.revisions.len() > 1 {
        out.push(h("Revisions"));
        for rev in &data.revisions {
            out.push(Line::raw(format!(
                "  {} · revision {} by {}{}",
                rev.finalized_at.map_or("draft".into(), when),
                rev.revision,
                rev.screener,
                rev.note
                    .as_deref()
                    .map_or(String::new(), |n| format!(": {n}"))
            )));
        }
    }
    out.push(h("Reviews"));
    if data.reviews.is_empty() {
        out.push(Line::styled("  none yet", theme.dim));
    }
    for rv in &data.reviews {
        out.push(Line::raw(format!(
            "  {} · {} · revision {} by {}{}",
            when(rv.reviewed_at),
            rv.decision,
            rv.revision,
            rv.reviewer,
            rv.note
                .as_deref()
                .map_or(String::new(), |n| format!(": “{n}”"))
        )));
    }
    out.push(h("Audit history"));
    for a in &data.audit {
        out.push(Line::styled(
            format!(
                "  #{} {} {} {} {}",
                a.seq,
                when(a.at),
                a.actor,
                a.action,
                a.record
            ),
            theme.dim,
        ));
    }
    out
}

pub fn render(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(r) = &app.record else {
        return;
    };
    f.render_widget(
        Paragraph::new(lines(app, r, theme))
            .wrap(Wrap { trim: false })
            .scroll((r.scroll, 0))
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(" Encounter record "),
            ),
        area,
    );
}
