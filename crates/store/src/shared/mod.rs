//! Store code shared by the SQLite and PostgreSQL backends: one macro per file, expanded by
//! each backend's file of the same name (the SQL is the same; the dialect differences come from
//! `sqlite::dialect` and `postgres::dialect`).

pub(crate) mod attachments;
pub(crate) mod audience;
pub(crate) mod campaigns;
pub(crate) mod contacts;
pub(crate) mod dmarc;
pub(crate) mod domains;
pub(crate) mod feedback;
pub(crate) mod idempotency;
pub(crate) mod members;
pub(crate) mod privacy;
pub(crate) mod reports;
pub(crate) mod runtime_settings;
pub(crate) mod seeds;
pub(crate) mod segments;
pub(crate) mod templates;
pub(crate) mod users;
pub(crate) mod warmup;
pub(crate) mod webhooks;

/// An outbox row to add (`webhooks::enqueue`): delivery id, event name, when, detail (JSON).
pub(crate) type HookRow = (i64, &'static str, i64, String);

/// A batch of outcomes as the two JSON parameters `record_outcomes` binds on both backends:
/// the attempts to append and the delivery updates. Each batch travels as one JSON parameter:
/// constant SQL (one cached statement) and one bind instead of thousands.
pub(crate) fn outcome_json(batch: &[crate::OutcomeRecord]) -> crate::Result<(String, String)> {
    let corrupt = |e: serde_json::Error| crate::StoreError::Corrupt(e.to_string());
    let mut attempts = Vec::with_capacity(batch.len() * 700);
    let mut updates = Vec::with_capacity(batch.len() * 80);
    attempts.push(b'[');
    updates.push(b'[');
    for o in batch {
        if let Some((outcome, ev)) = &o.attempt {
            if attempts.len() > 1 {
                attempts.push(b',');
            }
            let evidence = serde_json::to_string(ev).map_err(corrupt)?;
            let row = (
                o.delivery.0,
                o.campaign.0,
                outcome,
                &o.reason,
                ms(ev.started_at),
                ms(ev.ended_at),
                evidence,
            );
            serde_json::to_writer(&mut attempts, &row).map_err(corrupt)?;
        }
        if updates.len() > 1 {
            updates.push(b',');
        }
        let row = (
            o.delivery.0,
            o.state.as_str(),
            &o.reason,
            o.hard as i64,
            o.attempt.is_some() as i64,
            o.next_attempt_at_ms,
            o.attempt.as_ref().map(|(_, ev)| ms(ev.started_at)),
            o.at_ms,
        );
        serde_json::to_writer(&mut updates, &row).map_err(corrupt)?;
    }
    attempts.push(b']');
    updates.push(b']');
    Ok((
        String::from_utf8_lossy(&attempts).into_owned(),
        String::from_utf8_lossy(&updates).into_owned(),
    ))
}

/// `delivered` events for relayed deliveries that a relay's report (its success DSN, its
/// provider's delivered event) confirmed.
pub(crate) fn confirmed_hooks(ids: &[i64], at_ms: i64) -> Vec<HookRow> {
    let detail = serde_json::json!({ "source": "relay_report" }).to_string();
    ids.iter()
        .map(|id| (*id, "delivered", at_ms, detail.clone()))
        .collect()
}

/// A webhook event reported by a recorded event (a bounce, complaint, open…): its detail as
/// recorded, with `source` naming the kind of record (`async_bounce`, `open`, …).
pub(crate) fn event_hook(
    delivery: i64,
    event: herald_domain::webhook::WebhookEvent,
    at_ms: i64,
    detail: &str,
    source: &str,
) -> HookRow {
    let mut d: serde_json::Value =
        serde_json::from_str(detail).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(o) = d.as_object_mut() {
        o.insert("source".into(), source.into());
    }
    (delivery, event.as_str(), at_ms, d.to_string())
}

/// The webhook events a batch of outcomes is.
pub(crate) fn outcome_hooks(batch: &[crate::OutcomeRecord]) -> Vec<HookRow> {
    batch.iter().filter_map(outcome_hook).collect()
}

/// The webhook event an outcome is: an attempt's result, or an expiry. (An outcome without an
/// attempt otherwise only hands a delivery back — a pause, a hold — and is no event.)
fn outcome_hook(o: &crate::OutcomeRecord) -> Option<HookRow> {
    use herald_domain::DeliveryState;
    use herald_domain::webhook::WebhookEvent;
    if o.attempt.is_none() && o.state != DeliveryState::Expired {
        return None;
    }
    let event = WebhookEvent::of_outcome(o.state)?;
    let mut detail = serde_json::json!({ "reason": o.reason, "hard": o.hard });
    if let Some((_, ev)) = &o.attempt {
        let reply = ev.reply.as_ref();
        detail = serde_json::json!({
            "reason": o.reason,
            "hard": o.hard,
            "code": reply.map(|r| r.code),
            "enhanced": reply.and_then(|r| r.enhanced.clone()),
            "reply": reply.map(|r| r.full()),
            "stage": ev.stage,
            "error": ev.error,
            "mx": ev.mx,
            "remote_ip": ev.remote_ip,
            "remote_queue_id": ev.remote_queue_id,
            "tls": ev.tls.as_ref().map(|t| t.to_string()),
            "route": ev.route,
            "attempted_at": ev.started_at.format(&time::format_description::well_known::Rfc3339).ok(),
        });
    }
    Some((o.delivery.0, event.as_str(), o.at_ms, detail.to_string()))
}

/// A stored name read back as its vocabulary's value (`what`: where it was read, for the
/// error): a name outside the vocabulary is a corrupt record.
pub(crate) fn parse_name<T: std::str::FromStr<Err = String>>(
    what: &str,
    name: &str,
) -> crate::Result<T> {
    name.parse()
        .map_err(|e| crate::StoreError::Corrupt(format!("{what}: {e}")))
}

/// Milliseconds since the Unix epoch.
pub(crate) fn ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Whether `s` can be compared with stored text. PostgreSQL text cannot hold a NUL (the query
/// fails), and no stored address, key or id contains one: a lookup or search with a NUL in it
/// matches nothing, on both backends alike.
pub(crate) fn matchable(s: &str) -> bool {
    !s.contains('\0')
}
