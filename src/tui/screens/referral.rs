//! Referral: programs that fit the chosen cell, age, language and area, picked with Space,
//! warm hand-off or appointment, with the deadline from the timeliness standard.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::domain::timeliness::Due;
use crate::tui::app::{App, CallView};
use crate::tui::screens::home::fit as fit_to;
use crate::tui::theme::Theme;

pub fn due_text(d: &Due) -> String {
    match d.kind.as_str() {
        "immediate" => format!("{}: now", d.label),
        "hours" => format!("{}: by {}", d.label, d.due_at.format("%a %m/%d %H:%M")),
        _ => format!(
            "{}: by {}",
            d.label,
            d.due_date
                .unwrap_or(d.due_at.date_naive())
                .format("%a %m/%d/%Y")
        ),
    }
}

pub fn render(app: &App, v: &CallView, theme: &Theme, f: &mut Frame, area: Rect) {
    let [filters, deadline, list, detail] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(5),
    ]));
    let call = &v.call;
    let intake = call.intake_facts();
    let lang = intake
        .language
        .as_deref()
        .map_or("not recorded".to_owned(), |l| {
            app.defs.directory.language_name(l).to_owned()
        });
    let area_txt = call
        .outcome
        .service_area
        .map_or("not recorded".to_owned(), |a| format!("SA {a}"));
    let only = |on: bool| if on { " (only)" } else { " (ranked)" };
    f.render_widget(
        Line::from(vec![
            Span::styled(
                format!(" Cell {} ", call.outcome.chosen_cell.id()),
                theme.title,
            ),
            Span::raw(format!(
                "· language {lang}{} · area {area_txt}{} · age {}",
                only(call.require_language),
                only(call.require_area),
                call.outcome.age.map_or("?".into(), |a| a.to_string())
            )),
        ]),
        filters,
    );
    let due = call
        .outcome
        .deadlines
        .iter()
        .min_by_key(|d| d.due_at)
        .map_or("No deadline applies".to_owned(), due_text);
    f.render_widget(
        Line::styled(format!(" Deadline: {due}"), theme.warning),
        deadline,
    );
    let programs = &call.outcome.programs;
    let focus = v.referral_focus.min(programs.len().saturating_sub(1));
    let height = list.height.saturating_sub(1) as usize;
    let start = focus
        .saturating_sub(height / 2)
        .min(programs.len().saturating_sub(height));
    let width = list.width as usize;
    let mut lines = Vec::new();
    for (i, p) in programs.iter().enumerate().skip(start).take(height) {
        let picked = call
            .referrals
            .iter()
            .find(|r| r.service_id == p.service.service_id);
        let mark = match picked {
            Some(r) if r.warm_handoff => "[H]",
            Some(_) => "[A]",
            None => "[ ]",
        };
        let fit = format!(
            "{}{}",
            if p.service.language_match { "L" } else { "·" },
            if p.service.area_match { "A" } else { "·" }
        );
        let name_w = width.saturating_sub(4 + 3 + 16 + 2);
        let text = format!(
            " {mark} {fit} {} {:>14}",
            fit_to(&p.service.name, name_w),
            p.service.phone
        );
        let style = if i == focus {
            theme.focus
        } else if picked.is_some() {
            theme.selected
        } else {
            theme.base
        };
        lines.push(Line::styled(text, style));
    }
    if programs.is_empty() {
        lines.push(Line::styled(
            " No program fits these filters; press l or a to widen the search.",
            theme.warning,
        ));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::TOP).title(format!(
            " Programs ({}) · L language · A area · [A] appointment [H] warm hand-off ",
            programs.len()
        ))),
        list,
    );
    if let Some(p) = programs.get(focus) {
        let mut lines = vec![
            Line::styled(
                format!(" {} — {}", p.service.name, p.service.organization),
                theme.title,
            ),
            Line::raw(format!(
                " {} · {} · {}",
                p.service.category, p.service.system, p.service.hours
            )),
        ];
        if let Some(d) = &p.due {
            lines.push(Line::raw(format!(" {}", due_text(d))));
        }
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::TOP)),
            detail,
        );
    }
}
