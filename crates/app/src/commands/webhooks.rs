//! `herald webhooks add|list|remove|log|replay`: outbound webhooks (posted by `herald serve`).

use herald_engine::webhooks::{self, EndpointView, WebhookError};
use herald_store::Replay;

use crate::cli::WebhooksCmd;
use crate::output;
use crate::startup::App;

/// A webhook error as the CLI reports it (exit status and HTTP status by kind).
pub fn cli_error(e: WebhookError) -> anyhow::Error {
    match e {
        WebhookError::NotFound(_) => crate::not_found(e.to_string()),
        WebhookError::BadInput(m) => crate::bad_input(m),
        other => anyhow::Error::new(other),
    }
}

fn print(e: &EndpointView) {
    println!("{}  {}  events: {}", e.id, e.url, e.events.join(","));
    if !e.description.is_empty() {
        println!("   {}", e.description);
    }
    let last = match (&e.last_attempt_at, e.last_status, &e.last_error) {
        (None, ..) => "never posted yet".to_string(),
        (Some(at), Some(s), None) => format!("last post {at}: HTTP {s}"),
        (Some(at), _, Some(err)) => format!("last post {at}: {err}"),
        (Some(at), None, None) => format!("last post {at}"),
    };
    println!(
        "   {} pending, {} delivered, {} failed; {last}",
        e.pending, e.delivered, e.failed
    );
}

pub async fn run(app: App, cmd: WebhooksCmd) -> anyhow::Result<()> {
    let store = &app.store;
    match cmd {
        WebhooksCmd::Add {
            url,
            events,
            description,
            json,
        } => {
            let e = webhooks::add_endpoint(
                store,
                &url,
                &events,
                description.as_deref().unwrap_or(""),
                "cli",
                app.clock.now_ms(),
            )
            .await
            .map_err(cli_error)?;
            if json {
                return output::json(&e);
            }
            print(&e);
            if let Some(secret) = &e.secret {
                println!(
                    "signing secret (shown this once; the receiver checks Herald-Signature with it):"
                );
                println!("{secret}");
            }
            println!(
                "`herald serve` posts the events; `herald webhooks log {}` shows them.",
                e.id
            );
        }
        WebhooksCmd::List { json } => {
            let all = webhooks::endpoints(store).await.map_err(cli_error)?;
            if json {
                return output::json(&serde_json::json!({ "webhooks": all }));
            }
            if all.is_empty() {
                println!(
                    "no webhooks yet: herald webhooks add https://… --events delivered,bounced"
                );
            }
            all.iter().for_each(print);
        }
        WebhooksCmd::Remove { id } => {
            webhooks::remove_endpoint(store, id)
                .await
                .map_err(cli_error)?;
            println!("webhook {id} removed (its events not yet posted are dropped)");
        }
        WebhooksCmd::Log {
            id,
            limit,
            before,
            json,
        } => log(&app, id, limit, before, json).await?,
        WebhooksCmd::Replay {
            id,
            failed,
            since,
            event,
            json,
        } => replay(&app, id, failed, since, event, json).await?,
    }
    Ok(())
}

/// RFC 3339 (`2026-12-04T10:00:00Z`) or a date (`2026-12-04`, midnight UTC).
fn parse_time(s: &str) -> anyhow::Result<i64> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| {
            time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                .map(|d| d.midnight().assume_utc())
        })
        .map_err(|_| {
            crate::bad_input(format!(
                "--since {s:?}: expected a time like 2026-12-04T10:00:00Z or a date like 2026-12-04"
            ))
        })?;
    Ok(herald_engine::ms(t))
}

/// `webhooks log`: an endpoint's events, newest first.
async fn log(
    app: &App,
    id: i64,
    limit: u32,
    before: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let store = &app.store;
    let before = before
        .as_deref()
        .map(webhooks::parse_event_id)
        .transpose()
        .map_err(cli_error)?;
    let log = webhooks::log(store, id, before, limit)
        .await
        .map_err(cli_error)?;
    if json {
        return output::json(&serde_json::json!({ "events": log }));
    }
    if log.is_empty() {
        println!("no events for webhook {id} yet");
    }
    for e in &log {
        let status = match (e.last_status, &e.last_error) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(err)) => err.clone(),
            (None, None) => "not posted yet".into(),
        };
        let next = e
            .next_attempt_at
            .as_deref()
            .map(|t| format!("; next try {t}"))
            .unwrap_or_default();
        println!(
            "{} {} {} {} — {} after {} attempt(s): {status}{next}",
            e.id,
            e.occurred_at,
            e.event,
            e.email.as_deref().unwrap_or("?"),
            e.state,
            e.attempts
        );
    }

    Ok(())
}

/// `webhooks replay`: post events again.
async fn replay(
    app: &App,
    id: i64,
    failed: bool,
    since: Option<String>,
    event: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let store = &app.store;
    let which = match (failed, since, event) {
        (true, None, None) => Replay::Failed,
        (false, Some(t), None) => Replay::Since(parse_time(&t)?),
        (false, None, Some(ev)) => Replay::One(webhooks::parse_event_id(&ev).map_err(cli_error)?),
        _ => {
            return Err(crate::bad_input(
                "say which events to post again: --failed, --since TIME or --event evt_N",
            ));
        }
    };
    let n = webhooks::replay(store, id, which, app.clock.now_ms())
        .await
        .map_err(cli_error)?;
    if json {
        return output::json(&serde_json::json!({ "replayed": n }));
    }
    println!("{n} event(s) of webhook {id} will be posted again");

    Ok(())
}
