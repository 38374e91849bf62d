//! One delivery job: a connection's worth of deliveries to one destination, rendered ahead,
//! attempted, and their outcomes recorded in batches; the leases renewed while held.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use herald_domain::{DeliveryState, Evidence};
use herald_store::{ClaimedDelivery, OutcomeRecord, Store};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::deliver::{self, Attempt, AttemptResult};
use crate::outcome::{Hop, decide};
use crate::render::CampaignRender;
use crate::{Clock, ms};

use super::*;

/// Messages rendered (and signed) ahead of the session, per connection. Bounds memory and
/// keeps the CPU work one step ahead of the socket.
pub(crate) const RENDER_AHEAD: usize = 4;

/// Adaptive pacing from one outcome: the receiver says we send too fast (pause its group) or
/// hold too many connections (one at a time); an acceptance counts toward recovery.
fn pace(
    now_ms: i64,
    throttles: &deliver::throttle::Throttles,
    domain: &str,
    rec: &OutcomeRecord,
    mx: Option<&str>,
    reply: Option<herald_domain::Reply>,
    stage: Option<&str>,
) {
    match rec.state {
        // The receiver says we send too fast (pause its group) or hold too many
        // connections (one at a time): adaptive pacing.
        DeliveryState::Deferred => {
            use deliver::throttle::{Signal, signal};
            if let Some(sig) = signal(rec.reason.as_deref(), reply.as_ref(), stage) {
                throttles.slow_down(
                    domain,
                    mx,
                    &reply
                        .map(|r| r.full())
                        .unwrap_or_else(|| "a refusal".into()),
                    sig == Signal::Pause,
                    now_ms,
                );
            }
        }
        DeliveryState::Delivered | DeliveryState::Relayed => {
            if let Some(mx) = mx {
                throttles.learn(domain, mx);
            }
            throttles.accepted(domain, now_ms);
        }
        _ => {}
    }
}

