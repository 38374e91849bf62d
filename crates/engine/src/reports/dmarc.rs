//! DMARC aggregate reports as a report: which servers send as each domain (per the receivers'
//! reports), which of them are Herald's own sending IPs, which pass DMARC and why the others
//! fail, and a plain recommendation for the domain's policy (`herald dmarc report`,
//! `GET /api/v1/dmarc`, the DMARC page).

use std::net::IpAddr;

use herald_store::{DmarcReporterRow, DmarcSource, Store, StoreError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ms_to_rfc3339;

const DAY_MS: i64 = 86_400_000;
/// Days of reports, all aligned, before Herald suggests a stricter policy: receivers report
/// daily, and a weekly job (a newsletter, an invoice run) must have been seen.
pub const DAYS_BEFORE_TIGHTENING: i64 = 7;

/// What to report on.
#[derive(Debug, Clone, Default)]
pub struct DmarcQuery {
    /// One domain (lower-case), or every domain with reports (and every connected one).
    pub domain: Option<String>,
    /// The last N days (by the end of each report's period).
    pub days: u32,
    pub now_ms: i64,
    /// Herald's sending IPs beyond those the nodes registered (this node's settings).
    pub sending_ips: Vec<String>,
    /// Connected domains: listed even before their first report.
    pub connected: Vec<String>,
    /// `[inbound] return_path_domain`, where reports are mailed when it is set (else
    /// `bounces.<domain>`).
    pub return_path_domain: Option<String>,
}

/// The DMARC report of a period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DmarcView {
    pub days: u32,
    /// The start of the period (RFC 3339).
    pub since: String,
    /// The addresses counted as Herald's: `[delivery] source_ips` of this and every node.
    pub sending_ips: Vec<String>,
    pub domains: Vec<DmarcDomain>,
}

/// One domain: who sends as it and what the receivers did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DmarcDomain {
    pub domain: String,
    /// The policy receivers found published, per the newest report ("" without reports).
    pub policy: String,
    pub reports: u64,
    /// The period the reports cover (RFC 3339; null without reports).
    pub first: Option<String>,
    pub last: Option<String>,
    pub reporters: Vec<DmarcReporter>,
    pub messages: u64,
    pub dmarc_pass: u64,
    pub dmarc_fail: u64,
    /// dmarc_pass / messages; null without messages.
    pub pass_rate: Option<f64>,
    /// Biggest senders first.
    pub sources: Vec<DmarcSourceView>,
    /// `no_reports`, `herald_failing` (Herald's own mail fails: fix first), `unknown_sources`
    /// (some fail, and Herald's sending IPs are not known to tell whose), `others_failing`
    /// (servers that are not Herald's fail), `watching` (all aligned, too few days to judge),
    /// `ready` (all aligned: tighten the policy), `strict` (p=reject, all aligned).
    pub verdict: String,
    /// What to do, in words.
    pub recommendation: String,
}

/// One receiver that sent reports about the domain.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DmarcReporter {
    pub org: String,
    pub email: String,
    pub reports: u64,
    pub messages: u64,
    /// The end of its newest report's period (RFC 3339).
    pub last: String,
}

/// One sending server (source IP) as the reports saw it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DmarcSourceView {
    pub ip: String,
    /// One of Herald's sending IPs.
    pub herald: bool,
    pub messages: u64,
    pub dmarc_pass: u64,
    /// Messages whose DKIM signature passed aligned with the From domain.
    pub dkim_aligned: u64,
    /// Messages whose SPF check passed for an aligned return-path domain.
    pub spf_aligned: u64,
    /// Messages the receivers sent to Junk or refused for failing.
    pub quarantined: u64,
    pub rejected: u64,
    /// How many receivers reported it.
    pub reporters: u64,
    pub header_from: String,
    /// The raw results of one of its reported messages, before alignment.
    pub dkim_results: Vec<AuthResultView>,
    pub spf_results: Vec<AuthResultView>,
    /// `pass` (every message), `partial` or `fail` (none).
    pub verdict: String,
    /// Why, in words.
    pub why: String,
}

/// A DKIM signature's or SPF check's result as a report gives it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AuthResultView {
    pub domain: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selector: String,
    pub result: String,
}

