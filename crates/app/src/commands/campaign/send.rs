//! Sending: start a campaign and follow it, test copies, pause, resume and cancel.

use std::time::Duration;

use anyhow::Context;
use herald_engine::campaign::{self, CampaignError};
use herald_engine::queue::{TestSend, TestSendError, Until};
use herald_store::CampaignId;
use herald_store::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use super::*;
use crate::commands::{campaign_id, shutdown_signal};
use crate::startup::App;
use crate::{bad_input, output};

/// `campaign pause|resume|cancel ID [--json]`.
pub(super) async fn control_cmd(
    app: &App,
    id: &str,
    what: campaign::Control,
    json: bool,
) -> anyhow::Result<()> {
    let id = campaign_id(id)?;
    let done = control(app, id, what).await?;
    if json {
        return output::json(&done);
    }
    match what {
        campaign::Control::Pause => println!(
            "campaign {id} paused: no new attempts; `herald campaign resume {id}` continues it"
        ),
        campaign::Control::Resume => println!("campaign {id} resumed"),
        campaign::Control::Cancel => println!(
            "campaign {id} cancelled: {} recipients not sent (cancelled); any in flight finish and are recorded",
            done.cancelled.unwrap_or(0)
        ),
    }
    Ok(())
}

/// `live`: the nodes running `herald serve` on the installation (they send; this command only
/// starts the campaign and follows it).
#[allow(clippy::too_many_arguments)]
pub(super) async fn send(
    app: &App,
    id: CampaignId,
    live: &[String],
    despite: Option<String>,
    wait: bool,
    timeout: Option<Duration>,
    json: bool,
) -> anyhow::Result<()> {
    // An A/B test's winner is picked by `herald serve` hours later: without one running, the
    // rest of the audience would wait for nobody.
    if live.is_empty()
        && app
            .store
            .campaign(id)
            .await?
            .is_some_and(|c| c.ab.is_some() && c.ab_winner.is_none())
    {
        return Err(crate::conflict(format!(
            "campaign {id} has an A/B test: `herald serve` sends it and picks the winner, and none runs on this installation now; start `herald serve` first"
        )));
    }
    let who = std::env::var("USER").unwrap_or_else(|_| "an unnamed user".into());
    start_send_despite(
        app,
        id,
        despite.filter(|why| !why.trim().is_empty()).map(|why| {
            format!(
                "--despite-complaints at send by {who} on this machine: {}",
                why.trim()
            )
        }),
    )
    .await?;
    // One path for sending: when `herald serve` runs on this installation, it sends; this
    // command only started the campaign, and follows it with --wait.
    if !live.is_empty() {
        eprintln!(
            "campaign {id} started; {} sends it{}",
            live.join(", "),
            if app.settings.delivery.sandbox {
                " (sandbox: nothing leaves this machine)"
            } else {
                ""
            }
        );
        let followed = if wait {
            follow(app, id, timeout).await?
        } else {
            Followed::Done
        };
        if followed == Followed::Done {
            let report = load_report(app, id, wait).await?;
            if json {
                return output::json(&report);
            }
            print_report(&report);
            return Ok(());
        }
        eprintln!(
            "the server stopped before the campaign was finished: sending the rest from here"
        );
    }
    let sandbox = if app.settings.delivery.sandbox {
        Some(app.start_sandbox().await?)
    } else {
        None
    };
    let queue = app.queue(sandbox.as_ref())?;

    let total = app.store.counts(id).await?.total();
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} final · {msg}")
            .context("progress style")?,
    );
    let store = app.store.clone();
    let pb2 = pb.clone();
    let progress = tokio::spawn(async move {
        loop {
            if let Ok(c) = store.counts(id).await {
                pb2.set_position(c.total() - c.unfinished());
                let relayed = c.get(herald_domain::DeliveryState::Relayed);
                pb2.set_message(format!(
                    "{}{} delivered, {} deferred, {} bounced",
                    if relayed > 0 {
                        format!("{relayed} relayed, ")
                    } else {
                        String::new()
                    },
                    c.get(herald_domain::DeliveryState::Delivered),
                    c.get(herald_domain::DeliveryState::Deferred),
                    c.get(herald_domain::DeliveryState::Bounced)
                ));
            }
            // Counting is a scan of the campaign's index: once a second is plenty.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let until = if wait {
        Until::Finished
    } else {
        Until::Drained
    };
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let result = queue
        .run(Some(id), until, deadline, shutdown_signal())
        .await;
    progress.abort();
    pb.finish_and_clear();
    result.context("sending")?;
    if let Some(c) = app.store.campaign(id).await?
        && c.status == herald_store::CampaignStatus::Paused
    {
        eprintln!("campaign {id} is paused: `herald campaign resume {id}` continues it");
    }
    if let Some(sb) = &sandbox {
        eprintln!("sandbox: messages captured in {}", sb.dir.display());
    }
    let report = load_report(app, id, wait).await?;
    if json {
        return output::json(&report);
    }
    print_report(&report);
    Ok(())
}

/// How following a campaign another process sends ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Followed {
    /// Every recipient is final, the timeout passed, or the user stopped waiting.
    Done,
    /// No server runs on the installation any more.
    ServerGone,
}

