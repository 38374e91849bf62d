//! The pipeline, one module per stage in flow order (design §1):
//! `contacts` → `campaign` (create, audience) → `render` → `queue` → `deliver` → `outcome`
//! → `reports`; `diagnose` answers "why didn't they get it?"; `feedback` takes what comes back after delivery (bounces, complaints).

pub mod api_types;
pub mod audience;
pub mod campaign;
pub mod clock;
pub mod contacts;
pub mod deliver;
pub mod diagnose;
pub mod domains;
pub mod feedback;
pub mod outcome;
pub mod placement;
pub mod queue;
pub mod render;
pub mod reports;
pub mod runtime;
pub mod webhooks;

use time::OffsetDateTime;

pub use clock::Clock;

/// Milliseconds since the Unix epoch.
pub fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Why work handed to [`bounded`] did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unfinished {
    /// It panicked (the message).
    Panicked(String),
    /// It was still running when the limit came (it is left to finish on its own).
    TooSlow,
}

/// Run CPU-bound work on untrusted or user input (templates, inbound messages) on the blocking
/// pool within `limit`, so it never stalls the async workers, and a panic in it is an answer,
/// not a crash.
pub async fn bounded<T: Send + 'static>(
    limit: std::time::Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Unfinished> {
    match tokio::time::timeout(limit, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err(Unfinished::Panicked(e.to_string())),
        Err(_) => Err(Unfinished::TooSlow),
    }
}
