//! Drafts: create, edit, duplicate, delete, list, and a draft's audience.

use herald_engine::campaign::{self, CampaignError, CampaignInput};
use herald_store::CampaignId;
use herald_store::prelude::*;

use super::*;
use crate::cli::CreateArgs;
use crate::commands::campaign_id;
use crate::startup::App;
use crate::{bad_input, output};

/// The body from `--html FILE` or `--mjml FILE` (rendered to HTML; a mistake names the file and
/// line).
pub(crate) fn body_file(
    html: Option<&std::path::Path>,
    mjml: Option<&std::path::Path>,
) -> anyhow::Result<Option<String>> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| bad_input(format!("{}: {e}", p.display())))
    };
    match (html, mjml) {
        (Some(p), _) => read(p).map(Some),
        (None, Some(p)) => herald_mail::mjml::to_html(&read(p)?)
            .map(Some)
            .map_err(|e| bad_input(format!("{}: {e}", p.display()))),
        (None, None) => Ok(None),
    }
}

pub(super) async fn create(app: &App, a: CreateArgs) -> anyhow::Result<()> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| bad_input(format!("{}: {e}", p.display())))
    };
    let body = body_file(a.html.as_deref(), a.mjml.as_deref())?;
    let text = a.text.as_deref().map(read).transpose()?;
    let (subject, html, text) = match &a.template {
        Some(t) => herald_engine::campaign::templates::apply(
            &app.store,
            t,
            a.subject.as_deref(),
            body.as_deref(),
            text.as_deref(),
        )
        .await
        .map_err(crate::commands::templates::refused)?,
        None => (
            a.subject
                .clone()
                .ok_or_else(|| bad_input("give --subject"))?,
            body.ok_or_else(|| bad_input("give the body: --html FILE or --mjml FILE"))?,
            text,
        ),
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
    let (also_lists, exclude_lists) = (a.also_lists.clone(), a.exclude_lists.clone());
    let input = CampaignInput {
        name: a.name,
        list: a.list,
        from: a.from,
        subject,
        html,
        text,
        gate_override,
        reply_to: a.reply_to.clone(),
        tracking: herald_engine::campaign::TrackingSwitches {
            opens: !a.no_track_opens,
            clicks: !a.no_track_clicks,
            seeds: !a.no_seeds,
        },
    };
    // Its other lists are checked before anything is created.
    let lists = herald_engine::audience::segments::lists_for_new(
        &app.store,
        &input,
        &also_lists,
        &exclude_lists,
    )
    .await
    .map_err(crate::commands::lists::cli_error)?;
    let id = campaign::create(&app.store, &input, app.clock.now_ms())
        .await
        .map_err(|e| match e {
            CampaignError::Store(s) => anyhow::Error::new(s).context("creating the campaign"),
            CampaignError::Template(t) => {
                let file = match t.part {
                    "html" => match (&a.html, &a.mjml) {
                        (Some(p), _) => p.display().to_string(),
                        (None, Some(p)) => format!("the HTML rendered from {}", p.display()),
                        (None, None) => String::new(),
                    },
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
    herald_engine::audience::segments::attach_lists(&app.store, id, &lists, app.clock.now_ms())
        .await
        .map_err(crate::commands::lists::cli_error)?;
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

/// `campaign list`: newest first, optionally only one status.
pub(super) async fn list(app: &App, status: Option<&str>, json: bool) -> anyhow::Result<()> {
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
    let mut campaigns = Vec::new();
    let mut before = None;
    loop {
        let page = herald_engine::reports::campaign_list(&app.store, before, status, 500).await?;
        campaigns.extend(page.campaigns);
        match page.next.and_then(|n| n.parse().ok()) {
            Some(id) => before = Some(herald_store::CampaignId(id)),
            None => break,
        }
    }
    if json {
        return output::json(&herald_engine::api_types::CampaignList {
            campaigns,
            next: None,
        });
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
pub(super) fn campaign_error(e: CampaignError, doing: &'static str) -> anyhow::Error {
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
pub(super) async fn edit(app: &App, a: crate::cli::EditArgs) -> anyhow::Result<()> {
    let id = campaign_id(&a.id)?;
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| bad_input(format!("{}: {e}", p.display())))
    };
    let patch = herald_engine::api_types::CampaignPatch {
        name: a.name,
        list: a.list,
        from: a.from,
        subject: a.subject,
        html: body_file(a.html.as_deref(), a.mjml.as_deref())?,
        format: None,
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
    if patch.format == Some(herald_engine::api_types::BodyFormat::Mjml) && patch.html.is_none() {
        return Err(bad_input("format: mjml needs the MJML document in html"));
    }
    if let Some(h) = patch.html {
        input.html = patch
            .format
            .unwrap_or_default()
            .to_html(h)
            .map_err(|e| bad_input(format!("html (MJML): {e}")))?;
    }
    if let Some(t) = patch.text {
        input.text = Some(t).filter(|t| !t.trim().is_empty());
    }
    campaign::update(&app.store, id, &input, app.clock.now_ms())
        .await
        .map_err(|e| campaign_error(e, "changing the campaign"))?;
    check_quietly(app, id, "edit").await;
    Ok(warning)
}

/// Delete the draft `id` (`campaign delete`, the API, the UI); a campaign whose send started
/// is refused as a conflict.
pub async fn delete_draft(app: &App, id: CampaignId) -> anyhow::Result<()> {
    if app.store.delete_draft(id, app.clock.now_ms()).await? {
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
    // Its other lists' members may have changed since: the content must still render for them.
    campaign::check_renders_for(&app.store, &input, &old.also_lists)
        .await
        .map_err(|e| campaign_error(e, "duplicating the campaign"))?;
    let copy = campaign::create(&app.store, &input, app.clock.now_ms())
        .await
        .map_err(|e| campaign_error(e, "duplicating the campaign"))?;
    // Its files too.
    app.store
        .copy_attachments(id, copy, app.clock.now_ms())
        .await?;
    // Its A/B test too (a new draft: the test runs again when it is sent).
    if let Some(ab) = &old.ab {
        app.store.set_campaign_ab(copy, Some(ab)).await?;
    }
    // The copy goes to the same people: the same lists, segment and exclusions as the original.
    if old.segment.is_some()
        || old.exclude.is_some()
        || !old.also_lists.is_empty()
        || !old.exclude_lists.is_empty()
    {
        use herald_engine::audience::segments::as_refs;
        let ids = |l: &[(herald_store::ListId, String)]| l.iter().map(|l| l.0).collect::<Vec<_>>();
        let (also, out) = (ids(&old.also_lists), ids(&old.exclude_lists));
        app.store
            .set_campaign_audience(
                copy,
                &herald_store::AudienceSetting {
                    segment: as_refs(&old.segment),
                    exclude: as_refs(&old.exclude),
                    also_lists: &also,
                    exclude_lists: &out,
                },
                app.clock.now_ms(),
            )
            .await?;
    }
    Ok(copy)
}

/// `campaign audience`: show a draft's audience, or set its lists, segment and exclusions.
pub(super) async fn audience_cmd(
    app: &App,
    id: &str,
    change: &herald_engine::audience::segments::AudienceChange,
    json: bool,
) -> anyhow::Result<()> {
    use herald_engine::audience::segments;
    let id = campaign_id(id)?;
    let a = if change.is_empty() {
        segments::campaign_audience(&app.store, id, app.clock.now_ms()).await
    } else {
        segments::set_campaign_audience(&app.store, id, change, app.clock.now_ms()).await
    }
    .map_err(crate::commands::lists::cli_error)?;
    if json {
        return output::json(&a);
    }
    let quoted = |l: &[String]| {
        l.iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "campaign {}: list {:?}{}{}{}{}: {} recipients now (before the suppression list){}",
        a.campaign,
        a.list,
        if a.also_lists.is_empty() {
            String::new()
        } else {
            format!(" and {}", quoted(&a.also_lists))
        },
        a.segment
            .as_deref()
            .map(|s| format!(", segment {s:?}"))
            .unwrap_or_default(),
        a.exclude
            .as_deref()
            .map(|s| format!(", minus {s:?}"))
            .unwrap_or_default(),
        if a.exclude_lists.is_empty() {
            String::new()
        } else {
            format!(", minus the lists {}", quoted(&a.exclude_lists))
        },
        a.recipients,
        if a.excluded > 0 {
            format!("; {} excluded (recorded not_sent: excluded)", a.excluded)
        } else {
            String::new()
        }
    );
    Ok(())
}
