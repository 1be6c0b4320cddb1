//! Key handling for the steps of a call. Every change to an answer saves that answer (an
//! [`Effect::SaveField`]) and recomputes what depends on it.

use serde_json::json;

use super::app::{App, CallView, Effect, Level, Overlay, PlacementMode};
use super::call::{
    CONSENT_KEY, CRISIS_ACTIONS, CRISIS_KEY, FieldKind, IntakeField, NOTICES, OVERRIDE_KEY,
    OVERRIDE_REASON_KEY, REFERRALS_KEY, REQUIRE_AREA_KEY, REQUIRE_LANGUAGE_KEY, Referral, Step,
    choices,
};
use super::keymap::Command;
use super::text_field::Edit;
use crate::domain::instrument::ItemKind;
use crate::domain::quadrant::{CellId, Level as Axis};
use crate::domain::scoring::AnswerValue;

mod intake;
mod later;
use intake::intake_key;
use later::{notices_key, placement_key, referral_key, summary_key};

fn view(app: &mut App) -> &mut CallView {
    app.call.as_mut().expect("a call is open")
}

/// Recompute, then open the crisis protocol by itself if an answer now calls for it.
fn after_change(app: &mut App) -> Vec<Effect> {
    let defs = app.defs.clone();
    let v = view(app);
    v.call.recompute(&defs);
    if v.call.outcome.crisis_indicated && !v.call.crisis.opened {
        let mut out = mark_crisis(app);
        app.overlay = Some(Overlay::Crisis { focus: 0 });
        app.set_status(
            Level::Warning,
            "A safety answer calls for the crisis protocol: record what you do.",
        );
        out.extend(Vec::new());
        return out;
    }
    Vec::new()
}

/// Mark the call as a crisis (emergent) and save that at once.
pub fn mark_crisis(app: &mut App) -> Vec<Effect> {
    let now = app.now;
    let defs = app.defs.clone();
    let v = view(app);
    if v.call.crisis.opened {
        return Vec::new();
    }
    v.call.crisis.opened = true;
    v.call.crisis.opened_at = Some(now);
    v.call.recompute(&defs);
    let value = v.call.crisis_value();
    app.save(CRISIS_KEY, value)
}

pub fn crisis_key(app: &mut App, focus: usize, cmd: Command) -> Vec<Effect> {
    let n = CRISIS_ACTIONS.len();
    match cmd {
        Command::Down | Command::NextField => {
            app.overlay = Some(Overlay::Crisis {
                focus: (focus + 1).min(n - 1),
            });
            Vec::new()
        }
        Command::Up | Command::PrevField => {
            app.overlay = Some(Overlay::Crisis {
                focus: focus.saturating_sub(1),
            });
            Vec::new()
        }
        Command::Toggle => toggle_action(app, focus),
        Command::Pick(k) if (1..=n).contains(&(k as usize)) => {
            app.overlay = Some(Overlay::Crisis {
                focus: k as usize - 1,
            });
            toggle_action(app, k as usize - 1)
        }
        Command::Cancel | Command::Confirm | Command::Crisis => {
            let done = app
                .call
                .as_ref()
                .is_some_and(|v| !v.call.crisis.actions.is_empty());
            if done {
                app.overlay = None;
                app.set_status(
                    Level::Warning,
                    "Crisis actions recorded; the call is emergent. Continue the call or finalize.",
                );
            } else {
                app.set_status(
                    Level::Error,
                    "Record at least one action taken before closing the crisis protocol.",
                );
            }
            Vec::new()
        }
        Command::Quit => {
            app.quit = true;
            vec![Effect::Quit]
        }
        _ => Vec::new(),
    }
}

fn toggle_action(app: &mut App, at: usize) -> Vec<Effect> {
    let now = app.now;
    let v = view(app);
    let id = CRISIS_ACTIONS[at].0.to_owned();
    if v.call.crisis.actions.remove(&id).is_none() {
        v.call.crisis.actions.insert(id, now);
    }
    let value = v.call.crisis_value();
    app.status = None;
    app.save(CRISIS_KEY, value)
}

pub fn call_key(app: &mut App, cmd: Command) -> Vec<Effect> {
    let step = view(app).step;
    match cmd {
        Command::NextStep => return go_to(app, step.next()),
        Command::PrevStep => return go_to(app, step.prev()),
        Command::GoStep(n) if (1..=Step::ALL.len()).contains(&(n as usize)) => {
            return go_to(app, Step::ALL[n as usize - 1]);
        }
        Command::Cancel if view(app).placement == PlacementMode::View => {
            app.screen = super::app::Screen::Home;
            app.call = None;
            app.set_status(
                Level::Info,
                "Call kept as a draft; resume it from this list.",
            );
            return vec![app.load_home()];
        }
        _ => {}
    }
    match step {
        Step::Intake => intake_key(app, cmd),
        s if s.is_questions() => question_key(app, s, cmd),
        Step::Placement => placement_key(app, cmd),
        Step::Referral => referral_key(app, cmd),
        Step::Notices => notices_key(app, cmd),
        _ => summary_key(app, cmd),
    }
}

