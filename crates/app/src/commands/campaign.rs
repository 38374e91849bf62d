//! `herald campaign create | send | report | show`.

use std::time::Duration;

use anyhow::Context;
use herald_engine::api_types::{CampaignDetails, Dkim, DkimStatus, DomainVerification};
use herald_engine::campaign::{self, CampaignError, CampaignInput};
use herald_engine::queue::{TestSend, TestSendError, Until};
use herald_engine::reports::{CampaignReport, campaign_report};
use herald_store::CampaignId;
use herald_store::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use super::{campaign_id, shutdown_signal};
use crate::cli::{CampaignCmd, CreateArgs};
use crate::startup::App;
use crate::{bad_input, output};

pub async fn run(mut app: App, cmd: CampaignCmd) -> anyhow::Result<()> {
    // Sending commands honour the installation's mode: a sandboxed installation (its settings,
    // or the newest `serve` ran with --sandbox) sends nothing off this machine, whoever sends.
    let mode = match cmd {
        CampaignCmd::Send { .. } | CampaignCmd::Test { .. } => Some(app.sending_mode().await?),
        _ => None,
    };
    if mode.as_ref().is_some_and(|m| m.sandbox) {
        app.settings.delivery.sandbox = true;
    }
    match cmd {
        CampaignCmd::Create(args) => create(&app, args).await,
        CampaignCmd::List { status, json } => list(&app, status.as_deref(), json).await,
        CampaignCmd::Edit(args) => edit(&app, args).await,
        CampaignCmd::Duplicate { id, name, json } => {
            let new = duplicate(&app, campaign_id(&id)?, name).await?;
            if json {
                output::json(&herald_engine::api_types::Created {
                    id: new.to_string(),
                })
            } else {
                println!("{new}");
                Ok(())
            }
        }
        CampaignCmd::Schedule {
            id,
            at,
            tz,
            local_time,
            json,
        } => {
            let id = campaign_id(&id)?;
            let done = match local_time {
                Some(lt) => {
                    if let Some(z) = tz.as_deref() {
                        campaign::parse_schedule("2026-01-01T00:00", Some(z))
                            .map_err(|e| bad_input(e.to_string()))?;
                    }
                    let local = campaign::parse_local_time(&at, &lt)
                        .map_err(|e| bad_input(e.to_string()))?;
                    schedule_local_time(&app, id, local, tz.as_deref()).await?
                }
                None => {
                    let (at_ms, tz) = campaign::parse_schedule(&at, tz.as_deref())
                        .map_err(|e| bad_input(e.to_string()))?;
                    schedule(&app, id, at_ms, tz.as_deref()).await?
                }
            };
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
                eprintln!(
                    "note: no `herald serve` runs on this installation now; it must run then"
                );
            }
            Ok(())
        }
        CampaignCmd::Unschedule { id, json } => {
            let id = campaign_id(&id)?;
            let done = unschedule(&app, id).await?;
            if json {
                return output::json(&done);
            }
            println!("campaign {id} is a draft again (not scheduled)");
            Ok(())
        }
        CampaignCmd::Check { id, json } => {
            let id = campaign_id(&id)?;
            let c = check_campaign(&app, id, "check").await?;
            if json {
                output::json(&c)?;
            } else {
                println!(
                    "campaign {id}: {} problem(s), {} warning(s)",
                    c.problems, c.warnings
                );
                for l in check_lines(&c, true) {
                    println!("{l}");
                }
            }
            if c.problems > 0 {
                anyhow::bail!("the pre-send check found {} problem(s)", c.problems);
            }
            Ok(())
        }
        CampaignCmd::Audience {
            id,
            segment,
            no_segment,
            exclude,
            no_exclude,
            json,
        } => {
            use herald_engine::audience::segments::{self, AudienceChange};
            let id = campaign_id(&id)?;
            let pick = |set: Option<String>, clear: bool| {
                if clear { Some(None) } else { set.map(Some) }
            };
            let change = AudienceChange {
                segment: pick(segment, no_segment),
                exclude: pick(exclude, no_exclude),
            };
            let a = if change.segment.is_none() && change.exclude.is_none() {
                segments::campaign_audience(&app.store, id).await
            } else {
                segments::set_campaign_audience(&app.store, id, &change).await
            }
            .map_err(crate::commands::lists::cli_error)?;
            if json {
                return output::json(&a);
            }
            println!(
                "campaign {}: list {:?}{}{}: {} recipients now (before the suppression list){}",
                a.campaign,
                a.list,
                a.segment
                    .as_deref()
                    .map(|s| format!(", segment {s:?}"))
                    .unwrap_or_default(),
                a.exclude
                    .as_deref()
                    .map(|s| format!(", minus {s:?}"))
                    .unwrap_or_default(),
                a.recipients,
                if a.excluded > 0 {
                    format!("; {} excluded (recorded not_sent: excluded)", a.excluded)
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        CampaignCmd::Pause { id, json } => {
            control_cmd(&app, &id, campaign::Control::Pause, json).await
        }
        CampaignCmd::Resume { id, json } => {
            control_cmd(&app, &id, campaign::Control::Resume, json).await
        }
        CampaignCmd::Cancel { id, json } => {
            control_cmd(&app, &id, campaign::Control::Cancel, json).await
        }
        CampaignCmd::Delete { id } => {
            let id = campaign_id(&id)?;
            delete_draft(&app, id).await?;
            println!("deleted draft {id}");
            Ok(())
        }
        CampaignCmd::Send {
            id,
            wait,
            wait_timeout,
            json,
        } => {
            let timeout = match wait_timeout {
                Some(s) => Some(
                    humantime::parse_duration(&s)
                        .map_err(|e| bad_input(format!("--wait-timeout {s:?}: {e}")))?,
                ),
                None => None,
            };
            let live = mode.map(|m| m.live).unwrap_or_default();
            send(&app, campaign_id(&id)?, &live, wait, timeout, json).await
        }
        CampaignCmd::Report {
            id,
            recipients,
            json,
        } => {
            let report = load_report(&app, campaign_id(&id)?, recipients).await?;
            if json {
                output::json(&report)
            } else {
                print_report(&report);
                Ok(())
            }
        }
        CampaignCmd::Test { id, to, json } => {
            let sent = test_send(&app, campaign_id(&id)?, &to).await?;
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
        CampaignCmd::Show { id, json } => {
            let id = campaign_id(&id)?;
            let report = load_report(&app, id, false).await?;
            let details = details(&app, id)
                .await?
                .ok_or_else(|| bad_input(format!("unknown campaign {id}")))?;
            if json {
                return output::json(&details);
            }
            let c = &report.campaign;
            println!("Campaign {} {:?} ({})", c.id, c.name, c.status);
            println!("  Subject:        {}", c.subject);
            println!(
                "  From:           {} <{}>",
                c.from.name.as_deref().unwrap_or(""),
                c.from.address
            );
            println!(
                "  Sending domain: {}",
                herald_domain::address::domain_part(&c.from.address)
            );
            println!("  List:           {}", c.list);
            println!("  List-Id:        {}", details.list_id);
            if let Some(r) = &details.reply_to {
                println!("  Reply-To:       {r}");
            }
            match &details.return_path_domain {
                Some(d) => println!("  Return path:    b+<token>@{d} (bounces come back here)"),
                None => println!(
                    "  Return path:    the From address (domain not connected; set [inbound] return_path_domain to collect bounces)"
                ),
            }
            if let Some(o) = &c.gate_override {
                println!("  Gate override:  {o}");
            }
            let dkim = &details.dkim;
            match dkim.status {
                DkimStatus::Signing => println!(
                    "  DKIM:           signed as d={} (selectors {})",
                    dkim.d.as_deref().unwrap_or(""),
                    dkim.selectors.join(", ")
                ),
                DkimStatus::KeysUnusable => println!(
                    "  DKIM:           keys unusable: {}",
                    dkim.error.as_deref().unwrap_or("")
                ),
                DkimStatus::NotConnected => println!(
                    "  DKIM:           not signed: connect the domain with `herald domain add {}`",
                    details.sending_domain
                ),
            }
            if let Some(v) = &details.domain_verification {
                if v.ok {
                    println!("  Verification:   passed at {}", v.checked_at);
                } else {
                    println!(
                        "  Verification:   FAILED at {}{}: {}",
                        v.checked_at,
                        if v.sends_held { " (sends held)" } else { "" },
                        v.problems
                    );
                }
            }
            println!("  EHLO name:      {}", app.settings.delivery.helo_name);
            println!("  Created:        {}", c.created_at);
            println!(
                "  Started:        {}",
                c.started_at.as_deref().unwrap_or("-")
            );
            println!(
                "  Finished:       {}",
                c.finished_at.as_deref().unwrap_or("-")
            );
            Ok(())
        }
    }
}

async fn create(app: &App, a: CreateArgs) -> anyhow::Result<()> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| bad_input(format!("{}: {e}", p.display())))
    };
    // Cheap checks first, so their errors are not hidden behind the gate's.
    let (_, from_address) = campaign::parse_from(&a.from)
        .map_err(|e| bad_input(CampaignError::BadFrom(a.from.clone(), e).to_string()))?;
    if app.store.find_list(&a.list).await?.is_none() {
        return Err(bad_input(
            CampaignError::UnknownList(a.list.clone()).to_string(),
        ));
    }
    let gate_override = match app.check_from(from_address.as_str()).await {
        Ok(()) => None,
        Err(e) if a.allow_unverified => {
            eprintln!(
                "warning: {e:#}\ncreating it anyway (--allow-unverified); this is recorded on the campaign"
            );
            Some(format!("--allow-unverified at creation: {e:#}"))
        }
        Err(e) => return Err(e),
    };
    let input = CampaignInput {
        name: a.name,
        list: a.list,
        from: a.from,
        subject: a.subject,
        html: read(&a.html)?,
        text: a.text.as_deref().map(read).transpose()?,
        gate_override,
        reply_to: a.reply_to.clone(),
        tracking: herald_engine::campaign::TrackingSwitches {
            opens: !a.no_track_opens,
            clicks: !a.no_track_clicks,
            seeds: !a.no_seeds,
        },
    };
    let id = campaign::create(&app.store, &input)
        .await
        .map_err(|e| match e {
            CampaignError::Store(s) => anyhow::Error::new(s).context("creating the campaign"),
            CampaignError::Template(t) => {
                let file = match t.part {
                    "html" => a.html.display().to_string(),
                    "text" => a
                        .text
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    _ => "--subject".into(),
                };
                bad_input(format!("{file}: {t}"))
            }
            other => bad_input(other.to_string()),
        })?;
    if let Some(c) = check_quietly(app, id, "create").await
        && c.problems + c.warnings > 0
    {
        eprintln!(
            "pre-send check: {} problem(s), {} warning(s) (`herald campaign check {id}`):",
            c.problems, c.warnings
        );
        for l in check_lines(&c, false) {
            eprintln!("{l}");
        }
    }
    if a.json {
        output::json(&herald_engine::api_types::Created { id: id.to_string() })
    } else {
        println!("{id}");
        Ok(())
    }
}

