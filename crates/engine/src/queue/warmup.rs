//! Warm-up (`[delivery] warmup`): a new From domain sends at most its schedule's allowance per
//! UTC day (e.g. 50, 100, 500, 1,000, … on its 1st, 2nd, 3rd, 4th day of sending); the rest of a
//! campaign waits queued, unattempted, with the reason in words, until the next day. Receivers
//! judge a new sender by its first weeks; a campaign to 20,000 from a domain that never sent
//! before is what lands in Junk. The allowance is taken from the store (atomic across nodes);
//! the day's place in the schedule is the number of earlier days the domain sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_store::{ClaimedDelivery, OutcomeRecord, Store, StoreError};

use super::without_attempt;
use crate::render::CampaignRender;

const DAY_MS: i64 = 86_400_000;

/// What may go now, and what waits for tomorrow (given back, with the reason).
pub(super) struct Paced {
    pub go: Vec<(Arc<CampaignRender>, ClaimedDelivery)>,
    pub wait: Vec<OutcomeRecord>,
}

/// A node's warm-up: the schedule, and each From domain's place in it today (read once a day
/// per domain: the claim loop asks for every batch, and a domain past the schedule then costs
/// nothing).
pub(super) struct Warmup {
    /// The schedule is the run-time settings' `delivery.warmup`, read for every batch.
    live: crate::runtime::Live,
    /// Domain → (UTC day, its place in the schedule that day).
    days: Mutex<HashMap<String, (i64, u64)>>,
}

impl Warmup {
    pub(super) fn new(live: crate::runtime::Live) -> Self {
        Self {
            live,
            days: Mutex::default(),
        }
    }

    /// `domain`'s cap today and its day of the schedule (0 = the first); `None` past it.
    async fn cap<S: Store>(
        &self,
        store: &S,
        schedule: &[u64],
        domain: &str,
        today: i64,
    ) -> Result<Option<(u64, u64)>, StoreError> {
        let known = self
            .days
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(domain)
            .filter(|(day, _)| *day == today)
            .map(|(_, index)| *index);
        let index = match known {
            Some(i) => i,
            None => {
                let i = store.warmup_day(domain, today).await?;
                self.days
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(domain.to_string(), (today, i));
                i
            }
        };
        Ok(schedule.get(index as usize).map(|&cap| (cap, index)))
    }

    /// Apply the schedule to the deliveries about to be sent: per From domain, in the order
    /// claimed, as many as the day's allowance grants. A list's own messages (confirmations,
    /// welcomes) are not paced: someone just asked for them.
    pub(super) async fn pace<S: Store>(
        &self,
        store: &S,
        ready: Vec<(Arc<CampaignRender>, ClaimedDelivery)>,
        now_ms: i64,
    ) -> Result<Paced, StoreError> {
        let values = self.live.get();
        let schedule = &values.warmup;
        if schedule.is_empty() {
            return Ok(Paced {
                go: ready,
                wait: Vec::new(),
            });
        }
        let today = now_ms.div_euclid(DAY_MS);
        let tomorrow = (today + 1) * DAY_MS;
        let mut by_from: HashMap<String, Vec<(Arc<CampaignRender>, ClaimedDelivery)>> =
            HashMap::new();
        let mut go = Vec::with_capacity(ready.len());
        for (r, d) in ready {
            if r.is_campaign() {
                by_from
                    .entry(r.from().domain().to_ascii_lowercase())
                    .or_default()
                    .push((r, d));
            } else {
                go.push((r, d));
            }
        }
        let mut wait = Vec::new();
        for (domain, mut items) in by_from {
            let Some((cap, index)) = self.cap(store, schedule, &domain, today).await? else {
                go.extend(items);
                continue;
            };
            let granted = store
                .take_warmup(&domain, today, items.len() as u64, cap)
                .await?;
            let rest = items.split_off((granted as usize).min(items.len()));
            go.extend(items);
            if rest.is_empty() {
                continue;
            }
            let reason = format!(
                "warm-up: {domain} is on day {} of its warm-up schedule, {cap} messages a day, all sent today; the rest go from {}",
                index + 1,
                crate::reports::ms_to_rfc3339(tomorrow)
            );
            wait.extend(
                rest.iter().map(|(_, d)| {
                    without_attempt(d, d.state, Some(&reason), Some(tomorrow), now_ms)
                }),
            );
        }
        Ok(Paced { go, wait })
    }
}
