//! `herald ips`: the sending IPs as receivers see them.

use herald_engine::api_types::{IpsReport, NodeIps};
use herald_engine::deliver::mx::build_resolver;
use herald_engine::domains::ips::{check_ip, egress_ips};
use herald_store::prelude::*;

use crate::output;
use crate::startup::App;

pub async fn run(app: App, json: bool) -> anyhow::Result<()> {
    let report = ips_report(&app).await?;
    if json {
        return output::json(&report);
    }
    let zones = &report.blocklists;
    print(&report, zones);
    Ok(())
}

/// The sending IPs (configured, or detected) as receivers see them.
pub async fn ips_report(app: &App) -> anyhow::Result<IpsReport> {
    let resolver = build_resolver(&app.settings.dns.nameservers, app.settings.dns.timeout.0)
        .map_err(anyhow::Error::msg)?;
    let zones = &app.settings.dns.blocklists;
    let configured = &app.settings.delivery.source_ips;
    let detected = configured.is_empty();
    let addrs = if detected {
        egress_ips()
    } else {
        configured.clone()
    };
    let mut ips = Vec::new();
    for ip in &addrs {
        ips.push(check_ip(&resolver, *ip, zones).await);
    }
    let note = detected.then(|| {
        let what = if addrs.is_empty() {
            "and no route to the Internet was found to detect the egress address".to_string()
        } else {
            "so these are the detected egress addresses (behind NAT the public address differs)".to_string()
        };
        format!("[delivery] source_ips is empty: the system picks the address per connection, {what}. List the sending IPs there so Herald binds to them and can check them.")
    });
    let nodes = app
        .store
        .nodes()
        .await?
        .into_iter()
        .map(|n| NodeIps {
            source_ips: serde_json::from_str(&n.source_ips).unwrap_or_default(),
            name: n.name,
            helo_name: n.helo_name,
            heartbeat_at: herald_engine::reports::ms_to_rfc3339(n.heartbeat_at_ms),
        })
        .collect();
    Ok(IpsReport {
        ips,
        detected,
        nodes,
        blocklists: zones.clone(),
        note,
    })
}

fn print(report: &IpsReport, zones: &[String]) {
    for n in &report.nodes {
        println!(
            "node {} ({}): {} (last heartbeat {})",
            n.name,
            n.helo_name,
            if n.source_ips.is_empty() {
                "system-chosen address".to_string()
            } else {
                n.source_ips.join(", ")
            },
            n.heartbeat_at
        );
    }
    if let Some(n) = &report.note {
        println!("{n}");
    }
    for r in &report.ips {
        let ptr = if r.ptr.is_empty() {
            "no PTR".to_string()
        } else {
            r.ptr.join(", ")
        };
        let fcrdns = if r.fcrdns {
            "forward-confirmed"
        } else {
            "NOT forward-confirmed (many receivers reject or junk such mail)"
        };
        println!("{}  {ptr}  {fcrdns}", r.ip);
        if zones.is_empty() {
            println!("    no blocklists configured ([dns] blocklists)");
        } else if r.listed_on.is_empty() {
            println!("    not listed on {}", zones.join(", "));
        } else {
            println!("    LISTED on {}", r.listed_on.join(", "));
        }
        for e in &r.errors {
            println!("    lookup failed: {e}");
        }
    }
}
