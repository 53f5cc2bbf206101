//! The HTTP side of telemetry: the POSTs, each on a thread of its own, waited for no longer
//! than the deadline. ureq's own global timeout bounds each request too; the wait here also
//! covers what a client timeout may not (a name lookup that hangs), so the command goes on
//! after the deadline whatever the network does. A thread still running then is abandoned:
//! the process is about to exit.

use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What an export did, for `GT_REPORT_TELEMETRY` and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Requests the endpoint accepted (a 2xx answer).
    pub sent: usize,
    /// Requests refused, failed or given up on.
    pub failed: usize,
    /// Whether the deadline ended the wait.
    pub timed_out: bool,
    pub elapsed: Duration,
}

/// POST each `(url, JSON body)` at once, and wait for the answers until `deadline`.
pub fn post_all(requests: Vec<(String, String)>, deadline: Duration) -> Flushed {
    let begun = Instant::now();
    let end = begun + deadline;
    let total = requests.len();
    let (tx, rx) = mpsc::channel();
    let mut waiting = 0;
    for (url, body) in requests {
        let tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || {
                let _ = tx.send(post(&url, body, deadline));
            });
        if spawned.is_ok() {
            waiting += 1;
        }
    }
    drop(tx);
    let mut flushed = Flushed::default();
    while waiting > 0 {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(true) => flushed.sent += 1,
            Ok(false) => flushed.failed += 1,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                flushed.timed_out = true;
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        waiting -= 1;
    }
    flushed.failed = total - flushed.sent;
    flushed.elapsed = begun.elapsed();
    flushed
}

/// One POST; true when the collector answered 2xx. Plain http only (the client is built
/// without TLS: see Cargo.toml), so an https URL fails here, quietly.
fn post(url: &str, body: String, deadline: Duration) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(deadline))
        .http_status_as_error(false)
        .user_agent(concat!("gastown/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    match agent
        .post(url)
        .header("content-type", "application/json")
        .send(body)
    {
        Ok(response) => response.status().is_success(),
        Err(_) => false,
    }
}
