//! TEMPORARY STUB of the security API (replaced by the real module from branch `sec`).
#![allow(dead_code, unused_variables)]

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::store::{Actor, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Screener,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Screener => "screener",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
    pub fn can_review(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("unknown user or wrong PIN")]
    WrongPin,
    #[error("PIN too short")]
    Short,
}

#[derive(Debug, Clone, Copy)]
pub struct KdfParams;
impl KdfParams {
    pub fn insecure_for_tests() -> KdfParams {
        KdfParams
    }
}

#[derive(Default)]
pub struct Vault {
    users: HashMap<String, (String, Principal)>,
}

impl Vault {
    pub fn for_db(db: &Path) -> Result<Vault, AuthError> {
        Ok(Vault::default())
    }
    pub fn in_memory(params: KdfParams) -> Vault {
        Vault::default()
    }
    pub fn needs_setup(&self) -> bool {
        self.users.is_empty()
    }
}

pub fn first_run(
    vault: &mut Vault,
    db: &Path,
    user: &str,
    display_name: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<(Store, Principal), AuthError> {
    let mut store = Store::open_in_memory().unwrap();
    let p = enrol(
        vault,
        &mut store,
        &Actor::new(user, "d"),
        user,
        display_name,
        Role::Admin,
        pin,
        now,
    )?;
    Ok((store, p))
}

pub fn sign_in(
    vault: &mut Vault,
    db: &Path,
    user: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<(Store, Principal), AuthError> {
    let mut store = Store::open_in_memory().unwrap();
    let p = verify(vault, &mut store, user, pin, now)?;
    Ok((store, p))
}

pub fn verify(
    vault: &mut Vault,
    store: &mut Store,
    user: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<Principal, AuthError> {
    match vault.users.get(user) {
        Some((p, who)) if p == pin => Ok(who.clone()),
        _ => Err(AuthError::WrongPin),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn enrol(
    vault: &mut Vault,
    store: &mut Store,
    by: &Actor,
    user: &str,
    display_name: &str,
    role: Role,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<Principal, AuthError> {
    if pin.chars().count() < 6 {
        return Err(AuthError::Short);
    }
    let p = Principal {
        user: user.into(),
        display_name: display_name.into(),
        role,
    };
    vault.users.insert(user.into(), (pin.into(), p.clone()));
    Ok(p)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessEvent {
    View { encounter: uuid::Uuid },
    Denied { what: String },
    Lock,
    Unlock,
    SignOut,
}

impl Store {
    pub fn record_access(&mut self, actor: &Actor, event: AccessEvent) -> crate::store::Result<()> {
        Ok(())
    }
}
