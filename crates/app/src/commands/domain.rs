//! `herald domain add DOMAIN [--selector S]`: connect a sending domain.

use herald_engine::deliver::mx::build_resolver;
use herald_engine::domains::verify::{Status, verify};
use herald_engine::domains::{DomainError, RecordContext};

use crate::cli::DomainCmd;
use crate::startup::App;
use crate::{bad_input, output};

pub async fn run(app: App, cmd: DomainCmd) -> anyhow::Result<()> {
    let tracking_host = app.tracking_host();
    let d = &app.settings.delivery;
    let ctx = RecordContext {
        source_ips: &d.source_ips,
        helo_name: &d.helo_name,
        tracking_host: &tracking_host,
    };
    match cmd {
        DomainCmd::Verify { domain, json } => {
            let resolver =
                build_resolver(&app.settings.dns.nameservers, app.settings.dns.timeout.0)
                    .map_err(anyhow::Error::msg)?;
            let v = verify(&resolver, &app.keyring(), &domain, &ctx)
                .await?
                .ok_or_else(|| {
                    bad_input(format!(
                        "{domain} is not connected (herald domain add {domain})"
                    ))
                })?;
            if json {
                output::json(&v)?;
            } else {
                for c in &v.records {
                    let status = serde_json::to_value(c.status)?
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    println!(
                        "{:<10} {:<12} {}\n           {}",
                        status, c.kind, c.name, c.why
                    );
                    if c.status != Status::Pass {
                        println!(
                            "           expected: {}\n           found:    {}",
                            c.expected,
                            c.found.as_deref().unwrap_or("(nothing)")
                        );
                    }
                }
            }
            let failing = v
                .records
                .iter()
                .filter(|c| c.required && c.status != Status::Pass)
                .count();
            if failing > 0 {
                anyhow::bail!("{domain}: {failing} required record(s) do not pass");
            }
            if !json {
                println!("{domain}: every required record passes");
            }
            Ok(())
        }
        DomainCmd::Add {
            domain,
            selector,
            json,
        } => {
            let d = &app.settings.delivery;
            let tracking_host = app
                .settings
                .http
                .public_url
                .split("://")
                .nth(1)
                .and_then(|rest| rest.split(['/', ':']).next())
                .unwrap_or("localhost")
                .to_string();
            let ctx = RecordContext {
                source_ips: &d.source_ips,
                helo_name: &d.helo_name,
                tracking_host: &tracking_host,
            };
            let connected = app
                .keyring()
                .add(&domain, selector.as_deref(), &ctx)
                .map_err(|e| match e {
                    DomainError::BadDomain(_)
                    | DomainError::BadSelector(_)
                    | DomainError::AlreadyConnected(..) => bad_input(e.to_string()),
                    other => anyhow::Error::new(other).context(format!("connecting {domain}")),
                })?;
            if json {
                return output::json(&connected);
            }
            println!(
                "Connected {} (DKIM selector {}). Publish these records:\n",
                connected.domain, connected.selector
            );
            for r in &connected.records {
                let value = if r.strings.len() > 1 {
                    r.strings
                        .iter()
                        .map(|s| format!("\"{s}\""))
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    r.value.clone()
                };
                println!(
                    "{:<12} {:<6} {}\n             {}\n",
                    r.kind, r.rtype, r.name, value
                );
            }
            println!(
                "Messages From {} (or a subdomain) are DKIM-signed from now on.",
                connected.domain
            );
            if d.source_ips.is_empty() {
                println!(
                    "Note: [delivery] source_ips is empty, so the SPF record names the EHLO host ({}); list the sending IPs there for an exact record.",
                    d.helo_name
                );
            }
            Ok(())
        }
    }
}