pub fn go_to(app: &mut App, step: Step) -> Vec<Effect> {
    let v = view(app);
    if v.step == step {
        return Vec::new();
    }
    v.step = step;
    v.placement = PlacementMode::View;
    app.status = None;
    app.cursor_effect()
}

/// The focused text field's key and a mutable handle, if a text field has focus.
fn focused_text(app: &mut App) -> Option<(String, &mut super::text_field::TextField)> {
    let v = app.call.as_mut()?;
    match v.step {
        Step::Intake => {
            let f = IntakeField::ALL[v.intake_focus];
            if f == IntakeField::Name && v.call.intake.anonymous {
                return None;
            }
            let key = f.key().to_owned();
            v.call.intake.text_mut(f).map(|t| (key, t))
        }
        Step::Placement if v.placement == PlacementMode::Reason => {
            Some((OVERRIDE_REASON_KEY.to_owned(), &mut v.call.override_reason))
        }
        _ => None,
    }
}

fn saved_text(app: &mut App, key: String, edit: Edit) -> Vec<Effect> {
    if edit == Edit::Unchanged {
        return Vec::new();
    }
    if edit == Edit::Truncated {
        app.set_status(
            Level::Warning,
            "Pasted text was longer than the field allows; the rest was not kept.",
        );
    }
    let value = {
        let (_, field) = focused_text(app).expect("still focused");
        json!(field.value())
    };
    let mut out = app.save(key, value);
    out.extend(after_change(app));
    out
}

fn text_command(app: &mut App, cmd: Command) -> Vec<Effect> {
    let Some((key, field)) = focused_text(app) else {
        return Vec::new();
    };
    let edit = field.command(cmd);
    saved_text(app, key, edit)
}

pub fn insert(app: &mut App, c: char) -> Vec<Effect> {
    let Some((key, field)) = focused_text(app) else {
        return Vec::new();
    };
    let edit = field.insert(c);
    saved_text(app, key, edit)
}

pub fn paste(app: &mut App, text: &str) -> Vec<Effect> {
    let Some((key, field)) = focused_text(app) else {
        return Vec::new();
    };
    let edit = field.paste(text);
    saved_text(app, key, edit)
}

fn question_key(app: &mut App, step: Step, cmd: Command) -> Vec<Effect> {
    let defs = app.defs.clone();
    let v = view(app);
    let questions = v.call.questions(&defs, step);
    let n = questions.len();
    let focus = v.focus_of(step).min(n.saturating_sub(1));
    match cmd {
        Command::Down | Command::NextField => {
            v.set_focus(step, (focus + 1).min(n.saturating_sub(1)));
            app.cursor_effect()
        }
        Command::Up | Command::PrevField => {
            v.set_focus(step, focus.saturating_sub(1));
            app.cursor_effect()
        }
        Command::Confirm => {
            // Enter: the first unanswered question, or the next step when all are answered.
            match questions
                .iter()
                .position(|(i, q)| v.call.answer(i, q).is_none())
            {
                Some(at) => {
                    v.set_focus(step, at);
                    app.set_status(Level::Info, "Unanswered question.");
                    app.cursor_effect()
                }
                None => go_to(app, step.next()),
            }
        }
        Command::Yes | Command::No | Command::Pick(_) => {
            let Some((inst_id, item_id)) = questions.get(focus).cloned() else {
                return Vec::new();
            };
            let inst = defs.instrument(&inst_id).expect("shown instruments exist");
            let item = inst.item(&item_id).expect("shown items exist");
            let value = match (item.kind, cmd) {
                (ItemKind::YesNo, Command::Yes | Command::Pick(1)) => AnswerValue::Bool(true),
                (ItemKind::YesNo, Command::No | Command::Pick(0)) => AnswerValue::Bool(false),
                (ItemKind::Choice, Command::Pick(k)) => {
                    match inst.options_of(item).get(k as usize) {
                        Some(o) => AnswerValue::Int(o.value),
                        None => {
                            app.set_status(
                                Level::Warning,
                                format!(
                                    "No answer {k} for this question: use 0–{}.",
                                    inst.options_of(item).len().saturating_sub(1)
                                ),
                            );
                            return Vec::new();
                        }
                    }
                }
                _ => {
                    app.set_status(
                        Level::Warning,
                        match item.kind {
                            ItemKind::YesNo => "Answer with y or n.",
                            ItemKind::Choice => "Answer with the number shown beside the choice.",
                        },
                    );
                    return Vec::new();
                }
            };
            v.call
                .answers
                .entry(inst_id.clone())
                .or_default()
                .insert(item_id.clone(), value);
            app.status = None;
            let mut out = app.save(
                super::call::Call::answer_key(&inst_id, &item_id),
                json!(value),
            );
            out.extend(after_change(app));
            // Move to the next question after this one (the list may have changed).
            let v = view(app);
            let now = v.call.questions(&defs, step);
            if let Some(at) = now.iter().position(|(i, q)| *i == inst_id && *q == item_id) {
                v.set_focus(step, (at + 1).min(now.len().saturating_sub(1)));
            }
            out.extend(app.cursor_effect());
            out
        }
        _ => Vec::new(),
    }
}
