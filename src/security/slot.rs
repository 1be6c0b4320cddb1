//! One user's slot in the key file: the device secret wrapped with ChaCha20-Poly1305 under a
//! key derived from the user's PIN (Argon2id), and the HMAC that seals the set of slots.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::TryRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::kdf::KdfParams;
use super::vault::FORMAT;
use crate::store::DbKey;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Slot {
    pub(super) user: String,
    pub(super) kdf: KdfParams,
    pub(super) salt: String,
    pub(super) nonce: String,
    pub(super) wrapped: String,
    #[serde(default)]
    pub(super) failures: u32,
    #[serde(default)]
    pub(super) locked_until: Option<DateTime<Utc>>,
}

type HmacSha256 = Hmac<Sha256>;

pub(super) fn mac_state(key: &DbKey, slots: &[Slot]) -> HmacSha256 {
    let mac_key = Sha256::new()
        .chain_update(b"accessline key file seal\0")
        .chain_update(key.as_bytes())
        .finalize();
    let mut m = <HmacSha256 as Mac>::new_from_slice(&mac_key).expect("any key length");
    let fixed: Vec<_> = slots
        .iter()
        .map(|s| (&s.user, s.kdf, &s.salt, &s.nonce, &s.wrapped))
        .collect();
    m.update(
        serde_json::to_string(&fixed)
            .expect("slots serialize")
            .as_bytes(),
    );
    m
}

pub(super) fn mac(key: &DbKey, slots: &[Slot]) -> String {
    hex::encode(mac_state(key, slots).finalize().into_bytes())
}

impl Slot {
    fn aad(user: &str, kdf: KdfParams, salt: &[u8]) -> Vec<u8> {
        // The user name and cost are bound to the ciphertext: renaming a slot (to sign in as
        // someone else with one's own PIN) or weakening its cost makes it fail to open.
        let mut aad = format!("{FORMAT}\0{user}\0{}:{}:{}\0", kdf.m_kib, kdf.t, kdf.p).into_bytes();
        aad.extend_from_slice(salt);
        aad
    }

    pub(super) fn seal(user: &str, pin: &str, key: &DbKey, kdf: KdfParams) -> Result<Slot, String> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        let mut os = rand::rngs::OsRng;
        os.try_fill_bytes(&mut salt).map_err(|e| e.to_string())?;
        os.try_fill_bytes(&mut nonce).map_err(|e| e.to_string())?;
        let kek = kdf.derive(pin, &salt)?;
        let aead = ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()));
        let wrapped = aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: key.as_bytes(),
                    aad: &Slot::aad(user, kdf, &salt),
                },
            )
            .map_err(|_| "cannot wrap the key".to_owned())?;
        Ok(Slot {
            user: user.into(),
            kdf,
            salt: hex::encode(salt),
            nonce: hex::encode(nonce),
            wrapped: hex::encode(wrapped),
            failures: 0,
            locked_until: None,
        })
    }

    /// The device secret, or `Err` for a wrong PIN (or an altered slot: indistinguishable).
    pub(super) fn open(&self, pin: &str) -> Result<DbKey, ()> {
        let salt = hex::decode(&self.salt).map_err(|_| ())?;
        let nonce = hex::decode(&self.nonce).map_err(|_| ())?;
        let wrapped = hex::decode(&self.wrapped).map_err(|_| ())?;
        let kek = self.kdf.derive(pin, &salt).map_err(|_| ())?;
        let aead = ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()));
        let plain = zeroize::Zeroizing::new(
            aead.decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &wrapped,
                    aad: &Slot::aad(&self.user, self.kdf, &salt),
                },
            )
            .map_err(|_| ())?,
        );
        let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| ())?;
        Ok(DbKey::from_bytes(bytes))
    }

    pub(super) fn check(&self) -> Result<(), String> {
        self.kdf.check()?;
        let len = |name: &str, v: &str, n: usize| match hex::decode(v) {
            Ok(b) if b.len() == n => Ok(()),
            _ => Err(format!("{name} is not {n} bytes of hexadecimal")),
        };
        len("salt", &self.salt, 16)?;
        len("nonce", &self.nonce, 12)?;
        len("wrapped", &self.wrapped, 48)?;
        if self.user.is_empty() {
            return Err("empty user name".into());
        }
        Ok(())
    }
}
