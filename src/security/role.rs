//! Roles and the signed-in principal.

use std::fmt;
use std::str::FromStr;

use super::{AuthError, SERVICE_USER, device_name};
use crate::store::{Actor, UserRow};

/// What a user may do: screeners take calls and see their own encounters; supervisors also
/// review everything and run reports; admins also manage users and the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    /// Review mode, reports, the audit log, `verify`: supervisor or admin.
    pub fn can_review(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }

    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "screener" => Ok(Role::Screener),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            _ => Err(format!(
                "unknown role `{s}` (screener, supervisor or admin)"
            )),
        }
    }
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub display_name: String,
    pub role: Role,
}

impl Principal {
    pub(crate) fn from_row(row: &UserRow) -> Result<Principal, AuthError> {
        Ok(Principal {
            user: row.name.clone(),
            display_name: row.display_name.clone(),
            role: row.role.parse().map_err(|e: String| {
                AuthError::Store(crate::store::StoreError::Corrupt { what: e })
            })?,
        })
    }

    /// The built-in principal of unattended tools (`ACCESSLINE_DB_KEY`).
    pub fn service() -> Principal {
        Principal {
            user: SERVICE_USER.into(),
            display_name: "unattended tool (ACCESSLINE_DB_KEY)".into(),
            role: Role::Admin,
        }
    }

    /// The name stamped on rows and audit entries, with this device.
    pub fn actor(&self) -> Actor {
        Actor::new(self.user.clone(), device_name())
    }
}
