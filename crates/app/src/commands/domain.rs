//! `herald domain add | verify | rotate | list`: sending domains.

use herald_domain::address::normalise_domain;
use herald_engine::api_types::{DomainChange, DomainStatus, LastCheck};
use herald_engine::deliver::mx::build_resolver;
use herald_engine::domains::verify::{Status, Verification, txt, verify};
use herald_engine::domains::{
    ConnectedDomain, DnsRecord, DomainError, Rotation, records, return_path_domain,
};
use herald_engine::reports::ms_to_rfc3339;
use herald_store::prelude::*;

use crate::cli::DomainCmd;
use crate::startup::App;
use crate::{bad_input, output};

/// Input errors (exit 2) apart from operational ones (exit 1).
fn domain_error(e: DomainError, what: &str) -> anyhow::Error {
    match e {
        // The installation's state, not the request: HTTP 409 / 404 (exit status 2 alike).
        DomainError::AlreadyConnected(..) => crate::conflict(e.to_string()),
        DomainError::NotConnected(_) => crate::not_found(e.to_string()),
        DomainError::BadDomain(_)
        | DomainError::BadSelector(_)
        | DomainError::SelectorInUse(_)
        | DomainError::Spf(_) => bad_input(e.to_string()),
        other => anyhow::Error::new(other).context(what.to_string()),
    }
}

fn print_records(records: &[DnsRecord]) {
    for r in records {
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
            "{:<12} {:<6} {}\n             {}",
            r.kind, r.rtype, r.name, value
        );
        if let Some(old) = &r.replaces {
            println!(
                "             (replaces the existing record \"{old}\": publish one SPF record, never two)"
            );
        }
        println!();
    }
}

