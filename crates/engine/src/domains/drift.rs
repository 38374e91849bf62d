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

    fn set(&self, domain: &str, reason: Option<String>) {
        let mut m = self.inner.write().unwrap_or_else(|p| p.into_inner());
        match reason {
            Some(r) => m.insert(domain.to_string(), r),
            None => m.remove(domain),
        };
    }

    /// The holds as the last checks left them (after a restart, before the first new check).
    pub async fn load(store: &impl Store) -> Result<Self, StoreError> {
        let holds = Self::default();
        for c in store.domain_checks().await? {
            if !c.ok {
                holds.set(&c.domain, Some(c.problems));
            }
        }
        Ok(holds)
    }
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
        let problems = gate::problems(&v);
        let only_dns_errors = problems.is_some()
            && v.records
                .iter()
                .filter(|c| c.required && c.status != Status::Pass)
                .all(|c| c.status == Status::DnsError);
        if only_dns_errors {
            tracing::warn!(%domain, "re-verification inconclusive (DNS errors); keeping the last state");
            continue;
        }
        let changed = store
            .record_domain_check(&DomainCheck {
                domain: domain.clone(),
                checked_at_ms: clock.now_ms(),
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
        holds.set(&domain, problems);
    }
    Ok(())
}

/// Re-verify every `every`, for as long as the task runs (the first pass after `every`: the
/// caller runs one [`check_all`] itself before it starts sending); checks are stamped by `clock`.
pub async fn run(
    store: impl Store,
    keyring: Arc<Keyring>,
    resolver: TokioResolver,
    ctx: RecordContext,
    holds: Arc<Holds>,
    every: Duration,
    clock: crate::Clock,
) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = check_all(&store, &keyring, &resolver, &ctx, &holds, &clock).await {
            tracing::error!(error = %e, "re-verifying sending domains");
        }
    }
}
