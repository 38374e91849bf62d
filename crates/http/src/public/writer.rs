//! Opens and clicks are written in batches: one transaction per ~50 ms or 1,000 events, never
//! one per request. The queue is bounded (a flood waits instead of growing memory), and a
//! clean shutdown drains it before returning.

use std::time::Duration;

use herald_store::{EngagementRecord, Store};
use tokio::sync::mpsc;

const BATCH: usize = 1000;
const LINGER: Duration = Duration::from_millis(50);
/// Events queued at most; beyond this, requests wait for the writer.
pub const QUEUE: usize = 50_000;

/// The sending side handlers use.
#[derive(Clone)]
pub struct Events(mpsc::Sender<EngagementRecord>);

impl Events {
    /// Queue an event (waits while the queue is full).
    pub async fn push(&self, e: EngagementRecord) {
        if self.0.send(e).await.is_err() {
            tracing::error!("the event writer has stopped; an event was not recorded");
        }
    }
}

/// Start the writer; it ends when every [`Events`] handle is dropped and the queue is empty.
pub fn start<S: Store>(store: S) -> (Events, tokio::task::JoinHandle<u64>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (Events(tx), tokio::spawn(run(store, rx)))
}

async fn run<S: Store>(store: S, mut rx: mpsc::Receiver<EngagementRecord>) -> u64 {
    let mut written = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let Some(first) = rx.recv().await else {
            return written;
        };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(e)) => batch.push(e),
                Ok(None) | Err(_) => break,
            }
        }
        // Keep the batch until it is stored: a database hiccup delays events, never drops them.
        loop {
            match store.record_engagement(&batch).await {
                Ok(n) => {
                    written += n;
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, events = batch.len(), "recording events failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        batch.clear();
    }
}
