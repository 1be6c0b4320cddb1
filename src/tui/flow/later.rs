//! Keys on the steps after the questions: placement (the 9-quadrant grid and an override),
//! referral, notices and the summary.

use super::*;

fn move_level(l: Axis, up: bool) -> Axis {
    match (l, up) {
        (Axis::Low, true) | (Axis::High, false) => Axis::Moderate,
        (Axis::Moderate, true) | (Axis::High, true) => Axis::High,
        (Axis::Moderate, false) | (Axis::Low, false) => Axis::Low,
    }
}

pub(super) fn placement_key(app: &mut App, cmd: Command) -> Vec<Effect> {
    let v = view(app);
    match (v.placement, cmd) {
        (PlacementMode::View, Command::Override) => {
            v.placement = PlacementMode::Choosing(v.call.outcome.chosen_cell);
            Vec::new()
        }
        (PlacementMode::View, Command::ClearOverride) => set_override(app, None),
        (PlacementMode::View, Command::Confirm) => go_to(app, Step::Referral),
        (PlacementMode::Choosing(cell), Command::Up | Command::Down) => {
            // Rows are mental-health severity, high at the top.
            let mh = move_level(cell.mh, cmd == Command::Up);
            v.placement = PlacementMode::Choosing(CellId { mh, ..cell });
            Vec::new()
        }
        (PlacementMode::Choosing(cell), Command::Left | Command::Right) => {
            let acuity = move_level(cell.acuity, cmd == Command::Right);
            v.placement = PlacementMode::Choosing(CellId { acuity, ..cell });
            Vec::new()
        }
        (PlacementMode::Choosing(cell), Command::Confirm) => {
            if cell == v.call.outcome.placement.cell {
                v.placement = PlacementMode::View;
                set_override(app, None)
            } else {
                v.placement = PlacementMode::Reason;
                let mut out = set_override(app, Some(cell));
                app.set_status(Level::Info, "Type the reason for the override, then Enter.");
                out.extend(Vec::new());
                out
            }
        }
        (PlacementMode::Choosing(_), Command::Cancel) => {
            v.placement = PlacementMode::View;
            Vec::new()
        }
        (PlacementMode::Reason, Command::Confirm | Command::Cancel) => {
            let empty = v.call.override_reason.value().trim().is_empty();
            if !empty || cmd == Command::Cancel {
                v.placement = PlacementMode::View;
            }
            if empty {
                app.set_status(
                    Level::Error,
                    "An override needs a reason (or press c to use the computed cell).",
                );
            } else {
                app.status = None;
            }
            Vec::new()
        }
        (PlacementMode::Reason, _) => text_command(app, cmd),
        _ => Vec::new(),
    }
}

fn set_override(app: &mut App, cell: Option<CellId>) -> Vec<Effect> {
    let v = view(app);
    v.call.override_cell = cell;
    let mut out = app.save(OVERRIDE_KEY, json!(cell.map(CellId::id)));
    out.extend(after_change(app));
    out
}

pub(super) fn referral_key(app: &mut App, cmd: Command) -> Vec<Effect> {
    let v = view(app);
    let n = v.call.outcome.programs.len();
    let focus = v.referral_focus.min(n.saturating_sub(1));
    let selected = v
        .call
        .outcome
        .programs
        .get(focus)
        .map(|p| p.service.service_id.clone());
    match cmd {
        Command::Down | Command::NextField => {
            v.referral_focus = (focus + 1).min(n.saturating_sub(1));
            app.cursor_effect()
        }
        Command::Up | Command::PrevField => {
            v.referral_focus = focus.saturating_sub(1);
            app.cursor_effect()
        }
        Command::Toggle => {
            let Some(id) = selected else {
                return Vec::new();
            };
            if let Some(at) = v.call.referrals.iter().position(|r| r.service_id == id) {
                v.call.referrals.remove(at);
            } else {
                v.call.referrals.push(Referral {
                    service_id: id,
                    warm_handoff: false,
                });
            }
            let value = v.call.referrals_value();
            app.save(REFERRALS_KEY, value)
        }
        Command::Handoff => {
            let Some(id) = selected else {
                return Vec::new();
            };
            match v.call.referrals.iter_mut().find(|r| r.service_id == id) {
                Some(r) => r.warm_handoff = !r.warm_handoff,
                None => {
                    app.set_status(Level::Warning, "Pick the program first (Space).");
                    return Vec::new();
                }
            }
            let value = v.call.referrals_value();
            app.save(REFERRALS_KEY, value)
        }
        Command::FilterLanguage | Command::FilterArea => {
            let (key, flag) = if cmd == Command::FilterLanguage {
                v.call.require_language = !v.call.require_language;
                (REQUIRE_LANGUAGE_KEY, v.call.require_language)
            } else {
                v.call.require_area = !v.call.require_area;
                (REQUIRE_AREA_KEY, v.call.require_area)
            };
            v.referral_focus = 0;
            let mut out = app.save(key, json!(flag));
            out.extend(after_change(app));
            out
        }
        Command::Confirm => go_to(app, Step::Notices),
        _ => Vec::new(),
    }
}

pub(super) fn notices_key(app: &mut App, cmd: Command) -> Vec<Effect> {
    let v = view(app);
    // Rows: each notice, then the consent row.
    let n = NOTICES.len() + 1;
    match cmd {
        Command::Down | Command::NextField => {
            v.notices_focus = (v.notices_focus + 1).min(n - 1);
            app.cursor_effect()
        }
        Command::Up | Command::PrevField => {
            v.notices_focus = v.notices_focus.saturating_sub(1);
            app.cursor_effect()
        }
        Command::Toggle | Command::Yes | Command::No => {
            if let Some((id, _)) = NOTICES.get(v.notices_focus) {
                let on = match cmd {
                    Command::Yes => true,
                    Command::No => false,
                    _ => !v.call.notices.contains(*id),
                };
                if on {
                    v.call.notices.insert((*id).to_owned());
                } else {
                    v.call.notices.remove(*id);
                }
                app.save(format!("notices.{id}"), json!(on))
            } else {
                v.call.sud_consent = match cmd {
                    Command::Yes => crate::tui::call::Consent::Given,
                    Command::No => crate::tui::call::Consent::Declined,
                    _ => v.call.sud_consent.next(),
                };
                let value = json!(v.call.sud_consent.as_str());
                app.save(CONSENT_KEY, value)
            }
        }
        Command::Confirm => go_to(app, Step::Summary),
        _ => Vec::new(),
    }
}

pub(super) fn summary_key(app: &mut App, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::Finalize | Command::Confirm => {
            let defs = app.defs.clone();
            let blockers = view(app).call.blockers(&defs);
            if let Some((step, why)) = blockers.first() {
                app.set_status(
                    Level::Error,
                    format!("Cannot finalize yet: {why} ({}).", step.title()),
                );
                return Vec::new();
            }
            app.overlay = Some(if view(app).amending.is_some() {
                Overlay::AddendumNote(crate::tui::text_field::TextField::new(1000))
            } else {
                Overlay::ConfirmFinalize
            });
            Vec::new()
        }
        _ => Vec::new(),
    }
}
