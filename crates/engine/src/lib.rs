//! The pipeline, one module per stage in flow order (design §1):
//! `contacts` → `campaign` (create, audience) → `render` → `queue` → `deliver` → `outcome`
//! → `reports`; `diagnose` answers "why didn't they get it?"; `feedback` takes what comes back after delivery (bounces, complaints).

pub mod api_types;
pub mod audience;
pub mod campaign;
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
pub mod webhooks;

use time::OffsetDateTime;

/// Milliseconds since the Unix epoch.
pub fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn now_ms() -> i64 {
    ms(OffsetDateTime::now_utc())
}
