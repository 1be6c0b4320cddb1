//! The database key: the device secret, 32 random bytes, given to SQLCipher as a raw key
//! (`PRAGMA key = "x'…'"`), so opening costs no key derivation (see docs/security.md).

use std::fmt;

use rand::TryRngCore;
use zeroize::Zeroizing;

/// The SQLCipher key of one database. Wiped from memory when dropped; never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct DbKey(Zeroizing<[u8; 32]>);

impl DbKey {
    /// A new device secret from the operating system's random source.
    pub fn generate() -> DbKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng
            .try_fill_bytes(bytes.as_mut())
            .expect("the operating system's random source works");
        DbKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> DbKey {
        DbKey(Zeroizing::new(bytes))
    }

    /// 64 hexadecimal digits (the form of `ACCESSLINE_DB_KEY`).
    pub fn from_hex(text: &str) -> Result<DbKey, String> {
        let text = text.trim();
        let mut bytes = Zeroizing::new([0u8; 32]);
        if text.len() != 64 {
            return Err(format!(
                "a database key is 64 hexadecimal digits (this one has {} characters)",
                text.len()
            ));
        }
        hex::decode_to_slice(text, &mut bytes[..])
            .map_err(|_| "a database key is 64 hexadecimal digits".to_owned())?;
        Ok(DbKey(bytes))
    }

    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(&self.0[..]))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The quoted raw-key literal SQLCipher takes: `"x'<64 hex>'"`.
    pub(crate) fn sql_literal(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("\"x'{}'\"", self.to_hex().as_str()))
    }
}

impl fmt::Debug for DbKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbKey(…)")
    }
}
