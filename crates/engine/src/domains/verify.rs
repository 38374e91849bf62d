//! `domain verify`: look every record up through DNS and compare it with what Herald needs.
//! A DNS failure (timeout, SERVFAIL) is reported as `dns_error`, never as a missing record.

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::{RData, RecordType};
use serde::Serialize;

use herald_mail::spf;

use super::{DnsRecord, DomainError, Keyring, RecordContext, records};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Missing,
    DnsError,
}

impl Status {
    /// The interface's word for it (as `--json` spells it).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Missing => "missing",
            Status::DnsError => "dns_error",
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Check {
    pub kind: &'static str,
    pub name: String,
    pub expected: String,
    pub found: Option<String>,
    pub status: Status,
    pub why: String,
    pub required: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Verification {
    pub domain: String,
    pub ok: bool,
    pub records: Vec<Check>,
    /// A rotation is pending and the new selector's records are published: it may take over.
    #[serde(skip)]
    pub next_selector_ready: bool,
}

/// The records of one type at `name`, each turned into a string by `pick`; empty when there
/// is none (NXDOMAIN or no data), an error only when DNS itself failed.
async fn lookup(
    r: &TokioResolver,
    name: &str,
    rtype: RecordType,
    pick: impl Fn(&RData) -> Option<String>,
) -> Result<Vec<String>, String> {
    match r.lookup(format!("{name}.").as_str(), rtype).await {
        Ok(l) => Ok(l
            .answers()
            .iter()
            .filter_map(|rec| pick(&rec.data))
            .collect()),
        Err(e) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

/// TXT records of `name`, each record's strings joined.
pub async fn txt(r: &TokioResolver, name: &str) -> Result<Vec<String>, String> {
    lookup(r, name, RecordType::TXT, |d| match d {
        RData::TXT(t) => Some(
            t.txt_data
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect(),
        ),
        _ => None,
    })
    .await
}

/// MX host names of `name`, lower case, without the final dot.
async fn mx(r: &TokioResolver, name: &str) -> Result<Vec<String>, String> {
    lookup(r, name, RecordType::MX, |d| match d {
        RData::MX(m) => Some(
            m.exchange
                .to_utf8()
                .trim_end_matches('.')
                .to_ascii_lowercase(),
        ),
        _ => None,
    })
    .await
}

/// The value of tag `t` in a `k=v; k=v` record, without white space.
fn tag(record: &str, t: &str) -> Option<String> {
    record.split(';').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k.trim().eq_ignore_ascii_case(t)).then(|| v.split_whitespace().collect())
    })
}

fn check(
    expected: &DnsRecord,
    required: bool,
    found: Option<String>,
    status: Status,
    why: impl Into<String>,
) -> Check {
    Check {
        kind: expected.kind,
        name: expected.name.clone(),
        expected: expected.value.clone(),
        found,
        status,
        why: why.into(),
        required,
    }
}

/// SPF, from what is published alone: one record that parses, ends in ~all/-all (or
/// redirects), has at most 10 lookup terms at the top level (RFC 7208 §4.6.4) and — when no
/// sending IPs are configured — names our EHLO host. With sending IPs, [`verify`] then evaluates
/// the record for each of them as a receiver would (includes and redirects followed).
fn spf_check(expected: &DnsRecord, found: &[String], ctx: &RecordContext) -> Check {
    let spf: Vec<&String> = found.iter().filter(|t| spf::is_spf(t)).collect();
    let why_missing = "Without SPF at the return-path domain, receivers cannot tell our servers may send for it; DMARC then rests on DKIM alone.";
    match spf.as_slice() {
        [] => check(expected, true, None, Status::Missing, why_missing),
        [one] => {
            let terms: Vec<String> = one
                .split_whitespace()
                .map(|t| t.to_ascii_lowercase())
                .collect();
            let lookups = terms.iter().filter(|t| is_lookup_term(t)).count();
            let all_ok = terms.last().is_some_and(|t| {
                t == "~all"
                    || t == "-all"
                    || (t.starts_with("redirect=") && !terms.iter().any(|t| t.ends_with("all")))
            });
            let ours = super::spf_terms(ctx);
            let missing: Vec<&String> = if ctx.source_ips.is_empty() {
                ours.iter()
                    .filter(|o| {
                        !terms
                            .iter()
                            .any(|t| t.trim_start_matches('+') == o.to_ascii_lowercase())
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let (status, why) = if let Err(e) = spf::validate(one) {
                (
                    Status::Fail,
                    format!("{e}: receivers return permerror and SPF fails for every message."),
                )
            } else if !missing.is_empty() {
                (
                    Status::Fail,
                    format!(
                        "The record does not authorise {}: mail from there fails SPF.",
                        missing
                            .iter()
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            } else if lookups > 10 {
                (
                    Status::Fail,
                    format!(
                        "{lookups} DNS-lookup terms: over RFC 7208's limit of 10, receivers return permerror."
                    ),
                )
            } else if !all_ok {
                (Status::Fail, "The record should end in ~all or -all, so other senders of this domain are not passed.".into())
            } else {
                (Status::Pass, "Our sending IPs are authorised.".into())
            };
            check(expected, true, Some(one.to_string()), status, why)
        }
        many => check(
            expected,
            true,
            Some(
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
            Status::Fail,
            "More than one SPF record: receivers treat that as a permanent error (RFC 7208 §4.5). Merge them into one.",
        ),
    }
}

/// Evaluate the published SPF record for every sending IP as a receiver would: includes and
/// redirects followed, the 10-lookup limit enforced. Turns a textual pass into a fail when an
/// IP is not authorised after all.
async fn spf_evaluate(resolver: &TokioResolver, mut c: Check, ctx: &RecordContext) -> Check {
    if c.status != Status::Pass {
        return c;
    }
    for ip in &ctx.source_ips {
        let (status, why) = match spf::check_host(resolver, *ip, &ctx.helo_name, &c.name).await {
            spf::Verdict::Pass => continue,
            spf::Verdict::NotAuthorised(result) => (
                Status::Fail,
                format!("SPF gives {result} for {ip} (includes and redirects followed): mail from there fails SPF."),
            ),
            spf::Verdict::PermError => (
                Status::Fail,
                "SPF gives permerror once its includes are followed (an invalid included record, or more than 10 DNS lookups, RFC 7208 §4.6.4): receivers treat SPF as failed.".to_string(),
            ),
            spf::Verdict::TempError => (
                Status::DnsError,
                format!("A DNS lookup failed while evaluating SPF for {ip}."),
            ),
        };
        c.status = status;
        c.why = why;
        return c;
    }
    c
}

/// Terms that cost a DNS lookup (RFC 7208 §4.6.4).
fn is_lookup_term(term: &str) -> bool {
    let t = term.trim_start_matches(['+', '-', '~', '?']);
    let name = t.split([':', '=', '/']).next().unwrap_or("");
    matches!(name, "include" | "a" | "mx" | "ptr" | "exists" | "redirect")
}

/// Verify a connected domain's records through `resolver`.
pub async fn verify(
    resolver: &TokioResolver,
    keyring: &Keyring,
    domain: &str,
    ctx: &RecordContext,
) -> Result<Option<Verification>, DomainError> {
    let domain = domain.to_ascii_lowercase();
    let Some((selector, keys)) = keyring.load(&domain)? else {
        return Ok(None);
    };
    // What we expect is computed as for a fresh domain; what is found is judged below.
    let fresh = RecordContext {
        existing_spf: Vec::new(),
        ..ctx.clone()
    };
    let mut expected = records(&domain, &selector, &keys, &fresh)?;
    let pending = keyring.pending(&domain)?;
    if let Some((next, keys)) = &pending {
        expected.extend(
            records(&domain, next, keys, &fresh)?
                .into_iter()
                .filter(|r| r.kind == "dkim")
                .map(|r| DnsRecord {
                    kind: "dkim_next",
                    ..r
                }),
        );
    }
    let mut out = Vec::new();
    for e in &expected {
        let c = match e.kind {
            "dkim" | "dkim_next" => check_dkim(resolver, e).await,
            "spf" => check_spf(resolver, e, ctx).await,
            "dmarc" => check_dmarc(resolver, e, &domain).await,
            "return_path" => check_return_path(resolver, e, ctx).await,
            "tracking" => check_tracking(resolver, e).await,
            _ => continue,
        };
        // The next selector's records are not required yet: signing switches to it once
        // they are published.
        let c = if e.kind == "dkim_next" {
            Check {
                required: false,
                why: match c.status {
                    Status::Pass => {
                        "The next key (rotation) is published; signing switches to it.".into()
                    }
                    _ => format!(
                        "Rotation: publish this record; signing stays with selector {selector} until then."
                    ),
                },
                ..c
            }
        } else {
            c
        };
        out.push(c);
    }
    let next_selector_ready = pending.is_some()
        && out
            .iter()
            .filter(|c| c.kind == "dkim_next")
            .all(|c| c.status == Status::Pass);
    out.extend(check_ptrs(resolver, ctx).await);
    let ok = out.iter().all(|c| !c.required || c.status == Status::Pass);
    Ok(Some(Verification {
        domain,
        ok,
        records: out,
        next_selector_ready,
    }))
}

/// The DKIM key (or the next one, in a rotation): is Herald's key published?
async fn check_dkim(resolver: &TokioResolver, e: &DnsRecord) -> Check {
    match txt(resolver, &e.name).await {
        Err(err) => check(
            e,
            true,
            None,
            Status::DnsError,
            format!("DNS lookup failed: {err}"),
        ),
        Ok(found) => {
            let want = tag(&e.value, "p");
            match found.iter().find(|t| tag(t, "p").is_some()) {
                None => check(
                    e,
                    true,
                    None,
                    Status::Missing,
                    "Without this key, receivers cannot verify Herald's signatures: DKIM fails and DMARC cannot align.",
                ),
                Some(t) if tag(t, "p") == want => check(
                    e,
                    true,
                    Some(t.clone()),
                    Status::Pass,
                    "The published key is Herald's key.",
                ),
                Some(t) => check(
                    e,
                    true,
                    Some(t.clone()),
                    Status::Fail,
                    "The published key is not Herald's key: receivers will fail every signature.",
                ),
            }
        }
    }
}

/// SPF: is the record there, and does it authorise every sending IP?
async fn check_spf(resolver: &TokioResolver, e: &DnsRecord, ctx: &RecordContext) -> Check {
    match txt(resolver, &e.name).await {
        Err(err) => check(
            e,
            true,
            None,
            Status::DnsError,
            format!("DNS lookup failed: {err}"),
        ),
        Ok(found) => spf_evaluate(resolver, spf_check(e, &found, ctx), ctx).await,
    }
}

/// DMARC: is a policy published (and what does it mean for Herald's alignment)?
async fn check_dmarc(resolver: &TokioResolver, e: &DnsRecord, domain: &str) -> Check {
    match txt(resolver, &e.name).await {
        Err(err) => check(
            e,
            true,
            None,
            Status::DnsError,
            format!("DNS lookup failed: {err}"),
        ),
        Ok(found) => match found
            .iter()
            .find(|t| t.to_ascii_uppercase().starts_with("V=DMARC1"))
        {
            None => check(
                e,
                true,
                None,
                Status::Missing,
                "Without DMARC, Gmail and Yahoo treat bulk mail from this domain as unauthenticated.",
            ),
            Some(t) => {
                let policy = tag(t, "p").unwrap_or_default();
                let strict_spf = tag(t, "aspf").is_some_and(|v| v.eq_ignore_ascii_case("s"));
                let why = format!(
                    "Policy p={policy}. Herald signs with d={domain}, aligned in relaxed and strict mode{}.",
                    if strict_spf {
                        "; the return path bounces.<domain> is not SPF-aligned under aspf=s, DKIM alignment carries DMARC"
                    } else {
                        ""
                    }
                );
                let status = if policy.is_empty() {
                    Status::Fail
                } else {
                    Status::Pass
                };
                check(e, true, Some(t.clone()), status, why)
            }
        },
    }
}

/// The return path's MX: do bounces reach Herald?
async fn check_return_path(resolver: &TokioResolver, e: &DnsRecord, ctx: &RecordContext) -> Check {
    match mx(resolver, &e.name).await {
        Err(err) => check(
            e,
            true,
            None,
            Status::DnsError,
            format!("DNS lookup failed: {err}"),
        ),
        Ok(hosts) if hosts.is_empty() => check(
            e,
            true,
            None,
            Status::Missing,
            "Bounces and complaints to the return path cannot reach Herald.",
        ),
        Ok(hosts) => {
            let ours = ctx.helo_name.to_ascii_lowercase();
            let status = if hosts.contains(&ours) {
                Status::Pass
            } else {
                Status::Fail
            };
            let why = if status == Status::Pass {
                "Bounces reach Herald.".to_string()
            } else {
                format!(
                    "Bounces would go to {} instead of {ours}.",
                    hosts.join(", ")
                )
            };
            check(e, true, Some(hosts.join(", ")), status, why)
        }
    }
}

/// The tracking host's CNAME (optional): do links under the domain reach Herald?
async fn check_tracking(resolver: &TokioResolver, e: &DnsRecord) -> Check {
    match lookup(resolver, &e.name, RecordType::CNAME, |d| match d {
        RData::CNAME(c) => Some(c.0.to_utf8().to_ascii_lowercase()),
        _ => None,
    })
    .await
    {
        Err(err) => check(
            e,
            false,
            None,
            Status::DnsError,
            format!("DNS lookup failed: {err}"),
        ),
        Ok(found) if found.is_empty() => check(
            e,
            false,
            None,
            Status::Missing,
            "Optional: tracking links then use Herald's own host name instead of one under your domain.",
        ),
        Ok(found) => {
            let ok = found.iter().any(|f| f.eq_ignore_ascii_case(&e.value));
            check(
                e,
                false,
                Some(found.join(", ")),
                if ok { Status::Pass } else { Status::Fail },
                if ok {
                    "Tracking links under your domain reach Herald."
                } else {
                    "Tracking links under your domain would not reach Herald."
                },
            )
        }
    }
}

/// Reverse DNS of every sending IP: receivers reject or junk mail from an IP whose PTR does
/// not resolve back to it.
async fn check_ptrs(resolver: &TokioResolver, ctx: &RecordContext) -> Vec<Check> {
    let mut out = Vec::new();
    for ip in &ctx.source_ips {
        let r = super::ips::check_ip(resolver, *ip, &[]).await;
        let (status, why) = if !r.errors.is_empty() {
            (
                Status::DnsError,
                format!("DNS lookup failed: {}", r.errors.join("; ")),
            )
        } else if r.ptr.is_empty() {
            (Status::Missing, "No PTR record: Gmail, Microsoft and most others refuse or junk mail from such IPs.".to_string())
        } else if !r.fcrdns {
            (
                Status::Fail,
                "The PTR name does not resolve back to this IP (not forward-confirmed)."
                    .to_string(),
            )
        } else {
            (Status::Pass, "Forward-confirmed reverse DNS.".to_string())
        };
        out.push(Check {
            kind: "ptr",
            name: ip.to_string(),
            expected: format!(
                "a PTR name that resolves back to {ip} (ideally {})",
                ctx.helo_name
            ),
            found: (!r.ptr.is_empty()).then(|| r.ptr.join(", ")),
            status,
            why,
            required: true,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> DnsRecord {
        DnsRecord {
            kind: "spf",
            rtype: "TXT",
            name: "x.test".into(),
            value: "v=spf1 ip4:192.0.2.1 ~all".into(),
            strings: vec![],
            replaces: None,
        }
    }

    #[test]
    fn spf_table() {
        let ctx = RecordContext {
            source_ips: vec!["192.0.2.1".parse().unwrap()],
            helo_name: "mail.x.test".into(),
            tracking_host: "x".into(),
            existing_spf: Vec::new(),
        };
        let st = |found: &[&str]| {
            spf_check(
                &rec(),
                &found.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                &ctx,
            )
            .status
        };
        assert_eq!(st(&["v=spf1 ip4:192.0.2.1 ~all"]), Status::Pass);
        assert_eq!(
            st(&[
                "v=spf1 mx ip4:192.0.2.1 include:_spf.google.com -all",
                "google-site-verification=x"
            ]),
            Status::Pass
        );
        assert_eq!(st(&[]), Status::Missing);
        // With sending IPs, whether they are authorised is evaluated through DNS (world test);
        // without, the record must name the EHLO host.
        assert_eq!(st(&["v=spf1 ip4:198.51.100.7 ~all"]), Status::Pass);
        let no_ips = RecordContext {
            source_ips: Vec::new(),
            ..ctx.clone()
        };
        let st_no_ips = |found: &[&str]| {
            spf_check(
                &rec(),
                &found.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                &no_ips,
            )
            .status
        };
        assert_eq!(st_no_ips(&["v=spf1 ip4:198.51.100.7 ~all"]), Status::Fail);
        assert_eq!(st_no_ips(&["v=spf1 a:mail.x.test -all"]), Status::Pass);
        assert_eq!(
            st(&["v=spf1 ip4:192.0.2.1 inclde:x.test ~all"]),
            Status::Fail
        );
        assert_eq!(st(&["v=spf1 redirect=_spf.x.test"]), Status::Pass);
        assert_eq!(
            st(&["v=spf1 ip4:192.0.2.1 ~all", "v=spf1 a -all"]),
            Status::Fail
        );
        assert_eq!(st(&["v=spf1 ip4:192.0.2.1 +all"]), Status::Fail);
        let many = format!(
            "v=spf1 ip4:192.0.2.1 {} ~all",
            (0..11)
                .map(|i| format!("include:s{i}.test"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_eq!(st(&[many.as_str()]), Status::Fail);
    }

    #[test]
    fn tags() {
        assert_eq!(
            tag("v=DKIM1; k=rsa; p=MII B\tA", "p").as_deref(),
            Some("MIIBA")
        );
        assert_eq!(
            tag("v=DMARC1; p=reject; aspf=s", "P").as_deref(),
            Some("reject")
        );
        assert_eq!(tag("v=DMARC1", "p"), None);
    }
}
