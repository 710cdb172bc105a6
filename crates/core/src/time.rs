//! Timestamps: stored as Unix epoch milliseconds, shown as ISO-8601 UTC with milliseconds.

use chrono::{DateTime, SecondsFormat, Utc};

/// Milliseconds since the Unix epoch, the form in which every timestamp is stored.
pub type Millis = i64;

/// `2026-05-02T10:14:00.000Z` for a stored timestamp.
pub fn iso8601(millis: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The current time in milliseconds.
pub fn now_millis() -> Millis {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        assert_eq!(iso8601(1_777_716_840_000), "2026-05-02T10:14:00.000Z");
    }
}
