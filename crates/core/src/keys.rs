//! API keys: 40 characters of `[A-Za-z0-9]`, shown once, stored only as their SHA-256.

use rand::Rng;
use sha2::{Digest, Sha256};

/// Length of an API key, as Kakiyo issues them.
pub const API_KEY_LEN: usize = 40;

const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh API key. Show it once; store only [`hash_api_key`] of it.
pub fn generate_api_key() -> String {
    let mut rng = rand::rng();
    (0..API_KEY_LEN)
        .map(|_| char::from(KEY_ALPHABET[rng.random_range(0..KEY_ALPHABET.len())]))
        .collect()
}

/// Whether `key` has the shape of an API key (length and alphabet); says nothing of validity.
pub fn is_well_formed_api_key(key: &str) -> bool {
    key.len() == API_KEY_LEN && key.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// The lowercase hex SHA-256 of a key: the only form in which keys are stored.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed() {
        let key = generate_api_key();
        assert!(is_well_formed_api_key(&key));
        assert_ne!(key, generate_api_key());
    }

    #[test]
    fn malformed_keys_are_recognised() {
        assert!(!is_well_formed_api_key(""));
        assert!(!is_well_formed_api_key(&"a".repeat(39)));
        assert!(!is_well_formed_api_key(&"a".repeat(41)));
        assert!(!is_well_formed_api_key(&format!("{}-", "a".repeat(39))));
        assert!(!is_well_formed_api_key(&format!("{}é", "a".repeat(38))));
    }

    #[test]
    fn hash_is_hex_sha256() {
        assert_eq!(
            hash_api_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
