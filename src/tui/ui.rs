//! Rendering: reads the state, never changes it. The frame is a header (who, the call timer,
//! the steps), the screen's body, a status line and a footer of keys generated from the keymap.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, Level, Overlay, Screen};
use super::call::Step;
use super::keymap::{Command, Context};
use super::screens;
use super::theme::Theme;
use crate::domain::placement::Triage;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub fn render(app: &App, theme: &Theme, f: &mut Frame) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(theme, f, area);
        return;
    }
    if let Some(lock) = &app.lock {
        screens::lock::render(app, lock, theme, f);
        return;
    }
    let [header, steps, body, status, footer] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(2),
    ]));
    render_header(app, theme, f, header);
    render_steps(app, theme, f, steps);
    match (&app.screen, &app.call) {
        (Screen::Call, Some(v)) => match v.step {
            Step::Intake => screens::intake::render(app, v, theme, f, body),
            s if s.is_questions() => screens::questions::render(app, v, s, theme, f, body),
            Step::Placement => screens::placement::render(app, v, theme, f, body),
            Step::Referral => screens::referral::render(app, v, theme, f, body),
            Step::Notices => screens::notices::render(v, theme, f, body),
            _ => screens::summary::render(app, v, theme, f, body),
        },
        (Screen::Queue, _) => screens::queue::render(app, theme, f, body),
        (Screen::Record, _) => screens::record::render(app, theme, f, body),
        (Screen::Dashboard, _) => screens::dashboard::render(app, theme, f, body),
        _ => screens::home::render(app, theme, f, body),
    }
    render_status(app, theme, f, status);
    render_footer(app, theme, f, footer);
    match &app.overlay {
        Some(Overlay::Help { scroll }) => screens::help::render(app, *scroll, theme, f, body),
        Some(Overlay::Crisis { focus }) => screens::crisis::render(app, *focus, theme, f, body),
        Some(Overlay::ConfirmFinalize) => render_dialog(
            app,
            theme,
            f,
            body,
            "Finalize",
            "Finalize and lock this record? It cannot be edited afterwards; corrections become addenda.",
        ),
        Some(Overlay::ConfirmResume(id)) => {
            let who = app
                .home
                .drafts
                .iter()
                .find(|d| d.encounter_id == *id)
                .map(|d| {
                    format!(
                        "{} (started {}, at {})",
                        d.caller_display,
                        crate::domain::clock::county_time(d.received_at).format("%a %H:%M"),
                        d.cursor
                            .as_ref()
                            .and_then(|c| Step::parse(&c.step))
                            .map_or("Intake", Step::title)
                    )
                })
                .unwrap_or_default();
            render_dialog(
                app,
                theme,
                f,
                body,
                "Unfinished call",
                &format!("Resume the unfinished call with {who}?"),
            )
        }
        Some(Overlay::Decision { decision, note }) => {
            let (title, ask) = match decision {
                crate::store::Decision::Approved => ("Approve", "Note (optional), then Enter:"),
                crate::store::Decision::NeedsChanges => (
                    "Return to the screener",
                    "What should the screener change? (required), then Enter:",
                ),
            };
            render_note(theme, f, body, title, ask, note);
        }
        Some(Overlay::AddendumNote(note)) => render_note(
            theme,
            f,
            body,
            "Addendum",
            "What does this addendum change? (required), then Enter:",
            note,
        ),
        None => {}
    }
}

fn render_note(
    theme: &Theme,
    f: &mut Frame,
    area: Rect,
    title: &str,
    ask: &str,
    note: &super::text_field::TextField,
) {
    let r = centered(area, 70, 6);
    f.render_widget(Clear, r);
    let inner_w = r.width.saturating_sub(2) as usize;
    let scroll = note.visual_scroll(inner_w);
    f.render_widget(
        Paragraph::new(vec![
            Line::raw(ask.to_owned()),
            Line::styled(note.value().to_owned(), theme.base),
            Line::styled("Enter save · Esc cancel", theme.dim),
        ])
        .scroll((0, 0))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} ")),
        ),
        r,
    );
    let x = r.x + 1 + (note.visual_cursor().saturating_sub(scroll)) as u16;
    f.set_cursor_position(ratatui::layout::Position::new(
        x.min(r.right() - 2),
        r.y + 2,
    ));
}