/// The report for `q`.
pub async fn dmarc_report<S: Store>(store: &S, q: DmarcQuery) -> Result<DmarcView, StoreError> {
    let days = q.days.clamp(1, 366);
    let since_ms = q.now_ms - i64::from(days) * DAY_MS;
    let domain = q.domain.clone().unwrap_or_default();
    let sources = store.dmarc_sources(&domain, since_ms).await?;
    let reporters = store.dmarc_reporters(&domain, since_ms).await?;
    let mut ours: Vec<String> = q.sending_ips.clone();
    for n in store.nodes().await? {
        ours.extend(serde_json::from_str::<Vec<String>>(&n.source_ips).unwrap_or_default());
    }
    let mut ours: Vec<IpAddr> = ours.iter().filter_map(|s| s.parse().ok()).collect();
    ours.sort();
    ours.dedup();
    let mut names: Vec<String> = match &q.domain {
        Some(d) => vec![d.clone()],
        None => q.connected.clone(),
    };
    names.extend(sources.iter().map(|s| s.domain.clone()));
    names.extend(reporters.iter().map(|r| r.domain.clone()));
    names.sort();
    names.dedup();
    let domains = names
        .into_iter()
        .map(|name| {
            let srcs: Vec<&DmarcSource> = sources.iter().filter(|s| s.domain == name).collect();
            let reps: Vec<&DmarcReporterRow> =
                reporters.iter().filter(|r| r.domain == name).collect();
            let rua = format!(
                "dmarc@{}",
                q.return_path_domain
                    .clone()
                    .unwrap_or_else(|| format!("bounces.{name}"))
            );
            domain_view(name, &srcs, &reps, &ours, &rua)
        })
        .collect();
    Ok(DmarcView {
        days,
        since: ms_to_rfc3339(since_ms),
        sending_ips: ours.iter().map(ToString::to_string).collect(),
        domains,
    })
}

fn is_ours(ip: &str, ours: &[IpAddr]) -> bool {
    ip.parse::<IpAddr>().is_ok_and(|ip| ours.contains(&ip))
}

fn domain_view(
    domain: String,
    sources: &[&DmarcSource],
    reporters: &[&DmarcReporterRow],
    ours: &[IpAddr],
    rua: &str,
) -> DmarcDomain {
    let views: Vec<DmarcSourceView> = sources.iter().map(|s| source_view(s, ours)).collect();
    let messages: u64 = views.iter().map(|s| s.messages).sum();
    let pass: u64 = views.iter().map(|s| s.dmarc_pass).sum();
    // The policy the newest report found.
    let policy = reporters
        .iter()
        .max_by_key(|r| r.last_ms)
        .map(|r| r.policy.clone())
        .unwrap_or_default();
    let reports: u64 = reporters.iter().map(|r| r.reports).sum();
    let first_ms = reporters.iter().map(|r| r.first_ms).min();
    let last_ms = reporters.iter().map(|r| r.last_ms).max();
    // Receivers' periods end inclusively (…:59): a week of daily reports is 7 days, not 6.
    let covered_days = match (first_ms, last_ms) {
        (Some(a), Some(b)) => ((b - a).max(0) + DAY_MS - 1_000) / DAY_MS,
        _ => 0,
    };
    let advice = Advice {
        domain: &domain,
        policy: &policy,
        reports,
        covered_days,
        herald_known: !ours.is_empty(),
        rua,
    };
    let (verdict, recommendation) = advise(&advice, &views);
    let reporters = reporters
        .iter()
        .map(|r| DmarcReporter {
            org: r.org.clone(),
            email: r.email.clone(),
            reports: r.reports,
            messages: r.messages,
            last: ms_to_rfc3339(r.last_ms),
        })
        .collect();
    DmarcDomain {
        policy,
        reports,
        first: first_ms.map(ms_to_rfc3339),
        last: last_ms.map(ms_to_rfc3339),
        reporters,
        messages,
        dmarc_pass: pass,
        dmarc_fail: messages - pass,
        pass_rate: (messages > 0).then(|| pass as f64 / messages as f64),
        sources: views,
        verdict: verdict.to_string(),
        recommendation,
        domain,
    }
}

fn results(json: &str) -> Vec<AuthResultView> {
    serde_json::from_str(json).unwrap_or_default()
}

