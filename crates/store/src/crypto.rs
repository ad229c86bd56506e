//! Secrets at rest: XChaCha20-Poly1305 with a 32-byte key given to the store when it opens.
//!
//! A sealed value is stored as text, `v1.` followed by the standard base64 of a random 24-byte
//! nonce and the ciphertext with its tag. The random nonce is why XChaCha was chosen: 192 bits
//! make a collision negligible without a counter to keep. Each value is sealed with associated
//! data naming where it lives (table, column, company), so a ciphertext copied into another row
//! does not open.
//!
//! The database also keeps one sealed "key check" value. Opening a store with another key fails
//! at once with [`CryptoError::WrongKey`] instead of failing later on the first secret read.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use std::fmt;

/// Length of a [`SecretKey`] in bytes.
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const PREFIX: &str = "v1.";

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The key does not open the secrets in this database.
    #[error(
        "the stored secrets were encrypted with another key; use the key this database was \
         created with (store.secret_key_file, by default .trestle/secret.key, or TRESTLE_STORE__SECRET_KEY), or \
         start from a new database and connect the companies again"
    )]
    WrongKey,
    /// A key given as text is not 32 bytes of standard base64.
    #[error("the secret key must be {KEY_LEN} bytes in standard base64: {0}")]
    BadKey(String),
    /// A sealed value is not in the stored format (truncated or edited by hand).
    #[error("a stored secret is damaged ({0}); save it again")]
    Damaged(&'static str),
}

/// The 32-byte key that seals secrets at rest.
///
/// `Debug` never shows the key; [`SecretKey::to_base64`] hands it out as a [`SecretString`] so it
/// stays redacted until the caller writes it to its key file.
pub struct SecretKey(SecretBox<[u8; KEY_LEN]>);

impl SecretKey {
    /// A fresh random key from the operating system's generator (through `rand`'s thread rng,
    /// a CSPRNG seeded from it).
    pub fn generate() -> Self {
        let mut bytes = Box::new([0u8; KEY_LEN]);
        rand::rng().fill_bytes(bytes.as_mut());
        SecretKey(SecretBox::new(bytes))
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretKey(SecretBox::new(Box::new(bytes)))
    }

    /// Reads a key written by [`SecretKey::to_base64`]; surrounding whitespace (a key file's
    /// trailing newline) is ignored.
    ///
    /// # Errors
    /// [`CryptoError::BadKey`] when the text is not base64 or not 32 bytes long.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| CryptoError::BadKey(e.to_string()))?;
        let bytes: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| CryptoError::BadKey(format!("it is {} bytes long", b.len())))?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key as standard base64, for the key file or `TRESTLE_STORE__SECRET_KEY`.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.0.expose_secret()))
    }
}

impl Clone for SecretKey {
    fn clone(&self) -> Self {
        Self::from_bytes(*self.0.expose_secret())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

/// Seals and opens values with one key. Held by the store behind an `Arc`.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer([REDACTED])")
    }
}

impl Sealer {
    pub(crate) fn new(key: &SecretKey) -> Self {
        Sealer {
            cipher: XChaCha20Poly1305::new(Key::from_slice(key.0.expose_secret())),
        }
    }

    /// Encrypts `plaintext` bound to `context` (where the value lives).
    pub(crate) fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Damaged("encryption failed"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Decrypts a value sealed by [`Sealer::seal`] with the same context.
    ///
    /// An authentication failure is reported as [`CryptoError::WrongKey`]: the key check at open
    /// makes a wrong key by far the likeliest cause.
    pub(crate) fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let body = sealed
            .strip_prefix(PREFIX)
            .ok_or(CryptoError::Damaged("unknown format"))?;
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| CryptoError::Damaged("not base64"))?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Damaged("too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::WrongKey)
    }

    pub(crate) fn seal_secret(
        &self,
        context: &str,
        secret: &SecretString,
    ) -> Result<String, CryptoError> {
        self.seal(context, secret.expose_secret().as_bytes())
    }

    pub(crate) fn open_secret(
        &self,
        context: &str,
        sealed: &str,
    ) -> Result<SecretString, CryptoError> {
        let bytes = self.open(context, sealed)?;
        let text = String::from_utf8(bytes).map_err(|_| CryptoError::Damaged("not UTF-8"))?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_and_context_only() {
        let key = SecretKey::generate();
        let sealer = Sealer::new(&key);
        let sealed = sealer.seal("ctx:1", b"hunter2").unwrap();
        assert!(!sealed.contains("hunter2"));
        assert_eq!(sealer.open("ctx:1", &sealed).unwrap(), b"hunter2");
        assert_eq!(sealer.open("ctx:2", &sealed), Err(CryptoError::WrongKey));
        let other = Sealer::new(&SecretKey::generate());
        assert_eq!(other.open("ctx:1", &sealed), Err(CryptoError::WrongKey));
    }

    #[test]
    fn keys_round_trip_through_base64_and_never_show_in_debug() {
        let key = SecretKey::generate();
        let text = key.to_base64();
        let again = SecretKey::from_base64(&format!("{}\n", text.expose_secret())).unwrap();
        assert_eq!(again.to_base64().expose_secret(), text.expose_secret());
        assert_eq!(format!("{key:?}"), "SecretKey([REDACTED])");
        assert!(matches!(
            SecretKey::from_base64("c2hvcnQ="),
            Err(CryptoError::BadKey(_))
        ));
        assert!(matches!(
            SecretKey::from_base64("not base64!"),
            Err(CryptoError::BadKey(_))
        ));
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        let sealer = Sealer::new(&SecretKey::generate());
        assert_ne!(
            sealer.seal("c", b"x").unwrap(),
            sealer.seal("c", b"x").unwrap()
        );
    }
}
