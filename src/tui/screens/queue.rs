//! The supervisor's queue: filters, search, a table of encounters, the selected one's facts.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::domain::clock::county_time;
use crate::domain::quadrant::{CellId, Level as Axis};
use crate::store::{ListRow, ReviewState, Risk, Status};
use crate::tui::app::App;
use crate::tui::review::Input;
use crate::tui::screens::home::{fit, truncate};
use crate::tui::theme::Theme;

fn short(l: Axis) -> &'static str {
    match l {
        Axis::Low => "L",
        Axis::Moderate => "M",
        Axis::High => "H",
    }
}

pub fn cell_short(c: Option<CellId>) -> String {
    c.map_or("—".into(), |c| {
        format!("{}/{}", short(c.mh), short(c.acuity))
    })
}

pub fn state_label(row: &ListRow) -> &'static str {
    match (row.status, row.review_state) {
        (Status::Draft, _) => "draft",
        (_, Some(ReviewState::Approved)) => "approved",
        (_, Some(ReviewState::NeedsChanges)) => "returned",
        _ => "awaiting",
    }
}

pub fn render(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(q) = &app.queue else {
        return;
    };
    let [filters, input, table, detail] = area.layout(&Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(4),
    ]));
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" Showing:", theme.title),
            Span::raw(" "),
            Span::raw(q.describe().join(" · ")),
        ]))
        .wrap(Wrap { trim: false }),
        filters,
    );
    match &q.input {
        Some((which, field)) => {
            let label = match which {
                Input::Search => " Search reasons and notes: ",
                Input::Screener => " Screener: ",
            };
            f.render_widget(
                Line::from(vec![
                    Span::styled(label, theme.title),
                    Span::raw(field.value().to_owned()),
                ]),
                input,
            );
            let x = input.x + label.chars().count() as u16 + field.visual_cursor() as u16;
            f.set_cursor_position(Position::new(x.min(input.right() - 1), input.y));
        }
        None => {
            let page = q.earlier.len() + 1;
            let more = if q.next.is_some() { ", more →" } else { "" };
            let text = if q.loading {
                " Loading…".to_owned()
            } else {
                let n = q.rows.len();
                let noun = if n == 1 { "encounter" } else { "encounters" };
                format!(" Page {page}: {n} {noun}{more}")
            };
            f.render_widget(Line::styled(text, theme.dim), input);
        }
    }
    let header = format!(
        " {} {} {} {} {} {} {} {}",
        fit("Received", 11),
        fit("Caller", 17),
        fit("Lng", 3),
        fit("Age", 3),
        fit("Cell", 4),
        fit("Risk", 8),
        fit("Triage", 8),
        fit("Review", 8),
    );
    let mut lines = vec![Line::styled(header, theme.title)];
    let height = table.height.saturating_sub(1) as usize;
    let start = q.focus.saturating_sub(height.saturating_sub(1));
    for (i, row) in q.rows.iter().enumerate().skip(start).take(height) {
        let text = format!(
            " {} {} {} {} {} {} {} {}",
            county_time(row.received_at).format("%m/%d %H:%M"),
            fit(&row.caller_display, 17),
            fit(row.language.as_deref().unwrap_or("—"), 3),
            fit(&row.age.map_or("—".into(), |a| a.to_string()), 3),
            fit(&cell_short(row.cell_chosen), 4),
            fit(row.risk.as_str(), 8),
            fit(row.triage.map_or("—", |t| t.as_str()), 8),
            fit(state_label(row), 8),
        );
        let style = if i == q.focus {
            theme.focus
        } else if row.crisis || row.risk >= Risk::High {
            theme.risk_high
        } else if row.risk == Risk::Moderate {
            theme.risk_moderate
        } else {
            theme.base
        };
        lines.push(Line::styled(text, style));
    }
    if q.rows.is_empty() && !q.loading {
        lines.push(Line::styled(
            " No encounters match. x clears the filters.",
            theme.dim,
        ));
    }
    f.render_widget(Paragraph::new(lines), table);
    if let Some(row) = q.selected() {
        let deadline = row.deadline_at.map_or("no deadline".into(), |d| {
            let met = if d < app.now { " (passed)" } else { "" };
            format!("due {}{met}", county_time(d).format("%a %m/%d %H:%M"))
        });
        let lines = vec![
            Line::from(vec![
                Span::styled(
                    format!(" {} ", truncate(&row.caller_display, 30)),
                    theme.title,
                ),
                Span::raw(format!(
                    "· screener {} · rev {} · {deadline}{}",
                    row.screener,
                    row.revision,
                    if row.crisis { " · CRISIS" } else { "" }
                )),
            ]),
            Line::raw(format!(
                " “{}”",
                truncate(row.reason.as_deref().unwrap_or("no reason recorded"), 74)
            )),
            Line::raw(format!(
                " sync {}",
                row.sync_state.map_or("—", |s| s.as_str())
            )),
        ];
        f.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::TOP)),
            detail,
        );
    }
}
