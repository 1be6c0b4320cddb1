//! The dashboard for a period: the 3×3 grid as a heat map of counts, risk levels, crisis
//! calls, timeliness by triage level, calls by language and interpreter use.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::domain::placement::Triage;
use crate::domain::quadrant::{CellId, Level};
use crate::store::Risk;
use crate::tui::app::App;
use crate::tui::screens::home::fit;
use crate::tui::theme::Theme;

const LEVELS: [Level; 3] = [Level::Low, Level::Moderate, Level::High];

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        "—".into()
    } else {
        format!("{:.0}%", n as f64 * 100.0 / of as f64)
    }
}

pub fn render(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(v) = &app.dashboard else {
        return;
    };
    let Some(d) = &v.data else {
        f.render_widget(Line::raw(" Loading…"), area);
        return;
    };
    let [head, top, bottom] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(9),
        Constraint::Fill(1),
    ]));
    f.render_widget(
        Line::from(vec![
            Span::styled(format!(" {} ", v.range.label()), theme.title),
            Span::raw(format!(
                "· {} calls · {} crisis ({}) · interpreter {} ({})",
                d.total,
                d.crisis,
                pct(d.crisis, d.total),
                d.interpreter,
                pct(d.interpreter, d.total)
            )),
        ]),
        head,
    );
    let [grid, risk] = top.layout(&Layout::horizontal([
        Constraint::Length(44),
        Constraint::Fill(1),
    ]));
    // Heat map: the busiest cells stand out (reverse video in monochrome).
    let max = CellId::all().map(|c| d.cell(c)).max().unwrap_or(0).max(1);
    let mut lines = vec![Line::styled(
        format!(
            " {:<9}{:>10}{:>11}{:>11}",
            "MH\\SUD", "low", "moderate", "high"
        ),
        theme.title,
    )];
    for mh in LEVELS.iter().rev() {
        let mut spans = vec![Span::raw(format!(" {:<9}", mh.as_str()))];
        for acuity in LEVELS {
            let n = d.cell(CellId { mh: *mh, acuity });
            let style = match n * 3 / max {
                3 | 2 => theme.cell_chosen,
                1 => theme.cell_computed,
                _ => theme.base,
            };
            spans.push(Span::raw(" "));
            spans.push(Span::styled(format!("{n:>9} "), style));
        }
        lines.push(Line::from(spans));
        lines.push(Line::raw(""));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::default().title(" Placements (chosen cell) ")),
        grid,
    );
    let mut lines = vec![];
    for r in Risk::ALL.iter().rev() {
        let n = d.risk.get(r).copied().unwrap_or(0);
        let style = match r {
            Risk::Imminent | Risk::High => theme.risk_high,
            Risk::Moderate => theme.risk_moderate,
            _ => theme.base,
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<9}", r.as_str()), style),
            Span::raw(format!("{n:>8} {:>5}", pct(n, d.total))),
        ]));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::LEFT).title(" Risk ")),
        risk,
    );
    let [time, langs] = bottom.layout(&Layout::horizontal([
        Constraint::Length(44),
        Constraint::Fill(1),
    ]));
    let mut lines = vec![Line::styled(
        format!(
            " {:<9}{:>8}{:>8}{:>8}{:>8}",
            "triage", "met", "missed", "pending", "met%"
        ),
        theme.title,
    )];
    for t in [Triage::Emergent, Triage::Urgent, Triage::Routine] {
        let x = d.timeliness.get(&t).copied().unwrap_or_default();
        let decided = x.met + x.missed;
        lines.push(Line::raw(format!(
            " {:<9}{:>8}{:>8}{:>8}{:>8}",
            t.as_str(),
            x.met,
            x.missed,
            x.pending,
            pct(x.met, decided)
        )));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::TOP).title(" Timeliness ")),
        time,
    );
    let mut by: Vec<(&String, &u64)> = d.languages.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let rows = langs.height.saturating_sub(1) as usize;
    let lines: Vec<Line> = by
        .iter()
        .take(rows)
        .map(|(code, n)| {
            let name = app.defs.directory.language_name(code);
            Line::raw(format!(
                " {} {:>7} {:>5}",
                fit(name, 18),
                n,
                pct(**n, d.total)
            ))
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::TOP | Borders::LEFT)
                .title(" Languages "),
        ),
        langs,
    );
}