/// `campaign pause|resume|cancel ID [--json]`.
async fn control_cmd(
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

/// `campaign list`: newest first, optionally only one status.
async fn list(app: &App, status: Option<&str>, json: bool) -> anyhow::Result<()> {
    let status = match status.map(herald_store::CampaignStatus::parse) {
        None => None,
        Some(Some(s)) => Some(s),
        Some(None) => {
            return Err(bad_input(format!(
                "--status {:?}: expected draft, scheduled, sending, paused, sent or cancelled",
                status.unwrap_or_default()
            )));
        }
    };
    let campaigns = herald_engine::reports::campaign_list(&app.store, 10_000, status).await?;
    if json {
        return output::json(&herald_engine::api_types::CampaignList { campaigns });
    }
    if campaigns.is_empty() {
        println!("no campaigns");
    }
    for e in &campaigns {
        let (c, k) = (&e.campaign, &e.counts);
        let relayed = if k.relayed > 0 {
            format!(", {} relayed", k.relayed)
        } else {
            String::new()
        };
        println!(
            "{:>5}  {:<8} {:<30} {} recipients, {} delivered{relayed}, {} bounced, {} opened  (created {})",
            c.id, c.status, c.name, k.recipients, k.delivered, k.bounced, k.opened, c.created_at
        );
    }
    Ok(())
}

/// What a campaign error means to the user: a store failure as itself, a campaign that is no
/// longer a draft as a conflict, an unknown one as not found, the rest as bad input.
fn campaign_error(e: CampaignError, doing: &'static str) -> anyhow::Error {
    match e {
        CampaignError::Store(s) => anyhow::Error::new(s).context(doing),
        CampaignError::UnknownCampaign(_) => crate::not_found(e.to_string()),
        // A time that has passed is the clock's refusal, not a malformed request.
        CampaignError::NotDraft(..)
        | CampaignError::WrongStatus { .. }
        | CampaignError::ScheduleOutOfRange(_) => crate::conflict(e.to_string()),
        other => bad_input(other.to_string()),
    }
}

/// `campaign edit`: the draft's content with what was given replaced, checked as at creation
/// (the From gate too, when the From changes).
async fn edit(app: &App, a: crate::cli::EditArgs) -> anyhow::Result<()> {
    let id = campaign_id(&a.id)?;
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| bad_input(format!("{}: {e}", p.display())))
    };
    let patch = herald_engine::api_types::CampaignPatch {
        name: a.name,
        list: a.list,
        from: a.from,
        subject: a.subject,
        html: a.html.as_deref().map(read).transpose()?,
        text: a.text.as_deref().map(read).transpose()?,
        reply_to: a.reply_to,
        allow_unverified: Some(a.allow_unverified),
    };
    if let Some(warning) = edit_campaign(app, id, patch, "--allow-unverified at edit").await? {
        eprintln!(
            "warning: {warning}
keeping it anyway (--allow-unverified); this is recorded on the campaign"
        );
    }
    println!("updated draft {id}");
    Ok(())
}

