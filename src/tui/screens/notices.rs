//! Notices given and consent to share substance-use information (42 CFR Part 2).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::tui::app::CallView;
use crate::tui::call::{Consent, NOTICES};
use crate::tui::theme::Theme;

pub fn render(v: &CallView, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = vec![Line::styled(" Notices given during the call", theme.title)];
    for (i, (id, label)) in NOTICES.iter().enumerate() {
        let on = v.call.notices.contains(*id);
        let style = if i == v.notices_focus {
            theme.focus
        } else {
            theme.base
        };
        lines.push(Line::styled(
            format!(" [{}] {label}", if on { "x" } else { " " }),
            style,
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " Consent to share substance-use information (42 CFR Part 2)",
        theme.title,
    ));
    let consent = match v.call.sud_consent {
        Consent::NotAsked => "not asked",
        Consent::Given => "GIVEN — may be shared with the referral",
        Consent::Declined => "DECLINED — substance-use details stay on this device",
    };
    let style = if v.notices_focus == NOTICES.len() {
        theme.focus
    } else {
        theme.base
    };
    lines.push(Line::styled(format!(" Consent: {consent}"), style));
    lines.push(Line::styled(
        " (Space cycles; y given, n declined)",
        theme.dim,
    ));
    f.render_widget(Paragraph::new(lines), area);
}
