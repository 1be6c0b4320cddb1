//! The crisis protocol: who to call, and a checklist of actions taken with their times. It
//! stays open until at least one action is recorded.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::domain::clock::county_time;
use crate::tui::app::App;
use crate::tui::call::CRISIS_ACTIONS;
use crate::tui::theme::Theme;
use crate::tui::ui::centered;

pub fn render(app: &App, focus: usize, theme: &Theme, f: &mut Frame, area: Rect) {
    let r = centered(area, 76, 18);
    f.render_widget(Clear, r);
    let lines_of = |id: &str| {
        app.defs
            .directory
            .help_lines
            .iter()
            .find(|h| h.id == id)
            .map(|h| format!("{} {}", h.number, h.name))
            .unwrap_or_default()
    };
    let mut lines = vec![
        Line::styled(
            " Danger now: 911.  Suicidal crisis: 988.  Mobile team: DMH Help Line.",
            theme.title,
        ),
        Line::raw(format!("  {}", lines_of("help-911"))),
        Line::raw(format!("  {}", lines_of("help-988"))),
        Line::raw(format!(
            "  {} (psychiatric mobile response)",
            lines_of("help-dmh")
        )),
        Line::raw(""),
        Line::styled(" Actions taken (the time is recorded):", theme.title),
    ];
    let actions = app
        .call
        .as_ref()
        .map(|v| v.call.crisis.actions.clone())
        .unwrap_or_default();
    for (i, (id, label)) in CRISIS_ACTIONS.iter().enumerate() {
        let done = actions.get(*id);
        let mark = match done {
            Some(t) => format!("[x] {}", county_time(*t).format("%H:%M:%S")),
            None => "[ ]         ".to_owned(),
        };
        let style = if i == focus { theme.focus } else { theme.base };
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", i + 1), theme.key),
            Span::styled(format!("{mark} {label}"), style),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        if actions.is_empty() {
            " Record at least one action before closing. The call is marked EMERGENT."
        } else {
            " Esc returns to the call (still EMERGENT); F2 reopens this."
        },
        if actions.is_empty() {
            theme.warning
        } else {
            theme.dim
        },
    ));
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.crisis)
                .title(Span::styled(" CRISIS PROTOCOL ", theme.crisis)),
        ),
        r,
    );
}
