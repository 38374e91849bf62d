//! Stage `queue`: the delivery loop. Claims due deliveries with leases, groups them by
//! destination, runs one delivery job per (destination, connection), and writes outcomes in
//! batches.
//!
//! Invariants (design §4):
//! - a delivery is only sent while this node holds its lease; leases are renewed while held;
//! - an outcome is durable (committed with its attempt evidence) before its lease is released,
//!   and the lease release is the same transaction;
//! - after a crash, a lease that expires without an outcome is claimed again and flagged
//!   `possible_duplicate` by the store: nobody is lost, a duplicate is only ever an in-flight one.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use herald_domain::{DeliveryState, RetrySchedule};
use herald_store::{
    CampaignId, ClaimRequest, ClaimedDelivery, DeliveryId, OutcomeRecord, Store, StoreError,
};
use tokio::sync::{Notify, Semaphore, mpsc};

use crate::deliver::{self, DeliverConfig, SharedResolver};
use crate::domains::Keyring;
use crate::domains::drift::Holds;
use crate::render::{CampaignRender, Renderer};

mod halts;
mod job;
pub mod routes;
mod test_send;
mod warmup;

use halts::*;
use job::*;
pub use test_send::{TestSend, TestSendError};

/// Knobs of the delivery loop.
#[derive(Clone)]
pub struct QueueConfig {
    pub deliver: DeliverConfig,
    pub retry: RetrySchedule,
    /// How long a claim is held without renewal; a dead node's work is picked up after this.
    pub lease: Duration,
    /// Deliveries claimed at once.
    pub claim_batch: u32,
    /// Claimed and not yet recorded, at most.
    pub max_in_flight: usize,
    pub max_connections_per_domain: usize,
    pub max_connections: usize,
    pub max_messages_per_connection: usize,
    /// How often to look for due work when idle.
    pub poll: Duration,
    /// This node's name (`[delivery] node_name`), written into every attempt's evidence.
    pub node: String,
    /// `[delivery] warmup`: campaign messages per From domain on its 1st, 2nd, … day of
    /// sending; empty: no warm-up.
    pub warmup: Vec<u64>,
    /// Per-receiver limits (`[[delivery.limit]]` over the defaults), for direct delivery.
    pub limits: Arc<deliver::limits::Limits>,
}

/// When `run` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Nothing is due now and nothing is in flight (deferred ones stay for later).
    Drained,
    /// Every delivery (of the campaign, or all) is final.
    Finished,
    /// Only on shutdown.
    Forever,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where tracking links point and what they may track.
#[derive(Clone)]
pub struct TrackingSetup {
    pub keys: Arc<herald_mail::tracking::Keyset>,
    /// `[http] public_url`.
    pub base_url: String,
    /// `[tracking] enabled`: off leaves only the unsubscribe link.
    pub track: bool,
}

/// The delivery engine of one node.
pub struct Queue<S: Store> {
    store: S,
    cfg: QueueConfig,
    resolver: SharedResolver,
    renderer: Arc<Renderer>,
    keyring: Option<Arc<Keyring>>,
    /// Signs VERP return paths; `None` sends with the From address as envelope sender.
    verp: Option<Arc<herald_mail::verp::VerpKey>>,
    /// Return-path domain for every campaign; default `bounces.<connected domain>`.
    return_path_domain: Option<String>,
    /// Signed unsubscribe links (always) and open/click tracking (when `track` allows).
    tracking: Option<TrackingSetup>,
    /// Connected domains that failed re-verification (drift): their sends wait, and are
    /// looked at again after the duration (the re-verification interval).
    holds: Option<(Arc<Holds>, Duration)>,
    /// This node's lease owner id.
    owner: String,
    /// Time spent waiting for the store, in ns.
    db: Arc<DbNanos>,
    /// Receivers that asked this node to slow down (adaptive pacing).
    throttles: Arc<deliver::throttle::Throttles>,
    /// New From domains' daily allowances (`[delivery] warmup`).
    warmup: warmup::Warmup,
    /// `[[relay.route]]`: the other way out, for the deliveries its rules pick.
    other_route: Option<Arc<routes::OtherRoute>>,
}

/// Time a queue's tasks waited for the store, each task on its own (each is sequential, so each
/// share of the wall time is between 0 and 1).
#[derive(Debug, Default)]
struct DbNanos {
    /// The claim loop: claims, looking for due work, finishing campaigns.
    claim: AtomicU64,
    /// The outcome writer: every attempt's evidence and state change, committed in batches.
    write: AtomicU64,
}

