//! A test-only pause in the middle of a write, so that end-to-end tests can kill a copy
//! while it has written some rows but not committed them.
//!
//! `MDFLOW_TEST_PAUSE_AFTER_ROWS=N` makes the first sink write that reaches N rows print
//! `mdflow-test-pause: N rows written` to stderr and sleep for ten minutes. It is read here
//! and nowhere else; unset (the normal case) it costs one cached lookup per call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The marker printed to stderr when the pause starts.
pub const MARKER: &str = "mdflow-test-pause";

fn limit() -> Option<u64> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("MDFLOW_TEST_PAUSE_AFTER_ROWS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
    })
}

/// Whether a pause is asked for: writers then flush each row before calling [`after_rows`].
pub fn armed() -> bool {
    limit().is_some()
}

/// Pauses once per process when `rows` has reached `MDFLOW_TEST_PAUSE_AFTER_ROWS`.
pub fn after_rows(rows: u64) {
    static PAUSED: AtomicBool = AtomicBool::new(false);
    let Some(limit) = limit() else {
        return;
    };
    if rows < limit || PAUSED.swap(true, Ordering::SeqCst) {
        return;
    }
    // Written straight to stderr: the test waits for this line, whatever the log level.
    use std::io::Write;
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{MARKER}: {rows} rows written");
    let _ = err.flush();
    std::thread::sleep(Duration::from_secs(600));
}