/// Change draft `id` as `patch` says (`campaign edit`, `PATCH /api/v1/campaigns/{id}`, the
/// UI's edit page): what is not given stays; the result is checked as at creation, and a new
/// From passes the gate again (or, with `allow_unverified`, is kept with the reason recorded,
/// prefixed `how`; the gate's message is returned as a warning then).
pub async fn edit_campaign(
    app: &App,
    id: CampaignId,
    patch: herald_engine::api_types::CampaignPatch,
    how: &str,
) -> anyhow::Result<Option<String>> {
    let Some(old) = app.store.campaign(id).await? else {
        return Err(crate::not_found(format!("unknown campaign {id}")));
    };
    let mut input = campaign::input_of(&old);
    let mut warning = None;
    if let Some(from) = patch.from.filter(|f| f.trim() != input.from.trim()) {
        let (_, address) = campaign::parse_from(&from)
            .map_err(|e| bad_input(CampaignError::BadFrom(from.clone(), e).to_string()))?;
        input.gate_override = match app.check_from(address.as_str()).await {
            Ok(()) => None,
            Err(e) if patch.allow_unverified == Some(true) => {
                warning = Some(format!("{e:#}"));
                Some(format!("{how}: {e:#}"))
            }
            Err(e) => return Err(e),
        };
        input.from = from;
    }
    if let Some(n) = patch.name {
        input.name = n;
    }
    if let Some(l) = patch.list {
        input.list = l;
    }
    if let Some(s) = patch.subject {
        input.subject = s;
    }
    if let Some(r) = patch.reply_to {
        input.reply_to = Some(r).filter(|r| !r.trim().is_empty());
    }
    if let Some(h) = patch.html {
        input.html = h;
    }
    if let Some(t) = patch.text {
        input.text = Some(t).filter(|t| !t.trim().is_empty());
    }
    campaign::update(&app.store, id, &input)
        .await
        .map_err(|e| campaign_error(e, "changing the campaign"))?;
    check_quietly(app, id, "edit").await;
    Ok(warning)
}

