//! Running effects: the only part of the UI that touches the store or the clock. Each result
//! comes back as an [`Action`]; a store error becomes a message on screen, never a crash.

use std::path::PathBuf;

use uuid::Uuid;

use super::app::{AccessNote, Action, Effect, HomeData};
use super::review::RecordData;
use crate::security::{self, AccessEvent, DbKey, Role, Vault};
use crate::store::{Actor, Store};

/// What effects run against: the database (once someone has signed in) and the device's key
/// file.
pub struct Backend {
    pub store: Option<Store>,
    pub vault: Vault,
    /// Where the database is (or will be created, on first run).
    pub db: PathBuf,
    /// `ACCESSLINE_DB_KEY`: a database made by an unattended tool gets its first administrator
    /// with this device secret instead of a new one.
    pub env_key: Option<DbKey>,
}

impl Backend {
    /// An already-open database (tests, tools).
    pub fn open(store: Store, vault: Vault) -> Backend {
        let db = store.path().to_owned();
        Backend {
            store: Some(store),
            vault,
            db,
            env_key: None,
        }
    }

    /// Nothing open yet: the sign-in opens the database at `db`.
    pub fn signing_in(db: PathBuf, vault: Vault, env_key: Option<DbKey>) -> Backend {
        Backend {
            store: None,
            vault,
            db,
            env_key,
        }
    }
}

/// Who asks: the signed-in user and their role.
#[derive(Debug, Clone)]
pub struct Who {
    pub actor: Actor,
    pub role: Role,
}

/// Refuse, on screen and on the record (the audit chain).
fn denied(store: &mut Store, actor: &Actor, what: &str, message: &str) -> Option<Action> {
    tracing::warn!(user = %actor.user, what, "access denied");
    if let Err(e) = store.record_access(
        actor,
        AccessEvent::Denied {
            what: what.to_owned(),
        },
    ) {
        tracing::error!("could not audit a denial: {e}");
    }
    Some(Action::Failed(message.to_owned()))
}

/// A look at a record goes on the record.
fn viewed(store: &mut Store, actor: &Actor, id: uuid::Uuid) -> Result<(), String> {
    store
        .record_access(actor, AccessEvent::View { encounter: id })
        .map_err(|e| format!("Could not record that you opened this call, so it stays closed: {e}"))
}

/// Sign-in effects: they may open the database, so they run before there is one.
fn sign_in(effect: Effect, backend: &mut Backend) -> Action {
    let now = chrono::Utc::now();
    let result = match effect {
        Effect::SignIn { user, pin } => match backend.store.as_mut() {
            Some(store) => security::verify(&mut backend.vault, store, &user, pin.expose(), now),
            None => security::sign_in(&mut backend.vault, &backend.db, &user, pin.expose(), now)
                .map(|(store, p)| {
                    backend.store = Some(store);
                    p
                }),
        },
        Effect::FirstRun {
            user,
            display_name,
            pin,
        } => security::first_run_with_key(
            &mut backend.vault,
            &backend.db,
            backend.env_key.as_ref(),
            &user,
            &display_name,
            pin.expose(),
            now,
        )
        .map(|(store, p)| {
            backend.store = Some(store);
            p
        }),
        _ => unreachable!("only sign-in effects come here"),
    };
    match result {
        Ok(p) => {
            tracing::info!(user = %p.user, role = p.role.as_str(), "signed in");
            Action::SignedIn(p)
        }
        Err(e) => {
            tracing::warn!("sign-in refused: {e}");
            Action::SignInFailed(e.to_string())
        }
    }
}

/// Write one report to `dir/name` through a `.partial` file renamed when complete; readable by
/// the owner only (it holds PHI).
fn write_report(
    dir: &std::path::Path,
    name: &str,
    f: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<(), String>,
) -> Result<std::path::PathBuf, String> {
    use std::io::Write;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    let partial = dir.join(format!("{name}.partial"));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts
        .open(&partial)
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let done = f(&mut out).and_then(|()| out.flush().map_err(|e| e.to_string()));
    if let Err(e) = done {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &path).map_err(|e| e.to_string())?;
    Ok(path)
}

