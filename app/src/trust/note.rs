//! Checkpoints as C2SP signed notes (`tlog-checkpoint`, the format Go's `golang.org/x/mod/sumdb/note` reads),
//! signed with Ed25519; the keys in that package's text forms:
//!
//! - signer key (the file beside the database): `PRIVATE+KEY+<origin>+<key id>+<base64(0x01 || seed)>`;
//! - verifier key (`GET /api/v1/log/key`): `<origin>+<key id>+<base64(0x01 || public key)>`;
//! - key id: the first 4 bytes of SHA-256(origin || "\n" || 0x01 || public key), 8 hex digits in the keys,
//!   big-endian before the signature in a note's signature line.

use std::path::Path;

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::tree::Hash;

/// The algorithm byte of Ed25519 in the note formats.
const ED25519: u8 = 0x01;

/// Whoever signs this log's checkpoints.
pub struct Signer {
    origin: String,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

fn key_id(origin: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(origin.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(public.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// An origin must be one line of printable text without `+` or spaces (they separate a key's parts).
fn check_origin(origin: &str) -> Result<(), String> {
    let ok = !origin.is_empty() && origin.chars().all(|c| c.is_ascii_graphic() && c != '+');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "log origin {origin:?} must be printable ASCII without spaces or `+`"
        ))
    }
}

impl Signer {
    /// The signer in `file`; when there is no such file, a new key for `origin` (or `auditlog/<new id>`) is
    /// made and written there, readable by its owner only. A configured `origin` must be the key's.
    pub fn load_or_create(file: &Path, origin: Option<&str>) -> Result<Signer, String> {
        let signer = match std::fs::read_to_string(file) {
            Ok(text) => Self::parse(text.trim()).map_err(|e| format!("signing key {}: {e}", file.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let origin = match origin {
                    Some(o) => o.to_string(),
                    None => format!("auditlog/{}", ulid::Ulid::new().to_string().to_ascii_lowercase()),
                };
                check_origin(&origin)?;
                let signer = Signer {
                    origin,
                    key: SigningKey::from_bytes(&rand::random()),
                };
                write_private(file, &signer.private_text())
                    .map_err(|e| format!("cannot write the signing key {}: {e}", file.display()))?;
                tracing::info!(file = %file.display(), origin = %signer.origin, "made the log's signing key");
                signer
            }
            Err(e) => return Err(format!("cannot read the signing key {}: {e}", file.display())),
        };
        match origin {
            Some(o) if o != signer.origin => Err(format!(
                "the signing key {} is for the log origin `{}`, not `{o}`",
                file.display(),
                signer.origin
            )),
            _ => Ok(signer),
        }
    }

    fn parse(text: &str) -> Result<Signer, String> {
        let bad = || "not a signer key (PRIVATE+KEY+<origin>+<key id>+<key>)".to_string();
        let rest = text.strip_prefix("PRIVATE+KEY+").ok_or_else(bad)?;
        // The origin has no `+`; the base64 key may.
        let mut parts = rest.splitn(3, '+');
        let (Some(origin), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        check_origin(origin)?;
        let bytes = B64.decode(key).map_err(|_| bad())?;
        let seed: [u8; 32] = match bytes.split_first() {
            Some((&ED25519, seed)) => seed.try_into().map_err(|_| bad())?,
            _ => return Err("only Ed25519 keys are supported".into()),
        };
        let signer = Signer {
            origin: origin.into(),
            key: SigningKey::from_bytes(&seed),
        };
        if hex::encode(key_id(origin, &signer.key.verifying_key())) != id {
            return Err("the key id does not match the key".into());
        }
        Ok(signer)
    }

    fn private_text(&self) -> String {
        let mut key = vec![ED25519];
        key.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.origin,
            hex::encode(key_id(&self.origin, &self.key.verifying_key())),
            B64.encode(key)
        )
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key, `<origin>+<key id>+<base64(0x01 || public key)>`.
    pub fn verifier_key(&self) -> String {
        let public = self.key.verifying_key();
        let mut key = vec![ED25519];
        key.extend_from_slice(public.as_bytes());
        format!(
            "{}+{}+{}",
            self.origin,
            hex::encode(key_id(&self.origin, &public)),
            B64.encode(key)
        )
    }

    /// The signed checkpoint of the tree of `size` leaves with root `root`.
    pub fn sign(&self, size: u64, root: &Hash) -> String {
        let body = checkpoint_body(&self.origin, size, root);
        let signature = self.key.sign(body.as_bytes());
        let mut sig = key_id(&self.origin, &self.key.verifying_key()).to_vec();
        sig.extend_from_slice(&signature.to_bytes());
        format!("{body}\n\u{2014} {} {}\n", self.origin, B64.encode(sig))
    }
}

fn checkpoint_body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", B64.encode(root))
}

#[cfg(unix)]
fn write_private(file: &Path, text: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    if let Some(dir) = file.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(file: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(file, format!("{text}\n"))
}

/// A checkpoint whose signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// Checks checkpoints against a verifier key.
#[derive(Clone, Debug)]
pub struct Verifier {
    origin: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl Verifier {
    /// Reads a verifier key, `<origin>+<key id>+<base64(0x01 || public key)>`.
    pub fn parse(text: &str) -> Result<Verifier, String> {
        let bad = || "not a verifier key (<origin>+<key id>+<key>)".to_string();
        let mut parts = text.trim().splitn(3, '+');
        let (Some(origin), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let bytes = B64.decode(key).map_err(|_| bad())?;
        let public: [u8; 32] = match bytes.split_first() {
            Some((&ED25519, public)) => public.try_into().map_err(|_| bad())?,
            _ => return Err("only Ed25519 keys are supported".into()),
        };
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad())?;
        let expected = key_id(origin, &key);
        if hex::encode(expected) != id {
            return Err("the key id does not match the key".into());
        }
        Ok(Verifier {
            origin: origin.into(),
            id: expected,
            key,
        })
    }

    /// The checkpoint in `note`, when a signature line of this key signs its body.
    pub fn open(&self, note: &str) -> Result<Checkpoint, String> {
        let (body, signatures) = note
            .split_once("\n\n")
            .ok_or("not a signed note (no blank line before the signatures)")?;
        let body = format!("{body}\n");
        let mut lines = body.lines();
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err("not a checkpoint (origin, tree size, root hash)".into());
        };
        if origin != self.origin {
            return Err(format!(
                "the checkpoint is for `{origin}`, the key for `{}`",
                self.origin
            ));
        }
        let size: u64 = size.parse().map_err(|_| "the tree size is not a number")?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or("the root hash is not 32 bytes of base64")?;
        let signed = signatures.lines().any(|line| {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return false;
            };
            let Some((name, sig)) = rest.split_once(' ') else {
                return false;
            };
            let Ok(sig) = B64.decode(sig) else {
                return false;
            };
            name == self.origin
                && sig.len() == 68
                && sig[..4] == self.id
                && Signature::from_slice(&sig[4..]).is_ok_and(|s| self.key.verify_strict(body.as_bytes(), &s).is_ok())
        });
        if !signed {
            return Err("no valid signature of this key on the checkpoint".into());
        }
        Ok(Checkpoint {
            origin: origin.into(),
            size,
            root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_opens_with_the_verifier_key_and_not_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        let signer = Signer::load_or_create(&file, Some("example.com/log")).unwrap();
        let again = Signer::load_or_create(&file, None).unwrap();
        assert_eq!(again.verifier_key(), signer.verifier_key());
        assert!(Signer::load_or_create(&file, Some("other")).is_err());

        let note = signer.sign(7, &[9; 32]);
        let verifier = Verifier::parse(&signer.verifier_key()).unwrap();
        let cp = verifier.open(&note).unwrap();
        assert_eq!((cp.size, cp.root), (7, [9; 32]));
        assert!(verifier.open(&note.replace("\n7\n", "\n8\n")).is_err());
        let other = Signer::load_or_create(&dir.path().join("other"), Some("example.com/log")).unwrap();
        assert!(Verifier::parse(&other.verifier_key()).unwrap().open(&note).is_err());
    }
}
