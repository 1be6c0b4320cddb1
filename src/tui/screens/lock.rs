//! The sign-in / lock screen. It is drawn instead of everything else, so nothing of a call (no
//! name, no reason for the call, no answer) is on screen while the session is locked.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::keymap::{Command, Context};
use crate::tui::lock::{LockReason, LockView};
use crate::tui::theme::Theme;
use crate::tui::ui::centered;

/// Label column width in the form.
const LABEL: usize = 19;

pub fn render(app: &App, v: &LockView, theme: &Theme, f: &mut Frame) {
    let area = f.area();
    f.render_widget(Clear, area);
    let [header, _, body, lines, footer] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(2),
        Constraint::Length(1),
    ]));
    let state = match v.reason {
        LockReason::FirstRun => "set up this device",
        LockReason::SignIn => "sign in",
        LockReason::Idle | LockReason::Manual => "locked",
    };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" accessline", theme.title),
            Span::styled(" │ ", theme.dim),
            Span::raw(state),
        ])),
        header,
    );
    if v.crisis {
        render_crisis_lines(app, theme, f, body);
    } else {
        render_form(v, theme, f, body);
    }
    render_help_lines(app, theme, f, lines);
    render_keys(app, v, theme, f, footer);
}

fn intro(v: &LockView) -> Vec<String> {
    match v.reason {
        LockReason::FirstRun => vec![
            "Nobody is enrolled on this device yet. Create the administrator: their \
             passphrase (8 characters or more) protects the key of the encrypted database."
                .into(),
        ],
        LockReason::SignIn => vec!["Sign in with your user name and PIN.".into()],
        LockReason::Idle | LockReason::Manual => {
            let why = if v.reason == LockReason::Idle {
                "Locked after a time without a key."
            } else {
                "Locked."
            };
            vec![
                why.into(),
                format!(
                    "{}'s work is saved and kept; their PIN resumes it. Another user may sign in.",
                    v.locked_user.as_deref().unwrap_or("The user")
                ),
            ]
        }
    }
}

fn render_form(v: &LockView, theme: &Theme, f: &mut Frame, area: Rect) {
    let fields = v.fields();
    let height = (fields.len() as u16) + 8;
    let r = centered(area, 64, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(
            match v.reason {
                LockReason::FirstRun => " First administrator ",
                _ => " Sign in ",
            },
            theme.title,
        ))
        .border_style(theme.dim)
        .padding(Padding::horizontal(1));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let width = inner.width.max(1) as usize;
    let mut lines: Vec<Line> = intro(v)
        .iter()
        .flat_map(|p| wrap(p, width))
        .map(Line::raw)
        .collect();
    lines.push(Line::raw(""));
    let intro_rows = lines.len() as u16;
    let field_width = inner.width.saturating_sub(LABEL as u16 + 1) as usize;
    for (i, field) in fields.iter().enumerate() {
        let text = v.field(*field);
        let shown = if field.is_secret() {
            "•".repeat(text.value().chars().count())
        } else {
            text.value().to_owned()
        };
        let focused = i == v.focus;
        let scroll = text.visual_scroll(field_width.saturating_sub(1));
        let visible: String = shown.chars().skip(scroll).take(field_width).collect();
        let style = if focused { theme.focus } else { theme.base };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<LABEL$}", field.label()),
                if focused { theme.title } else { theme.dim },
            ),
            Span::raw(" "),
            Span::styled(format!("{visible:<field_width$}"), style),
        ]));
        if focused && !v.busy {
            let x = inner.x + LABEL as u16 + 1 + (text.visual_cursor() - scroll) as u16;
            let y = inner.y + intro_rows + i as u16;
            if y < inner.bottom() {
                f.set_cursor_position(Position::new(x.min(inner.right() - 1), y));
            }
        }
    }
    lines.push(Line::raw(""));
    if let Some(m) = &v.message {
        let style = if v.busy { theme.info } else { theme.error };
        lines.push(Line::styled(m.clone(), style));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// Word-wrap one paragraph to `width` columns (so the form's rows are known for the cursor).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in text.split_whitespace() {
        let line = out.last_mut().expect("one line");
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && needed > width {
            out.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    out
}

/// The numbers a screener may need even with the screen locked.
fn render_help_lines(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let number = |id: &str| {
        app.defs
            .directory
            .help_lines
            .iter()
            .find(|h| h.id == id)
            .map(|h| h.number.clone())
            .unwrap_or_default()
    };
    let line = Line::from(vec![
        Span::styled(" Crisis: ", theme.crisis),
        Span::raw(format!(
            "{} danger now · {} suicidal crisis · {} DMH Help Line",
            number("help-911"),
            number("help-988"),
            number("help-dmh")
        )),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

fn render_crisis_lines(app: &App, theme: &Theme, f: &mut Frame, area: Rect) {
    let r = centered(area, 76, 12);
    let mut lines = vec![
        Line::styled(
            " Danger now: 911.  Suicidal crisis: 988.  Mobile team: DMH Help Line.",
            theme.title,
        ),
        Line::raw(""),
    ];
    for h in &app.defs.directory.help_lines {
        lines.push(Line::raw(format!("  {:<16} {}", h.number, h.name)));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " Sign in to record crisis actions on the call.",
        theme.dim,
    ));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" Crisis lines ", theme.crisis));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        r,
    );
}

fn render_keys(app: &App, v: &LockView, theme: &Theme, f: &mut Frame, area: Rect) {
    let ctx = [Context::Global, Context::Text];
    let mut spans = Vec::new();
    let items: &[(Command, &str)] = if v.crisis {
        &[(Command::Cancel, "close"), (Command::Quit, "quit")]
    } else {
        &[
            (Command::Confirm, "next / sign in"),
            (Command::NextField, "next field"),
            (Command::Cancel, "clear"),
            (Command::Crisis, "CRISIS lines"),
            (Command::Quit, "quit"),
        ]
    };
    for (cmd, desc) in items {
        if let Some(key) = app.keymap.label(&ctx, *cmd) {
            spans.push(Span::styled(format!(" {key}"), theme.key));
            spans.push(Span::raw(format!(" {desc} ")));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
