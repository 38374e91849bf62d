//! `herald bench hooks`: a provider's webhook batch of N events (SendGrid's signed format)
//! checked and applied the way `POST /hooks/sendgrid` does it, over a temporary SQLite store of
//! N relayed recipients; prints events/s.

use std::time::Instant;

use anyhow::Context;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use herald_domain::DeliveryState;
use herald_engine::feedback::FeedbackPolicy;
use herald_engine::feedback::webhooks::ingest;
use herald_mail::webhooks::{HookRequest, HookSecret, Provider, verify_and_parse};
use herald_store::prelude::*;

use crate::settings::Settings;
use crate::startup::App;

#[derive(serde::Serialize)]
struct HookFigures {
    events: u64,
    bytes: usize,
    seconds: f64,
    events_per_sec: f64,
    verify_ms: f64,
    applied: u64,
    delivered: u64,
    bounced: u64,
}

pub async fn hooks(events: u64, json: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let app = App::with_settings(Settings::default(), dir.path()).await?;
    let list = app.store.ensure_list("bench", app.clock.now_ms()).await?;
    let id = app
        .store
        .create_campaign(&super::bench_data::campaign(list, "bench"))
        .await?;
    eprintln!("generating {events} relayed recipients …");
    let now = app.clock.now_ms();
    let first =
        super::bench_data::deliveries(&app, id, events, 100, |_| (DeliveryState::Relayed, None))
            .await?;
    // 70 % delivered, 10 % bounced, 20 % deferred, as one signed batch.
    let ts = (now / 1000).to_string();
    let items: Vec<serde_json::Value> = (0..events)
        .map(|i| {
            let (event, response) = match i % 10 {
                0..=6 => ("delivered", "250 2.0.0 OK"),
                7 => ("bounce", "550 5.1.1 user unknown"),
                _ => ("deferred", "451 4.7.1 try again later"),
            };
            serde_json::json!({
                "event": event, "email": format!("user{i}@d{}.example", i % 100),
                "timestamp": now / 1000, "sg_event_id": format!("ev{i}"),
                "response": response, "reason": response, "type": "bounce",
                "herald_delivery": (first + i as i64).to_string(),
            })
        })
        .collect();
    let body = serde_json::to_vec(&items)?;
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| anyhow::anyhow!("generating a key"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
        .map_err(|_| anyhow::anyhow!("reading the key"))?;
    let mut signed = ts.as_bytes().to_vec();
    signed.extend_from_slice(&body);
    let sig = B64.encode(
        pair.sign(&rng, &signed)
            .map_err(|_| anyhow::anyhow!("signing"))?
            .as_ref(),
    );
    let public = pair
        .public_key()
        .as_der()
        .map_err(|_| anyhow::anyhow!("public key"))?;
    let secret =
        HookSecret::sendgrid_key(&B64.encode(public.as_ref())).map_err(anyhow::Error::msg)?;
    eprintln!(
        "applying a batch of {events} events ({} KB) …",
        body.len() / 1024
    );
    let t0 = Instant::now();
    let parsed = {
        let header = |name: &str| match name {
            "x-twilio-email-event-webhook-signature" => Some(sig.clone()),
            "x-twilio-email-event-webhook-timestamp" => Some(ts.clone()),
            _ => None,
        };
        verify_and_parse(
            Provider::Sendgrid,
            &secret,
            &HookRequest {
                header: &header,
                body: &body,
                now_s: now / 1000,
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
    };
    let verify_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let n = ingest(
        &app.store,
        Provider::Sendgrid,
        &parsed,
        &body,
        &FeedbackPolicy::default(),
        now,
    )
    .await?;
    let seconds = t0.elapsed().as_secs_f64();
    let counts = app.store.counts(id).await?;
    let f = HookFigures {
        events,
        bytes: body.len(),
        seconds,
        events_per_sec: events as f64 / seconds,
        verify_ms,
        applied: n.applied,
        delivered: counts.get(DeliveryState::Delivered),
        bounced: counts.get(DeliveryState::Bounced),
    };
    if json {
        println!("{}", serde_json::to_string(&f)?);
    } else {
        println!(
            "{} events ({} KB, one signed SendGrid batch) verified and applied in {:.3}s = {:.0} events/s (signature and parsing {:.1} ms); {} applied: {} delivered, {} bounced",
            f.events,
            f.bytes / 1024,
            f.seconds,
            f.events_per_sec,
            f.verify_ms,
            f.applied,
            f.delivered,
            f.bounced
        );
    }
    Ok(())
}
