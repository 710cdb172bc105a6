//! Identifiers: opaque 20-character lowercase hex strings that sort by creation time.
//!
//! Like Appwrite's ids (which Kakiyo's are), an id starts with its creation time: 15 hex digits
//! of `milliseconds << 16 | sequence`, strictly increasing within a process, then 5 random hex
//! digits. Lists ordered by `(created_at, id)` are therefore stable and newest-first even for
//! rows created in the same millisecond. Clients must still treat ids as opaque.

use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

/// Length of every id we issue.
pub const ID_LEN: usize = 20;
/// Bits of the per-millisecond sequence under the timestamp.
const SEQUENCE_BITS: u32 = 16;
/// Random bits after the time-ordered part (5 hex digits).
const RANDOM_BITS: u32 = 20;

/// The last time-ordered stamp handed out by this process.
static LAST_STAMP: AtomicU64 = AtomicU64::new(0);

/// A stamp strictly greater than every earlier one of this process.
fn next_stamp() -> u64 {
    let millis = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let floor = millis << SEQUENCE_BITS;
    let previous = LAST_STAMP
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(floor.max(last + 1))
        })
        .unwrap_or(0);
    floor.max(previous + 1)
}

/// A fresh id, greater than every id this process issued before.
pub fn new_id() -> String {
    let random: u32 = rand::rng().random_range(0..1 << RANDOM_BITS);
    format!("{:015x}{random:05x}", next_stamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_twenty_lowercase_hex_digits_and_increase() {
        let ids: Vec<String> = (0..10_000).map(|_| new_id()).collect();
        for id in &ids {
            assert_eq!(id.len(), ID_LEN);
            assert!(
                id.bytes()
                    .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
            );
        }
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} then {}", pair[0], pair[1]);
        }
    }
}
