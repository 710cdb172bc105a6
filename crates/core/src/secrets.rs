//! Encryption at rest of secrets users give us (LinkedIn passwords), with ChaCha20-Poly1305.
//!
//! The master key is 32 bytes, written as 64 hex characters or as base64. Each secret is sealed
//! with a fresh random nonce; the stored form is base64 of `nonce || ciphertext`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use std::fmt;

/// Bytes in a master key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

/// Seals and opens secrets with the master key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(<redacted>)")
    }
}

/// Why a key or a sealed value could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("the secret key must be 32 bytes, written as 64 hex characters or base64")]
    BadKey,
    #[error("the sealed value is damaged or was sealed with another key")]
    CannotOpen,
}

impl SecretBox {
    /// A box for a key written as 64 hex characters or base64 of 32 bytes.
    pub fn from_encoded_key(encoded: &str) -> Result<Self, SecretError> {
        let encoded = encoded.trim();
        let bytes = hex::decode(encoded)
            .ok()
            .filter(|b| b.len() == KEY_BYTES)
            .or_else(|| BASE64.decode(encoded).ok())
            .filter(|b| b.len() == KEY_BYTES)
            .ok_or(SecretError::BadKey)?;
        let cipher = ChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| SecretError::BadKey)?;
        Ok(Self { cipher })
    }

    /// A fresh random key, hex-encoded, for a first start.
    pub fn generate_encoded_key() -> String {
        hex::encode(ChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// The sealed form of `plaintext`.
    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .unwrap_or_default();
        out.extend(ciphertext);
        BASE64.encode(out)
    }

    /// The plaintext of a value made by [`SecretBox::seal`] with the same key.
    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let bytes = BASE64.decode(sealed).map_err(|_| SecretError::CannotOpen)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SecretError::CannotOpen);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SecretError::CannotOpen)?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| SecretError::CannotOpen)?;
        String::from_utf8(plain).map_err(|_| SecretError::CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_hides_the_plaintext() {
        let secret = SecretBox::from_encoded_key(&SecretBox::generate_encoded_key()).unwrap();
        let sealed = secret.seal("hunter22");
        assert!(!sealed.contains("hunter22"));
        assert_ne!(sealed, secret.seal("hunter22"), "fresh nonce each time");
        assert_eq!(secret.open(&sealed).unwrap(), "hunter22");
    }

    #[test]
    fn another_key_cannot_open() {
        let a = SecretBox::from_encoded_key(&SecretBox::generate_encoded_key()).unwrap();
        let b = SecretBox::from_encoded_key(&SecretBox::generate_encoded_key()).unwrap();
        assert_eq!(b.open(&a.seal("x")), Err(SecretError::CannotOpen));
        assert_eq!(a.open("not base64!"), Err(SecretError::CannotOpen));
    }

    #[test]
    fn keys_in_hex_or_base64() {
        assert!(SecretBox::from_encoded_key(&"ab".repeat(32)).is_ok());
        assert!(SecretBox::from_encoded_key(&BASE64.encode([7u8; 32])).is_ok());
        assert_eq!(
            SecretBox::from_encoded_key("short").unwrap_err(),
            SecretError::BadKey
        );
    }
}
