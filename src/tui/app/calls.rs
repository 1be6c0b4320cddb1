//! A call's life on the screener's side: started, resumed from a draft, amended by an
//! addendum, each answer saved as it is entered, finalized. Part of [`App`]'s update: these
//! change memory and return the [`Effect`]s that do the writing.

use super::*;

impl App {
    /// Start a call: the draft is created at once so the first keystroke is saved.
    pub fn new_call(&mut self) -> Vec<Effect> {
        let call = Call::new(&self.defs, self.now);
        self.call = Some(CallView::new(call));
        self.screen = Screen::Call;
        self.status = None;
        vec![Effect::StartDraft {
            received_at: self.now,
        }]
    }

    pub(super) fn open_draft(&mut self, draft: &Draft) {
        let (call, skipped) = Call::from_fields(
            &self.defs,
            draft.encounter_id,
            draft.received_at,
            &draft.fields,
        );
        let mut view = CallView::new(call);
        if let Some(c) = &draft.cursor {
            view.restore_cursor(&self.defs, c);
        }
        let opened_crisis = view.call.crisis.opened && view.call.crisis.actions.is_empty();
        self.call = Some(view);
        self.screen = Screen::Call;
        if !skipped.is_empty() {
            self.set_status(
                Level::Warning,
                format!(
                    "Resumed; {} saved field(s) could not be read: {}",
                    skipped.len(),
                    skipped.join(", ")
                ),
            );
        } else {
            self.set_status(Level::Info, "Call resumed where you left it.");
        }
        if opened_crisis {
            self.overlay = Some(Overlay::Crisis { focus: 0 });
        }
    }

    /// Open a returned encounter as an addendum: its content as finalized, on the summary,
    /// with the supervisor's note in view.
    pub(super) fn open_amend(
        &mut self,
        rec: &EncounterRecord,
        corrections: &BTreeMap<String, serde_json::Value>,
    ) {
        let note = self
            .home
            .returned
            .iter()
            .find(|r| r.encounter_id == rec.encounter_id)
            .map(|r| r.note.clone())
            .unwrap_or_default();
        let payload: serde_json::Value = rec
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        let call = Call::from_payload(
            &self.defs,
            rec.encounter_id,
            rec.summary.received_at,
            &payload,
            corrections,
        );
        let mut view = CallView::new(call);
        view.step = Step::Summary;
        view.amending = Some(Amending {
            revision: rec.revision,
            supervisor_note: note.clone(),
        });
        self.call = Some(view);
        self.screen = Screen::Call;
        self.set_status(
            Level::Warning,
            format!("Returned: “{note}”. Correct the call, then f to add an addendum."),
        );
    }

    pub(super) fn addendum_key(&mut self, cmd: Command) -> Vec<Effect> {
        let Some(Overlay::AddendumNote(note)) = self.overlay.as_mut() else {
            return Vec::new();
        };
        match cmd {
            Command::Confirm => {
                let text = note.value().trim().to_owned();
                if text.is_empty() {
                    self.set_status(Level::Error, "Say what this addendum changes.");
                    return Vec::new();
                }
                self.overlay = None;
                let Some(v) = &self.call else {
                    return Vec::new();
                };
                let Some(id) = v.call.id else {
                    return Vec::new();
                };
                vec![Effect::Addendum {
                    id,
                    payload: v.call.payload(),
                    summary: Box::new(v.call.summary()),
                    versions: self.defs.versions(),
                    note: text,
                }]
            }
            Command::Cancel => {
                self.overlay = None;
                Vec::new()
            }
            other => {
                note.command(other);
                Vec::new()
            }
        }
    }

    /// Open the crisis protocol (starting a call first when there is none).
    pub fn open_crisis(&mut self) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.call.is_none() || self.screen != Screen::Call {
            out.extend(self.new_call());
        }
        out.extend(crate::tui::flow::mark_crisis(self));
        self.overlay = Some(Overlay::Crisis { focus: 0 });
        out
    }

    /// Save one field now (or as soon as the draft exists).
    pub fn save(&mut self, key: impl Into<String>, value: serde_json::Value) -> Vec<Effect> {
        let Some(v) = self.call.as_mut() else {
            return Vec::new();
        };
        let key = key.into();
        // A newer value replaces one still waiting to be written.
        v.unsaved.retain(|(k, _)| *k != key);
        if let Some(a) = &v.amending {
            // Corrections are saved as entered; the addendum is written whole when added.
            return match v.call.id {
                Some(id) => vec![Effect::SaveAmendField {
                    id,
                    base_revision: a.revision,
                    key,
                    value,
                }],
                None => Vec::new(),
            };
        }
        match v.call.id {
            Some(id) => vec![Effect::SaveField { id, key, value }],
            None => {
                v.unsaved.push((key, value));
                Vec::new()
            }
        }
    }

    /// A write went through: if earlier ones had failed and nothing is waiting any more, say so.
    pub(super) fn after_write(&mut self) {
        let Some(v) = self.call.as_mut() else {
            return;
        };
        if v.write_failed && v.retry_at.is_none() && v.unsaved.is_empty() {
            v.write_failed = false;
            self.set_status(
                Level::Info,
                "Saved: there is room again, and everything on screen is in the database.",
            );
        }
    }

    /// After a failed write: every few seconds, start the draft again or write the answers
    /// that were refused. What fails again comes back as another failure.
    pub(super) fn retry_writes(&mut self) -> Vec<Effect> {
        let now = self.now;
        let Some(v) = self.call.as_mut() else {
            return Vec::new();
        };
        if v.retry_at.is_none_or(|at| now < at) {
            return Vec::new();
        }
        v.retry_at = None;
        let Some(id) = v.call.id else {
            if v.amending.is_some() {
                return Vec::new();
            }
            return vec![Effect::StartDraft {
                received_at: v.call.received_at,
            }];
        };
        v.unsaved_effects(id)
    }

    pub fn cursor_effect(&self) -> Vec<Effect> {
        let Some(v) = &self.call else {
            return Vec::new();
        };
        if v.amending.is_some() {
            return Vec::new();
        }
        match v.call.id {
            Some(id) => vec![Effect::SaveCursor {
                id,
                cursor: v.cursor(&self.defs),
            }],
            None => Vec::new(),
        }
    }

    pub(super) fn finalize(&mut self) -> Vec<Effect> {
        let Some(v) = &self.call else {
            return Vec::new();
        };
        let blockers = v.call.blockers(&self.defs);
        if let Some((step, why)) = blockers.first() {
            self.set_status(
                Level::Error,
                format!("Cannot finalize: {why} ({})", step.title()),
            );
            return Vec::new();
        }
        let Some(id) = v.call.id else {
            self.set_status(Level::Error, "Cannot finalize: the draft is not saved yet.");
            return Vec::new();
        };
        vec![Effect::Finalize {
            id,
            payload: v.call.payload(),
            summary: Box::new(v.call.summary()),
            versions: self.defs.versions(),
        }]
    }

    /// How long the call has been going.
    pub fn call_elapsed(&self) -> Option<chrono::Duration> {
        let v = self.call.as_ref()?;
        Some((self.now - v.call.received_at).max(chrono::Duration::zero()))
    }
}
