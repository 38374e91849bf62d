//! Records of seeds, users and tokens, sending domains' checks and nodes.

use super::*;
use herald_domain::DeliveryState;

/// A seed mailbox to add.
#[derive(Debug, Clone)]
pub struct NewSeed {
    pub provider: String,
    pub address: String,
    pub imap_host: String,
    pub imap_port: u16,
    pub username: String,
    /// `tls`, `starttls` or `plain`.
    pub security: String,
    pub created_at_ms: i64,
}

/// A seed mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub id: i64,
    pub provider: String,
    pub address: String,
    pub imap_host: String,
    pub imap_port: u16,
    pub username: String,
    pub security: String,
    pub enabled: bool,
    pub last_poll_at_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// A delivered seed copy still waiting for its placement.
#[derive(Debug, Clone)]
pub struct PendingPlacement {
    pub delivery: DeliveryId,
    pub campaign: CampaignId,
    pub seed: Seed,
    pub message_id: String,
    /// When the seed's server accepted it.
    pub delivered_at_ms: i64,
    /// The sandbox's capture server took it (its simulated receiver says where it went; there
    /// is no mailbox to log in to).
    pub sandboxed: bool,
}

/// A seed copy of a campaign and where it landed.
#[derive(Debug, Clone)]
pub struct SeedPlacement {
    pub seed: Seed,
    pub state: DeliveryState,
    /// inbox | junk | other:<folder> | missing; None while unknown.
    pub placement: Option<herald_domain::Placement>,
    pub folder: Option<String>,
    pub at_ms: Option<i64>,
}

/// A person who uses the UI or the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    /// `admin` (everything) or `viewer` (read only).
    pub role: herald_domain::Role,
}

/// An API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub user: String,
    pub name: String,
    pub created_at_ms: i64,
    /// None: never expires.
    pub expires_at_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub role: herald_domain::Role,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub user: i64,
    pub csrf: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// The latest re-verification of a connected domain (drift, design §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainCheck {
    pub domain: String,
    pub checked_at_ms: i64,
    pub ok: bool,
    /// What fails and what receivers will do because of it; empty when `ok`.
    pub problems: String,
    /// When `ok`/`problems` last changed (set by the store).
    pub changed_at_ms: i64,
}

/// A change in a domain's verification result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEvent {
    pub at_ms: i64,
    pub ok: bool,
    pub problems: String,
}

/// A node running `herald serve` on this database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    pub name: String,
    /// The lease owner of the running process.
    pub owner: String,
    pub helo_name: String,
    /// JSON array of the node's sending IPs.
    pub source_ips: String,
    pub started_at_ms: i64,
    pub heartbeat_at_ms: i64,
    /// It runs (ran) `herald serve --sandbox`.
    pub sandbox: bool,
}
