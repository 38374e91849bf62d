//! Drift (design §5): while `serve` runs, every connected domain is re-verified through DNS
//! every `[domains] reverify_every`. A change (a record removed, a key replaced) is recorded by
//! the store as a domain event, and new sends From that domain are held — their deliveries stay
//! queued with the reason — until it verifies again. Campaigns created with the gate override
//! are not held: the override is their sender's explicit decision.
//!
//! A check where the only failures are DNS errors says nothing about the records; it keeps the
//! previous state instead of holding (or releasing) every send because our resolver hiccuped.
//! A pending key rotation whose new records are found is completed here too.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use herald_store::{DomainCheck, Store, StoreError};
use hickory_resolver::TokioResolver;

use super::verify::{Status, verify};
use super::{DomainError, Keyring, RecordContext, gate};

/// Domains whose new sends are held, with the reason. Shared by the drift loop and the queue.
#[derive(Debug, Default)]
pub struct Holds {
    inner: RwLock<HashMap<String, String>>,
}

impl Holds {
    /// Why sends From `domain` (a connected domain) are held, if they are.
    pub fn reason(&self, domain: &str) -> Option<String> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(domain)
            .cloned()
    }

    /// Hold (or release) `domain`; true when this released a hold.
    fn set(&self, domain: &str, reason: Option<String>) -> bool {
        let mut m = self.inner.write().unwrap_or_else(|p| p.into_inner());
        match reason {
            Some(r) => {
                m.insert(domain.to_string(), r);
                false
            }
            None => m.remove(domain).is_some(),
        }
    }

    /// Hold or release `domain`; a release makes the sends its hold put off due now.
    async fn apply(
        &self,
        store: &impl Store,
        domain: &str,
        reason: Option<String>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if self.set(domain, reason) {
            let woken = store.wake_held(domain, now_ms).await?;
            tracing::info!(%domain, woken, "domain verifies again; its held sends are due");
        }
        Ok(())
    }

    /// The holds as the last checks left them (after a restart, before the first new check).
    pub async fn load(store: &impl Store) -> Result<Self, StoreError> {
        let holds = Self::default();
        for c in store.domain_checks().await? {
            holds.set(&c.domain, (!c.ok).then_some(c.problems));
        }
        Ok(holds)
    }

    /// Follow the checks recorded since (by another node, or by a `Verify now` on the page, the
    /// CLI or the API): a domain verified there is released here — its held sends due at once
    /// — and one failing there is held.
    pub async fn sync(&self, store: &impl Store, now_ms: i64) -> Result<(), StoreError> {
        for c in store.domain_checks().await? {
            self.apply(store, &c.domain, (!c.ok).then_some(c.problems), now_ms)
                .await?;
        }
        Ok(())
    }
}

/// Keep the result of a verification of a connected domain (the re-verification loop's, or a
/// `Verify now`): the domain's state on its page and the holds of every node follow it. A
/// check whose only failures are DNS errors is not kept (see the module's note); None then,
/// else the problems that hold its sends (None inside: it verifies).
pub async fn record(
    store: &impl Store,
    v: &super::verify::Verification,
    holds: Option<&Holds>,
    now_ms: i64,
) -> Result<Option<Option<String>>, StoreError> {
    let domain = &v.domain;
    let problems = gate::problems(v);
    let only_dns_errors = problems.is_some()
        && v.records
            .iter()
            .filter(|c| c.required && c.status != Status::Pass)
            .all(|c| c.status == Status::DnsError);
    if only_dns_errors {
        tracing::warn!(%domain, "verification inconclusive (DNS errors); keeping the last state");
        return Ok(None);
    }
    let changed = store
        .record_domain_check(&DomainCheck {
            domain: domain.clone(),
            checked_at_ms: now_ms,
            ok: problems.is_none(),
            problems: problems.clone().unwrap_or_default(),
            changed_at_ms: 0,
        })
        .await?;
    if changed {
        match &problems {
            Some(p) => {
                tracing::warn!(%domain, problems = %p, "domain no longer verifies; holding new sends")
            }
            None => tracing::info!(%domain, "domain verifies; sends resume"),
        }
    }
    if let Some(holds) = holds {
        holds.apply(store, domain, problems.clone(), now_ms).await?;
    }
    Ok(Some(problems))
}

#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Re-verify every connected domain once: record the results, update `holds`, and complete
/// pending rotations whose records are published.
pub async fn check_all(
    store: &impl Store,
    keyring: &Keyring,
    resolver: &TokioResolver,
    ctx: &RecordContext,
    holds: &Holds,
    clock: &crate::Clock,
) -> Result<(), DriftError> {
    for domain in keyring.domains()? {
        let Some(v) = verify(resolver, keyring, &domain, ctx).await? else {
            continue;
        };
        if v.next_selector_ready
            && let Some(old) = keyring.promote(&domain)?
        {
            tracing::info!(%domain, old_selector = %old, "key rotation complete");
        }
        record(store, &v, Some(holds), clock.now_ms()).await?;
    }
    Ok(())
}

/// How often a node's holds follow the checks recorded elsewhere (between its own
/// re-verifications).
pub const SYNC_EVERY: Duration = Duration::from_secs(5);

/// Re-verify every `every`, for as long as the task runs (the first pass after `every`: the
/// caller runs one [`check_all`] itself before it starts sending); checks are stamped by `clock`.
/// In between, every [`SYNC_EVERY`], the holds follow the checks recorded elsewhere.
pub async fn run(
    store: impl Store,
    keyring: Arc<Keyring>,
    resolver: TokioResolver,
    ctx: RecordContext,
    holds: Arc<Holds>,
    every: Duration,
    clock: crate::Clock,
) {
    let mut last = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(SYNC_EVERY.min(every)).await;
        if last.elapsed() >= every {
            last = tokio::time::Instant::now();
            if let Err(e) = check_all(&store, &keyring, &resolver, &ctx, &holds, &clock).await {
                tracing::error!(error = %e, "re-verifying sending domains");
            }
        } else if let Err(e) = holds.sync(&store, clock.now_ms()).await {
            tracing::warn!(error = %e, "reading the domains' recorded checks");
        }
    }
}