/// Render (and sign) a connection's messages ahead of the session, on a blocking thread;
/// a halted campaign's are given back at once (their ids kept in `given_back`). Returns the
/// records of those that could not be rendered.
fn render_chunk(
    chunk: Vec<(Arc<CampaignRender>, ClaimedDelivery)>,
    halted_render: &Halted,
    out_render: &mpsc::Sender<OutcomeRecord>,
    msg_tx: &mpsc::Sender<deliver::Prepared>,
    given_back_render: &std::sync::Mutex<Vec<i64>>,
    clock: &Clock,
    provider: Option<herald_mail::webhooks::Provider>,
) -> Vec<OutcomeRecord> {
    let date = clock.now().unix_timestamp();
    // Records without an attempt: not renderable, or given back (campaign halted).
    let mut unrenderable = Vec::new();
    for (r, d) in chunk {
        // Looked at just before each message, so a pause stops this connection too.
        // A give-back is recorded at once, not when the connection's chunk is done.
        if let Some(rec) = halted_render.give_back(&d) {
            let id = rec.delivery.0;
            match out_render.blocking_send(rec) {
                Ok(()) => given_back_render
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(id),
                Err(e) => unrenderable.push(e.0),
            }
            continue;
        }
        match r.prepare(&d, date, provider) {
            Ok(p) => {
                if msg_tx.blocking_send(p).is_err() {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(delivery = d.id.0, error = %e, "cannot render; not sent");
                unrenderable.push(not_sent(&d, clock.now_ms()));
            }
        }
    }
    unrenderable
}

/// Resolve, render and deliver one chunk, turning each attempt into an outcome record.
/// Rendering and DKIM signing run on a blocking thread, never on the I/O tasks.
pub(crate) async fn run_job(
    cfg: &QueueConfig,
    resolver: &dyn deliver::MxResolver,
    domain: &str,
    chunk: Vec<(Arc<CampaignRender>, ClaimedDelivery)>,
    halted: &Arc<Halted>,
    out: &mpsc::Sender<OutcomeRecord>,
    throttles: &deliver::throttle::Throttles,
) {
    let mut meta: HashMap<i64, ClaimedDelivery> =
        chunk.iter().map(|(_, d)| (d.id.0, d.clone())).collect();
    let hosts = match deliver::resolve(resolver, domain).await {
        Ok(h) => {
            // Its group is known before any session: a refusal at connect has no host.
            if let Some(first) = h.first() {
                throttles.learn(domain, &first.name);
            }
            h
        }
        Err((result, error)) => {
            // The same DNS answer for every recipient; nothing is rendered or signed.
            let now = cfg.deliver.clock.now();
            for (_, d) in &chunk {
                let mut ev = deliver::evidence(&d.message_id, (now, now), cfg.deliver.route);
                ev.error = Some(error.clone());
                ev.stage = Some("dns".into());
                let _ = out.send(outcome_record(d, &result, ev, cfg)).await;
            }
            return;
        }
    };
    // Copies that carry files are megabytes each: one rendered ahead, not four.
    let ahead = if chunk.iter().any(|(r, _)| r.has_attachments()) {
        1
    } else {
        RENDER_AHEAD
    };
    let (msg_tx, msg_rx) = mpsc::channel::<deliver::Prepared>(ahead);
    let halted_render = halted.clone();
    let out_render = out.clone();
    // The deliveries the render thread gave back itself (kept outside it: a panic there must
    // not make them look unrecorded, which would record them twice).
    let given_back = Arc::new(std::sync::Mutex::new(Vec::new()));
    let given_back_render = given_back.clone();
    let clock = cfg.deliver.clock.clone();
    let provider = cfg.deliver.provider;
    let render = tokio::task::spawn_blocking(move || {
        render_chunk(
            chunk,
            &halted_render,
            &out_render,
            &msg_tx,
            &given_back_render,
            &clock,
            provider,
        )
    });
    let (tx, mut rx) = mpsc::channel::<Attempt>(64);
    let halted_send = halted.clone();
    let clock = &cfg.deliver.clock;
    // Skipped: a halted campaign's messages, and every message while the receiver's pause lasts
    // (a connection opened before the refusal, or reconnecting after it, sends no more).
    let skip = move |m: &deliver::Prepared| {
        halted_send.status(m.campaign).is_some()
            || throttles.paused(domain, clock.now_ms()).is_some()
    };
    let send = async move {
        deliver::deliver_to_hosts(&cfg.deliver, &hosts, msg_rx, &skip, &tx).await;
    };
    let record = async {
        while let Some(a) = rx.recv().await {
            let Some(d) = meta.remove(&a.key) else {
                continue;
            };
            let mx = a.evidence.mx.clone();
            let reply = a.evidence.reply.clone();
            let stage = a.evidence.stage.clone();
            let rec = outcome_record(&d, &a.result, a.evidence, cfg);
            pace(
                clock.now_ms(),
                throttles,
                domain,
                &rec,
                mx.as_deref(),
                reply,
                stage.as_deref(),
            );
            let _ = out.send(rec).await;
        }
    };
    tokio::join!(send, record);
    match render.await {
        Ok(unrenderable) => {
            for rec in unrenderable {
                meta.remove(&rec.delivery.0);
                let _ = out.send(rec).await;
            }
        }
        Err(e) => tracing::error!(error = %e, "the render task failed"),
    }
    for id in given_back.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        meta.remove(id);
    }
    // Anything neither attempted nor refused goes back with no attempt recorded, so its lease
    // is released: skipped because its campaign was halted (kept as it was, or not sent when
    // cancelled), or left over by a render task that died (tried again).
    for d in meta.into_values() {
        let rec = halted
            .give_back(&d)
            .or_else(|| {
                throttles
                    .paused(domain, clock.now_ms())
                    .map(|p| paused(&d, &p, clock.now_ms()))
            })
            .unwrap_or_else(|| requeue(&d, clock.now_ms()));
        let _ = out.send(rec).await;
    }
}

/// Why a campaign cannot be rendered now.
pub(crate) enum Unusable {
    /// For good (the templates do not compile): its deliveries are not sent.
    NotSent(String),
    /// Until an operator fixes something (e.g. key permissions): deliveries wait.
    Hold(String),
}

