//! The clock consent decisions are judged by. Tests set `MDFLOW_NOW` to an RFC 3339 time
//! (such as `2024-05-01T09:00:00Z`) to step past the 24-hour request expiry or the
//! six-month approval without waiting; it is a testing aid, documented in docs/security.md.
//!
//! Run records and expressions (`utcnow()`) keep the real clock: only consent reads this.

use chrono::{DateTime, Utc};

/// The environment variable that fixes the consent clock.
pub const NOW_VARIABLE: &str = "MDFLOW_NOW";

/// The current time, or the time `MDFLOW_NOW` names when it is set and valid.
pub fn now() -> DateTime<Utc> {
    let Ok(text) = std::env::var(NOW_VARIABLE) else {
        return Utc::now();
    };
    match DateTime::parse_from_rfc3339(text.trim()) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => {
            tracing::warn!(
                "{NOW_VARIABLE}={text} is not an RFC 3339 time such as 2024-05-01T09:00:00Z;                  using the real clock"
            );
            Utc::now()
        }
    }
}

/// A time as consent records store and print it: RFC 3339 in UTC, to the second.
pub fn format(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Reads a time written by [`format`].
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
