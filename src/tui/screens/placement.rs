//! Placement: the 9-quadrant grid (mental-health severity × addiction acuity) with the computed
//! cell marked, the chosen cell highlighted, every reason that fired, and the override.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::domain::quadrant::{CellId, Level};
use crate::tui::app::{App, CallView, PlacementMode};
use crate::tui::screens::home::truncate;
use crate::tui::theme::Theme;

const LEVELS: [Level; 3] = [Level::Low, Level::Moderate, Level::High];
const CELL_W: usize = 12;

pub fn render(app: &App, v: &CallView, theme: &Theme, f: &mut Frame, area: Rect) {
    let [left, right] = area.layout(&Layout::horizontal([
        Constraint::Length(50),
        Constraint::Fill(1),
    ]));
    let [grid, programs] = left.layout(&Layout::vertical([
        Constraint::Length(10),
        Constraint::Fill(1),
    ]));
    let outcome = &v.call.outcome;
    let computed = outcome.placement.cell;
    let chosen = outcome.chosen_cell;
    let picking = match v.placement {
        PlacementMode::Choosing(c) => Some(c),
        _ => None,
    };
    let mut lines = vec![
        Line::styled(" Mental-health severity × addiction acuity", theme.title),
        Line::from(vec![
            Span::raw(format!("{:<12}", " MH \\ SUD")),
            Span::raw(
                LEVELS
                    .iter()
                    .map(|l| format!("{:^w$}", l.as_str(), w = CELL_W))
                    .collect::<String>(),
            ),
        ]),
    ];
    for mh in LEVELS.iter().rev() {
        let mut spans = vec![Span::raw(format!(" {:<11}", mh.as_str()))];
        for acuity in LEVELS {
            let cell = CellId { mh: *mh, acuity };
            let mark = match (cell == computed, cell == chosen) {
                (true, true) => "● chosen",
                (true, false) => "● computed",
                (false, true) => "◆ override",
                (false, false) => "·",
            };
            let mut style = if cell == chosen {
                theme.cell_chosen
            } else if cell == computed {
                theme.cell_computed
            } else {
                theme.base
            };
            if picking == Some(cell) {
                style = theme.focus;
            }
            spans.push(Span::styled(format!("{:^w$}", mark, w = CELL_W - 1), style));
            spans.push(Span::raw(" "));
        }
        lines.push(Line::from(spans));
        lines.push(Line::raw(""));
    }
    let hint = match v.placement {
        PlacementMode::View => " o: choose another cell (needs a reason)",
        PlacementMode::Choosing(_) => " Arrows move, Enter chooses, Esc cancels",
        PlacementMode::Reason => " Reason for the override, then Enter:",
    };
    lines.push(Line::styled(hint, theme.dim));
    f.render_widget(Paragraph::new(lines), grid);

    // The chosen cell's programs and the override reason.
    let cell = app.defs.quadrants.cell(chosen);
    let mut lines = vec![];
    if v.placement == PlacementMode::Reason || v.call.override_cell.is_some() {
        let reason = v.call.override_reason.value();
        let style = if reason.trim().is_empty() {
            theme.invalid
        } else {
            theme.base
        };
        lines.push(Line::from(vec![
            Span::styled(" Reason: ", theme.title),
            Span::styled(
                if reason.is_empty() {
                    "(required)".to_owned()
                } else {
                    reason.to_owned()
                },
                style,
            ),
        ]));
        if v.placement == PlacementMode::Reason {
            let x = programs.x + 9 + v.call.override_reason.visual_cursor() as u16;
            f.set_cursor_position(Position::new(x.min(programs.right() - 1), programs.y));
        }
    }
    lines.push(Line::styled(
        format!(" Programs for {}:", chosen.id()),
        theme.title,
    ));
    for p in &cell.programs {
        lines.push(Line::raw(format!(
            "  {} ({})",
            truncate(&p.name, 36),
            p.system
        )));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), programs);

    // Reasons: every rule that fired, per axis, and the triage decision.
    let mut lines = Vec::new();
    let p = &outcome.placement;
    for (title, d) in [
        ("Mental-health severity", &p.mh_severity),
        ("Addiction acuity", &p.addiction_acuity),
    ] {
        lines.push(Line::styled(
            format!("{title}: {}", d.level.as_str()),
            theme.title,
        ));
        for r in &d.reasons {
            lines.push(Line::raw(format!(" • {}", r.reason)));
        }
    }
    let t = &outcome.triage;
    let style = match t.level {
        crate::domain::placement::Triage::Emergent => theme.risk_high,
        crate::domain::placement::Triage::Urgent => theme.risk_moderate,
        _ => theme.title,
    };
    lines.push(Line::styled(format!("Triage: {}", t.level.as_str()), style));
    for r in &t.reasons {
        lines.push(Line::raw(format!(" • {}", r.reason)));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::LEFT).title(" Why ")),
        right,
    );
}