/// Delete the draft `id` (`campaign delete`, the API, the UI); a campaign whose send started
/// is refused as a conflict.
pub async fn delete_draft(app: &App, id: CampaignId) -> anyhow::Result<()> {
    if app.store.delete_draft(id).await? {
        return Ok(());
    }
    match app.store.campaign(id).await? {
        None => Err(crate::not_found(format!("unknown campaign {id}"))),
        Some(c) => Err(crate::conflict(format!(
            "campaign {id} is {}: only a draft can be deleted (a campaign that was sent is kept as the record of what happened)",
            match c.status {
                // Its audience is being snapshotted: the send has started.
                herald_store::CampaignStatus::Draft => "starting to send",
                other => other.as_str(),
            }
        ))),
    }
}

/// A new draft with the same content as campaign `id` (sent or not): `campaign duplicate`,
/// the API, the UI.
pub async fn duplicate(
    app: &App,
    id: CampaignId,
    name: Option<String>,
) -> anyhow::Result<CampaignId> {
    let Some(old) = app.store.campaign(id).await? else {
        return Err(crate::not_found(format!("unknown campaign {id}")));
    };
    let mut input = campaign::input_of(&old);
    input.name = name.unwrap_or_else(|| {
        // "<name> (copy)", within the longest name (a copy of a copy stays valid).
        const COPY: &str = " (copy)";
        // A name from before the rules may hold control characters: spaces instead.
        let base: String = old
            .name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(campaign::MAX_NAME - COPY.len())
            .collect();
        format!("{}{COPY}", base.trim_end())
    });
    // The From gate is checked again: a copy of a campaign that had to bypass it keeps that
    // (recorded), one whose domain broke since is refused as a new campaign would be.
    input.gate_override = match (app.check_from(&old.from_address).await, &old.gate_override) {
        (Ok(()), _) => None,
        (Err(e), Some(was)) => Some(format!("duplicated from campaign {id} ({was}): {e:#}")),
        (Err(e), None) => return Err(e),
    };
    let copy = campaign::create(&app.store, &input)
        .await
        .map_err(|e| campaign_error(e, "duplicating the campaign"))?;
    // The copy goes to the same people: the same segment and exclusion, as the original had them.
    if old.segment.is_some() || old.exclude.is_some() {
        use herald_engine::audience::segments::as_refs;
        app.store
            .set_campaign_audience(copy, as_refs(&old.segment), as_refs(&old.exclude))
            .await?;
    }
    Ok(copy)
}

