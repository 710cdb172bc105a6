//! Identifiers: opaque 20-character lowercase alphanumeric strings, like the ones Kakiyo issues.
//!
//! Clients must treat ids as opaque; we never parse meaning out of them.

use rand::Rng;

/// Length of every id we issue.
pub const ID_LEN: usize = 20;

const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh random id.
pub fn new_id() -> String {
    let mut rng = rand::rng();
    (0..ID_LEN)
        .map(|_| char::from(ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_twenty_lowercase_alphanumerics_and_differ() {
        let a = new_id();
        let b = new_id();
        assert_eq!(a.len(), ID_LEN);
        assert!(a.bytes().all(|c| ID_ALPHABET.contains(&c)));
        assert_ne!(a, b);
    }
}