/// How long a queue has waited for the store so far, per task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbBusy {
    pub claim: Duration,
    pub write: Duration,
}

struct Shared {
    in_flight: AtomicUsize,
    /// The deliveries this node holds leases on (claimed, outcome not yet committed): the
    /// lease renewal names them.
    held: std::sync::Mutex<HashSet<DeliveryId>>,
    /// Outcomes committed so far (tells the idle loop whether a campaign may have finished).
    written: AtomicUsize,
    changed: Notify,
}

impl Shared {
    /// Note deliveries as held (claimed) or no longer held (outcome committed).
    fn hold(&self, ids: impl Iterator<Item = DeliveryId>, held: bool) {
        // A poisoned lock only means another task panicked mid-update; the set is still usable.
        let mut set = self.held.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            if held {
                set.insert(id);
            } else {
                set.remove(&id);
            }
        }
    }

    fn held_now(&self) -> Vec<DeliveryId> {
        let set = self.held.lock().unwrap_or_else(|e| e.into_inner());
        set.iter().copied().collect()
    }
}

impl<S: Store> Queue<S> {
    pub fn new(store: S, cfg: QueueConfig, resolver: SharedResolver, owner: String) -> Self {
        let fixed = crate::runtime::Live::fixed(crate::runtime::RuntimeValues {
            warmup: cfg.warmup.clone(),
            ..Default::default()
        });
        Self {
            store,
            cfg,
            resolver,
            renderer: Arc::new(Renderer::default()),
            keyring: None,
            verp: None,
            return_path_domain: None,
            tracking: None,
            holds: None,
            owner,
            db: Arc::new(DbNanos::default()),
            throttles: Arc::default(),
            other_route: None,
            warmup: warmup::Warmup::new(fixed),
        }
    }

    /// How long this queue's tasks have waited for the store so far: with the wall time, the
    /// database's share of a send.
    pub fn db_busy(&self) -> DbBusy {
        let d = |a: &AtomicU64| Duration::from_nanos(a.load(Ordering::Relaxed));
        DbBusy {
            claim: d(&self.db.claim),
            write: d(&self.db.write),
        }
    }

    /// Hold the sends of campaigns From domains that `holds` names (drift); held deliveries
    /// are looked at again after `retry` (the re-verification interval).
    pub fn with_holds(mut self, holds: Arc<Holds>, retry: Duration) -> Self {
        self.holds = Some((holds, retry));
        self
    }

    /// Whether `d` of campaign `r` takes `[[relay.route]]`'s other route.
    fn takes_other(&self, r: &CampaignRender, d: &ClaimedDelivery) -> bool {
        self.other_route
            .as_ref()
            .is_some_and(|o| o.takes(r.from().domain(), &d.domain))
    }

    /// The slow-downs receivers asked of this queue's own route, or of the other one.
    fn throttles_for(&self, other: bool) -> &Arc<deliver::throttle::Throttles> {
        match &self.other_route {
            Some(o) if other => &o.throttles,
            _ => &self.throttles,
        }
    }

    /// How mail From `from_domain` to `recipient_domain` goes out: this queue's own route, or
    /// `[[relay.route]]`'s other one.
    fn route_for(
        &self,
        from_domain: &str,
        recipient_domain: &str,
    ) -> (&DeliverConfig, &SharedResolver) {
        match &self.other_route {
            Some(o) if o.takes(from_domain, recipient_domain) => (&o.deliver, &o.resolver),
            _ => (&self.cfg.deliver, &self.resolver),
        }
    }

    /// Send the deliveries `route`'s rules pick through it instead of this queue's own route.
    pub fn with_other_route(mut self, route: Option<routes::OtherRoute>) -> Self {
        self.other_route = route.map(Arc::new);
        self
    }

    /// Sign every message whose From domain (or a parent of it) has keys in `keyring`.
    pub fn with_keyring(mut self, keyring: Arc<Keyring>) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// Send with a VERP return path (`b+<token>@<domain>`) so bounces name their delivery.
    /// `domain`: the return-path domain for all campaigns; default `bounces.<connected domain>`
    /// of the From domain (campaigns from unconnected domains then keep the From address).
    pub fn with_return_path(
        mut self,
        key: Arc<herald_mail::verp::VerpKey>,
        domain: Option<String>,
    ) -> Self {
        self.verp = Some(key);
        self.return_path_domain = domain;
        self
    }

