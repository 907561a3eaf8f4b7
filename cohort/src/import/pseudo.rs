//! Pseudonyms: a person's raw identifier (FHIR Patient.id, OMOP person_id, CSV person_id,
//! Apple export id) becomes `p-` + the first 128 bits of HMAC-SHA256(key, raw id), in hex.
//! The same raw id gets the same pseudonym in every input of one import (and in every import
//! with the same key), so records of one person in FHIR and Apple Health are linked.
//!
//! Why HMAC (the `hmac` crate over the workspace's `sha2`): a plain hash of an identifier is
//! reversible by hashing every plausible identifier (patient numbers are short); a keyed hash
//! is not without the key. HMAC is the standard keyed construction (RFC 2104), immune to the
//! length-extension weakness of `sha256(key ‖ id)`; the RustCrypto crate is small and adds
//! no dependency beyond `digest`, which `sha2` already brings.
//!
//! Must never: run without a key outside explicit demo mode, or keep the raw identifier.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The published demo key. Pseudonyms made with it are NOT protected: anyone can recompute
/// them. Only for fixtures, tutorials and synthetic data.
pub const DEMO_KEY: &[u8] = b"healthtwin-demo-key-PUBLIC-do-not-use-for-real-data";

/// Environment variable holding the key (as text; at least 32 bytes).
pub const KEY_ENV: &str = "HEALTHTWIN_PSEUDONYM_KEY";

/// Minimum key length in bytes (256 bits of text is the least we accept).
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Clone)]
pub struct Pseudonymiser {
    mac: Hmac<Sha256>,
    demo: bool,
    fingerprint: String,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymiser")
            .field("demo", &self.demo)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no pseudonymisation key: give --key-file FILE or set {KEY_ENV} (at least {MIN_KEY_BYTES} bytes), \
         or use --demo for synthetic or test data only"
    )]
    Missing,
    #[error("the pseudonymisation key is {0} bytes; at least {MIN_KEY_BYTES} are required")]
    TooShort(usize),
    #[error("--key-file {path}: cannot read: {message}")]
    Unreadable { path: String, message: String },
}

impl Pseudonymiser {
    /// A pseudonymiser with a secret key (surrounding whitespace of a key file is ignored).
    pub fn new(key: &[u8]) -> Result<Pseudonymiser, KeyError> {
        let key = trim_ascii(key);
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(key.len()));
        }
        Ok(Self::build(key, false))
    }

    /// The published demo key (callers must warn loudly).
    pub fn demo() -> Pseudonymiser {
        Self::build(DEMO_KEY, true)
    }

    /// Key from a file, else from [`KEY_ENV`], else demo mode if allowed.
    pub fn from_sources(
        key_file: Option<&std::path::Path>,
        env_value: Option<&[u8]>,
        demo: bool,
    ) -> Result<Pseudonymiser, KeyError> {
        if let Some(path) = key_file {
            let bytes = std::fs::read(path).map_err(|e| KeyError::Unreadable {
                path: path.display().to_string(),
                message: e.kind().to_string(),
            })?;
            return Pseudonymiser::new(&bytes);
        }
        if let Some(v) = env_value.filter(|v| !v.is_empty()) {
            return Pseudonymiser::new(v);
        }
        if demo {
            return Ok(Pseudonymiser::demo());
        }
        Err(KeyError::Missing)
    }

    fn build(key: &[u8], demo: bool) -> Pseudonymiser {
        let mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
        // A fingerprint lets two imports be checked for the same key without revealing it.
        let mut fp = mac.clone();
        fp.update(b"healthtwin key fingerprint");
        let fingerprint = hex(&fp.finalize().into_bytes()[..8]);
        Pseudonymiser {
            mac,
            demo,
            fingerprint,
        }
    }

    pub fn is_demo(&self) -> bool {
        self.demo
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The 128-bit pseudonym of a raw identifier.
    pub fn pseudonym(&self, raw_id: &str) -> [u8; 16] {
        let mut m = self.mac.clone();
        m.update(raw_id.trim().as_bytes());
        let out = m.finalize().into_bytes();
        let mut p = [0u8; 16];
        p.copy_from_slice(&out[..16]);
        p
    }
}

/// `p-` + 32 hex digits.
pub fn pseudonym_text(p: &[u8; 16]) -> String {
    format!("p-{}", hex(p))
}

fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[usize::from(b >> 4)] as char);
        s.push(D[usize::from(b & 15)] as char);
    }
    s
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

/// SHA-256 of some bytes, hex (used to name an Apple export without a given id).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_test_case_2() {
        // HMAC-SHA256("Jefe", "what do ya want for nothing?") from RFC 4231 §4.3.
        let mut m = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(&m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
