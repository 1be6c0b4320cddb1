//! Safety, screening and assessment: questions rendered from the instrument definitions, one
//! key per answer, skip logic applied, the live score and band of each instrument shown.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::domain::instrument::ItemKind;
use crate::domain::scoring::AnswerValue;
use crate::tui::app::{App, CallView};
use crate::tui::call::Step;
use crate::tui::screens::home::{fit, truncate};
use crate::tui::theme::Theme;

pub fn render(app: &App, v: &CallView, step: Step, theme: &Theme, f: &mut Frame, area: Rect) {
    let defs = &app.defs;
    let questions = v.call.questions(defs, step);
    let [scores, flags, rest] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ]));
    // Live scores of this step's instruments.
    let flow = defs.flow.steps.iter().find(|s| s.id == step.id());
    let mut spans = vec![Span::raw(" ")];
    let mut flag_spans = vec![Span::raw(" ")];
    for id in flow.map(|s| s.instruments.as_slice()).unwrap_or_default() {
        let (Some(inst), Some(r)) = (defs.instrument(id), v.call.outcome.evaluation.result(id))
        else {
            continue;
        };
        if !r.applies {
            continue;
        }
        let score = match (r.total, r.max) {
            (Some(t), Some(m)) => format!(" {t}/{m}"),
            (Some(t), None) => format!(" {t}"),
            _ => String::new(),
        };
        let band = r
            .band
            .as_ref()
            .map_or(String::new(), |b| format!(" {}", b.label));
        let style = theme.band(r.band.as_ref());
        spans.push(Span::styled(
            format!("{}{score}", inst.short_title),
            theme.title,
        ));
        spans.push(Span::styled(band, style));
        if !r.complete {
            spans.push(Span::styled(
                format!(" ({} to go)", r.missing.len()),
                theme.dim,
            ));
        }
        spans.push(Span::styled("  │  ", theme.dim));
        for fl in &r.flags {
            let style = if fl.crisis {
                theme.risk_high
            } else {
                theme.risk_moderate
            };
            flag_spans.push(Span::styled(format!("⚑ {}", fl.message), style));
            flag_spans.push(Span::raw("  "));
        }
    }
    spans.pop();
    f.render_widget(Line::from(spans), scores);
    f.render_widget(Line::from(flag_spans), flags);

    if questions.is_empty() {
        let why = match step {
            Step::Screening | Step::Assessment if v.call.outcome.age.is_none() => {
                "Enter the caller's age on Intake: it decides which tools apply."
            }
            _ => "No questions apply on this step for this caller.",
        };
        f.render_widget(Paragraph::new(format!(" {why}")), rest);
        return;
    }
    let focus = v.focus_of(step).min(questions.len() - 1);
    let (inst_id, item_id) = &questions[focus];
    let inst = defs.instrument(inst_id).expect("shown");
    let item = inst.item(item_id).expect("shown");
    // Count the questions this caller is asked (skip logic may hide some).
    let shown = v
        .call
        .outcome
        .evaluation
        .result(inst_id)
        .map_or(&[][..], |r| r.shown.as_slice());
    let number = shown.iter().position(|i| i == item_id).unwrap_or(0) + 1;
    let answer = v.call.answer(inst_id, item_id);
    let mut lines = vec![Line::styled(item.text.clone(), theme.title)];
    for p in &item.prompts {
        lines.push(Line::styled(format!("  · {p}"), theme.dim));
    }
    let mut opts = Vec::new();
    let mut opts_width = 0;
    let mut push_opt = |opts: &mut Vec<Span<'static>>, key: String, label: String, chosen: bool| {
        opts_width += key.chars().count() + label.chars().count() + 2;
        opts.push(Span::styled(key, theme.key));
        opts.push(Span::styled(
            label,
            if chosen {
                theme.selected.patch(theme.focus)
            } else {
                theme.base
            },
        ));
        opts.push(Span::raw("  "));
    };
    match item.kind {
        ItemKind::YesNo => {
            for (key, label, val) in [("y", "Yes", true), ("n", "No", false)] {
                let chosen = answer == Some(AnswerValue::Bool(val));
                push_opt(&mut opts, format!(" {key} "), label.to_owned(), chosen);
            }
        }
        ItemKind::Choice => {
            for (i, o) in inst.options_of(item).iter().enumerate() {
                let chosen = answer == Some(AnswerValue::Int(o.value));
                push_opt(&mut opts, format!(" {i} "), o.label.clone(), chosen);
            }
        }
    }
    // The answer choices always show; the question's text gets what room is left.
    let inner = rest.width.saturating_sub(2).max(1) as usize;
    let rows = |text: &str| text.chars().count().div_ceil(inner).max(1) as u16;
    let text_rows: u16 = rows(&item.text) + item.prompts.iter().map(|p| rows(p)).sum::<u16>();
    let opt_rows = (opts_width.div_ceil(inner)).max(1) as u16;
    let box_h = (text_rows + 2)
        .min(rest.height.saturating_sub(opt_rows + 3))
        .max(3);
    let [focus_box, options, list] = rest.layout(&Layout::vertical([
        Constraint::Length(box_h),
        Constraint::Length(opt_rows),
        Constraint::Fill(1),
    ]));
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default().borders(Borders::ALL).title(format!(
                " {} · question {number} of {} ",
                inst.short_title,
                shown.len()
            )),
        ),
        focus_box,
    );
    f.render_widget(
        Paragraph::new(Line::from(opts)).wrap(Wrap { trim: false }),
        options,
    );

    // The step's questions, scrolled to keep the focus in view.
    let height = list.height as usize;
    let start = focus
        .saturating_sub(height / 2)
        .min(questions.len().saturating_sub(height));
    let width = list.width as usize;
    let lines: Vec<Line> = questions
        .iter()
        .enumerate()
        .skip(start)
        .take(height)
        .map(|(i, (inst_id, item_id))| {
            let inst = defs.instrument(inst_id).expect("shown");
            let item = inst.item(item_id).expect("shown");
            let ans = match v.call.answer(inst_id, item_id) {
                None => "·".to_owned(),
                Some(AnswerValue::Bool(true)) => "Yes".to_owned(),
                Some(AnswerValue::Bool(false)) => "No".to_owned(),
                Some(AnswerValue::Int(n)) => inst
                    .options_of(item)
                    .iter()
                    .find(|o| o.value == n)
                    .map_or(n.to_string(), |o| format!("{n} {}", truncate(&o.label, 14))),
            };
            let head = format!(" {} ", fit(&inst.short_title, 12));
            let text_w = width.saturating_sub(14 + 20);
            let text = format!("{head}{}  {ans}", fit(&item.text, text_w));
            let style = if i == focus { theme.focus } else { theme.base };
            Line::styled(text, style)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), list);
}
