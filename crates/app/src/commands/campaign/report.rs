//! A campaign's report and details (`campaign report`, `campaign show`).

use anyhow::Context;
use herald_engine::api_types::{CampaignDetails, Dkim, DkimStatus, DomainVerification};
use herald_engine::reports::{CampaignReport, campaign_report};
use herald_store::CampaignId;
use herald_store::prelude::*;

use crate::commands::campaign_id;
use crate::startup::App;
use crate::{bad_input, output};

pub(super) async fn load_report(
    app: &App,
    id: CampaignId,
    recipients: bool,
) -> anyhow::Result<CampaignReport> {
    campaign_report(&app.store, id, recipients)
        .await
        .context("reading the report")?
        .ok_or_else(|| bad_input(format!("unknown campaign {id}")))
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
    if let Some(t) = &r.ab {
        let winner = match (&t.winner, &t.why) {
            (Some(w), Some(why)) => format!("winner {w}: {why}"),
            (Some(w), None) => format!("winner {w}"),
            _ => match &t.decide_at {
                Some(at) => format!("the winner is picked at {at}"),
                None => format!("the winner is picked {} after the start", t.wait),
            },
        };
        println!(
            "  A/B test ({} % each, by {}): {winner}",
            t.share_pct, t.metric
        );
        for v in &t.variants {
            println!(
                "    {} {:?}: {} recipients, {} delivered, opened {} ({} %), clicked {} ({} %)",
                v.name,
                v.subject,
                v.recipients,
                v.delivered,
                v.opened,
                v.open_rate,
                v.clicked,
                v.click_rate
            );
        }
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
        archive_url: c.archive.then(|| super::archive_url(app, id)).transpose()?,
        attachments: super::attachment_list(app, id).await?,
        id: c.id,
        name: c.name,
        subject: c.subject,
        from: c.from,
        list: c.list,
        status: c.status.to_string(),
        gate_override: c.gate_override,
        complaint_override: c.complaint_override,
        reply_to: c.reply_to,
        created_at: c.created_at,
        started_at: c.started_at,
        finished_at: c.finished_at,
    }))
}

/// `campaign show`.
pub(super) async fn show_cmd(app: &App, id: &str, json: bool) -> anyhow::Result<()> {
    let id = campaign_id(id)?;
    let report = load_report(app, id, false).await?;
    let details = details(app, id)
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
    if !c.also_lists.is_empty() {
        println!(
            "  Also to:        {} (each person once)",
            c.also_lists.join(", ")
        );
    }
    if !c.exclude_lists.is_empty() {
        println!(
            "  Keeping out:    {} (not sent: excluded)",
            c.exclude_lists.join(", ")
        );
    }
    println!("  List-Id:        {}", details.list_id);
    if let Some(r) = &details.reply_to {
        println!("  Reply-To:       {r}");
    }
    if let Some(u) = &details.archive_url {
        println!("  Archive page:   {u}");
    }
    for a in &details.attachments {
        println!(
            "  Attachment:     {} ({}, {} bytes, sha256 {})",
            a.name, a.content_type, a.size, a.sha256
        );
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
    if let Some(o) = &c.complaint_override {
        println!("  Complaints:     sent despite a complaint rate past 0.3 % ({o})");
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