async fn load_report(
    app: &App,
    id: CampaignId,
    recipients: bool,
) -> anyhow::Result<CampaignReport> {
    campaign_report(&app.store, id, recipients)
        .await
        .context("reading the report")?
        .ok_or_else(|| bad_input(format!("unknown campaign {id}")))
}

/// `live`: the nodes running `herald serve` on the installation (they send; this command only
/// starts the campaign and follows it).
async fn send(
    app: &App,
    id: CampaignId,
    live: &[String],
    wait: bool,
    timeout: Option<Duration>,
    json: bool,
) -> anyhow::Result<()> {
    start_send(app, id).await?;
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
enum Followed {
    /// Every recipient is final, the timeout passed, or the user stopped waiting.
    Done,
    /// No server runs on the installation any more.
    ServerGone,
}

/// Wait until every recipient of `id` is final (or `timeout` passes) while another process
/// sends; stop when no server runs any more.
async fn follow(app: &App, id: CampaignId, timeout: Option<Duration>) -> anyhow::Result<Followed> {
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

pub fn print_report(r: &CampaignReport) {
    let c = &r.campaign;
    let k = &r.counts;
    println!("Campaign {} {:?} — {}", c.id, c.name, c.status);
    println!(
        "  From {} <{}> · Subject {:?}",
        c.from.name.as_deref().unwrap_or(""),
        c.from.address,
        c.subject
    );
    println!(
        "  recipients {} · delivered {} · bounced {} · deferred {} · queued {} · expired {} · failed {} · not sent {}",
        k.recipients, k.delivered, k.bounced, k.deferred, k.queued, k.expired, k.failed, k.not_sent
    );
    if k.relayed > 0 {
        println!(
            "  relayed {}: your relay accepted them; the recipients' servers have not been heard from",
            k.relayed
        );
    }
    if k.complained > 0 || k.unsubscribed > 0 {
        println!(
            "  spam complaints {} · unsubscribed {}",
            k.complained, k.unsubscribed
        );
    }
    if !r.not_sent_reasons.is_empty() {
        let why: Vec<String> = r
            .not_sent_reasons
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        println!("  not sent because: {}", why.join(" · "));
    }
    println!(
        "  Delivered: the recipient's server accepted the message. It may still be in Junk or held by a security filter."
    );
    let Some(rows) = &r.recipients else { return };
    println!();
    for x in rows {
        let detail = match &x.evidence {
            Some(e) => {
                let what = e
                    .reply
                    .clone()
                    .or_else(|| e.error.clone())
                    .unwrap_or_default()
                    .replace('\n', " | ");
                let mut d = format!("{what} [{}", e.mx.as_deref().unwrap_or("no host"));
                if let Some(ip) = &e.ip {
                    d.push_str(&format!(" {ip}"));
                }
                if let Some(t) = &e.tls {
                    d.push_str(&format!(", {t}"));
                }
                if let Some(q) = &e.remote_queue_id {
                    d.push_str(&format!(", queue id {q}"));
                }
                d.push(']');
                d
            }
            None => String::new(),
        };
        let dup = if x.possible_duplicate {
            " (possible duplicate)"
        } else {
            ""
        };
        println!(
            "  {:<10} {:<32} {:<18} {}{}",
            x.state.as_str(),
            x.email,
            x.reason.as_deref().unwrap_or("-"),
            detail,
            dup
        );
    }
}

/// The "See details" data of a campaign (`campaign show --json`, the UI's panel, the API).
pub async fn details(app: &App, id: CampaignId) -> anyhow::Result<Option<CampaignDetails>> {
    let Some(report) = herald_engine::reports::campaign_report(&app.store, id, false).await? else {
        return Ok(None);
    };
    let c = report.campaign;
    let sending_domain = herald_domain::address::domain_part(&c.from.address).to_string();
    let dkim = match app.keyring().connected_for(&sending_domain) {
        Ok(Some((d, selector, _))) => {
            let (rsa, ed) = herald_mail::dkim::selectors(&selector);
            Dkim {
                status: DkimStatus::Signing,
                d: Some(d),
                selectors: vec![rsa, ed],
                error: None,
            }
        }
        Ok(None) => Dkim {
            status: DkimStatus::NotConnected,
            d: None,
            selectors: Vec::new(),
            error: None,
        },
        Err(e) => Dkim {
            status: DkimStatus::KeysUnusable,
            d: None,
            selectors: Vec::new(),
            error: Some(e.to_string()),
        },
    };
    // The envelope sender's domain (VERP, `b+<token>@<it>`), where bounces come back.
    let return_path_domain = herald_engine::domains::return_path_for(
        app.settings.inbound.return_path_domain.as_deref(),
        dkim.d.as_deref(),
    );
    // The last re-verification of the signing domain by `serve` (drift): a failing one holds
    // this campaign's sends unless it was created with the gate override.
    let checks = app.store.domain_checks().await?;
    let domain_verification = dkim.d.as_deref().and_then(|d| {
        checks
            .iter()
            .find(|k| k.domain == d)
            .map(|k| DomainVerification {
                checked_at: herald_engine::reports::ms_to_rfc3339(k.checked_at_ms),
                ok: k.ok,
                problems: k.problems.clone(),
                sends_held: !k.ok && c.gate_override.is_none(),
            })
    });
    let list_id = herald_mail::list_id_header(&c.list, c.list_number, &sending_domain);
    let check = c
        .presend_check
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    Ok(Some(CampaignDetails {
        list_id,
        check,
        domain_verification,
        dkim,
        return_path_domain,
        sending_domain,
        sending_ips: app.all_sending_ips().await,
        helo_name: app.settings.delivery.helo_name.clone(),
        id: c.id,
        name: c.name,
        subject: c.subject,
        from: c.from,
        list: c.list,
        status: c.status.to_string(),
        gate_override: c.gate_override,
        reply_to: c.reply_to,
        created_at: c.created_at,
        started_at: c.started_at,
        finished_at: c.finished_at,
    }))
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

/// The `unsubscribe_url` the pre-send check renders with, to find it in the HTML.
const UNSUBSCRIBE_PLACEHOLDER: &str = "https://herald.invalid/u/presend-check";

/// Run the pre-send check of campaign `id` now and keep it with the campaign (`campaign
/// check`, and at create, schedule and send: `at` says which).
pub async fn check_campaign(
    app: &App,
    id: CampaignId,
    at: &str,
) -> anyhow::Result<herald_engine::api_types::CampaignCheck> {
    use herald_engine::api_types::{CampaignCheck, CheckFinding, CheckSeverity};
    let Some(c) = app.store.campaign(id).await? else {
        return Err(crate::not_found(format!("unknown campaign {id}")));
    };
    let from_domain = herald_domain::address::domain_part(&c.from_address).to_ascii_lowercase();
    let sandbox = app.settings.delivery.sandbox;
    let verification = if sandbox {
        None
    } else {
        app.verify_from_domain(&from_domain).await?
    };
    // The HTML as the list's first contact gets it (without the tracking rewrites).
    let first = app
        .store
        .audience_page(c.list, 0, 1)
        .await?
        .into_iter()
        .next();
    let (email, fields) = match &first {
        Some(m) => (
            m.email.clone(),
            serde_json::from_str(&m.fields).unwrap_or_default(),
        ),
        None => ("someone@example.com".to_string(), serde_json::Map::new()),
    };
    let mut extra = Vec::new();
    let html = match herald_mail::CampaignTemplates::compile(&c.subject, &c.html, c.text.as_deref())
        .and_then(|t| {
            t.render(&herald_engine::render::context(
                &email,
                fields,
                Some(UNSUBSCRIBE_PLACEHOLDER),
            ))
        }) {
        Ok(r) => r.html,
        Err(e) => {
            extra.push(CheckFinding {
                code: "template_error".into(),
                severity: CheckSeverity::Problem,
                text: format!("The campaign does not render for {email}: {e}"),
                fix: Some("fix the template (`herald campaign edit`)".into()),
            });
            String::new()
        }
    };
    // Spam reports against deliveries of the campaigns of the last 30 days.
    let since = herald_engine::now_ms() - 30 * 24 * 3600 * 1000;
    let mut recent = (0, 0, 0);
    for e in herald_engine::reports::campaign_list(&app.store, 500, None).await? {
        let created = e.campaign.created_at_ms;
        if e.campaign.id != id.to_string() && created >= since {
            // Through a relay, complaints come for relayed deliveries too.
            recent.0 += e.counts.delivered + e.counts.relayed;
            recent.1 += e.counts.complained;
            recent.2 += 1;
        }
    }
    let list_id = herald_mail::list_id_header(&c.list_name, c.list.0, &from_domain);
    let mut findings = campaign::check::findings(&campaign::check::CheckInput {
        from_domain: &from_domain,
        sandbox,
        verification: verification.as_ref(),
        gate_override: c.gate_override.as_deref(),
        html: &html,
        unsubscribe_placeholder: UNSUBSCRIBE_PLACEHOLDER,
        // Herald signs a one-click unsubscribe into every message it sends.
        one_click: true,
        list_id: &list_id,
        recent,
    });
    if !extra.is_empty() {
        // A template that does not render has no HTML to judge: only its error counts.
        findings.retain(|f| !matches!(f.code.as_str(), "no_unsubscribe_link"));
        extra.extend(findings);
        findings = extra;
    }
    let count = |s| findings.iter().filter(|f| f.severity == s).count() as u32;
    let check = CampaignCheck {
        campaign: id.to_string(),
        checked_at: herald_engine::reports::ms_to_rfc3339(herald_engine::now_ms()),
        at: at.to_string(),
        problems: count(CheckSeverity::Problem),
        warnings: count(CheckSeverity::Warning),
        findings,
    };
    app.store
        .save_check(id, &serde_json::to_string(&check)?)
        .await?;
    Ok(check)
}

/// Run the check at `at` (create, schedule, send) without ever failing what called it: a
/// check that cannot run is logged.
pub async fn check_quietly(
    app: &App,
    id: CampaignId,
    at: &str,
) -> Option<herald_engine::api_types::CampaignCheck> {
    match check_campaign(app, id, at).await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(campaign = id.0, error = %e, "the pre-send check did not run");
            None
        }
    }
}

/// A check's findings as lines (problems and warnings first; `all`: the good news too).
pub fn check_lines(c: &herald_engine::api_types::CampaignCheck, all: bool) -> Vec<String> {
    use herald_engine::api_types::CheckSeverity;
    let mut out = Vec::new();
    for f in &c.findings {
        if !all && f.severity == CheckSeverity::Info {
            continue;
        }
        out.push(format!("  {:<8} {}", f.severity_word(), f.text));
        if let Some(fix) = &f.fix {
            out.push(format!("           → {fix}"));
        }
    }
    out
}

/// Schedule draft `id` to start at `at_ms` (`campaign schedule`, the API, the UI).
pub async fn schedule(
    app: &App,
    id: CampaignId,
    at_ms: i64,
    tz: Option<&str>,
) -> anyhow::Result<herald_engine::api_types::CampaignScheduled> {
    campaign::schedule(&app.store, id, at_ms, tz, herald_engine::now_ms())
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
        campaign::schedule_local_time(&app.store, id, local, default_tz, herald_engine::now_ms())
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
    campaign::unschedule(&app.store, id)
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
const SCHEDULE_LEASE_MS: i64 = 10 * 60 * 1000;

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
            let now = herald_engine::now_ms();
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

/// Pause, resume or cancel campaign `id` (`campaign pause|resume|cancel`, the API, the UI).
pub async fn control(
    app: &App,
    id: CampaignId,
    what: campaign::Control,
) -> anyhow::Result<herald_engine::api_types::CampaignControlled> {
    let done = campaign::control(&app.store, id, what)
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
    // The domain may have broken since the campaign was created: check again (unless the
    // campaign was explicitly allowed to bypass the gate). Its refusal is about the domain's
    // state, not the request.
    // A scheduled campaign sent by hand goes out now, to everyone: it stops being scheduled
    // (and sent in local time). Refused while `serve` holds its start: it is starting anyway.
    if c.status == herald_store::CampaignStatus::Scheduled {
        app.store.unschedule_campaign(id).await?;
    }
    // A start that was interrupted after part of the audience was snapshotted is finished
    // whatever the gate says now: those deliveries are already queued.
    let begun = app.store.counts(id).await?.total() > 0;
    if c.gate_override.is_none()
        && !begun
        && matches!(
            c.status,
            herald_store::CampaignStatus::Draft | herald_store::CampaignStatus::Scheduled
        )
    {
        app.check_from(&c.from_address).await.map_err(|e| {
            match e.downcast_ref::<crate::BadInput>() {
                Some(b) => crate::conflict(b.0.clone()),
                None => e,
            }
        })?;
    }
    if matches!(
        c.status,
        herald_store::CampaignStatus::Draft | herald_store::CampaignStatus::Scheduled
    ) {
        check_quietly(app, id, "send").await;
    }
    campaign::snapshot(&app.store, id)
        .await
        .map_err(|e| match e {
            CampaignError::Store(s) => anyhow::Error::new(s).context("starting the send"),
            CampaignError::UnknownCampaign(_) => crate::not_found(e.to_string()),
            other => anyhow::anyhow!("{other}"),
        })?;
    Ok(())
}
