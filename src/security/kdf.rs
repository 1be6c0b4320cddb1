//! Argon2id: from a PIN or passphrase to the key that wraps the device secret.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Argon2id cost, stored in each key-file slot (so a slot keeps working when the default
/// changes, and tests can make cheap slots).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for KdfParams {
    /// Production cost: 32 MiB, 3 passes, 1 lane: about 0.2 s on the project machine, so a
    /// sign-in stays under half a second even when the machine is busy, and the memory stays
    /// within the program's 50 MB budget (docs/security.md).
    fn default() -> KdfParams {
        KdfParams {
            m_kib: 32 * 1024,
            t: 3,
            p: 1,
        }
    }
}

impl KdfParams {
    /// The cheapest Argon2id allows: for tests only (a slot made with these gives an offline
    /// attacker almost nothing to do).
    pub fn insecure_for_tests() -> KdfParams {
        KdfParams {
            m_kib: 8,
            t: 1,
            p: 1,
        }
    }

    /// Refuse parameters no slot we write would carry (a tampered file could otherwise ask
    /// for terabytes of memory).
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.p == 0 || self.p > 16 || self.t == 0 || self.t > 64 {
            return Err(format!("Argon2 t={} p={} out of range", self.t, self.p));
        }
        if self.m_kib < 8 * self.p || self.m_kib > 4 * 1024 * 1024 {
            return Err(format!("Argon2 memory {} KiB out of range", self.m_kib));
        }
        Ok(())
    }

    /// The 32-byte wrapping key for `secret` (the PIN) and `salt`.
    pub(crate) fn derive(&self, secret: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, String> {
        use argon2::{Algorithm, Argon2, Params, Version};
        self.check()?;
        let params =
            Params::new(self.m_kib, self.t, self.p, Some(32)).map_err(|e| e.to_string())?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(secret.as_bytes(), salt, out.as_mut())
            .map_err(|e| e.to_string())?;
        release_freed_memory();
        Ok(out)
    }
}

/// Give the memory the derivation just freed (its `m_kib` work area, 32 MiB in production)
/// back to the operating system now. The allocator (mimalloc) would otherwise keep it
/// committed, and a signed-in session would stay at 52 MB resident instead of 18 MB (1,000,000
/// encounters, home screen; DESIGN 9: memory under 50 MB).
fn release_freed_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called at any time from any thread;
    // it only returns free memory the allocator holds to the OS.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true)
    };
}
