//! Commands outside a call step: the global ones (crisis, help, lock, quit, the screens) and the
//! home screen's keys. Part of [`App`]'s update.

use super::*;

impl App {
    pub(super) fn command(&mut self, cmd: Command) -> Vec<Effect> {
        if cmd == Command::Lock {
            return self.lock_screen(LockReason::Manual);
        }
        // Overlays first: they own the keys while open.
        match self.overlay.clone() {
            Some(Overlay::Help { scroll }) => {
                match cmd {
                    Command::Cancel | Command::Help => self.overlay = None,
                    Command::Down => {
                        self.overlay = Some(Overlay::Help {
                            scroll: scroll.saturating_add(1),
                        })
                    }
                    Command::Up => {
                        self.overlay = Some(Overlay::Help {
                            scroll: scroll.saturating_sub(1),
                        })
                    }
                    Command::Crisis => return self.open_crisis(),
                    Command::Quit => return self.quit(),
                    _ => {}
                }
                return Vec::new();
            }
            Some(Overlay::Crisis { focus }) => {
                return crate::tui::flow::crisis_key(self, focus, cmd);
            }
            Some(Overlay::Decision { .. }) => {
                if cmd == Command::Crisis {
                    self.overlay = None;
                    return self.open_crisis();
                }
                return review::decision_key(self, cmd);
            }
            Some(Overlay::AddendumNote(_)) => {
                if cmd == Command::Crisis {
                    self.overlay = None;
                    return self.open_crisis();
                }
                return self.addendum_key(cmd);
            }
            Some(Overlay::ConfirmFinalize) => {
                return match cmd {
                    Command::Yes | Command::Confirm => {
                        self.overlay = None;
                        self.finalize()
                    }
                    Command::No | Command::Cancel => {
                        self.overlay = None;
                        Vec::new()
                    }
                    Command::Crisis => self.open_crisis(),
                    _ => Vec::new(),
                };
            }
            Some(Overlay::ConfirmResume(id)) => {
                return match cmd {
                    Command::Yes | Command::Confirm => {
                        self.overlay = None;
                        vec![Effect::LoadDraft(id)]
                    }
                    Command::No | Command::Cancel => {
                        self.overlay = None;
                        Vec::new()
                    }
                    Command::Crisis => {
                        self.overlay = None;
                        self.open_crisis()
                    }
                    _ => Vec::new(),
                };
            }
            None => {}
        }
        match cmd {
            Command::Help => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                Vec::new()
            }
            Command::Crisis => self.open_crisis(),
            Command::Quit => self.quit(),
            _ if self.screen == Screen::Home => self.home_key(cmd),
            _ if self.screen == Screen::Queue => review::queue_key(self, cmd),
            _ if self.screen == Screen::Record => review::record_key(self, cmd),
            _ if self.screen == Screen::Dashboard => review::dashboard_key(self, cmd),
            _ => crate::tui::flow::call_key(self, cmd),
        }
    }

    fn quit(&mut self) -> Vec<Effect> {
        self.quit = true;
        vec![Effect::Quit]
    }

    fn home_key(&mut self, cmd: Command) -> Vec<Effect> {
        let items = self.home.drafts.len() + self.home.returned.len();
        match cmd {
            Command::NewCall => self.new_call(),
            Command::Refresh => vec![self.load_home()],
            Command::Review => review::open_queue(self),
            Command::Down | Command::NextField => {
                if items > 0 {
                    self.home_focus = (self.home_focus + 1).min(items - 1);
                }
                Vec::new()
            }
            Command::Up | Command::PrevField => {
                self.home_focus = self.home_focus.saturating_sub(1);
                Vec::new()
            }
            Command::Confirm => {
                if let Some(d) = self.home.drafts.get(self.home_focus) {
                    return vec![Effect::LoadDraft(d.encounter_id)];
                }
                match self
                    .home
                    .returned
                    .get(self.home_focus - self.home.drafts.len())
                {
                    Some(r) => vec![Effect::LoadAmend(r.encounter_id)],
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }
}
