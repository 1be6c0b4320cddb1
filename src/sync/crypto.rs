//! Encryption of batch files with age (age-encryption.org/v1, X25519 recipients; the `age`
//! crate, pure Rust). The county generates a key pair once (`accessline keys generate`); field
//! devices are given only the public *recipient*, so a device can write exports but cannot
//! read them back, nor read another device's. The hub imports with the *identity* file.
//!
//! age authenticates what it decrypts (a damaged or altered ciphertext fails), but anyone with
//! the recipient can encrypt: it proves nothing about who wrote a file. The plaintext manifest
//! and the hub's checks (hashes, sequence numbers, conflicts) are what guard against that.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::{Result, SyncError};

mod writer;
pub use writer::{BatchWriter, HashWriter, Unsynced, Written};

/// The scheme named in manifests.
pub const SCHEME: &str = "age-x25519";

/// Public keys to encrypt to.
#[derive(Clone)]
pub struct Recipients {
    keys: Vec<age::x25519::Recipient>,
}

impl std::fmt::Debug for Recipients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Recipients {
    /// `age1…` itself, or a file of recipients (one per line, `#` comments allowed).
    pub fn parse(arg: &str) -> Result<Recipients> {
        let arg = arg.trim();
        if arg.starts_with("age1") {
            return Ok(Recipients {
                keys: vec![parse_recipient(arg, "--recipient")?],
            });
        }
        let path = Path::new(arg);
        let text = std::fs::read_to_string(path).map_err(|e| {
            SyncError::Key(format!(
                "cannot read the recipient file {}: {e} (pass the county's public key file, or the key itself: age1…)",
                path.display()
            ))
        })?;
        let keys = key_lines(&text)
            .map(|l| parse_recipient(l, &path.display().to_string()))
            .collect::<Result<Vec<_>>>()?;
        if keys.is_empty() {
            return Err(SyncError::Key(format!(
                "{}: no recipient (age1…) in the file",
                path.display()
            )));
        }
        Ok(Recipients { keys })
    }

    /// Several `--recipient` arguments together.
    pub fn parse_all(args: &[String]) -> Result<Recipients> {
        let mut keys = Vec::new();
        for a in args {
            keys.extend(Recipients::parse(a)?.keys);
        }
        Ok(Recipients { keys })
    }

    pub fn names(&self) -> Vec<String> {
        self.keys.iter().map(ToString::to_string).collect()
    }
}

fn parse_recipient(s: &str, source: &str) -> Result<age::x25519::Recipient> {
    if s.starts_with("AGE-SECRET-KEY-") {
        return Err(SyncError::Key(format!(
            "{source}: this is a secret identity, not a public recipient: give devices only the public key (age1…), keep the identity at the hub"
        )));
    }
    age::x25519::Recipient::from_str(s).map_err(|e| {
        SyncError::Key(format!(
            "{source}: `{}` is not an age X25519 recipient ({e})",
            abbreviate(s)
        ))
    })
}

fn key_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn abbreviate(s: &str) -> String {
    let s: String = s.chars().take(16).collect();
    format!("{s}…")
}

/// Secret keys to decrypt with (the county's identity file).
pub struct Identities {
    path: PathBuf,
    keys: Vec<age::x25519::Identity>,
}

impl Identities {
    /// Read an identity file (`AGE-SECRET-KEY-1…` lines, `#` comments), as written by
    /// `accessline keys generate` or `age-keygen`.
    pub fn read(path: &Path) -> Result<Identities> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SyncError::Key(format!(
                "cannot read the identity file {}: {e}",
                path.display()
            ))
        })?;
        let mut keys = Vec::new();
        for line in key_lines(&text) {
            if line.starts_with("age1") {
                return Err(SyncError::Key(format!(
                    "{}: this is a public recipient file; import needs the secret identity (AGE-SECRET-KEY-1…)",
                    path.display()
                )));
            }
            keys.push(age::x25519::Identity::from_str(line).map_err(|_| {
                SyncError::Key(format!(
                    "{}: not an age identity file (expected AGE-SECRET-KEY-1… lines)",
                    path.display()
                ))
            })?);
        }
        if keys.is_empty() {
            return Err(SyncError::Key(format!(
                "{}: no identity (AGE-SECRET-KEY-1…) in the file",
                path.display()
            )));
        }
        Ok(Identities {
            path: path.to_owned(),
            keys,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The public keys of these identities.
    pub fn recipients(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| k.to_public().to_string())
            .collect()
    }
}

/// A new key pair, written as `<dir>/county.key` (the identity, owner-only) and
/// `<dir>/county.pub` (the recipient). Refuses to overwrite either.
pub fn generate(dir: &Path) -> Result<(PathBuf, PathBuf, String)> {
    std::fs::create_dir_all(dir).map_err(SyncError::io(dir))?;
    let identity_path = dir.join("county.key");
    let recipient_path = dir.join("county.pub");
    for p in [&identity_path, &recipient_path] {
        if p.exists() {
            return Err(SyncError::Usage(format!(
                "{} already exists: refusing to overwrite a key (move it away first)",
                p.display()
            )));
        }
    }
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let created = crate::store::ts(chrono::Utc::now());
    let secret = identity.to_string();
    let text = format!(
        "# accessline county identity (age X25519 secret key). Keep it at the hub, offline and\n\
         # backed up: it decrypts every device's exports. Devices get only county.pub.\n\
         # created: {created}\n# public key: {recipient}\n{}\n",
        secret.expose_secret()
    );
    write_new(&identity_path, text.as_bytes(), true)?;
    write_new(
        &recipient_path,
        format!("# accessline county recipient (public key), for `accessline export --recipient`\n{recipient}\n")
            .as_bytes(),
        false,
    )?;
    Ok((identity_path, recipient_path, recipient))
}

fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(path).map_err(SyncError::io(path))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(SyncError::io(path))
}

/// SHA-256 and size of a file's bytes.
pub fn file_sha256(path: &Path) -> Result<(String, u64)> {
    let mut f = File::open(path).map_err(SyncError::io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(SyncError::io(path))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Open a batch file for reading its plaintext: decrypted with `identities` when the
/// manifest says it is encrypted. A wrong or missing key is one clear error.
pub fn open(
    path: &Path,
    encrypted_to: Option<&[String]>,
    identities: Option<&Identities>,
) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(SyncError::io(path))?;
    let Some(to) = encrypted_to else {
        return Ok(Box::new(BufReader::with_capacity(1 << 16, file)));
    };
    let to = to.join(", ");
    let Some(ids) = identities else {
        return Err(SyncError::Key(format!(
            "{}: the file is encrypted (to {to}): pass --identity FILE, the county's identity file",
            path.display()
        )));
    };
    let bad = |problem: String| SyncError::File {
        file: path.to_owned(),
        problem,
    };
    let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(1 << 16, file))
        .map_err(|e| bad(format!("not a readable age file ({e})")))?;
    match decryptor.decrypt(ids.keys.iter().map(|k| k as &dyn age::Identity)) {
        Ok(reader) => Ok(Box::new(BufReader::with_capacity(1 << 16, reader))),
        Err(age::DecryptError::NoMatchingKeys) => Err(SyncError::Key(format!(
            "{}: wrong key: the file is encrypted to {to}, but {} holds the key of {}",
            path.display(),
            ids.path.display(),
            ids.recipients().join(", ")
        ))),
        Err(e) => Err(bad(format!("cannot be decrypted ({e})"))),
    }
}