pub async fn run(app: App, cmd: DomainCmd) -> anyhow::Result<()> {
    match cmd {
        DomainCmd::Verify { domain, json } => {
            let (v, rotated) = verify_and_rotate(&app, &domain).await?.ok_or_else(|| {
                bad_input(format!(
                    "{domain} is not connected (herald domain add {domain})"
                ))
            })?;
            if let Some(old) = rotated {
                eprintln!(
                    "rotation complete: {} is signed with its new selector now; keep the records of selector {old} published for another week, then remove them",
                    v.domain
                );
            }
            if json {
                output::json(&v)?;
            } else {
                for c in &v.records {
                    let status = serde_json::to_value(c.status)?
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    let optional = if c.required { "" } else { " (optional)" };
                    println!(
                        "{:<10} {:<12} {}{optional}\n           {}",
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
        } => add(&app, domain, selector, json).await,
        DomainCmd::Rotate {
            domain,
            selector,
            now,
            json,
        } => {
            let r = rotate_domain(&app, &domain, selector.as_deref(), now)?;
            if json {
                return output::json(&r);
            }
            println!(
                "New DKIM keys for {} under selector {}. Publish these records (keep the current ones):\n",
                r.domain, r.next
            );
            print_records(&r.records);
            if r.switched {
                println!(
                    "Signing uses selector {} from now on (--now): signatures fail until these records are published.",
                    r.next
                );
            } else {
                println!(
                    "Signing stays with selector {} until these records are found in DNS (herald domain verify {}, or serve's re-verification).",
                    r.active, r.domain
                );
            }
            Ok(())
        }
        DomainCmd::List { json } => list(&app, json).await,
    }
}

/// Verify a connected domain through DNS (`None`: not connected); a pending key rotation
/// whose records are found is completed (and logged).
pub async fn verify_domain(app: &App, domain: &str) -> anyhow::Result<Option<Verification>> {
    Ok(verify_and_rotate(app, domain).await?.map(|(v, _)| v))
}

/// [`verify_domain`], also returning the selector a completed rotation replaced.
async fn verify_and_rotate(
    app: &App,
    domain: &str,
) -> anyhow::Result<Option<(Verification, Option<String>)>> {
    let resolver = build_resolver(&app.settings.dns.nameservers, app.settings.dns.timeout.0)
        .map_err(anyhow::Error::msg)?;
    let keyring = app.keyring();
    let Some(v) = verify(&resolver, &keyring, domain, &app.record_context()).await? else {
        return Ok(None);
    };
    // Kept as the re-verification loop keeps its checks: the domain's state, Getting started
    // and every node's holds follow a `Verify now` within seconds.
    herald_engine::domains::drift::record(&app.store, &v, None, app.clock.now_ms()).await?;
    let rotated = if v.next_selector_ready {
        keyring
            .promote(&v.domain)
            .map_err(|e| domain_error(e, "completing the key rotation"))?
    } else {
        None
    };
    if let Some(old) = &rotated {
        tracing::info!(domain = %v.domain, old_selector = %old, "key rotation complete");
    }
    Ok(Some((v, rotated)))
}

/// Every connected domain with its records, rotation and re-verification state.
pub async fn domain_statuses(app: &App) -> anyhow::Result<Vec<DomainStatus>> {
    let keyring = app.keyring();
    let checks = app.store.domain_checks().await?;
    let ctx = app.record_context();
    let mut out = Vec::new();
    for domain in keyring
        .domains()
        .map_err(|e| domain_error(e, "listing domains"))?
    {
        let Some((selector, keys)) = keyring
            .load(&domain)
            .map_err(|e| domain_error(e, "reading keys"))?
        else {
            continue;
        };
        let records = records(&domain, &selector, &keys, &ctx)
            .map_err(|e| domain_error(e, "computing the records"))?;
        let pending_selector = keyring
            .pending(&domain)
            .map_err(|e| domain_error(e, "reading keys"))?
            .map(|(s, _)| s);
        let last_check = checks
            .iter()
            .find(|c| c.domain == domain)
            .map(|c| LastCheck {
                at: ms_to_rfc3339(c.checked_at_ms),
                ok: c.ok,
                problems: c.problems.clone(),
                held: !c.ok,
                since: ms_to_rfc3339(c.changed_at_ms),
            });
        let changes = app
            .store
            .domain_events(&domain, 20)
            .await?
            .into_iter()
            .map(|e| DomainChange {
                at: ms_to_rfc3339(e.at_ms),
                ok: e.ok,
                problems: e.problems,
            })
            .collect();
        out.push(DomainStatus {
            domain,
            selector,
            pending_selector,
            records,
            last_check,
            changes,
        });
    }
    Ok(out)
}

async fn list(app: &App, json: bool) -> anyhow::Result<()> {
    let out = domain_statuses(app).await?;
    if json {
        return output::json(&herald_engine::api_types::DomainList {
            domains: out,
            next: None,
        });
    }
    if out.is_empty() {
        println!("No connected domains (herald domain add DOMAIN).");
    }
    for d in &out {
        let pending = d
            .pending_selector
            .as_ref()
            .map(|p| format!(", rotating to {p}"))
            .unwrap_or_default();
        println!("{}  selector {}{pending}", d.domain, d.selector);
        match &d.last_check {
            None => println!(
                "    not re-verified yet (herald serve checks every [domains] reverify_every)"
            ),
            Some(c) if c.ok => println!("    verified at {} (since {})", c.at, c.since),
            Some(c) => println!(
                "    SENDS HELD since {} (checked {}): {}",
                c.since, c.at, c.problems
            ),
        }
    }
    Ok(())
}

/// `domain add`: a DKIM key and the records to publish.
/// Connect `domain` (DKIM keys under `selector` or a dated one): the domain and the records to
/// publish, and warnings for the person publishing them. The CLI's `domain add` and the UI's.
pub async fn connect_domain(
    app: &App,
    domain: &str,
    selector: Option<&str>,
) -> anyhow::Result<(ConnectedDomain, Vec<String>)> {
    let resolver = || {
        build_resolver(&app.settings.dns.nameservers, app.settings.dns.timeout.0)
            .map_err(anyhow::Error::msg)
    };
    let name = normalise_domain(domain)
        .map_err(|_| bad_input(format!("{domain:?} is not a valid domain name")))?;
    let mut notes = Vec::new();
    // SPF goes where the return path is; a record already there is merged into, never
    // published beside.
    let spf_name = return_path_domain(&name);
    let mut ctx = app.record_context();
    match txt(&resolver()?, &spf_name).await {
        Ok(found) => ctx.existing_spf = found,
        Err(e) => notes.push(format!(
            "could not look up existing TXT records at {spf_name} ({e}); if an SPF record exists there, merge the printed terms into it instead of adding a second one"
        )),
    }
    let connected = app
        .keyring()
        .add(&name, selector, &ctx)
        .map_err(|e| domain_error(e, &format!("connecting {name}")))?;
    if app.settings.delivery.source_ips.is_empty() {
        notes.push(format!(
            "[delivery] source_ips is empty, so the SPF record names the EHLO host ({}); list the sending IPs there for an exact record",
            app.settings.delivery.helo_name
        ));
    }
    Ok((connected, notes))
}

/// New DKIM keys for `domain` under `selector` (or a dated one); signing switches once their
/// records are found in DNS, or at once with `now`.
pub fn rotate_domain(
    app: &App,
    domain: &str,
    selector: Option<&str>,
    now: bool,
) -> anyhow::Result<Rotation> {
    app.keyring()
        .rotate(domain, selector, now, &app.record_context())
        .map_err(|e| domain_error(e, &format!("rotating the keys of {domain}")))
}

async fn add(
    app: &App,
    domain: String,
    selector: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let (connected, notes) = connect_domain(app, &domain, selector.as_deref()).await?;
    if json {
        for n in &notes {
            eprintln!("warning: {n}");
        }
        return output::json(&connected);
    }
    for n in notes.iter().filter(|n| n.starts_with("could not")) {
        eprintln!("warning: {n}");
    }
    println!(
        "Connected {} (DKIM selector {}). Publish these records:\n",
        connected.domain, connected.selector
    );
    print_records(&connected.records);
    println!(
        "Messages From {} (or a subdomain) are DKIM-signed from now on.",
        connected.domain
    );
    for n in notes.iter().filter(|n| !n.starts_with("could not")) {
        println!("Note: {n}.");
    }
    Ok(())
}
