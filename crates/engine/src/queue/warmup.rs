//! Warm-up (`[delivery] warmup`): a new From domain sends at most its schedule's allowance per
//! UTC day (e.g. 50, 100, 500, 1,000, … on its 1st, 2nd, 3rd, 4th day of sending); the rest of a
//! campaign waits queued, unattempted, with the reason in words, until the next day. Receivers
//! judge a new sender by its first weeks; a campaign to 20,000 from a domain that never sent
//! before is what lands in Junk. The allowance is taken from the store (atomic across nodes);
//! the day's place in the schedule is the number of earlier days the domain sent.

use std::collections::HashMap;
use std::sync::Arc;

use herald_store::{ClaimedDelivery, OutcomeRecord, Store, StoreError};

use super::without_attempt;
use crate::render::CampaignRender;

const DAY_MS: i64 = 86_400_000;

/// What may go now, and what waits for tomorrow (given back, with the reason).
pub(super) struct Paced {
    pub go: Vec<(Arc<CampaignRender>, ClaimedDelivery)>,
    pub wait: Vec<OutcomeRecord>,
}

/// Apply the warm-up schedule to the deliveries about to be sent: per From domain, in the order
/// claimed, as many as the day's allowance grants. A list's own messages (confirmations,
/// welcomes) are not paced: someone just asked for them.
pub(super) async fn pace<S: Store>(
    store: &S,
    schedule: &[u64],
    ready: Vec<(Arc<CampaignRender>, ClaimedDelivery)>,
    now_ms: i64,
) -> Result<Paced, StoreError> {
    if schedule.is_empty() {
        return Ok(Paced {
            go: ready,
            wait: Vec::new(),
        });
    }
    let today = now_ms.div_euclid(DAY_MS);
    let tomorrow = (today + 1) * DAY_MS;
    let mut by_from: HashMap<String, Vec<(Arc<CampaignRender>, ClaimedDelivery)>> = HashMap::new();
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
        let g = store
            .take_warmup(&domain, today, items.len() as u64, schedule)
            .await?;
        let rest = items.split_off((g.granted as usize).min(items.len()));
        go.extend(items);
        if rest.is_empty() {
            continue;
        }
        let reason = format!(
            "warm-up: {domain} is on day {} of its warm-up schedule, {} messages a day, all sent today; the rest go from {}",
            g.day_index + 1,
            g.cap.unwrap_or(g.used),
            crate::reports::ms_to_rfc3339(tomorrow)
        );
        wait.extend(
            rest.iter()
                .map(|(_, d)| without_attempt(d, d.state, Some(&reason), Some(tomorrow), now_ms)),
        );
    }
    Ok(Paced { go, wait })
}
