//! Instrument scores as lines: "PHQ-9 12/27 moderate", with the flags each raised. Shared by
//! the call's summary and the supervisor's record, so both read the same.

use ratatui::text::{Line, Span};

use crate::domain::Definitions;
use crate::domain::scoring::Evaluation;
use crate::tui::theme::Theme;

/// One line per instrument that applies and was started; with `flags`, its flags below it.
pub fn lines<'a>(defs: &Definitions, e: &Evaluation, theme: &Theme, flags: bool) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    for r in e.results.iter().filter(|r| r.applies && r.started) {
        let title = defs
            .instrument(&r.instrument)
            .map_or(r.instrument.as_str(), |x| x.short_title.as_str());
        let total = r.total.map_or(String::new(), |t| {
            format!(" {t}{}", r.max.map_or(String::new(), |m| format!("/{m}")))
        });
        let band = r
            .band
            .as_ref()
            .map_or(String::new(), |b| format!(" {}", b.label));
        out.push(Line::from(vec![
            Span::raw(format!("  {title}{total}")),
            Span::styled(band, theme.band(r.band.as_ref())),
            Span::styled(if r.complete { "" } else { " (incomplete)" }, theme.dim),
        ]));
        if flags {
            for fl in &r.flags {
                out.push(Line::styled(
                    format!("    ⚑ {}", fl.message),
                    theme.risk_moderate,
                ));
            }
        }
    }
    out
}
