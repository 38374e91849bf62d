//! Which campaigns are paused or cancelled, as every node's queue sees them: read every
//! `HALT_POLL`, and the claimed deliveries of a halted campaign given back unattempted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use herald_domain::DeliveryState;
use herald_store::{CampaignId, CampaignStatus, ClaimedDelivery, OutcomeRecord, Store};

use crate::Clock;

use super::*;

/// How often a node looks for campaigns paused or cancelled since it claimed their
/// deliveries: what it holds of them is given back unattempted within this (plus at most
/// [`RENDER_AHEAD`] messages per connection already rendered).
pub(crate) const HALT_POLL: Duration = Duration::from_millis(400);

/// Campaigns paused or cancelled, as last read from the store (shared with the render threads),
/// and when that read began; the clock stamps what is given back.
pub(crate) struct Halted {
    view: std::sync::RwLock<(HashMap<CampaignId, CampaignStatus>, std::time::Instant)>,
    clock: Clock,
}

impl Halted {
    pub(super) fn new(clock: Clock) -> Self {
        Self {
            view: std::sync::RwLock::new((HashMap::new(), std::time::Instant::now())),
            clock,
        }
    }

    pub(super) fn status(&self, id: CampaignId) -> Option<CampaignStatus> {
        let map = self.view.read().unwrap_or_else(|e| e.into_inner());
        map.0.get(&id).copied()
    }

    pub(super) fn set(&self, now: Vec<(CampaignId, CampaignStatus)>, read_at: std::time::Instant) {
        let mut map = self.view.write().unwrap_or_else(|e| e.into_inner());
        *map = (now.into_iter().collect(), read_at);
    }

    /// A claim begun at `claimed_at` returned deliveries of these campaigns: claims skip
    /// paused and cancelled campaigns, so a view read before the claim that calls one of them
    /// halted is stale (a resume since): forget it, rather than give back what was just
    /// claimed until the next look.
    pub(super) fn claimed(
        &self,
        campaigns: impl Iterator<Item = CampaignId>,
        claimed_at: std::time::Instant,
    ) {
        let mut map = self.view.write().unwrap_or_else(|e| e.into_inner());
        if map.1 < claimed_at {
            for c in campaigns {
                map.0.remove(&c);
            }
        }
    }

    /// What to record instead of an attempt for `d`, if its campaign is halted.
    pub(super) fn give_back(&self, d: &ClaimedDelivery) -> Option<OutcomeRecord> {
        self.status(d.campaign)
            .map(|s| give_back(d, s, self.clock.now_ms()))
    }
}

/// A claimed delivery of a halted campaign, unattempted: a paused one keeps its state and
/// reason (claims skip it while the campaign stays paused); a cancelled one is `not_sent:
/// cancelled`. A paused one is not moved out of the due range ([`herald_store::PAUSE_SHIFT_MS`]):
/// this node's view of the pause may be up to [`HALT_POLL`] old, and a delivery given back
/// just after a resume must be due at once, not wait for another resume.
pub(crate) fn give_back(d: &ClaimedDelivery, status: CampaignStatus, now_ms: i64) -> OutcomeRecord {
    if status == CampaignStatus::Cancelled {
        without_attempt(
            d,
            DeliveryState::NotSent,
            Some(herald_domain::NotSentReason::Cancelled.as_str()),
            None,
            now_ms,
        )
    } else {
        without_attempt(d, d.state, d.reason.as_deref(), Some(now_ms), now_ms)
    }
}

/// Keep `halted` current: every [`HALT_POLL`], read the paused and cancelled campaigns and
/// settle what cancelled ones still have waiting (leases given back or run out).
pub(crate) async fn watch_halts<S: Store>(store: S, halted: Arc<Halted>) {
    let mut tick = tokio::time::interval(HALT_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let read_at = std::time::Instant::now();
        match store.halted_campaigns().await {
            Ok(now) => {
                let cancelled = now.iter().any(|(_, s)| *s == CampaignStatus::Cancelled);
                halted.set(now, read_at);
                if cancelled && let Err(e) = store.settle_cancelled(halted.clock.now_ms()).await {
                    tracing::warn!(error = %e, "settling cancelled deliveries failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading paused campaigns failed"),
        }
    }
}
