//! `herald dmarc import FILE…` and `herald dmarc report [--domain D] [--days N] [--json]`.

use herald_engine::feedback::dmarc::{ImportError, Imported, import};
use herald_engine::reports::dmarc::{DmarcQuery, DmarcView, dmarc_report};

use crate::bad_input;
use crate::cli::DmarcCmd;
use crate::startup::App;

pub async fn run(app: App, cmd: DmarcCmd) -> anyhow::Result<()> {
    match cmd {
        DmarcCmd::Import { files, json } => import_files(&app, &files, json).await,
        DmarcCmd::Report { domain, days, json } => {
            let view = report(&app, domain.as_deref(), days).await?;
            if json {
                return crate::output::json(&view);
            }
            print(&view);
            Ok(())
        }
    }
}

/// Each file on its own: one that is not a report is named with why, the others are kept.
async fn import_files(app: &App, files: &[std::path::PathBuf], json: bool) -> anyhow::Result<()> {
    let mut done: Vec<Imported> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                refused.push(format!("{name}: {e}"));
                continue;
            }
        };
        match import(&app.store, &name, &bytes, app.clock.now_ms()).await {
            Ok(i) => done.push(i),
            Err(ImportError::NotAReport { file, error }) => {
                refused.push(format!("{file}: {error}"))
            }
            Err(ImportError::Store(e)) => return Err(e.into()),
        }
    }
    if json {
        crate::output::json(&serde_json::json!({ "imported": done, "refused": refused }))?;
    } else {
        for i in &done {
            println!(
                "{}: {} report {} for {}: {} records, {} messages{}",
                i.file,
                i.org,
                i.report_id,
                i.domain,
                i.records,
                i.messages,
                if i.new { "" } else { " (kept already)" }
            );
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(bad_input(format!(
            "{} of {} files are not DMARC aggregate reports (the others were kept):\n  {}",
            refused.len(),
            files.len(),
            refused.join("\n  ")
        )))
    }
}

/// The report as the CLI, the API and the page show it.
pub async fn report(app: &App, domain: Option<&str>, days: u32) -> anyhow::Result<DmarcView> {
    let domain = match domain {
        Some(d) => Some(policy_domain(d)?),
        None => None,
    };
    let connected = app.keyring().domains().unwrap_or_default();
    Ok(dmarc_report(
        &app.store,
        DmarcQuery {
            domain,
            days,
            now_ms: app.clock.now_ms(),
            sending_ips: app
                .settings
                .delivery
                .source_ips
                .iter()
                .map(ToString::to_string)
                .collect(),
            connected,
            return_path_domain: app.settings.inbound.return_path_domain.clone(),
        },
    )
    .await?)
}

/// A domain a DMARC policy can be published for: a host name with a top-level label of
/// letters (or `xn--…`), as the API's schema states.
fn policy_domain(d: &str) -> anyhow::Result<String> {
    let name = herald_domain::address::normalise_domain(d)
        .map_err(|e| bad_input(format!("domain {d}: {e}")))?;
    let tld = name.rsplit('.').next().unwrap_or_default();
    let tld_ok = (2..=63).contains(&tld.len()) && tld.bytes().all(|b| b.is_ascii_alphabetic())
        || tld.starts_with("xn--");
    if !name.contains('.') || !tld_ok {
        return Err(bad_input(format!(
            "domain {d}: not a domain name with a top-level domain (example.com)"
        )));
    }
    Ok(name)
}

fn print(v: &DmarcView) {
    println!(
        "DMARC aggregate reports since {} ({} days); Herald's sending IPs: {}",
        v.since,
        v.days,
        if v.sending_ips.is_empty() {
            "none configured ([delivery] source_ips)".to_string()
        } else {
            v.sending_ips.join(", ")
        }
    );
    if v.domains.is_empty() {
        println!("no reports and no connected domain");
    }
    for d in &v.domains {
        println!();
        println!(
            "{}  policy {}  {} reports  {} messages, {} pass DMARC, {} fail  [{}]",
            d.domain,
            if d.policy.is_empty() { "?" } else { &d.policy },
            d.reports,
            d.messages,
            d.dmarc_pass,
            d.dmarc_fail,
            d.verdict
        );
        for r in &d.reporters {
            println!(
                "  reporter {} <{}>: {} reports, {} messages, newest to {}",
                r.org, r.email, r.reports, r.messages, r.last
            );
        }
        for s in &d.sources {
            println!(
                "  {:<40} {:>8} messages  {:>8} pass  {:<7} {}",
                if s.herald {
                    format!("{} (Herald)", s.ip)
                } else {
                    s.ip.clone()
                },
                s.messages,
                s.dmarc_pass,
                s.verdict,
                s.why
            );
        }
        println!("  → {}", d.recommendation);
    }
}
