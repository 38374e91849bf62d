//! Generated data for the benches that build a campaign's records directly through the store's
//! batch writes (`bench report`, `bench hooks`, `bench segment`).

use herald_domain::DeliveryState;
use herald_store::prelude::*;
use herald_store::{CampaignId, ListId, NewCampaign, NewDelivery};

use crate::startup::App;

/// A plain campaign to `list` (nothing is rendered from it).
pub fn campaign(list: ListId, name: &str) -> NewCampaign {
    NewCampaign {
        name: name.into(),
        list,
        from_name: None,
        from_address: "bench@sender.example".into(),
        subject: "Hello".into(),
        html: "<p>Hello</p>".into(),
        text: None,
        created_at_ms: herald_engine::Clock::system().now_ms(),
        gate_override: None,
        reply_to: None,
        track_opens: true,
        track_clicks: true,
        send_to_seeds: false,
    }
}

/// The address of generated recipient `i`, over `domains` domains.
pub fn address(i: u64, domains: u64) -> String {
    format!("user{i}@d{}.example", i % domains.max(1))
}

/// Insert `n` deliveries of `campaign` to [`address`]es in the state `state(i)` gives, in
/// batches of 10,000; the first delivery's id (the others follow it).
pub async fn deliveries(
    app: &App,
    campaign: CampaignId,
    n: u64,
    domains: u64,
    state: impl Fn(u64) -> (DeliveryState, Option<&'static str>),
) -> anyhow::Result<i64> {
    let now = app.clock.now_ms();
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        let email = address(i, domains);
        let (state, reason) = state(i);
        batch.push(NewDelivery {
            campaign,
            contact_id: None,
            email_key: email.clone(),
            domain: herald_domain::address::domain_part(&email).to_string(),
            email,
            state,
            reason: reason.map(str::to_string),
            message_id: format!("<{i}@sender.example>"),
            next_attempt_at_ms: None,
            updated_at_ms: now,
            seed_id: None,
        });
        if batch.len() == 10_000 {
            app.store.insert_deliveries(&batch).await?;
            batch.clear();
        }
    }
    app.store.insert_deliveries(&batch).await?;
    Ok(app
        .store
        .recipients(campaign, 0, 1)
        .await?
        .first()
        .map(|r| r.id.0)
        .unwrap_or(1))
}
