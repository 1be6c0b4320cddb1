//! Home: start a call, resume a draft, see what a supervisor returned, today's counts.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::domain::clock::county_time;
use crate::tui::app::App;
use crate::tui::call::Step;
use crate::tui::keymap::{Command, Context};
use crate::tui::theme::Theme;

/// "3 min", "2 h", "4 d": how long ago.
pub fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let m = (now - then).num_minutes().max(0);
    match m {
        0..60 => format!("{m} min"),
        60..1440 => format!("{} h", m / 60),
        _ => format!("{} d", m / 1440),
    }
}

pub fn render(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let [top, drafts, returned] = area.layout(&Layout::vertical([
        Constraint::Length(4),
        Constraint::Fill(1),
        Constraint::Fill(1),
    ]));
    let t = &app.home.today;
    let new_key = app
        .keymap
        .label(&[Context::Home], Command::NewCall)
        .unwrap_or_default();
    let crisis_key = app
        .keymap
        .label(&[Context::Global], Command::Crisis)
        .unwrap_or_default();
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::raw(" Press "),
                Span::styled(new_key, theme.key),
                Span::raw(" for a new call, "),
                Span::styled(crisis_key, theme.key),
                Span::raw(" for a crisis call."),
            ]),
            Line::raw(format!(
                " Today: {} finalized · {} in progress · {} crisis",
                t.finalized, t.drafts, t.crisis
            )),
            Line::styled(
                format!(" {}", app.home.sync.as_deref().unwrap_or("")),
                theme.dim,
            ),
            Line::raw(format!(
                " Signed in: {} ({})",
                truncate(&app.display_name, 40),
                app.role.as_str()
            )),
        ]),
        top,
    );
    let mut lines = Vec::new();
    for (i, d) in app.home.drafts.iter().enumerate() {
        let step = d
            .cursor
            .as_ref()
            .and_then(|c| Step::parse(&c.step))
            .map_or("Intake", Step::title);
        let text = format!(
            " {}  {} at {:<11} saved {} ago",
            county_time(d.received_at).format("%m/%d %H:%M"),
            fit(&d.caller_display, 28),
            step,
            age(app.now, d.updated_at)
        );
        let style = if i == app.home_focus {
            theme.focus
        } else {
            theme.base
        };
        lines.push(Line::styled(text, style));
    }
    if lines.is_empty() {
        lines.push(Line::styled(" No unfinished calls.", theme.dim));
    }
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::TOP)
                .title(format!(" Unfinished calls ({}) ", app.home.drafts.len())),
        ),
        drafts,
    );
    let mut lines = Vec::new();
    let offset = app.home.drafts.len();
    for (i, r) in app.home.returned.iter().enumerate() {
        let style = if i + offset == app.home_focus {
            theme.focus
        } else {
            theme.base
        };
        lines.push(Line::styled(
            format!(
                " {}  {} returned by {} {} ago",
                county_time(r.received_at).format("%m/%d %H:%M"),
                fit(&r.caller_display, 28),
                r.reviewer,
                age(app.now, r.reviewed_at)
            ),
            style,
        ));
        lines.push(Line::styled(
            format!("     “{}”", truncate(&r.note, 70)),
            theme.warning,
        ));
    }
    if lines.is_empty() {
        lines.push(Line::styled(" Nothing returned to you.", theme.dim));
    }
    // The home lists the newest calls only; the count is of all of them.
    let total = app.home.returned_total.max(app.home.returned.len() as u64);
    let more = total - app.home.returned.len() as u64;
    if more > 0 {
        lines.push(Line::styled(
            format!(" … and {more} older returned calls, not listed here."),
            theme.dim,
        ));
    }
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::TOP)
                .title(format!(" Returned by a supervisor ({total}) ")),
        ),
        returned,
    );
}

/// At most `n` terminal columns (wide characters count two), with an ellipsis when cut.
pub fn truncate(s: &str, n: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    if unicode_width::UnicodeWidthStr::width(s) <= n {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > n {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// Exactly `n` terminal columns: cut with an ellipsis or padded with spaces.
pub fn fit(s: &str, n: usize) -> String {
    let mut out = truncate(s, n);
    let w = unicode_width::UnicodeWidthStr::width(out.as_str());
    out.extend(std::iter::repeat_n(' ', n.saturating_sub(w)));
    out
}
