//! The key file `<db>.keys`: one slot per enrolled user, each holding the device secret (the
//! database key) wrapped with ChaCha20-Poly1305 under a key derived from that user's PIN with
//! Argon2id. Lockout counters live here because it is the only thing readable before the
//! database opens. See docs/security.md.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use hmac::Mac;
use serde::{Deserialize, Serialize};

use super::AuthError;
use super::kdf::KdfParams;
use super::slot::{Slot, mac, mac_state};
use crate::store::DbKey;
use crate::store::encrypt::{sync_dir, with_suffix};

pub(super) const FORMAT: &str = "accessline-keys/1";
/// Consecutive wrong PINs allowed before the first lock.
pub const FREE_FAILURES: u32 = 5;
/// The first lock; each further failure doubles it, up to [`MAX_LOCK`].
pub const FIRST_LOCK: Duration = Duration::seconds(30);
pub const MAX_LOCK: Duration = Duration::minutes(15);
/// Events kept for the audit log while the database cannot be opened (oldest dropped first).
const MAX_PENDING: usize = 500;

/// How long the account locks after its `failures`-th consecutive wrong PIN (none before the
/// fifth): 30 s, 1 min, 2 min, 4 min, 8 min, then 15 min each time.
pub fn lock_after(failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(FREE_FAILURES)?;
    let secs = FIRST_LOCK
        .num_seconds()
        .saturating_mul(1i64 << over.min(20));
    Some(Duration::seconds(secs.min(MAX_LOCK.num_seconds())))
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    #[serde(default)]
    slots: Vec<Slot>,
    /// HMAC-SHA256 over the slots' fixed fields, keyed from the device secret: checked after
    /// every unwrap, so a slot added, removed, swapped or restored from an old copy is noticed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
    /// Sign-in failures and lockouts not yet in the audit log (the database was closed).
    #[serde(default)]
    pending: Vec<Pending>,
}

/// A security event waiting for the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    pub at: DateTime<Utc>,
    pub user: String,
    pub action: String,
    pub detail: serde_json::Value,
}

/// The key file of one database (or an in-memory one, for tests).
pub struct Vault {
    path: Option<PathBuf>,
    file: KeyFile,
    params: KdfParams,
    /// The device secret, once someone has unwrapped it in this process.
    secret: Option<DbKey>,
}

impl Vault {
    /// The key file of `db` (`<db>.keys`); an absent file is an empty vault.
    pub fn for_db(db: &Path) -> Result<Vault, AuthError> {
        let path = key_file_path(db);
        let mut v = Vault {
            path: Some(path),
            file: KeyFile::default(),
            params: KdfParams::default(),
            secret: None,
        };
        v.reload()?;
        Ok(v)
    }

    /// A vault that lives only in memory (tests): nothing on disk.
    pub fn in_memory(params: KdfParams) -> Vault {
        Vault {
            path: None,
            file: KeyFile {
                format: FORMAT.into(),
                ..KeyFile::default()
            },
            params,
            secret: None,
        }
    }

    /// No user enrolled yet: first run.
    pub fn needs_setup(&self) -> bool {
        self.file.slots.is_empty()
    }

    /// The key file (None for an in-memory vault).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether the key file exists on disk.
    pub fn exists(&self) -> bool {
        self.path.as_ref().is_some_and(|p| p.exists())
    }

    /// Argon2id cost for slots made from now on (existing slots keep theirs).
    pub fn set_kdf_params(&mut self, params: KdfParams) {
        self.params = params;
    }

    pub fn kdf_params(&self) -> KdfParams {
        self.params
    }

    /// Users with a slot, in file order.
    pub fn users(&self) -> Vec<String> {
        self.file.slots.iter().map(|s| s.user.clone()).collect()
    }

    pub fn has_user(&self, user: &str) -> bool {
        self.slot(user).is_some()
    }

