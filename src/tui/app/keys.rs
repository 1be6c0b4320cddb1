//! Which keys mean what now: the contexts a key is looked up in, and whether a text field has
//! focus (so a printable key is typed, not a command).

use super::*;

impl App {
    /// The contexts a key is looked up in, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        if self.lock.is_some() {
            return vec![Context::Global, Context::Text];
        }
        match &self.overlay {
            Some(Overlay::Help { .. }) => return vec![Context::Help, Context::Global],
            Some(Overlay::Crisis { .. }) => {
                return vec![Context::Crisis, Context::Global, Context::Navigation];
            }
            Some(Overlay::ConfirmFinalize | Overlay::ConfirmResume(_)) => {
                return vec![Context::Dialog, Context::Global];
            }
            Some(Overlay::Decision { .. } | Overlay::AddendumNote(_)) => {
                return vec![Context::Global, Context::Text];
            }
            None => {}
        }
        if self.text_focused() {
            return vec![Context::Global, Context::Text];
        }
        match self.screen {
            Screen::Queue => return vec![Context::Global, Context::Queue, Context::Navigation],
            Screen::Record => return vec![Context::Global, Context::Record, Context::Navigation],
            Screen::Dashboard => {
                return vec![Context::Global, Context::Dashboard, Context::Navigation];
            }
            _ => {}
        }
        let screen = match (&self.screen, self.call.as_ref().map(|c| c.step)) {
            (Screen::Home | Screen::Queue | Screen::Record | Screen::Dashboard, _)
            | (Screen::Call, None) => Context::Home,
            (Screen::Call, Some(Step::Intake)) => Context::Intake,
            (Screen::Call, Some(s)) if s.is_questions() => Context::Instrument,
            (Screen::Call, Some(Step::Placement)) => Context::Placement,
            (Screen::Call, Some(Step::Referral)) => Context::Referral,
            (Screen::Call, Some(Step::Notices)) => Context::Notices,
            (Screen::Call, Some(_)) => Context::Summary,
        };
        vec![Context::Global, screen, Context::Navigation]
    }

    /// Key → action, through the keymap; a focused text field gets printable keys.
    pub fn translate(&self, key: Key) -> Option<Action> {
        for ctx in self.contexts() {
            if let Some(cmd) = self.keymap.lookup(ctx, &key) {
                return Some(Action::Command(cmd));
            }
        }
        if self.text_focused() {
            return key.printable().map(Action::Insert);
        }
        None
    }

    /// Is a text field taking the keys?
    pub fn text_focused(&self) -> bool {
        if let Some(l) = &self.lock {
            return !l.crisis;
        }
        match &self.overlay {
            Some(Overlay::Decision { .. } | Overlay::AddendumNote(_)) => return true,
            Some(_) => return false,
            None => {}
        }
        if self.screen == Screen::Queue {
            return self.queue.as_ref().is_some_and(|q| q.input.is_some());
        }
        if self.screen != Screen::Call {
            return false;
        }
        let Some(v) = &self.call else {
            return false;
        };
        match v.step {
            Step::Intake => {
                let f = crate::tui::call::IntakeField::ALL[v.intake_focus];
                v.call.intake.text(f).is_some()
                    && !(f == crate::tui::call::IntakeField::Name && v.call.intake.anonymous)
            }
            Step::Placement => v.placement == PlacementMode::Reason,
            _ => false,
        }
    }
}
