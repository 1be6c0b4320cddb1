//! Keys on the review queue: moving, paging, the filters, search and sort.

use super::*;

pub fn queue_key(app: &mut App, cmd: Command) -> Vec<Effect> {
    let languages: Vec<String> = app
        .defs
        .directory
        .languages
        .iter()
        .map(|l| l.code.clone())
        .collect();
    let q = app.queue.as_mut().expect("queue open");
    if let Some((which, field)) = q.input.as_mut() {
        let which = *which;
        match cmd {
            Command::Confirm => {
                let text = field.value().trim().to_owned();
                let value = (!text.is_empty()).then_some(text);
                match which {
                    Input::Search => {
                        if value
                            .as_deref()
                            .is_some_and(|t| crate::store::fts_query(t).is_none())
                        {
                            app.set_status(
                                Level::Warning,
                                "Nothing searchable in that text (use letters or numbers).",
                            );
                            return Vec::new();
                        }
                        q.query.filter.text = value;
                    }
                    Input::Screener => q.query.filter.screener = value,
                }
                q.input = None;
                return reload(app);
            }
            Command::Cancel => {
                q.input = None;
                return Vec::new();
            }
            other => {
                field.command(other);
                return Vec::new();
            }
        }
    }
    let f = &mut q.query.filter;
    match cmd {
        Command::Down | Command::NextField => {
            q.focus = (q.focus + 1).min(q.rows.len().saturating_sub(1));
            Vec::new()
        }
        Command::Up | Command::PrevField => {
            q.focus = q.focus.saturating_sub(1);
            Vec::new()
        }
        Command::NextStep => match q.next.clone() {
            Some(next) => {
                q.earlier.push(q.query.after.take());
                q.query.after = Some(next);
                q.focus = 0;
                vec![Effect::LoadQueue(Box::new(q.query.clone()))]
            }
            None => {
                app.set_status(Level::Info, "This is the last page.");
                Vec::new()
            }
        },
        Command::PrevStep => match q.earlier.pop() {
            Some(after) => {
                q.query.after = after;
                q.focus = 0;
                vec![Effect::LoadQueue(Box::new(q.query.clone()))]
            }
            None => Vec::new(),
        },
        Command::Confirm => match q.selected() {
            Some(row) => {
                let id = row.encounter_id;
                open_record(app, id)
            }
            None => Vec::new(),
        },
        Command::Search => {
            let current = f.text.clone().unwrap_or_default();
            q.input = Some((Input::Search, TextField::with_value(200, &current)));
            Vec::new()
        }
        Command::FilterScreener => {
            let current = f.screener.clone().unwrap_or_default();
            q.input = Some((Input::Screener, TextField::with_value(80, &current)));
            Vec::new()
        }
        Command::FilterAwaiting => {
            f.review_state = cycle(
                &f.review_state,
                &[
                    ReviewState::Awaiting,
                    ReviewState::NeedsChanges,
                    ReviewState::Approved,
                ],
            );
            reload(app)
        }
        Command::CycleRisk => {
            f.risk = cycle(&f.risk, Risk::ALL);
            reload(app)
        }
        Command::CycleTriage => {
            f.triage = cycle(
                &f.triage,
                &[Triage::Emergent, Triage::Urgent, Triage::Routine],
            );
            reload(app)
        }
        Command::CycleCell => {
            let cells: Vec<CellId> = CellId::all().collect();
            f.cell = cycle(&f.cell, &cells);
            reload(app)
        }
        Command::CycleLanguage => {
            f.language = cycle(&f.language, &languages);
            reload(app)
        }
        Command::CycleStatus => {
            f.status = cycle(&f.status, Status::ALL);
            reload(app)
        }
        Command::CycleSync => {
            f.sync_state = cycle(&f.sync_state, SyncState::ALL);
            reload(app)
        }
        Command::CycleDates => {
            q.dates = q.dates.next();
            reload(app)
        }
        Command::CycleSort => {
            q.query.sort = match q.query.sort {
                SortBy::Time => SortBy::Risk,
                SortBy::Risk => SortBy::Deadline,
                SortBy::Deadline => SortBy::Time,
            };
            reload(app)
        }
        Command::ClearFilters => {
            q.query.filter = Default::default();
            q.dates = DateRange::Any;
            reload(app)
        }
        Command::Refresh => reload(app),
        Command::Dashboard => open_dashboard(app),
        Command::Cancel => {
            app.screen = Screen::Home;
            vec![app.load_home()]
        }
        _ => Vec::new(),
    }
}