/// Wait until every recipient of `id` is final (or `timeout` passes) while another process
/// sends; stop when no server runs any more.
pub(super) async fn follow(
    app: &App,
    id: CampaignId,
    timeout: Option<Duration>,
) -> anyhow::Result<Followed> {
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let mut round = 0u64;
    loop {
        round += 1;
        let c = app.store.counts(id).await?;
        if c.unfinished() == 0 {
            return Ok(Followed::Done);
        }
        if let Some(campaign) = app.store.campaign(id).await?
            && campaign.status == herald_store::CampaignStatus::Paused
        {
            eprintln!(
                "campaign {id} is paused: {} recipients wait (`herald campaign resume {id}`)",
                c.unfinished()
            );
            return Ok(Followed::Done);
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            eprintln!(
                "--wait-timeout passed: {} recipients not final yet",
                c.unfinished()
            );
            return Ok(Followed::Done);
        }
        if round.is_multiple_of(10) && app.sending_mode().await?.live.is_empty() {
            return Ok(Followed::ServerGone);
        }
        tokio::select! {
            _ = &mut stop => return Ok(Followed::Done),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// Send one test copy of campaign `id` to `to`, personalised with the fields of the list's
/// first contact, through this node's delivery settings (or the sandbox).
pub async fn test_send(app: &App, id: CampaignId, to: &str) -> anyhow::Result<TestSend> {
    let to = herald_domain::EmailAddress::parse(to.trim())
        .map_err(|e| bad_input(format!("{to:?} is not an email address: {e}")))?;
    let Some(c) = app.store.campaign(id).await? else {
        return Err(crate::not_found(format!("unknown campaign {id}")));
    };
    let fields = app
        .store
        .audience_page(c.list, 0, 1)
        .await?
        .into_iter()
        .next()
        .map_or_else(|| "{}".to_string(), |m| m.fields);
    let sandbox = if app.settings.delivery.sandbox {
        Some(app.start_sandbox().await?)
    } else {
        None
    };
    let queue = app.queue(sandbox.as_ref())?;
    queue.send_test(id, &to, fields).await.map_err(|e| match e {
        // The content or the address: the user's to fix (a 422, exit 2).
        TestSendError::Refused(e) => bad_input(format!("test send: {e}")),
        TestSendError::Store(e) => anyhow::Error::new(e).context("test send"),
        TestSendError::Internal(e) => anyhow::anyhow!("test send: {e}"),
    })
}

/// Pause, resume or cancel campaign `id` (`campaign pause|resume|cancel`, the API, the UI).
pub async fn control(
    app: &App,
    id: CampaignId,
    what: campaign::Control,
) -> anyhow::Result<herald_engine::api_types::CampaignControlled> {
    let done = campaign::control(&app.store, id, what, app.clock.now_ms())
        .await
        .map_err(|e| campaign_error(e, "changing the campaign"))?;
    tracing::info!(
        campaign = id.0,
        action = what.as_str(),
        "campaign {}",
        done.status.as_str()
    );
    Ok(herald_engine::api_types::CampaignControlled {
        id: id.to_string(),
        status: done.status.as_str().to_string(),
        cancelled: done.cancelled,
    })
}

/// Check the gate again and snapshot the audience: the campaign becomes `sending` and any
/// running queue (this command's, or `herald serve`) delivers it. A second call does nothing.
pub async fn start_send(app: &App, id: CampaignId) -> anyhow::Result<()> {
    start_send_despite(app, id, None).await
}

/// [`start_send`]; `despite`: why it goes although the spam-complaint rate is past 0.3 %
/// (recorded on the campaign, with who said so). Without it such a send is refused, naming the
/// rate; a campaign given a reason before (its scheduled start) goes.
pub async fn start_send_despite(
    app: &App,
    id: CampaignId,
    despite: Option<String>,
) -> anyhow::Result<()> {
    let Some(c) = app.store.campaign(id).await? else {
        return Err(crate::not_found(format!("unknown campaign {id}")));
    };
    match c.status {
        herald_store::CampaignStatus::Paused => {
            return Err(crate::conflict(format!(
                "campaign {id} is paused: `herald campaign resume {id}` continues it"
            )));
        }
        herald_store::CampaignStatus::Cancelled => {
            return Err(crate::conflict(format!(
                "campaign {id} was cancelled: `herald campaign duplicate {id}` makes a new draft of it"
            )));
        }
        _ => {}
    }
    let startable = matches!(
        c.status,
        herald_store::CampaignStatus::Draft | herald_store::CampaignStatus::Scheduled
    );
    // A start that was interrupted after part of the audience was snapshotted is finished
    // whatever the gate and the complaint rate say now: those deliveries are already queued.
    let begun = app.store.counts(id).await?.total() > 0;
    // A spam-complaint rate past 0.3 % stops a start, decided before anything changes (a
    // refused send leaves a scheduled campaign scheduled), and read on its own, so no other
    // part of the check can skip it.
    let override_reason = if startable && !begun {
        complaint_override(app, id, despite).await?
    } else {
        None
    };
    // A scheduled campaign sent by hand goes out now, to everyone: it stops being scheduled
    // (and sent in local time). Refused while `serve` holds its start: it is starting anyway.
    if c.status == herald_store::CampaignStatus::Scheduled {
        app.store
            .unschedule_campaign(id, app.clock.now_ms())
            .await?;
    }
    // The domain may have broken since the campaign was created: check again (unless the
    // campaign was explicitly allowed to bypass the gate). Its refusal is about the domain's
    // state, not the request.
    if c.gate_override.is_none() && !begun && startable {
        app.check_from(&c.from_address).await.map_err(|e| {
            match e.downcast_ref::<crate::BadInput>() {
                Some(b) => crate::conflict(b.0.clone()),
                None => e,
            }
        })?;
    }
    if startable {
        check_quietly(app, id, "send").await;
    }
    campaign::snapshot(&app.store, id, app.clock.now_ms())
        .await
        .map_err(|e| match e {
            CampaignError::Store(s) => anyhow::Error::new(s).context("starting the send"),
            CampaignError::UnknownCampaign(_) => crate::not_found(e.to_string()),
            other => anyhow::anyhow!("{other}"),
        })?;
    // Recorded once the send started: a reason for a send that did not happen is no record.
    if let Some(why) = override_reason {
        app.store.set_complaint_override(id, &why).await?;
    }
    Ok(())
}

/// Whether the spam-complaint rate blocks this send: `Ok(None)` when it does not, the reason to
/// record when `despite` gives one, an error naming the rate when it blocks.
async fn complaint_override(
    app: &App,
    id: CampaignId,
    despite: Option<String>,
) -> anyhow::Result<Option<String>> {
    let (recent, providers) = complaint_input(app).await?;
    let findings = herald_engine::campaign::check::complaint_findings(recent, providers);
    let Some(f) = findings
        .iter()
        .find(|f| herald_engine::campaign::check::BLOCKING_CODES.contains(&f.code.as_str()))
    else {
        return Ok(None);
    };
    match despite.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        Some(why) => Ok(Some(
            why.chars().filter(|c| !c.is_control()).take(500).collect(),
        )),
        None => Err(crate::conflict(format!(
            "campaign {id} was not sent: {} Sending more now puts every later campaign at risk. Find the cause first (the health page shows the rate per provider); to send anyway, give the reason: `herald campaign send {id} --despite-complaints \"…\"`, the API's ?despite_complaints=…, or the box on its page (recorded on the campaign).",
            f.text
        ))),
    }
}

/// `campaign test`: fails when the copy was not accepted.
pub(super) async fn test_cmd(app: &App, id: &str, to: &str, json: bool) -> anyhow::Result<()> {
    let sent = test_send(app, campaign_id(id)?, to).await?;
    if json {
        output::json(&sent)?;
    } else if sent.accepted {
        println!(
            "Test copy to {} accepted by {}: {}",
            sent.to,
            sent.mx.as_deref().unwrap_or("the server"),
            sent.result
        );
    } else {
        println!("Test copy to {} NOT accepted: {}", sent.to, sent.result);
    }
    if !sent.accepted {
        anyhow::bail!("the test copy was not accepted");
    }
    Ok(())
}
