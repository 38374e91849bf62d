//! Schedules: `campaign schedule | unschedule`, and the server's scheduler.

use std::time::Duration;

use herald_engine::campaign::{self};
use herald_store::CampaignId;
use herald_store::prelude::*;

use super::*;
use crate::commands::campaign_id;
use crate::startup::App;
use crate::{bad_input, output};

/// Schedule draft `id` to start at `at_ms` (`campaign schedule`, the API, the UI).
pub async fn schedule(
    app: &App,
    id: CampaignId,
    at_ms: i64,
    tz: Option<&str>,
) -> anyhow::Result<herald_engine::api_types::CampaignScheduled> {
    campaign::schedule(&app.store, id, at_ms, tz, app.clock.now_ms())
        .await
        .map_err(|e| campaign_error(e, "scheduling the campaign"))?;
    check_quietly(app, id, "schedule").await;
    Ok(herald_engine::api_types::CampaignScheduled {
        id: id.to_string(),
        status: "scheduled".into(),
        scheduled_at: Some(herald_engine::reports::ms_to_rfc3339(at_ms)),
        tz: tz.map(str::to_string),
        local: campaign::schedule_local(at_ms, tz),
        local_time: None,
    })
}

/// Schedule draft `id` in each recipient's local time (`campaign schedule --local-time`).
pub async fn schedule_local_time(
    app: &App,
    id: CampaignId,
    local: jiff::civil::DateTime,
    default_tz: Option<&str>,
) -> anyhow::Result<herald_engine::api_types::CampaignScheduled> {
    let start =
        campaign::schedule_local_time(&app.store, id, local, default_tz, app.clock.now_ms())
            .await
            .map_err(|e| campaign_error(e, "scheduling the campaign"))?;
    check_quietly(app, id, "schedule").await;
    Ok(herald_engine::api_types::CampaignScheduled {
        id: id.to_string(),
        status: "scheduled".into(),
        scheduled_at: Some(herald_engine::reports::ms_to_rfc3339(start)),
        tz: default_tz.map(str::to_string),
        local: campaign::schedule_local(start, default_tz),
        local_time: Some(local.strftime("%Y-%m-%dT%H:%M").to_string()),
    })
}

/// Call off the scheduled start of `id` (`campaign unschedule`, the API, the UI).
pub async fn unschedule(
    app: &App,
    id: CampaignId,
) -> anyhow::Result<herald_engine::api_types::CampaignScheduled> {
    campaign::unschedule(&app.store, id, app.clock.now_ms())
        .await
        .map_err(|e| campaign_error(e, "unscheduling the campaign"))?;
    Ok(herald_engine::api_types::CampaignScheduled {
        id: id.to_string(),
        status: "draft".into(),
        scheduled_at: None,
        tz: None,
        local: None,
        local_time: None,
    })
}

/// How long a node holds the start of a due scheduled campaign before another may take it
/// over (the start is the audience snapshot: minutes at most, even at a million contacts).
pub(super) const SCHEDULE_LEASE_MS: i64 = 10 * 60 * 1000;

/// `serve`: start the scheduled campaigns that are due, once a second. Of several nodes one
/// starts each (a lease on the campaign); the start is `campaign send`'s (the From gate is
/// checked again). A refused start makes the campaign a draft again, with the reason shown on
/// it; a database failure leaves it to be tried again when the lease runs out.
pub fn spawn_scheduler(app: &App) -> tokio::sync::oneshot::Sender<()> {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let app = app.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            let now = app.clock.now_ms();
            let due = match app
                .store
                .take_due_schedules(now, now + SCHEDULE_LEASE_MS)
                .await
            {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "looking for scheduled campaigns failed");
                    continue;
                }
            };
            // A/B tests whose time has come: the winner goes to the rest (once, on one node).
            if let Err(e) = herald_engine::campaign::ab::decide_due(&app.store, now).await {
                tracing::warn!(error = %e, "deciding A/B tests failed");
            }
            for id in due {
                match start_send(&app, id).await {
                    Ok(()) => tracing::info!(campaign = id.0, "scheduled campaign started"),
                    Err(e) if crate::users_to_fix(&e) => {
                        tracing::warn!(campaign = id.0, error = %e, "scheduled start refused");
                        let why = format!("the scheduled start was refused: {e}");
                        if let Err(e) = app.store.schedule_failed(id, &why).await {
                            tracing::warn!(campaign = id.0, error = %e, "recording a refused start");
                        }
                    }
                    Err(e) => {
                        tracing::error!(campaign = id.0, error = %e, "starting a scheduled campaign failed; trying again later")
                    }
                }
            }
        }
    });
    stop
}

/// Schedule draft `id` as `campaign schedule` is given it (the CLI, the API, the UI).
pub async fn schedule_as_given(
    app: &App,
    id: CampaignId,
    when: &herald_http::ScheduleRequest,
) -> anyhow::Result<herald_engine::api_types::CampaignScheduled> {
    let tz = when.tz.as_deref().map(str::trim).filter(|z| !z.is_empty());
    match when
        .local_time
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(lt) => {
            if let Some(z) = tz {
                campaign::parse_schedule("2026-01-01T00:00", Some(z))
                    .map_err(|e| bad_input(e.to_string()))?;
            }
            let local =
                campaign::parse_local_time(&when.at, lt).map_err(|e| bad_input(e.to_string()))?;
            schedule_local_time(app, id, local, tz).await
        }
        None => {
            let (at_ms, tz) =
                campaign::parse_schedule(&when.at, tz).map_err(|e| bad_input(e.to_string()))?;
            schedule(app, id, at_ms, tz.as_deref()).await
        }
    }
}

/// `campaign schedule`.
pub(super) async fn schedule_cmd(
    app: &App,
    id: &str,
    at: String,
    tz: Option<String>,
    local_time: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let id = campaign_id(id)?;
    let when = herald_http::ScheduleRequest { at, tz, local_time };
    let done = schedule_as_given(app, id, &when).await?;
    if json {
        return output::json(&done);
    }
    match &done.local_time {
        Some(lt) => println!(
            "campaign {id} scheduled: each recipient gets it at {lt} in their own time zone; \
             `herald serve` starts it at {} UTC, when the first zone gets there",
            done.scheduled_at.as_deref().unwrap_or_default()
        ),
        None => println!(
            "campaign {id} scheduled for {} ({} UTC); `herald serve` starts it",
            done.local.as_deref().unwrap_or_default(),
            done.scheduled_at.as_deref().unwrap_or_default()
        ),
    }
    if app.sending_mode().await?.live.is_empty() {
        eprintln!("note: no `herald serve` runs on this installation now; it must run then");
    }
    Ok(())
}

/// `campaign unschedule`.
pub(super) async fn unschedule_cmd(app: &App, id: &str, json: bool) -> anyhow::Result<()> {
    let id = campaign_id(id)?;
    let done = unschedule(app, id).await?;
    if json {
        return output::json(&done);
    }
    println!("campaign {id} is a draft again (not scheduled)");
    Ok(())
}