    /// Take the warm-up schedule from the run-time settings in force (`[delivery] warmup`
    /// changed on the Settings page applies from the next claimed batch).
    pub fn with_runtime(mut self, live: crate::runtime::Live) -> Self {
        self.warmup = warmup::Warmup::new(live);
        self
    }

    /// Put signed unsubscribe links (and, where campaigns and `setup.track` allow, open pixels
    /// and click redirects) into every message.
    pub fn with_tracking(mut self, setup: TrackingSetup) -> Self {
        self.tracking = Some(setup);
        self
    }

    /// The time of day this queue works by (`[delivery]`'s clock: the system's, or a test's).
    pub fn clock(&self) -> &crate::Clock {
        &self.cfg.deliver.clock
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The send rates this queue keeps (`[relay] rate`, on either route), to share among the
    /// live nodes.
    pub fn paces(&self) -> Vec<Arc<deliver::Pace>> {
        let other = self
            .other_route
            .as_ref()
            .and_then(|r| r.deliver.pace.clone());
        self.cfg.deliver.pace.iter().cloned().chain(other).collect()
    }

    /// Run the loop until `until` holds, `deadline` passes or `shutdown` resolves. Work in
    /// flight is finished and recorded before returning.
    pub async fn run(
        &self,
        campaign: Option<CampaignId>,
        until: Until,
        deadline: Option<tokio::time::Instant>,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), QueueError> {
        tokio::pin!(shutdown);
        let shared = Arc::new(Shared {
            in_flight: AtomicUsize::new(0),
            held: std::sync::Mutex::new(HashSet::new()),
            written: AtomicUsize::new(0),
            changed: Notify::new(),
        });
        let mut written_at_last_finish = 0;
        let (out_tx, out_rx) = mpsc::channel::<OutcomeRecord>(4096);
        let writer = tokio::spawn(write_outcomes(
            self.store.clone(),
            out_rx,
            shared.clone(),
            self.db.clone(),
        ));
        // Stopped with the loop, also when the loop's future is dropped (an aborted node):
        // a lease renewed for ever would keep its deliveries from every other node.
        let _heartbeat = AbortOnDrop(tokio::spawn(renew_leases(
            self.store.clone(),
            self.owner.clone(),
            self.cfg.lease,
            shared.clone(),
            self.clock().clone(),
        )));
        let halted = Arc::new(Halted::new(self.clock().clone()));
        let _watcher = AbortOnDrop(tokio::spawn(watch_halts(
            self.store.clone(),
            halted.clone(),
        )));
        let conns = Arc::new(Semaphore::new(self.cfg.max_connections));
        // Per-destination limits are per node: with several nodes on one database the limit is
        // partitioned (N nodes × max_connections_per_domain), not shared. A shared counter would
        // cost a database round trip before every connection and a stale slot for every dead
        // node; operators divide the limit by the number of nodes instead (README, Several nodes).
        let mut per_domain: HashMap<String, Arc<Semaphore>> = HashMap::new();
        let mut jobs = tokio::task::JoinSet::new();
        let result: Result<(), QueueError> = async {
            loop {
                if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                    break;
                }
                while jobs.try_join_next().is_some() {}
                let in_flight = shared.in_flight.load(Ordering::Acquire);
                let room = self.cfg.max_in_flight.saturating_sub(in_flight);
                let mut claimed = Vec::new();
                let claimed_at = std::time::Instant::now();
                if room > 0 {
                    claimed = match self.claim_some(campaign, room).await {
                        Ok(c) => c,
                        // The database restarting or out of reach: wait and try again; what
                        // is in flight is recorded by the writer, which retries too.
                        Err(e) => {
                            tracing::warn!(error = %e, "claiming deliveries failed; retrying");
                            if self.pause_to_retry(&mut shutdown).await {
                                continue;
                            }
                            break;
                        }
                    };
                }
                if !claimed.is_empty() {
                    halted.claimed(claimed.iter().map(|d| d.campaign), claimed_at);
                    shared.in_flight.fetch_add(claimed.len(), Ordering::AcqRel);
                    shared.hold(claimed.iter().map(|c| c.id), true);
                    self.dispatch(
                        claimed,
                        &out_tx,
                        &conns,
                        &halted,
                        &mut per_domain,
                        &mut jobs,
                    )
                    .await?;
                    continue;
                }
                let wait = match self
                    .idle_wait(
                        campaign,
                        until,
                        in_flight,
                        &shared,
                        &mut written_at_last_finish,
                    )
                    .await
                {
                    Ok(Some(wait)) => wait,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "looking for due work failed; retrying");
                        if self.pause_to_retry(&mut shutdown).await {
                            continue;
                        }
                        break;
                    }
                };
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = shared.changed.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            Ok(())
        }
        .await;
        // Finish what is in flight, then let the writer drain and stop.
        while jobs.join_next().await.is_some() {}
        drop(out_tx);
        let _ = writer.await;
        if result.is_ok() {
            self.store.finish_campaigns(self.clock().now_ms()).await?;
        }
        result
    }

    /// Lease up to `room` due deliveries (of `campaign`, or of any).
    async fn claim_some(
        &self,
        campaign: Option<CampaignId>,
        room: usize,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let now = self.clock().now_ms();
        let t = std::time::Instant::now();
        let r = self
            .store
            .claim(&ClaimRequest {
                owner: &self.owner,
                now_ms: now,
                lease_until_ms: now + self.cfg.lease.as_millis() as i64,
                limit: (self.cfg.claim_batch as usize).min(room) as u32,
                campaign,
            })
            .await;
        self.db_time(t);
        r
    }

    /// How long to wait when nothing was claimed; None: the run is over (`until` reached).
    /// Campaigns are finished here when an outcome was written since the last look (only a
    /// committed outcome can finish one: no write while idle).
    async fn idle_wait(
        &self,
        campaign: Option<CampaignId>,
        until: Until,
        in_flight: usize,
        shared: &Shared,
        written_at_last_finish: &mut usize,
    ) -> Result<Option<Duration>, StoreError> {
        if in_flight > 0 {
            return Ok(Some(self.cfg.poll));
        }
        let written = shared.written.load(Ordering::Acquire);
        let t = std::time::Instant::now();
        if written != *written_at_last_finish {
            match self.store.finish_campaigns(self.clock().now_ms()).await {
                Ok(_) => *written_at_last_finish = written,
                Err(e) => tracing::warn!(error = %e, "finishing campaigns failed"),
            }
        }
        let next = self.store.next_due(campaign).await;
        self.db_time(t);
        let next = next?;
        let now = self.clock().now_ms();
        Ok(match (until, next) {
            (Until::Drained, None) | (Until::Finished, None) => None,
            (Until::Drained, Some(t)) if t > now => None,
            // Due but not claimable: another process holds the lease; look again at the
            // normal pace, not in a tight loop.
            (_, Some(t)) if t <= now => Some(self.cfg.poll),
            (_, Some(t)) => Some(Duration::from_millis(
                (t - now).clamp(10, self.cfg.poll.as_millis() as i64) as u64,
            )),
            (Until::Forever, None) => Some(self.cfg.poll),
        })
    }

    /// After a failed database call: wait a little before trying again. False when shutdown
    /// came first.
    async fn pause_to_retry(
        &self,
        shutdown: &mut (impl std::future::Future<Output = ()> + Unpin),
    ) -> bool {
        tokio::select! {
            _ = shutdown => false,
            _ = tokio::time::sleep(self.cfg.poll * 2) => true,
        }
    }

    fn db_time(&self, since: std::time::Instant) {
        self.db
            .claim
            .fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    /// The compiled campaign as `variant` of its A/B test sends it (None: the campaign's
    /// winner once picked, else as written — a seed's copy, a campaign without a test).
    async fn campaign_render(
        &self,
        id: CampaignId,
        variant: Option<u32>,
    ) -> Result<Result<Arc<CampaignRender>, Unusable>, StoreError> {
        let known = variant.or_else(|| self.renderer.winner(id));
        if let Some(r) = self.renderer.get(id, known.unwrap_or(0))
            && (known.is_some() || !r.has_ab_test())
        {
            return Ok(Ok(r));
        }
        let Some(c) = self.store.campaign(id).await? else {
            return Ok(Err(Unusable::NotSent(format!("campaign {id} not found"))));
        };
        let test = crate::campaign::ab::AbTest::of(&c);
        if let Some(w) = c.ab_winner {
            self.renderer.set_winner(id, w);
        }
        let v = variant.or(c.ab_winner).unwrap_or(0);
        if let Some(r) = self.renderer.get(id, v) {
            return Ok(Ok(r));
        }
        let c = match &test {
            Some(t) => t.apply(&c, v),
            None => c,
        };
        let from_domain = herald_domain::address::domain_part(&c.from_address).to_string();
        let mut connected = None;
        let signer = match &self.keyring {
            None => None,
            Some(k) => match k.signer_for(&from_domain) {
                Ok(s) => s.map(|(d, s)| {
                    connected = Some(d);
                    Arc::new(s)
                }),
                // Never send unsigned what should be signed: hold until the keys are fixed.
                Err(e) => {
                    return Ok(Err(Unusable::Hold(format!(
                        "DKIM keys of {from_domain}: {e}"
                    ))));
                }
            },
        };
        let hold_domain = connected.clone().filter(|_| c.gate_override.is_none());
        let return_path = self.verp.clone().and_then(|key| {
            crate::domains::return_path_for(
                self.return_path_domain.as_deref(),
                connected.as_deref(),
            )
            .map(|domain| (key, domain))
        });
        let tracking = self.tracking.as_ref().map(|t| crate::render::Tracking {
            keys: t.keys.clone(),
            base_url: t.base_url.trim_end_matches('/').to_string(),
            opens: t.track && c.track_opens,
            clicks: t.track && c.track_clicks,
        });
        // The campaign's files, read once here and kept with its compiled render.
        let attachments = self.store.attachment_contents(id).await?;
        Ok(CampaignRender::compile(&c, signer)
            .map(|r| {
                r.with_return_path(return_path)
                    .with_tracking(tracking)
                    .with_hold_domain(hold_domain)
                    .with_ab_test(test.is_some())
                    .with_attachments(attachments)
            })
            .map(|r| self.renderer.insert(v, r))
            .map_err(|e| Unusable::NotSent(e.to_string())))
    }

    /// Suppressed since the snapshot (an unsubscribe, a complaint): not sent, with the reason,
    /// as the snapshot would have decided. A list's confirmation message is the exception for
    /// an unsubscribe: the person asked to join again, and confirming lifts it.
    async fn suppressed_since_snapshot(
        &self,
        d: &ClaimedDelivery,
    ) -> Result<Option<OutcomeRecord>, StoreError> {
        let Some(why) = d.suppressed else {
            return Ok(None);
        };
        if why == herald_domain::SuppressionReason::Unsubscribed
            && matches!(self.campaign_render(d.campaign, d.variant).await?, Ok(r) if r.is_confirmation())
        {
            return Ok(None);
        }
        let reason = why.not_sent();
        Ok(Some(without_attempt(
            d,
            DeliveryState::NotSent,
            Some(reason.as_str()),
            None,
            self.clock().now_ms(),
        )))
    }

    /// How `domain`'s messages go out: the key of the connection limit it shares and that
    /// limit, messages per connection, and a receiver's own pace. A receiver with limits of its
    /// own (a big provider, `[[delivery.limit]]`) shares them among every domain it serves
    /// (through a relay, the relay is the receiver); one recovering from a slow-down gets one
    /// connection at a time.
    fn receiver_limits(
        &self,
        domain: &str,
        relay: bool,
        throttles: &deliver::throttle::Throttles,
    ) -> (String, usize, usize, Option<Arc<deliver::Pace>>) {
        let limit = (!relay)
            .then(|| throttles.known_group(domain))
            .flatten()
            .and_then(|g| self.cfg.limits.get(&g).map(|l| (g, l.clone())));
        let (key, permits) = match (throttles.recovering(domain), &limit) {
            (Some(group), _) => (format!("slow:{group}"), 1),
            (None, Some((group, l))) => (format!("mx:{group}"), l.connections),
            (None, None) => (domain.to_string(), self.cfg.max_connections_per_domain),
        };
        match limit {
            Some((_, l)) => (key, permits, l.messages_per_connection, l.pace),
            None => (key, permits, self.cfg.max_messages_per_connection, None),
        }
    }

    /// Start one job per (domain, connection-sized chunk). Messages are rendered inside the
    /// job just before they are sent, so memory holds one message per open connection, not
    /// one per claimed delivery.
    async fn dispatch(
        &self,
        claimed: Vec<ClaimedDelivery>,
        out_tx: &mpsc::Sender<OutcomeRecord>,
        conns: &Arc<Semaphore>,
        halted: &Arc<Halted>,
        per_domain: &mut HashMap<String, Arc<Semaphore>>,
        jobs: &mut tokio::task::JoinSet<()>,
    ) -> Result<(), StoreError> {
        let mut ready = Vec::with_capacity(claimed.len());
        for d in claimed {
            if let Some(rec) = halted.give_back(&d) {
                let _ = out_tx.send(rec).await;
                continue;
            }
            if let Some(rec) = self.suppressed_since_snapshot(&d).await? {
                let _ = out_tx.send(rec).await;
                continue;
            }
            let rendered = self.campaign_render(d.campaign, d.variant).await?;
            let now = self.clock().now_ms();
            match rendered {
                Ok(r) => {
                    let held = match (&self.holds, r.hold_domain()) {
                        (Some((h, retry)), Some(domain)) => {
                            h.reason(domain).map(|why| (domain, why, *retry))
                        }
                        _ => None,
                    };
                    match held {
                        Some((domain, why, retry)) => {
                            let reason = format!("held: {domain} no longer verifies: {why}");
                            let _ = out_tx
                                .send(without_attempt(
                                    &d,
                                    DeliveryState::Queued,
                                    Some(&reason),
                                    Some(now + retry.as_millis() as i64),
                                    now,
                                ))
                                .await;
                        }
                        None => {
                            // The receiver asked this route to slow down: this one waits for
                            // the pause's end.
                            let other = self.takes_other(&r, &d);
                            let throttles = self.throttles_for(other);
                            match throttles.paused(&d.domain, now) {
                                Some(p) => {
                                    let _ = out_tx.send(paused(&d, &p, now)).await;
                                }
                                None => ready.push((r, d)),
                            }
                        }
                    }
                }
                Err(Unusable::NotSent(e)) => {
                    tracing::warn!(delivery = d.id.0, error = %e, "cannot render; not sent");
                    let _ = out_tx.send(not_sent(&d, now)).await;
                }
                Err(Unusable::Hold(e)) => {
                    tracing::error!(delivery = d.id.0, error = %e, "holding the delivery");
                    let _ = out_tx.send(requeue(&d, now)).await;
                }
            }
        }
        // A new sender's daily allowance: what is past it waits for tomorrow.
        let paced = self
            .warmup
            .pace(&self.store, ready, self.clock().now_ms())
            .await?;
        for rec in paced.wait {
            let _ = out_tx.send(rec).await;
        }
        // By route (this queue's own, or `[[relay.route]]`'s other one) and domain.
        type Items = Vec<(Arc<CampaignRender>, ClaimedDelivery)>;
        let mut by_domain: HashMap<(bool, String), Items> = HashMap::new();
        for (r, d) in paced.go {
            let other = self.takes_other(&r, &d);
            by_domain
                .entry((other, d.domain.clone()))
                .or_default()
                .push((r, d));
        }
        for ((other, domain), mut items) in by_domain {
            let mut job_cfg = self.cfg.clone();
            let (mut resolver, mut conns) = (self.resolver.clone(), conns.clone());
            if let Some(o) = self.other_route.as_ref().filter(|_| other) {
                job_cfg.deliver = o.deliver.clone();
                resolver = o.resolver.clone();
                conns = o.conns.clone();
            }
            let route_throttles = self.throttles_for(other).clone();
            let (key, permits, per_connection, pace) =
                self.receiver_limits(&domain, job_cfg.deliver.relay, &route_throttles);
            let key = if other { format!("other|{key}") } else { key };
            let sem = per_domain
                .entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(permits)))
                .clone();
            if job_cfg.deliver.pace.is_none() {
                job_cfg.deliver.pace = pace;
            }
            while !items.is_empty() {
                let rest = items.split_off(items.len().min(per_connection.max(1)));
                let chunk = std::mem::replace(&mut items, rest);
                let (sem, conns, halted) = (sem.clone(), conns.clone(), halted.clone());
                let (cfg, resolver, out_tx) = (job_cfg.clone(), resolver.clone(), out_tx.clone());
                let domain = domain.clone();
                let throttles = route_throttles.clone();
                jobs.spawn(async move {
                    let (Ok(_p1), Ok(_p2)) =
                        (sem.acquire_owned().await, conns.acquire_owned().await)
                    else {
                        return;
                    };
                    // A slow-down that came while this job waited for its connection (a halted
                    // campaign's give-back first: a resumed campaign must not wait for it).
                    let now = cfg.deliver.clock.now_ms();
                    if let Some(p) = throttles.paused(&domain, now) {
                        for (_, d) in &chunk {
                            let rec = halted.give_back(d).unwrap_or_else(|| paused(d, &p, now));
                            let _ = out_tx.send(rec).await;
                        }
                        return;
                    }
                    run_job(
                        &cfg,
                        resolver.as_ref(),
                        &domain,
                        chunk,
                        &halted,
                        &out_tx,
                        &throttles,
                    )
                    .await;
                });
            }
        }
        Ok(())
    }
}

/// A spawned task that is aborted when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