pub(crate) fn outcome_record(
    d: &ClaimedDelivery,
    result: &AttemptResult,
    mut evidence: Evidence,
    cfg: &QueueConfig,
) -> OutcomeRecord {
    evidence.node = Some(cfg.node.clone());
    let retry = &cfg.retry;
    let now = cfg.deliver.clock.now();
    // The first attempt is this one unless an earlier one was recorded.
    let first = d
        .first_attempt_at_ms
        .and_then(|m| OffsetDateTime::from_unix_timestamp_nanos(m as i128 * 1_000_000).ok())
        .unwrap_or(evidence.started_at);
    let hop = if cfg.deliver.relay {
        Hop::Relay
    } else {
        Hop::Recipient
    };
    let decision = decide(
        result,
        hop,
        d.attempts,
        Some(first),
        now,
        retry,
        evidence.mx.as_deref(),
    );
    OutcomeRecord {
        delivery: d.id,
        campaign: d.campaign,
        state: decision.state,
        reason: decision.reason.map(|r| r.as_str().to_string()),
        hard: decision.hard,
        next_attempt_at_ms: decision.next_attempt_at.map(ms),
        attempt: herald_domain::AttemptOutcome::of(decision.state).map(|o| (o, evidence)),
        at_ms: ms(now),
    }
}

/// A decision without an attempt, taken at `now_ms`: the delivery's lease is released, nothing
/// is appended.
pub(crate) fn without_attempt(
    d: &ClaimedDelivery,
    state: DeliveryState,
    reason: Option<&str>,
    next_attempt_at_ms: Option<i64>,
    now_ms: i64,
) -> OutcomeRecord {
    OutcomeRecord {
        delivery: d.id,
        campaign: d.campaign,
        state,
        reason: reason.map(str::to_string),
        hard: false,
        next_attempt_at_ms,
        attempt: None,
        at_ms: now_ms,
    }
}

/// Given back unattempted while its receiver's slow-down lasts, with the reason in words.
pub(crate) fn paused(
    d: &ClaimedDelivery,
    p: &deliver::throttle::Paused,
    now_ms: i64,
) -> OutcomeRecord {
    without_attempt(d, d.state, Some(&p.reason()), Some(p.until_ms), now_ms)
}

/// `not_sent/missing_data`: the message cannot be rendered for this recipient.
pub(crate) fn not_sent(d: &ClaimedDelivery, now_ms: i64) -> OutcomeRecord {
    without_attempt(
        d,
        DeliveryState::NotSent,
        Some(herald_domain::NotSentReason::MissingData.as_str()),
        None,
        now_ms,
    )
}

/// Back to the queue without an attempt, to be tried again in a minute: its state and reason
/// stay (a deferred delivery stays deferred).
pub(crate) fn requeue(d: &ClaimedDelivery, now_ms: i64) -> OutcomeRecord {
    without_attempt(
        d,
        d.state,
        d.reason.as_deref(),
        Some(now_ms + 60_000),
        now_ms,
    )
}

/// Write outcomes in batches: whatever arrived within ~50 ms, up to 1,000, per transaction.
/// A failed write is retried; outcomes are never dropped while the store can be reached.
pub(crate) async fn write_outcomes<S: Store>(
    store: S,
    mut rx: mpsc::Receiver<OutcomeRecord>,
    shared: Arc<Shared>,
    db: Arc<DbNanos>,
) {
    let mut batch = Vec::with_capacity(1000);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        let flush_at = tokio::time::Instant::now() + Duration::from_millis(50);
        while batch.len() < 1000 {
            match tokio::time::timeout_at(flush_at, rx.recv()).await {
                Ok(Some(o)) => batch.push(o),
                Ok(None) | Err(_) => break,
            }
        }
        let mut backoff = Duration::from_millis(100);
        loop {
            let t = std::time::Instant::now();
            let r = store.record_outcomes(&batch).await;
            db.write
                .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
            match r {
                Ok(()) => break,
                Err(e) => {
                    tracing::error!(error = %e, outcomes = batch.len(), "recording outcomes failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        shared.hold(batch.iter().map(|o| o.delivery), false);
        shared.written.fetch_add(batch.len(), Ordering::AcqRel);
        shared.in_flight.fetch_sub(batch.len(), Ordering::AcqRel);
        shared.changed.notify_one();
        batch.clear();
    }
}

pub(crate) async fn renew_leases<S: Store>(
    store: S,
    owner: String,
    lease: Duration,
    shared: Arc<Shared>,
    clock: Clock,
) {
    let mut tick = tokio::time::interval(lease / 3);
    tick.tick().await;
    loop {
        tick.tick().await;
        let until = clock.now_ms() + lease.as_millis() as i64;
        let ids = shared.held_now();
        if ids.is_empty() {
            continue;
        }
        if let Err(e) = store.renew_leases(&owner, &ids, until).await {
            tracing::warn!(error = %e, "renewing leases failed");
        }
    }
}
