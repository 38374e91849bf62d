//! The timeline: every attempt and event of a delivery, in order.

use herald_store::DeliveryDetail;

use super::{TimelineEntry, event_detail};
use crate::reports::ms_to_rfc3339;

pub(super) fn timeline(d: &DeliveryDetail) -> Vec<TimelineEntry> {
    let mut t: Vec<(i64, TimelineEntry)> = Vec::new();
    for a in &d.attempts {
        let e = &a.evidence;
        t.push((
            a.ended_at_ms,
            TimelineEntry {
                at: ms_to_rfc3339(a.ended_at_ms),
                what: format!("attempt: {}", a.outcome),
                detail: serde_json::json!({
                    "mx": e.mx, "ip": e.remote_ip, "reply": e.reply.as_ref().map(|r| r.full()),
                    "error": e.error, "queue_id": e.remote_queue_id, "reason": a.reason,
                }),
            },
        ));
    }
    for e in &d.events {
        t.push((
            e.at_ms,
            TimelineEntry {
                at: ms_to_rfc3339(e.at_ms),
                what: e.kind.to_string(),
                detail: event_detail(e),
            },
        ));
    }
    t.sort_by_key(|(at, _)| *at);
    t.into_iter().map(|(_, e)| e).collect()
}