fn source_view(s: &DmarcSource, ours: &[IpAddr]) -> DmarcSourceView {
    let herald = is_ours(&s.source_ip, ours);
    let dkim = results(&s.dkim_results);
    let spf = results(&s.spf_results);
    let verdict = if s.dmarc_pass >= s.messages {
        "pass"
    } else if s.dmarc_pass == 0 {
        "fail"
    } else {
        "partial"
    };
    let why = source_why(s, herald, verdict, &dkim, &spf);
    DmarcSourceView {
        ip: if s.source_ip.is_empty() {
            "(not given)".into()
        } else {
            s.source_ip.clone()
        },
        herald,
        messages: s.messages,
        dmarc_pass: s.dmarc_pass,
        dkim_aligned: s.dkim_pass,
        spf_aligned: s.spf_pass,
        quarantined: s.quarantined,
        rejected: s.rejected,
        reporters: s.reporters,
        header_from: s.header_from.clone(),
        dkim_results: dkim,
        spf_results: spf,
        verdict: verdict.into(),
        why,
    }
}

/// Why one source passes or fails, in words.
fn source_why(
    s: &DmarcSource,
    herald: bool,
    verdict: &str,
    dkim: &[AuthResultView],
    spf: &[AuthResultView],
) -> String {
    let who = if herald {
        "Herald's sending IP"
    } else {
        "not one of Herald's sending IPs (another service sending as this domain, a relay or provider Herald sends through, or someone forging it)"
    };
    let from = if s.header_from.is_empty() {
        "the From domain".to_string()
    } else {
        s.header_from.clone()
    };
    let mut parts = vec![who.to_string()];
    match verdict {
        "pass" => {
            let how = match (s.dkim_pass > 0, s.spf_pass > 0) {
                (true, true) => "DKIM and SPF aligned",
                (true, false) => "DKIM aligned",
                _ => "SPF aligned",
            };
            parts.push(format!("passes DMARC ({how})"));
        }
        _ => {
            if verdict == "partial" {
                parts.push(format!(
                    "{} of {} messages passed",
                    s.dmarc_pass, s.messages
                ));
            }
            parts.push(if dkim.is_empty() {
                "not DKIM-signed".to_string()
            } else {
                dkim.iter()
                    .map(|r| {
                        let aligned = aligned(&r.domain, &from);
                        format!(
                            "DKIM d={} {}{}",
                            r.domain,
                            r.result,
                            if r.result == "pass" && !aligned {
                                format!(" but not aligned with {from}")
                            } else {
                                String::new()
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            if let Some(r) = spf.first() {
                let aligned = aligned(&r.domain, &from);
                parts.push(format!(
                    "SPF for {} {}{}",
                    r.domain,
                    r.result,
                    if r.result == "pass" && !aligned {
                        format!(" but not aligned with {from}")
                    } else {
                        String::new()
                    }
                ));
            } else {
                parts.push("no SPF result".into());
            }
            if s.rejected + s.quarantined > 0 {
                parts.push(format!(
                    "receivers refused {} and sent {} to Junk",
                    s.rejected, s.quarantined
                ));
            }
        }
    }
    parts.join("; ")
}

/// Relaxed alignment (RFC 7489 §3.1): the same domain, or one a subdomain of the other. An
/// approximation of the organisational domain without the public suffix list, used only to
/// word an explanation (the receivers' verdicts are what is counted).
fn aligned(domain: &str, from: &str) -> bool {
    let (a, b) = (domain.to_ascii_lowercase(), from.to_ascii_lowercase());
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}"))
}

/// The messages that failed from Herald's sources (`herald`) or the others, and those sources.
fn failing(sources: &[DmarcSourceView], herald: bool) -> (u64, Vec<&DmarcSourceView>) {
    let s: Vec<&DmarcSourceView> = sources
        .iter()
        .filter(|s| s.herald == herald && s.dmarc_pass < s.messages)
        .collect();
    (s.iter().map(|s| s.messages - s.dmarc_pass).sum(), s)
}

/// What the advice is about.
struct Advice<'a> {
    domain: &'a str,
    policy: &'a str,
    reports: u64,
    covered_days: i64,
    /// Herald's sending IPs are known (else it cannot tell its own servers from others).
    herald_known: bool,
    /// Where receivers mail the reports (`rua=`).
    rua: &'a str,
}

/// The domain's verdict and what to do.
fn advise(a: &Advice<'_>, sources: &[DmarcSourceView]) -> (&'static str, String) {
    let (domain, policy, covered_days) = (a.domain, a.policy, a.covered_days);
    if a.reports == 0 {
        return (
            "no_reports",
            format!(
                "No aggregate reports for {domain} in this period. Check that _dmarc.{domain} \
                 publishes rua=mailto:{} (`herald domain verify {domain}` shows the record) and \
                 that mail to it reaches Herald; receivers send their first reports a day after \
                 they see mail from the domain.",
                a.rua
            ),
        );
    }
    if !a.herald_known && sources.iter().any(|s| s.dmarc_pass < s.messages) {
        let failed: u64 = sources.iter().map(|s| s.messages - s.dmarc_pass).sum();
        return (
            "unknown_sources",
            format!(
                "{failed} messages sent as {domain} failed DMARC, and Herald cannot tell whether \
                 they were its own: list the sending IPs in [delivery] source_ips (every node), \
                 then read this again. Until then, do not make the policy stricter."
            ),
        );
    }
    let (ours_failed, ours) = failing(sources, true);
    if ours_failed > 0 {
        let sent: u64 = sources
            .iter()
            .filter(|s| s.herald)
            .map(|s| s.messages)
            .sum();
        return (
            "herald_failing",
            format!(
                "{ours_failed} of the {sent} messages Herald sent as {domain} failed DMARC at the \
                 receivers ({}): the DKIM signature or the return path they saw was not aligned. \
                 Run `herald domain verify {domain}` and publish what it asks for; do not make \
                 the policy stricter until Herald's own mail passes.",
                ours.iter()
                    .map(|s| s.ip.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let (others_failed, others) = failing(sources, false);
    if others_failed > 0 {
        let top = others
            .iter()
            .take(3)
            .map(|s| format!("{} ({} messages)", s.ip, s.messages - s.dmarc_pass))
            .collect::<Vec<_>>()
            .join(", ");
        let then = match policy {
            "reject" => "p=reject already makes receivers refuse them.".to_string(),
            "quarantine" => "p=quarantine already sends them to Junk; once the legitimate ones pass, p=reject refuses the rest.".to_string(),
            _ => "Under p=none receivers still deliver them; once the legitimate ones pass, p=quarantine sends the rest to Junk.".to_string(),
        };
        return (
            "others_failing",
            format!(
                "Herald's own mail passes. {others_failed} messages from {} server(s) that are not \
                 Herald's failed DMARC: {top}. If a server is yours (your office mail, a CRM, a \
                 relay or provider), have it sign with DKIM for {domain} or add it to SPF; if not, \
                 someone is sending as {domain}. {then}",
                others.len()
            ),
        );
    }
    if covered_days < DAYS_BEFORE_TIGHTENING && policy != "reject" {
        return (
            "watching",
            format!(
                "Every source aligned so far, but the reports cover {covered_days} day(s): wait \
                 for at least {DAYS_BEFORE_TIGHTENING} days of reports (a weekly job must have \
                 been seen) before making the policy stricter."
            ),
        );
    }
    match policy {
        "reject" => (
            "strict",
            format!("p=reject and every source aligned: {domain} is protected; nothing to do."),
        ),
        "quarantine" => (
            "ready",
            format!(
                "Every source aligned for {covered_days} days: move to p=reject (change p= in the \
                 _dmarc.{domain} TXT record, keep rua= as it is)."
            ),
        ),
        _ => (
            "ready",
            format!(
                "Every source aligned for {covered_days} days: move to p=quarantine (change p= \
                 in the _dmarc.{domain} TXT record, keep rua= as it is), then to p=reject after \
                 another clean month."
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(ip: &str, messages: u64, pass: u64) -> DmarcSource {
        DmarcSource {
            domain: "example.com".into(),
            source_ip: ip.into(),
            messages,
            dmarc_pass: pass,
            dkim_pass: pass,
            spf_pass: 0,
            quarantined: 0,
            rejected: 0,
            reporters: 1,
            header_from: "example.com".into(),
            dkim_results: r#"[{"domain":"esp.example.net","selector":"s1","result":"pass"}]"#
                .into(),
            spf_results: r#"[{"domain":"esp.example.net","result":"pass"}]"#.into(),
            first_ms: 0,
            last_ms: DAY_MS,
        }
    }

    fn report(policy: &str, first_ms: i64, last_ms: i64) -> DmarcReporterRow {
        DmarcReporterRow {
            domain: "example.com".into(),
            org: "google.com".into(),
            email: "noreply-dmarc-support@google.com".into(),
            reports: 1,
            messages: 10,
            first_ms,
            last_ms,
            policy: policy.into(),
        }
    }

    fn view_with(
        sources: &[DmarcSource],
        reports: &[DmarcReporterRow],
        ours: &[IpAddr],
    ) -> DmarcDomain {
        domain_view(
            "example.com".into(),
            &sources.iter().collect::<Vec<_>>(),
            &reports.iter().collect::<Vec<_>>(),
            ours,
            "dmarc@bounces.example.com",
        )
    }

    fn view(sources: &[DmarcSource], reports: &[DmarcReporterRow]) -> DmarcDomain {
        view_with(sources, reports, &["192.0.2.1".parse().unwrap()])
    }

    #[test]
    fn a_week_of_daily_reports_is_a_week_and_unknown_senders_are_not_judged() {
        // Seven daily reports, each ending at …:59 (inclusive): 7 days, enough to tighten.
        let week = [report("none", 0, 7 * DAY_MS - 1_000)];
        assert_eq!(view(&[src("192.0.2.1", 10, 10)], &week).verdict, "ready");
        let six = [report("none", 0, 6 * DAY_MS - 1_000)];
        assert_eq!(view(&[src("192.0.2.1", 10, 10)], &six).verdict, "watching");
        // Without Herald's sending IPs nothing says whose mail failed.
        let d = view_with(&[src("192.0.2.1", 10, 7)], &week, &[]);
        assert_eq!(d.verdict, "unknown_sources");
        assert!(
            d.recommendation.contains("[delivery] source_ips"),
            "{}",
            d.recommendation
        );
        assert!(!d.recommendation.contains("Herald's own mail passes"));
        let none = view(&[], &[]);
        assert!(
            none.recommendation
                .contains("rua=mailto:dmarc@bounces.example.com"),
            "{}",
            none.recommendation
        );
    }

    #[test]
    fn verdicts_follow_who_fails_and_for_how_long() {
        let month = [report("none", 0, 30 * DAY_MS)];
        let d = view(&[src("192.0.2.1", 10, 10)], &month);
        assert_eq!(d.verdict, "ready");
        assert!(
            d.recommendation.contains("p=quarantine"),
            "{}",
            d.recommendation
        );

        let d = view(
            &[src("192.0.2.1", 10, 10)],
            &[report("none", 0, 2 * DAY_MS)],
        );
        assert_eq!(d.verdict, "watching");

        let d = view(
            &[src("192.0.2.1", 10, 10), src("203.0.113.7", 5, 0)],
            &month,
        );
        assert_eq!(d.verdict, "others_failing");
        assert!(d.recommendation.contains("203.0.113.7 (5 messages)"));
        assert_eq!((d.messages, d.dmarc_pass, d.dmarc_fail), (15, 10, 5));
        let stranger = &d.sources[1];
        assert!(!stranger.herald);
        assert_eq!(stranger.verdict, "fail");
        assert!(
            stranger
                .why
                .contains("DKIM d=esp.example.net pass but not aligned with example.com"),
            "{}",
            stranger.why
        );

        // Herald's own failures come first, whatever the others do.
        let d = view(&[src("192.0.2.1", 10, 7), src("203.0.113.7", 5, 0)], &month);
        assert_eq!(d.verdict, "herald_failing");
        assert!(d.recommendation.starts_with("3 of the 10 messages"));
        assert_eq!(d.sources[0].verdict, "partial");

        let d = view(&[src("192.0.2.1", 10, 10)], &[report("reject", 0, DAY_MS)]);
        assert_eq!(d.verdict, "strict");
        let d = view(&[], &[]);
        assert_eq!(d.verdict, "no_reports");
        assert_eq!(d.pass_rate, None);
    }

    #[test]
    fn alignment_is_relaxed() {
        assert!(aligned("mail.example.com", "example.com"));
        assert!(aligned("example.com", "news.example.com"));
        assert!(!aligned("notexample.com", "example.com"));
    }
}
