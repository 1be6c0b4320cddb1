//! Intake: who is calling, how to reach them, age, language, Medi-Cal, where, and why.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, CallView};
use crate::tui::call::{AgeInput, FieldKind, IntakeField, choices};
use crate::tui::text_field::TextField;
use crate::tui::theme::Theme;

const LABEL: u16 = 22;

pub fn render(app: &App, v: &CallView, theme: &Theme, f: &mut Frame, area: Rect) {
    let [form, info] = area.layout(&Layout::vertical([
        Constraint::Length(IntakeField::ALL.len() as u16 + 1),
        Constraint::Fill(1),
    ]));
    let rows = form.layout_vec(&Layout::vertical(std::iter::repeat_n(
        Constraint::Length(1),
        IntakeField::ALL.len() + 1,
    )));
    let intake = &v.call.intake;
    for (i, field) in IntakeField::ALL.into_iter().enumerate() {
        let row = rows[i + 1];
        let focused = i == v.intake_focus && app.overlay.is_none();
        let [label, value] = row.layout(&Layout::horizontal([
            Constraint::Length(LABEL + 1),
            Constraint::Fill(1),
        ]));
        let label_style = if focused { theme.focus } else { theme.base };
        f.render_widget(
            Line::styled(
                format!(" {:<w$}", field.label(), w = LABEL as usize - 1),
                label_style,
            ),
            label,
        );
        match field.kind() {
            FieldKind::Text => {
                let t = intake.text(field).expect("text field");
                if field == IntakeField::Name && intake.anonymous {
                    f.render_widget(Line::styled("(anonymous caller)", theme.dim), value);
                    continue;
                }
                let invalid = match field {
                    IntakeField::Age => matches!(v.call.age_input(), AgeInput::Invalid(_)),
                    IntakeField::Zip => {
                        !t.value().is_empty() && v.call.intake_facts().zip.is_none()
                    }
                    _ => false,
                };
                render_text(t, focused, invalid, theme, f, value);
            }
            FieldKind::Toggle => {
                let on = intake.toggle(field).unwrap_or(false);
                f.render_widget(Line::raw(if on { "[x] yes" } else { "[ ] no" }), value);
            }
            FieldKind::Choice => {
                let options = choices(&app.defs, field);
                let current = intake.choice(field);
                let label = current
                    .and_then(|c| options.iter().find(|(id, _)| id == c))
                    .map_or("—".to_owned(), |(_, l)| l.clone());
                let arrows = if focused { "◂ " } else { "" };
                f.render_widget(
                    Line::from(vec![
                        Span::styled(arrows, theme.key),
                        Span::raw(label),
                        Span::styled(if focused { " ▸" } else { "" }, theme.key),
                    ]),
                    value,
                );
            }
        }
    }
    f.render_widget(
        Line::styled(
            " Caller details (every field is saved as you type)",
            theme.title,
        ),
        rows[0],
    );
    render_info(app, v, theme, f, info);
}

fn render_text(
    t: &TextField,
    focused: bool,
    invalid: bool,
    theme: &Theme,
    f: &mut Frame,
    area: Rect,
) {
    let width = area.width.saturating_sub(1) as usize;
    let scroll = t.visual_scroll(width);
    let style = if invalid { theme.invalid } else { theme.base };
    let text = if t.value().is_empty() && !focused {
        Line::styled("—", theme.dim)
    } else {
        Line::styled(t.value().to_owned(), style)
    };
    f.render_widget(Paragraph::new(text).scroll((0, scroll as u16)), area);
    if focused {
        let x = (t.visual_cursor().saturating_sub(scroll)) as u16;
        f.set_cursor_position(Position::new(area.x + x.min(area.width - 1), area.y));
    }
}

fn render_info(app: &App, v: &CallView, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    match v.call.age_input() {
        AgeInput::Invalid(why) => lines.push(Line::styled(format!(" Age: {why}"), theme.error)),
        AgeInput::Born(_) | AgeInput::Age(_) => {
            let age = v.call.outcome.age.unwrap_or(0);
            let tool = if app.defs.instruments.get("dhcs_youth").is_some_and(|_| {
                v.call
                    .outcome
                    .evaluation
                    .result("dhcs_youth")
                    .is_some_and(|r| r.applies)
            }) {
                "youth screening tool"
            } else {
                "adult screening tool"
            };
            lines.push(Line::raw(format!(" Age {age}: {tool}.")));
        }
        AgeInput::Empty => lines.push(Line::styled(
            " Age decides the screening tool (adult or youth).",
            theme.dim,
        )),
    }
    let zip = v.call.intake.zip.value();
    if !zip.is_empty() {
        match v.call.outcome.service_area {
            Some(sa) => {
                let name = app
                    .defs
                    .directory
                    .service_areas
                    .iter()
                    .find(|a| a.id == sa)
                    .map_or(String::new(), |a| a.name.clone());
                lines.push(Line::raw(format!(" ZIP {zip}: service area {sa} {name}.")))
            }
            None if zip.len() == 5 => lines.push(Line::styled(
                format!(" ZIP {zip} is not in a county service area."),
                theme.warning,
            )),
            None => lines.push(Line::styled(" ZIP: 5 digits.", theme.dim)),
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}
