//! Keys on the intake step: moving between fields, choices, and typed answers.

use super::*;

pub(super) fn intake_key(app: &mut App, cmd: Command) -> Vec<Effect> {
    let defs = app.defs.clone();
    let n = IntakeField::ALL.len();
    let v = view(app);
    let field = IntakeField::ALL[v.intake_focus];
    match cmd {
        Command::Down | Command::NextField => {
            v.intake_focus = (v.intake_focus + 1).min(n - 1);
            app.cursor_effect()
        }
        Command::Up | Command::PrevField => {
            v.intake_focus = v.intake_focus.saturating_sub(1);
            app.cursor_effect()
        }
        Command::Confirm => {
            if v.intake_focus + 1 == n {
                go_to(app, Step::Safety)
            } else {
                v.intake_focus += 1;
                app.cursor_effect()
            }
        }
        Command::Left | Command::Right if matches!(field.kind(), FieldKind::Choice) => {
            let options = choices(&defs, field);
            let current = v.call.intake.choice(field).map(str::to_owned);
            let at = current
                .as_ref()
                .and_then(|c| options.iter().position(|(id, _)| id == c));
            let next = match (cmd, at) {
                (Command::Right, None) => Some(0),
                (Command::Right, Some(i)) => Some((i + 1) % options.len()),
                (_, None) => Some(options.len() - 1),
                (_, Some(0)) => None,
                (_, Some(i)) => Some(i - 1),
            };
            set_choice(app, field, next.map(|i| options[i].0.clone()))
        }
        Command::Toggle | Command::Yes | Command::No
            if matches!(field.kind(), FieldKind::Toggle) =>
        {
            let current = v.call.intake.toggle(field).unwrap_or(false);
            let value = match cmd {
                Command::Yes => true,
                Command::No => false,
                _ => !current,
            };
            match field {
                IntakeField::Anonymous => v.call.intake.anonymous = value,
                _ => v.call.intake.interpreter = value,
            }
            let saved = v.call.intake.value(field);
            let mut out = app.save(field.key(), saved);
            out.extend(after_change(app));
            out
        }
        Command::Toggle if matches!(field.kind(), FieldKind::Choice) => {
            intake_key(app, Command::Right)
        }
        Command::Pick(k) if matches!(field.kind(), FieldKind::Choice) => {
            let options = choices(&defs, field);
            match (k as usize).checked_sub(1).and_then(|i| options.get(i)) {
                Some((id, _)) => set_choice(app, field, Some(id.clone())),
                None => Vec::new(),
            }
        }
        _ => text_command(app, cmd),
    }
}

fn set_choice(app: &mut App, field: IntakeField, value: Option<String>) -> Vec<Effect> {
    let v = view(app);
    let slot = match field {
        IntakeField::CallerType => &mut v.call.intake.caller_type,
        IntakeField::Sex => &mut v.call.intake.sex,
        IntakeField::Language => &mut v.call.intake.language,
        _ => &mut v.call.intake.medi_cal,
    };
    *slot = value;
    let saved = v.call.intake.value(field);
    let mut out = app.save(field.key(), saved);
    out.extend(after_change(app));
    out
}
