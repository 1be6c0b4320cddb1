//! Full help: every binding of every context, generated from the keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;

pub fn render(app: &App, scroll: u16, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    for ctx in app.keymap.contexts() {
        lines.push(Line::styled(Keymap::context_title(ctx), theme.title));
        let mut picks = Vec::new();
        for (keys, cmd) in app.keymap.describe(ctx) {
            if let crate::tui::keymap::Command::Pick(n) = cmd {
                picks.push(n);
                continue;
            }
            if let crate::tui::keymap::Command::GoStep(n) = cmd {
                if n == 1 {
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {:<18}", "Alt-1…Alt-8"), theme.key),
                        Span::raw("go straight to step 1–8 of the call"),
                    ]));
                }
                continue;
            }
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), theme.key),
                Span::raw(cmd.describe()),
            ]));
        }
        if !picks.is_empty() {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<18}", "0-9"), theme.key),
                Span::raw("answer / pick the numbered choice"),
            ]));
        }
    }
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).scroll((scroll, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Help — keys (↑↓ scroll, Esc close) "),
        ),
        area,
    );
}
