//! Named styles. Screens use these names, never colours; `NO_COLOR` gives a monochrome theme
//! that still marks focus (reverse video) and risk (bold, underlined).

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub base: Style,
    pub title: Style,
    pub dim: Style,
    pub key: Style,
    pub focus: Style,
    pub selected: Style,
    pub invalid: Style,
    pub risk_high: Style,
    pub risk_moderate: Style,
    pub ok: Style,
    pub info: Style,
    pub warning: Style,
    pub error: Style,
    pub cell_computed: Style,
    pub cell_chosen: Style,
    pub crisis: Style,
}

impl Theme {
    pub fn color() -> Theme {
        Theme {
            base: Style::new(),
            title: Style::new().add_modifier(Modifier::BOLD),
            dim: Style::new().fg(Color::DarkGray),
            key: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            focus: Style::new().fg(Color::Black).bg(Color::Cyan),
            selected: Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            invalid: Style::new().fg(Color::Red),
            risk_high: Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
            risk_moderate: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ok: Style::new().fg(Color::Green),
            info: Style::new().fg(Color::Cyan),
            warning: Style::new().fg(Color::Yellow),
            error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            cell_computed: Style::new().fg(Color::Black).bg(Color::Yellow),
            cell_chosen: Style::new()
                .fg(Color::Black)
                .bg(Color::Green)
                .add_modifier(Modifier::BOLD),
            crisis: Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        }
    }

    pub fn mono() -> Theme {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let reverse = Style::new().add_modifier(Modifier::REVERSED);
        Theme {
            base: Style::new(),
            title: bold,
            dim: Style::new(),
            key: bold,
            focus: reverse,
            selected: bold,
            invalid: Style::new().add_modifier(Modifier::UNDERLINED),
            risk_high: bold.add_modifier(Modifier::REVERSED),
            risk_moderate: bold.add_modifier(Modifier::UNDERLINED),
            ok: Style::new(),
            info: Style::new(),
            warning: bold,
            error: bold.add_modifier(Modifier::UNDERLINED),
            cell_computed: Style::new().add_modifier(Modifier::UNDERLINED),
            cell_chosen: reverse.add_modifier(Modifier::BOLD),
            crisis: bold.add_modifier(Modifier::REVERSED),
        }
    }

    /// The style of an instrument's band: 0–1 plain, 2 moderate, 3+ high risk.
    pub fn band(&self, band: Option<&crate::domain::scoring::BandResult>) -> Style {
        match band.map_or(0, |b| b.severity) {
            0 | 1 => self.base,
            2 => self.risk_moderate,
            _ => self.risk_high,
        }
    }

    /// Monochrome when `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Theme {
        match std::env::var_os("NO_COLOR") {
            Some(v) if !v.is_empty() => Theme::mono(),
            _ => Theme::color(),
        }
    }
}