fn render_too_small(theme: &Theme, f: &mut Frame, area: Rect) {
    let text = vec![
        Line::styled("Enlarge the window", theme.title),
        Line::raw(format!(
            "accessline needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is {}×{}.",
            area.width, area.height
        )),
        Line::raw("Nothing is lost: the call is saved. F2 still opens the crisis protocol."),
    ];
    f.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

fn render_header(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let sep = || Span::styled(" │ ", theme.dim);
    let mut spans = vec![
        Span::styled(" accessline", theme.title),
        sep(),
        Span::raw(app.actor.user.clone()),
    ];
    // Before anything else: answers on screen that a failed write (a full disk) left unsaved.
    if let Some(n) = app.call.as_ref().map(|v| v.not_saved()).filter(|n| *n > 0) {
        spans.push(sep());
        spans.push(Span::styled(format!("NOT SAVED: {n}"), theme.crisis));
    }
    if let (Some(v), Some(elapsed)) = (&app.call, app.call_elapsed()) {
        let secs = elapsed.num_seconds();
        spans.push(sep());
        spans.push(Span::raw(format!(
            "⏱ {:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )));
        spans.push(sep());
        spans.push(Span::raw(screens::home::truncate(
            &crate::store::caller_display(&v.call.intake_facts()),
            22,
        )));
        let triage = v.call.outcome.triage.level;
        let style = match triage {
            Triage::Emergent => theme.risk_high,
            Triage::Urgent => theme.risk_moderate,
            Triage::Routine => theme.base,
        };
        spans.push(sep());
        spans.push(Span::styled(triage.as_str().to_uppercase(), style));
        if v.call.crisis.opened {
            spans.push(Span::raw(" "));
            spans.push(Span::styled("CRISIS", theme.crisis));
        }
    }
    f.render_widget(Line::from(spans), area);
}

fn render_steps(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(v) = app.call.as_ref().filter(|_| app.screen == Screen::Call) else {
        let title = match app.screen {
            Screen::Queue => " Review queue",
            Screen::Record => " Review queue › Encounter record",
            Screen::Dashboard => " Review queue › Dashboard",
            _ => " Home",
        };
        f.render_widget(Line::styled(title, theme.title), area);
        return;
    };
    let mut spans = vec![Span::raw(" ")];
    for (i, s) in Step::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("›", theme.dim));
        }
        let style = if *s == v.step {
            theme.focus
        } else {
            theme.base
        };
        spans.push(Span::styled(s.title(), style));
    }
    f.render_widget(Line::from(spans), area);
}

fn render_status(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    if let Some(s) = &app.status {
        let style = match s.level {
            Level::Info => theme.info,
            Level::Warning => theme.warning,
            Level::Error => theme.error,
        };
        f.render_widget(Line::styled(format!(" {}", s.text), style), area);
    }
}

/// The commands a footer shows for the current context, most useful first (the crisis key
/// always first, so it is never cut off on a narrow screen).
pub fn hints(app: &App) -> Vec<Command> {
    let ctx = app.contexts();
    let mut cmds = vec![Command::Crisis];
    match ctx.first() {
        Some(Context::Help) => {
            cmds.extend([Command::Up, Command::Down, Command::Cancel]);
            return cmds;
        }
        Some(Context::Crisis) => {
            cmds = vec![
                Command::Pick(1),
                Command::Up,
                Command::Toggle,
                Command::Cancel,
            ];
            return cmds;
        }
        Some(Context::Dialog) => {
            cmds.extend([Command::Yes, Command::No]);
            return cmds;
        }
        _ => {}
    }
    if app.text_focused() {
        cmds.extend([Command::NextField, Command::Confirm]);
    } else {
        cmds.extend(match ctx.get(1) {
            Some(Context::Home) => vec![
                Command::NewCall,
                Command::Confirm,
                Command::Refresh,
                Command::Lock,
            ],
            Some(Context::Intake) => vec![Command::Down, Command::Right, Command::Toggle],
            Some(Context::Instrument) => {
                vec![Command::Pick(0), Command::Yes, Command::No, Command::Down]
            }
            Some(Context::Placement) => {
                vec![Command::Confirm, Command::Override, Command::ClearOverride]
            }
            Some(Context::Referral) => vec![
                Command::Confirm,
                Command::Toggle,
                Command::Handoff,
                Command::FilterLanguage,
                Command::FilterArea,
            ],
            Some(Context::Notices) => vec![Command::Confirm, Command::Toggle],
            Some(Context::Summary) => vec![Command::Finalize],
            Some(Context::Queue) => vec![
                Command::Confirm,
                Command::Search,
                Command::FilterAwaiting,
                Command::CycleRisk,
                Command::CycleTriage,
                Command::CycleDates,
                Command::CycleSort,
                Command::ClearFilters,
                Command::Dashboard,
            ],
            Some(Context::Record) => vec![Command::Approve, Command::Return, Command::Down],
            Some(Context::Dashboard) => {
                vec![
                    Command::CycleDates,
                    Command::ExportReports,
                    Command::Refresh,
                ]
            }
            _ => Vec::new(),
        });
    }
    match app.screen {
        Screen::Call => cmds.extend([Command::PrevStep, Command::NextStep]),
        Screen::Queue => cmds.push(Command::NextStep),
        _ => {}
    }
    cmds.push(Command::Help);
    if app.screen == Screen::Home {
        cmds.push(Command::Quit);
    } else if !app.text_focused() {
        cmds.push(Command::Cancel);
    }
    if app.screen == Screen::Home {
        cmds.insert(3, Command::Review);
    }
    cmds
}

fn hint_label(app: &App, cmd: Command) -> Option<(String, &'static str)> {
    let ctx = app.contexts();
    let crisis = ctx.first() == Some(&Context::Crisis);
    let label = match cmd {
        Command::Pick(_) if crisis => "1-6".to_owned(),
        Command::Pick(_) => "0-9".to_owned(),
        _ => app.keymap.label(&ctx, cmd)?,
    };
    let screen = ctx.get(1).copied();
    let desc = match cmd {
        Command::Crisis if crisis => "close",
        Command::Crisis => "CRISIS",
        Command::Cancel if crisis => "close",
        Command::Cancel if app.screen == Screen::Call => "home",
        Command::Cancel if matches!(app.screen, Screen::Record | Screen::Dashboard) => "back",
        Command::CycleDates if app.screen == Screen::Dashboard => "period",
        Command::Confirm if screen == Some(Context::Queue) => "open",
        Command::NextStep if app.screen == Screen::Queue => "next page",
        Command::Down if screen == Some(Context::Record) => "scroll",
        Command::Pick(_) if crisis => "record action",
        Command::Pick(_) => "answer",
        Command::Confirm if screen == Some(Context::Home) => "resume",
        Command::Confirm if app.text_focused() => "next",
        Command::Confirm
            if matches!(
                screen,
                Some(Context::Placement | Context::Referral | Context::Notices)
            ) =>
        {
            "next step"
        }
        Command::Down if screen == Some(Context::Intake) => "next field",
        Command::NextField => "next field",
        Command::PrevStep => "back",
        Command::NextStep => "next step",
        Command::Up | Command::Down if crisis => "move",
        _ => cmd.describe(),
    };
    Some((label, desc))
}

fn render_footer(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    // Hints flow over the footer's lines; a hint never breaks across two.
    let mut lines: Vec<Vec<Span>> = vec![Vec::new()];
    let mut width = 0usize;
    for cmd in hints(app) {
        let Some((key, desc)) = hint_label(app, cmd) else {
            continue;
        };
        let w = key.chars().count() + desc.chars().count() + 3;
        if width + w > area.width as usize {
            if lines.len() == area.height as usize {
                break;
            }
            lines.push(Vec::new());
            width = 0;
        }
        width += w;
        let line = lines.last_mut().expect("one line at least");
        line.push(Span::styled(format!(" {key}"), theme.key));
        line.push(Span::raw(format!(" {desc} ")));
    }
    let text: Vec<Line> = lines.into_iter().map(Line::from).collect();
    f.render_widget(Paragraph::new(text), area);
}

/// A centred box of the given size inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn render_dialog(app: &App, theme: &Theme, f: &mut Frame, area: Rect, title: &str, text: &str) {
    let r = centered(area, 60, 7);
    f.render_widget(Clear, r);
    let yes = app
        .keymap
        .label(&[Context::Dialog], Command::Yes)
        .unwrap_or_default();
    let no = app
        .keymap
        .label(&[Context::Dialog], Command::No)
        .unwrap_or_default();
    let body = vec![
        Line::raw(text.to_owned()),
        Line::raw(""),
        Line::from(vec![
            Span::styled(yes, theme.key),
            Span::raw(" yes   "),
            Span::styled(no, theme.key),
            Span::raw(" no"),
        ]),
    ];
    f.render_widget(
        Paragraph::new(body).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} ")),
        ),
        r,
    );
}
