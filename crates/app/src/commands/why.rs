//! `herald why CAMPAIGN EMAIL`: where the message most likely is, and why, with evidence.

use herald_domain::EmailAddress;
use herald_engine::deliver::MxResolver;
use herald_engine::deliver::mx::{DnsMx, MxAnswer};
use herald_engine::diagnose::{SeedResult, SendContext, Severity, diagnose};
use herald_store::prelude::*;

use super::campaign_id;
use crate::bad_input;
use crate::output;
use crate::startup::App;

pub async fn run(
    app: App,
    id: &str,
    email: &str,
    it_report: bool,
    html: bool,
    json: bool,
) -> anyhow::Result<()> {
    let id = campaign_id(id)?;
    let Some(c) = app.store.campaign(id).await? else {
        return Err(bad_input(format!("unknown campaign {id}")));
    };
    let Some(diagnosis) = diagnose_for(&app, id, email).await? else {
        return Err(bad_input(format!(
            "{email} is not a recipient of campaign {id} (see `herald campaign report {id} --recipients`)"
        )));
    };

    if it_report {
        print!(
            "{}",
            if html {
                &diagnosis.it_report_html
            } else {
                &diagnosis.it_report
            }
        );
        return Ok(());
    }
    if json {
        return output::json(&diagnosis);
    }
    println!(
        "{} in campaign {} ({:?}): {}{}",
        diagnosis.email,
        c.id,
        c.name,
        diagnosis.state,
        diagnosis
            .reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    println!("Subject as they got it: {}", diagnosis.subject);
    println!();
    for f in &diagnosis.findings {
        let mark = match f.severity {
            Severity::Problem => "PROBLEM",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        println!("  [{mark}] {}", f.text);
    }
    println!();
    println!("Timeline (UTC):");
    for t in &diagnosis.timeline {
        println!(
            "  {}  {:<22} {}",
            t.at,
            t.what,
            t.said().replace('\n', " | ")
        );
    }
    println!();
    println!(
        "For their IT: herald why {} {} --it-report",
        c.id, diagnosis.email
    );
    Ok(())
}

/// The diagnosis of `email` in campaign `id` (None: not a recipient, or no such campaign).
pub async fn diagnose_for(
    app: &App,
    id: herald_store::CampaignId,
    email: &str,
) -> anyhow::Result<Option<herald_engine::diagnose::Diagnosis>> {
    let key = EmailAddress::parse(email)
        .map_err(|e| bad_input(format!("{email:?}: {e}")))?
        .key();
    let Some(c) = app.store.campaign(id).await? else {
        return Ok(None);
    };
    let Some(d) = app.store.delivery_detail(id, &key).await? else {
        return Ok(None);
    };

    // How it was sent: DKIM of the From domain, the VERP return path, our addresses.
    let from_domain = herald_domain::address::domain_part(&c.from_address).to_string();
    let connected = app.keyring().connected_for(&from_domain).ok().flatten();
    let rp_domain = herald_engine::domains::return_path_for(
        app.settings.inbound.return_path_domain.as_deref(),
        connected.as_ref().map(|(d, _, _)| d.as_str()),
    );
    let envelope_sender = match &rp_domain {
        Some(dom) => Some(app.verp_key()?.address(d.row.id.0, dom)),
        None => None,
    };
    // Who receives for the domain now (a failed lookup just leaves the list empty).
    let domain = herald_domain::address::domain_part(&key).to_string();
    let mut mx_hosts = Vec::new();
    // A copy the sandbox took went nowhere else: no need to ask DNS (the demo's domains
    // have no MX, and a machine without DNS would wait for its timeout on each).
    let sandboxed =
        app.settings.delivery.sandbox || d.attempts.iter().any(|a| a.evidence.route == "sandbox");
    if !sandboxed
        && let Ok(dns) = DnsMx::new(&app.settings.dns.nameservers, app.settings.dns.timeout.0)
        && let MxAnswer::Hosts(hosts) = dns.resolve(&domain).await
    {
        mx_hosts.extend(hosts.into_iter().map(|h| h.name));
    }
    let seeds = app
        .store
        .placements(id)
        .await?
        .into_iter()
        .map(|p| SeedResult {
            address: p.seed.address,
            provider: p.seed.provider,
            placement: p.placement,
        })
        .collect();
    let ctx = SendContext {
        seeds,
        dkim_domain: connected.as_ref().map(|(d, _, _)| d.clone()),
        dkim_selector: connected.as_ref().map(|(_, s, _)| s.clone()),
        envelope_sender,
        sending_ips: app.all_sending_ips().await,
        mx_hosts,
    };
    Ok(Some(diagnose(&c, &d, &ctx)))
}