    /// Until when `user` is locked out, if they are at `now`.
    pub fn locked_until(&self, user: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.slot(user)
            .and_then(|s| s.locked_until)
            .filter(|t| *t > now)
    }

    /// Consecutive wrong PINs of `user` since their last success.
    pub fn failures(&self, user: &str) -> u32 {
        self.slot(user).map_or(0, |s| s.failures)
    }

    /// The device secret, if it has been unwrapped (or given) in this process.
    pub fn secret(&self) -> Option<&DbKey> {
        self.secret.as_ref()
    }

    fn slot(&self, user: &str) -> Option<&Slot> {
        self.file.slots.iter().find(|s| s.user == user)
    }

    fn slot_mut(&mut self, user: &str) -> Option<&mut Slot> {
        self.file.slots.iter_mut().find(|s| s.user == user)
    }

    /// Read the file again (another process may have changed it): every change is
    /// read-modify-write.
    pub(crate) fn reload(&mut self) -> Result<(), AuthError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.file = KeyFile {
                    format: FORMAT.into(),
                    ..KeyFile::default()
                };
                return Ok(());
            }
            Err(e) => return Err(AuthError::io(path, e)),
        };
        let damaged = |problem: String| AuthError::KeyFile {
            path: path.clone(),
            problem,
        };
        let file: KeyFile = serde_json::from_str(&text).map_err(|e| damaged(e.to_string()))?;
        if file.format != FORMAT {
            return Err(damaged(format!("unknown format `{}`", file.format)));
        }
        for s in &file.slots {
            s.check()
                .map_err(|p| damaged(format!("slot of {}: {p}", s.user)))?;
        }
        self.file = file;
        Ok(())
    }

    /// Write the file atomically (temporary file, fsync, rename, fsync of the folder),
    /// readable by the owner only.
    pub(crate) fn save(&self) -> Result<(), AuthError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let text = serde_json::to_string_pretty(&self.file).expect("the key file serializes");
        let tmp = with_suffix(path, ".tmp");
        let write = || -> std::io::Result<()> {
            let mut o = OpenOptions::new();
            o.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            let mut f = o.open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            fs::rename(&tmp, path)?;
            sync_dir(path);
            Ok(())
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            AuthError::io(path, e)
        })
    }

    fn note(&mut self, at: DateTime<Utc>, user: &str, action: &str, detail: serde_json::Value) {
        if self.file.pending.len() >= MAX_PENDING {
            self.file.pending.remove(0);
        }
        self.file.pending.push(Pending {
            at,
            user: user.into(),
            action: action.into(),
            detail,
        });
    }

    /// Events for the audit log (clears them from the file at the next save).
    pub(crate) fn take_pending(&mut self) -> Vec<Pending> {
        std::mem::take(&mut self.file.pending)
    }

    /// Put events back when they could not be written to the audit log.
    pub(crate) fn restore_pending(&mut self, mut events: Vec<Pending>) {
        events.append(&mut self.file.pending);
        self.file.pending = events;
    }

    /// Sign-in at the key file: unwrap `user`'s slot with `pin`. Counts failures, locks with
    /// back-off, notes every failure for the audit log, and saves the file.
    pub(crate) fn unlock(
        &mut self,
        user: &str,
        pin: &str,
        now: DateTime<Utc>,
    ) -> Result<DbKey, AuthError> {
        self.reload()?;
        let Some(slot) = self.slot(user).cloned() else {
            // The same work as a real attempt, so timing does not tell which names exist.
            let _ = self.params.derive(pin, &[0u8; 16]);
            self.note(
                now,
                user,
                "sign_in_failed",
                serde_json::json!({"reason": "unknown user"}),
            );
            self.save()?;
            return Err(AuthError::WrongPin);
        };
        if let Some(until) = slot.locked_until.filter(|t| *t > now) {
            self.note(
                now,
                user,
                "locked_out",
                serde_json::json!({"until": until, "failures": slot.failures}),
            );
            self.save()?;
            return Err(AuthError::LockedOut {
                until,
                failures: slot.failures,
            });
        }
        match slot.open(pin) {
            Ok(key) => {
                self.check_mac(&key)?;
                let s = self.slot_mut(user).expect("slot exists");
                let changed = s.failures != 0 || s.locked_until.is_some();
                s.failures = 0;
                s.locked_until = None;
                if changed {
                    self.save()?;
                }
                self.secret = Some(key.clone());
                Ok(key)
            }
            Err(()) => {
                let s = self.slot_mut(user).expect("slot exists");
                s.failures = s.failures.saturating_add(1);
                let failures = s.failures;
                let lock = lock_after(failures).map(|d| now + d);
                s.locked_until = lock;
                self.note(
                    now,
                    user,
                    "sign_in_failed",
                    serde_json::json!({"reason": "wrong PIN", "failures": failures}),
                );
                if let Some(until) = lock {
                    self.note(
                        now,
                        user,
                        "locked_out",
                        serde_json::json!({"until": until, "failures": failures}),
                    );
                }
                self.save()?;
                Err(match lock {
                    Some(until) => AuthError::LockedOut { until, failures },
                    None => AuthError::WrongPin,
                })
            }
        }
    }

    /// Accept a device secret given directly (`ACCESSLINE_DB_KEY`): checked against the key
    /// file's MAC when there is one.
    pub fn unlock_with_key(&mut self, key: &DbKey) -> Result<(), AuthError> {
        self.reload()?;
        if !self.file.slots.is_empty() {
            self.check_mac(key).map_err(|_| AuthError::KeyMismatch)?;
        }
        self.secret = Some(key.clone());
        Ok(())
    }

    /// The secret for new slots: the one unwrapped in this process, or a new one when no
    /// slot exists yet (first run).
    pub(crate) fn secret_or_new(&mut self) -> Result<DbKey, AuthError> {
        if let Some(s) = &self.secret {
            return Ok(s.clone());
        }
        if !self.needs_setup() {
            return Err(AuthError::NotUnlocked);
        }
        let s = DbKey::generate();
        self.secret = Some(s.clone());
        Ok(s)
    }

    /// Add or replace `user`'s slot (wrapping the unwrapped secret under `pin`) and save.
    pub(crate) fn put_slot(&mut self, user: &str, pin: &str) -> Result<(), AuthError> {
        self.reload()?;
        let key = self.secret_or_new()?;
        let slot = Slot::seal(user, pin, &key, self.params).map_err(AuthError::Internal)?;
        match self.slot_mut(user) {
            Some(s) => *s = slot,
            None => self.file.slots.push(slot),
        }
        self.file.mac = Some(mac(&key, &self.file.slots));
        self.save()
    }

    /// Remove `user`'s slot and save; false if there was none.
    pub(crate) fn remove_slot(&mut self, user: &str) -> Result<bool, AuthError> {
        self.reload()?;
        let key = self.secret.clone().ok_or(AuthError::NotUnlocked)?;
        let before = self.file.slots.len();
        self.file.slots.retain(|s| s.user != user);
        if self.file.slots.len() == before {
            return Ok(false);
        }
        self.file.mac = Some(mac(&key, &self.file.slots));
        self.save()?;
        Ok(true)
    }

    fn check_mac(&self, key: &DbKey) -> Result<(), AuthError> {
        let tampered = || AuthError::KeyFile {
            path: self.path.clone().unwrap_or_default(),
            problem: "its slots do not match its seal (a slot was added, removed or replaced)"
                .into(),
        };
        let Some(stored) = &self.file.mac else {
            return Err(tampered());
        };
        let m = mac_state(key, &self.file.slots);
        let stored = hex::decode(stored).map_err(|_| tampered())?;
        m.verify_slice(&stored).map_err(|_| tampered())
    }
}

/// `<db>.keys`.
pub fn key_file_path(db: &Path) -> PathBuf {
    with_suffix(db, ".keys")
}