pub fn run(
    effect: Effect,
    backend: &mut Backend,
    who: &Who,
    defs: &crate::domain::Definitions,
) -> Option<Action> {
    match effect {
        Effect::SignIn { .. } | Effect::FirstRun { .. } => return Some(sign_in(effect, backend)),
        Effect::Quit => return None,
        _ => {}
    }
    let Some(store) = backend.store.as_mut() else {
        return Some(Action::Failed("Sign in first.".into()));
    };
    let actor = &who.actor;
    let reviewer = who.role.can_review();
    let supervisor_only = matches!(
        effect,
        Effect::LoadQueue(_)
            | Effect::LoadDashboard { .. }
            | Effect::LoadRecord(_)
            | Effect::SaveReview { .. }
            | Effect::WriteReports { .. }
    );
    if supervisor_only && !reviewer {
        return denied(
            store,
            actor,
            "review",
            "Review and reports need the supervisor role.",
        );
    }
    let failed = |what: &str, e: crate::store::StoreError| {
        tracing::error!("{what}: {e}");
        Some(Action::Failed(format!("{what}: {e}")))
    };
    match effect {
        Effect::LoadHome { day_start } => {
            let load = || -> crate::store::Result<HomeData> {
                Ok(HomeData {
                    drafts: store.drafts_of(&actor.user)?,
                    returned: store.returned_to(&actor.user)?,
                    returned_total: store.returned_count(&actor.user)?,
                    today: store.day_counts(&actor.user, day_start)?,
                    sync: Some(store.sync_counts()?.line()),
                })
            };
            match load() {
                Ok(d) => Some(Action::HomeLoaded(d)),
                Err(e) => failed("Could not load your calls", e),
            }
        }
        Effect::StartDraft { received_at } => match store.start_draft(actor, received_at) {
            Ok(id) => {
                tracing::info!(%id, "draft started");
                Some(Action::DraftStarted(id))
            }
            Err(e) => {
                tracing::error!("could not start a draft: {e}");
                Some(Action::DraftStartFailed(short_why(&e)))
            }
        },
        Effect::SaveField { id, key, value } => match store.save_field(actor, id, &key, &value) {
            Ok(()) => Some(Action::Saved),
            Err(e) => save_failed(id, key, value, e),
        },
        Effect::SaveCursor { id, cursor } => match store.save_cursor(actor, id, &cursor) {
            Ok(()) => None,
            Err(e) => failed("Could not save your place in the call", e),
        },
        Effect::LoadDraft(id) => match store.load_draft(id) {
            Ok(d) if d.screener != actor.user => denied(
                store,
                actor,
                &format!("draft {id}"),
                "That call is another screener's draft; it stays closed.",
            ),
            Ok(d) => match viewed(store, actor, id) {
                Ok(()) => Some(Action::DraftLoaded(Box::new(d))),
                Err(why) => Some(Action::Failed(why)),
            },
            Err(e) => failed("Could not open the draft", e),
        },
        Effect::Finalize {
            id,
            payload,
            summary,
            versions,
        } => match store.finalize(actor, id, &payload, &summary, &versions) {
            Ok(done) => {
                tracing::info!(%id, revision = done.revision, "finalized");
                Some(Action::Finalized(done))
            }
            Err(e) => failed("NOT FINALIZED", e),
        },
        Effect::WriteReports { from, to, as_of } => {
            let period = crate::report::Period { from, to };
            if store.path() == std::path::Path::new(":memory:") {
                return Some(Action::Failed(
                    "Reports are written beside the database file; this database is in memory."
                        .into(),
                ));
            }
            let dir = store
                .path()
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join("reports");
            let stem = format!("{from}_{to}.csv");
            let written = write_report(&dir, &format!("initial-requests_{stem}"), |out| {
                crate::report::initial_requests(store, defs, &period, out)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .and_then(|a| {
                write_report(&dir, &format!("timeliness_{stem}"), |out| {
                    crate::report::timeliness(store, &period, as_of, false, out)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
                .map(|b| vec![a, b])
            });
            match written {
                Ok(paths) => {
                    tracing::info!(%from, %to, "reports written");
                    Some(Action::ReportsWritten(paths))
                }
                Err(e) => Some(Action::Failed(format!("Reports NOT written: {e}"))),
            }
        }
        Effect::LoadQueue(query) => match store.list(&query) {
            Ok(page) => Some(Action::QueueLoaded(page)),
            Err(e) => failed("Could not load the queue", e),
        },
        Effect::LoadDashboard { from, before, now } => match store.dashboard(from, before, now) {
            Ok(d) => Some(Action::DashboardLoaded(Box::new(d))),
            Err(e) => failed("Could not load the dashboard", e),
        },
        Effect::LoadRecord(id) => {
            let load = || -> crate::store::Result<RecordData> {
                Ok(RecordData {
                    revisions: store.revisions(id)?,
                    reviews: store.reviews(id)?,
                    audit: store.audit_of(id)?,
                })
            };
            match load() {
                Ok(d) => match viewed(store, actor, id) {
                    Ok(()) => Some(Action::RecordLoaded(Box::new(d))),
                    Err(why) => Some(Action::Failed(why)),
                },
                Err(e) => failed("Could not open the record", e),
            }
        }
        Effect::SaveReview {
            id,
            revision,
            decision,
            note,
        } => match store.add_review(actor, id, revision, decision, note.as_deref()) {
            Ok(r) => Some(Action::Reviewed(r)),
            Err(e) => failed("NOT SAVED: the review", e),
        },
        Effect::LoadAmend(id) => match store.encounter(id, None) {
            Ok(rec) if rec.screener != actor.user => denied(
                store,
                actor,
                &format!("encounter {id}"),
                "That call was taken by another screener; it stays closed.",
            ),
            Ok(rec) => match viewed(store, actor, id).and_then(|()| {
                store
                    .amend_fields(id, rec.revision)
                    .map_err(|e| format!("Could not read the saved corrections: {e}"))
            }) {
                Ok(corrections) => Some(Action::AmendLoaded(Box::new(rec), corrections)),
                Err(why) => Some(Action::Failed(why)),
            },
            Err(e) => failed("Could not open the returned call", e),
        },
        Effect::Addendum {
            id,
            payload,
            summary,
            versions,
            note,
        } => match store.add_addendum(actor, id, &payload, &summary, &versions, &note) {
            Ok(done) => Some(Action::Finalized(done)),
            Err(e) => failed("NOT SAVED: the addendum", e),
        },
        Effect::SaveAmendField {
            id,
            base_revision,
            key,
            value,
        } => match store.save_amend_field(actor, id, base_revision, &key, &value) {
            Ok(()) => Some(Action::Saved),
            Err(e) => save_failed(id, key, value, e),
        },
        Effect::Audit(note) => {
            let event = match note {
                AccessNote::Lock => AccessEvent::Lock,
                AccessNote::Denied(what) => AccessEvent::Denied { what },
            };
            match store.record_access(actor, event) {
                Ok(()) => None,
                Err(e) => failed("Could not write the audit log", e),
            }
        }
        Effect::Quit | Effect::SignIn { .. } | Effect::FirstRun { .. } => None,
    }
}

/// An answer the store refused: back to the app, which keeps it and writes it again.
fn save_failed(
    id: Uuid,
    key: String,
    value: serde_json::Value,
    e: crate::store::StoreError,
) -> Option<Action> {
    tracing::error!("not saved ({key}): {e}");
    Some(Action::SaveFailed {
        id,
        key,
        value,
        why: short_why(&e),
    })
}

/// Why a write failed, short enough for the status line (the log has the whole error).
fn short_why(e: &crate::store::StoreError) -> String {
    if e.is_disk_full() {
        "the disk is full".to_owned()
    } else {
        e.to_string()
    }
}
