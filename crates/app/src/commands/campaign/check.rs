//! The pre-send check (`campaign check`, and before every send).

use herald_engine::campaign::{self};
use herald_store::CampaignId;
use herald_store::prelude::*;

use crate::commands::campaign_id;
use crate::output;
use crate::startup::App;

/// The `unsubscribe_url` the pre-send check renders with, to find it in the HTML.
pub(super) const UNSUBSCRIBE_PLACEHOLDER: &str = "https://herald.invalid/u/presend-check";

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
    let (recent, providers) = complaint_input(app).await?;
    let list_id = herald_mail::list_id_header(&c.list_name, c.list.0, &from_domain);
    let attachments: Vec<(String, i64)> = app
        .store
        .attachments(id)
        .await?
        .into_iter()
        .map(|a| (a.name, a.size))
        .collect();
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
        providers,
        attachments: &attachments,
        attachments_enabled: app.settings.attachments.enabled,
    });
    let zones = &app.settings.dns.uri_blocklists;
    if extra.is_empty() && !zones.is_empty() {
        findings.extend(uri_blocklists(app, &html, zones).await?);
    }
    // The URL in force now (it can change on the Settings page while `serve` runs).
    let rspamd_url = app.runtime().await?.rspamd_url;
    if extra.is_empty()
        && let Some(url) = &rspamd_url
    {
        findings.push(spam_score(app, id, url, &email, first.as_ref()).await?);
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    if !extra.is_empty() {
        // A template that does not render has no HTML to judge: only its error counts.
        findings.retain(|f| !matches!(f.code.as_str(), "no_unsubscribe_link"));
        extra.extend(findings);
        findings = extra;
    }
    let count = |s| findings.iter().filter(|f| f.severity == s).count() as u32;
    let check = CampaignCheck {
        campaign: id.to_string(),
        checked_at: herald_engine::reports::ms_to_rfc3339(app.clock.now_ms()),
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

/// The campaign's link and image hosts, and the host of Herald's own links (tracking,
/// unsubscribe), looked up in the URI blocklists `zones`.
async fn uri_blocklists(
    app: &App,
    html: &str,
    zones: &[String],
) -> anyhow::Result<Vec<herald_engine::api_types::CheckFinding>> {
    use herald_engine::campaign::uribl;
    let placeholder = UNSUBSCRIBE_PLACEHOLDER
        .split('/')
        .nth(2)
        .unwrap_or_default()
        .to_string();
    let mut hosts: Vec<String> = uribl::hosts(html)
        .into_iter()
        .filter(|h| *h != placeholder)
        .collect();
    let own = app.tracking_host().to_ascii_lowercase();
    if own.contains('.') && own.parse::<std::net::IpAddr>().is_err() && !hosts.contains(&own) {
        hosts.push(own);
    }
    let resolver = herald_engine::deliver::mx::build_resolver(
        &app.settings.dns.nameservers,
        app.settings.dns.timeout.0,
    )
    .map_err(anyhow::Error::msg)?;
    let found = uribl::lookup(&resolver, &hosts, zones).await;
    Ok(uribl::findings(&found, zones))
}

/// rspamd's score of the message the list's first contact (`email`) would get, rendered and
/// signed as it would be sent, with the envelope, sending IP and name a receiver would see.
async fn spam_score(
    app: &App,
    id: CampaignId,
    url: &str,
    email: &str,
    first: Option<&herald_store::AudienceMember>,
) -> anyhow::Result<herald_engine::api_types::CheckFinding> {
    use herald_engine::campaign::rspamd;
    use herald_engine::queue::TestSendError;
    let to = herald_domain::EmailAddress::parse(email)
        .or_else(|_| herald_domain::EmailAddress::parse("someone@example.com"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let fields = first.map_or_else(|| "{}".to_string(), |m| m.fields.clone());
    let queue = match app.queue(None) {
        Ok(q) => q,
        Err(e) => return Ok(rspamd::finding(&Err(format!("{e:#}")))),
    };
    let copy = match queue.render_copy(id, &to, fields).await {
        Ok(c) => c,
        Err(TestSendError::Store(e)) => return Err(e.into()),
        // The content is the user's to fix, and other findings say so: no score without it.
        Err(TestSendError::Refused(e) | TestSendError::Internal(e)) => {
            return Ok(rspamd::finding(&Err(format!(
                "the message could not be rendered: {e}"
            ))));
        }
    };
    let d = &app.settings.delivery;
    let direct = d.transport != crate::settings::Transport::Relay;
    let envelope = rspamd::Envelope {
        ip: d.source_ips.first().copied().filter(|_| direct),
        helo: d.helo_name.clone(),
        hostname: if direct {
            d.helo_name.clone()
        } else {
            app.settings.relay.host.clone()
        },
        mail_from: copy.mail_from.clone(),
        rcpt_to: copy.rcpt_to.clone(),
    };
    let message = herald_mail::from_smtp_data(&copy.data);
    let result = rspamd::score(url, message, &envelope, app.settings.check.rspamd_timeout.0).await;
    if let Err(e) = &result {
        tracing::warn!(error = %e, "the pre-send check could not read rspamd's score");
    }
    Ok(rspamd::finding(&result))
}

/// Run the check at `at` (create, schedule, send) without ever failing what called it: a
/// check that cannot run is logged.
/// Spam reports against deliveries over the last 30 days, in all (delivered, reported,
/// campaigns) and per receiving provider: one read of the health rollup (the store keeps it as
/// mail is recorded).
#[allow(clippy::type_complexity)]
pub async fn complaint_input(
    app: &App,
) -> anyhow::Result<((u64, u64, usize), Vec<(String, u64, u64)>)> {
    let health = herald_engine::reports::health::health(&app.store, 30, app.clock.now_ms()).await?;
    let delivered_and_reported = |f: &herald_engine::reports::health::HealthFigures| {
        // Through a relay, complaints come for relayed deliveries too.
        (f.delivered + f.relayed, f.complaints)
    };
    let (delivered, complained) = delivered_and_reported(&health.overall);
    let providers = health
        .providers
        .into_iter()
        .map(|g| {
            let (delivered, complained) = delivered_and_reported(&g.figures);
            (g.name, delivered, complained)
        })
        .collect();
    Ok(((delivered, complained, health.campaigns.len()), providers))
}

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

/// `campaign check`: fails when the check finds a problem.
pub(super) async fn check_cmd(app: &App, id: &str, json: bool) -> anyhow::Result<()> {
    let id = campaign_id(id)?;
    let c = check_campaign(app, id, "check").await?;
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
