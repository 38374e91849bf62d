//! Pure types of Herald: no I/O, no async.
//!
//! Everything that crosses a stage boundary is parsed into one of these types at the edge
//! (CSV import, CLI, HTTP), so an invalid address or an unknown state cannot exist inside.

pub mod address;
pub mod audience;
pub mod connections;
pub mod reason;
pub mod retry;
pub mod role;
pub mod segment;
pub mod stage;
pub mod state;
pub mod vocab;
pub mod webhook;

pub use address::{AddressError, EmailAddress};
pub use audience::{CampaignKind, MemberStatus, OptIn};
pub use reason::{BounceReason, NotSentReason};
pub use retry::{RetryDecision, RetrySchedule};
pub use role::Role;
pub use stage::SmtpStage;
pub use state::{DeliveryState, Evidence, Reply, SentMessage, TlsInfo};
pub use vocab::{AttemptOutcome, EventKind, Placement, SuppressionReason};
