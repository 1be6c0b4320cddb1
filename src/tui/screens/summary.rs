//! The one-screen summary before finalizing, with anything still missing listed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::tui::app::{App, CallView};
use crate::tui::call::{CRISIS_ACTIONS, NOTICES};
use crate::tui::screens::home::truncate;
use crate::tui::screens::referral::due_text;
use crate::tui::theme::Theme;

pub fn render(app: &App, v: &CallView, theme: &Theme, f: &mut Frame, area: Rect) {
    let call = &v.call;
    let o = &call.outcome;
    let i = call.intake_facts();
    let [left, right] = area.layout(&Layout::horizontal([
        Constraint::Percentage(55),
        Constraint::Fill(1),
    ]));
    let mut l = vec![Line::styled(" Caller", theme.title)];
    l.push(Line::raw(format!(
        " {} · {} · age {} · {}{}",
        crate::store::caller_display(&i),
        i.caller_type.as_deref().unwrap_or("caller type ?"),
        o.age.map_or("?".into(), |a| a.to_string()),
        i.language.as_deref().unwrap_or("language ?"),
        if i.interpreter { " (interpreter)" } else { "" }
    )));
    if let Some(r) = &i.reason {
        l.push(Line::raw(format!(" “{}”", truncate(r, 80))));
    }
    l.push(Line::styled(" Scores", theme.title));
    l.extend(super::scores::lines(&app.defs, &o.evaluation, theme, false));
    if call.crisis.opened {
        l.push(Line::styled(" Crisis protocol", theme.crisis));
        for (id, label) in CRISIS_ACTIONS {
            if let Some(t) = call.crisis.actions.get(*id) {
                l.push(Line::raw(format!(
                    "  {} {label}",
                    crate::domain::clock::county_time(*t).format("%H:%M")
                )));
            }
        }
    }
    f.render_widget(Paragraph::new(l).wrap(Wrap { trim: false }), left);

    let mut r = vec![Line::styled(" Placement", theme.title)];
    r.push(Line::raw(format!(
        "  computed {} · chosen {}",
        o.placement.cell.id(),
        o.chosen_cell.id()
    )));
    if call.override_cell.is_some() {
        r.push(Line::raw(format!(
            "  override: {}",
            truncate(call.override_reason.value(), 60)
        )));
    }
    r.push(Line::raw(format!("  triage {}", o.triage.level.as_str())));
    if let Some(d) = o.deadlines.iter().min_by_key(|d| d.due_at) {
        r.push(Line::raw(format!("  {}", due_text(d))));
    }
    r.push(Line::styled(" Referrals", theme.title));
    if call.referrals.is_empty() {
        r.push(Line::styled("  none picked", theme.warning));
    }
    for x in &call.referrals {
        let name = app
            .defs
            .directory
            .service(&x.service_id)
            .map_or(x.service_id.as_str(), |s| s.name.as_str());
        r.push(Line::raw(format!(
            "  {} ({})",
            truncate(name, 34),
            if x.warm_handoff {
                "warm hand-off"
            } else {
                "appointment"
            }
        )));
    }
    let given: Vec<&str> = NOTICES
        .iter()
        .filter(|(id, _)| call.notices.contains(*id))
        .map(|(id, _)| *id)
        .collect();
    r.push(Line::raw(format!(
        " Notices: {} · SUD consent: {}",
        if given.is_empty() {
            "none".to_owned()
        } else {
            given.join(", ")
        },
        call.sud_consent.as_str().replace('_', " ")
    )));
    let blockers = call.blockers(&app.defs);
    if blockers.is_empty() {
        r.push(Line::styled(" Ready to finalize (f).", theme.ok));
    } else {
        r.push(Line::styled(" Before finalizing:", theme.error));
        for (step, why) in blockers {
            r.push(Line::styled(
                format!("  {}: {why}", step.title()),
                theme.error,
            ));
        }
    }
    f.render_widget(
        Paragraph::new(r)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::LEFT)),
        right,
    );
}
