//! SPF (RFC 7208) for Herald's own records: whether a published record parses, merging Herald's
//! sending IPs into an existing record (a domain must never have two SPF records, §4.5), and
//! whether a record — with its includes, redirects and the 10-lookup limit (§4.6.4) — authorises
//! an IP.
//!
//! Parsing and evaluation are mail-auth's (`check_host` with macros, void lookups and limits is
//! not something to write again); this module is the only place that touches its SPF API, so the
//! mail-auth 0.13 → 0.14 upgrade stays local. The merge is plain text work, sans-IO.

use std::net::IpAddr;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::hickory_resolver::TokioResolver;
use mail_auth::spf::Spf;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{MessageAuthenticator, Parameters, SpfResult};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpfError {
    #[error("the SPF record {record:?} is not valid: {problem}")]
    Invalid { record: String, problem: String },
    #[error(
        "{0} SPF records are published; receivers treat that as a permanent error (RFC 7208 §4.5): merge them into one first"
    )]
    Several(usize),
}

/// Whether `txt` is an SPF record at all (`v=spf1` followed by a space or nothing).
pub fn is_spf(txt: &str) -> bool {
    // Bytes, not string slices: a TXT record from DNS may put a multi-byte character anywhere.
    let t = txt.trim_start().as_bytes();
    t.get(..6)
        .is_some_and(|v| v.eq_ignore_ascii_case(b"v=spf1"))
        && t.get(6).is_none_or(|c| *c == b' ')
}

/// Check that an SPF record parses, naming the first term that does not.
pub fn validate(record: &str) -> Result<(), SpfError> {
    let invalid = |problem: String| SpfError::Invalid {
        record: record.to_string(),
        problem,
    };
    if !is_spf(record) {
        return Err(invalid("it does not start with v=spf1".into()));
    }
    for term in record.split_whitespace().skip(1) {
        if !term_is_valid(term) {
            return Err(invalid(format!(
                "the term {term:?} is not an SPF mechanism or modifier"
            )));
        }
    }
    Spf::parse(record.as_bytes())
        .map(|_| ())
        .map_err(|e| invalid(e.to_string()))
}

/// The shape of one term (RFC 7208 §12): a mechanism with an optional qualifier, or a
/// `name=value` modifier. Values (domain specs, macros) are left to mail-auth's parser.
fn term_is_valid(term: &str) -> bool {
    let lower = term.to_ascii_lowercase();
    if let Some((name, value)) = lower.split_once('=') {
        return !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && (!matches!(name, "redirect" | "exp") || !value.is_empty());
    }
    let m = lower.trim_start_matches(['+', '-', '~', '?']);
    if lower.len() - m.len() > 1 {
        return false;
    }
    let (name, arg) = match m.find([':', '/']) {
        Some(i) => (&m[..i], Some(&m[i..])),
        None => (m, None),
    };
    match name {
        "all" => arg.is_none(),
        "include" | "exists" => arg.is_some_and(|a| a.starts_with(':') && a.len() > 1),
        "a" | "mx" | "ptr" => arg.is_none_or(|a| a.len() > 1),
        "ip4" => arg
            .and_then(|a| a.strip_prefix(':'))
            .is_some_and(|a| ip_with_prefix(a, 32, |s| s.parse::<std::net::Ipv4Addr>().is_ok())),
        "ip6" => arg
            .and_then(|a| a.strip_prefix(':'))
            .is_some_and(|a| ip_with_prefix(a, 128, |s| s.parse::<std::net::Ipv6Addr>().is_ok())),
        _ => false,
    }
}

fn ip_with_prefix(s: &str, max: u8, parses: impl Fn(&str) -> bool) -> bool {
    match s.split_once('/') {
        Some((ip, len)) => parses(ip) && len.parse::<u8>().is_ok_and(|l| l <= max),
        None => parses(s),
    }
}

/// The record to publish at a name where `existing` TXT records were found: Herald's `terms`
/// (e.g. `ip4:192.0.2.1`) merged into the one existing SPF record, right after `v=spf1` and
/// only where not already present; a fresh `v=spf1 … ~all` when there is none. Other TXT
/// records (site verifications…) are ignored.
pub fn merge(existing: &[String], terms: &[String]) -> Result<Merged, SpfError> {
    let spf: Vec<&String> = existing.iter().filter(|t| is_spf(t)).collect();
    match spf.as_slice() {
        [] => Ok(Merged {
            record: format!("v=spf1 {} ~all", terms.join(" ")),
            replaces: None,
        }),
        [one] => {
            validate(one)?;
            let present: Vec<String> = one
                .split_whitespace()
                .map(|t| t.trim_start_matches('+').to_ascii_lowercase())
                .collect();
            let add: Vec<&String> = terms
                .iter()
                .filter(|t| !present.contains(&t.to_ascii_lowercase()))
                .collect();
            let mut out = String::from("v=spf1");
            for t in add {
                out.push(' ');
                out.push_str(t);
            }
            for t in one.split_whitespace().skip(1) {
                out.push(' ');
                out.push_str(t);
            }
            Ok(Merged {
                record: out,
                replaces: Some(one.to_string()),
            })
        }
        many => Err(SpfError::Several(many.len())),
    }
}

/// The outcome of [`merge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub record: String,
    /// The existing record this one replaces (publish instead of it, never beside it).
    pub replaces: Option<String>,
}

/// What `check_host(ip, domain)` (RFC 7208 §4) returns for mail from `ip` with a return path
/// at `mail_from_domain`, after EHLO `helo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// fail, softfail, neutral or none: the IP is not authorised.
    NotAuthorised(&'static str),
    /// The record (or one it includes) is invalid or needs more than 10 lookups.
    PermError,
    /// A DNS failure during evaluation.
    TempError,
}

/// Evaluate SPF for `ip` through `resolver` (all look-ups, includes and redirects, as a
/// receiver would).
pub async fn check_host(
    resolver: &TokioResolver,
    ip: IpAddr,
    helo: &str,
    mail_from_domain: &str,
) -> Verdict {
    let auth = MessageAuthenticator(resolver.clone());
    let sender = format!("postmaster@{mail_from_domain}");
    let out = auth
        .verify_spf(Parameters::new(SpfParameters::verify_mail_from(
            ip, helo, helo, &sender,
        )))
        .await;
    match out.result() {
        SpfResult::Pass => Verdict::Pass,
        SpfResult::Fail => Verdict::NotAuthorised("fail"),
        SpfResult::SoftFail => Verdict::NotAuthorised("softfail"),
        SpfResult::Neutral => Verdict::NotAuthorised("neutral"),
        SpfResult::None => Verdict::NotAuthorised("none"),
        SpfResult::PermError => Verdict::PermError,
        SpfResult::TempError => Verdict::TempError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn merge_table() {
        let ours = s(&["ip4:192.0.2.10"]);
        // Nothing there: a fresh record.
        assert_eq!(
            merge(&s(&["google-site-verification=x"]), &ours).unwrap(),
            Merged {
                record: "v=spf1 ip4:192.0.2.10 ~all".into(),
                replaces: None
            }
        );
        // One record: ours goes in front, everything else is kept in order.
        let m = merge(&s(&["v=spf1 include:_spf.google.com -all"]), &ours).unwrap();
        assert_eq!(
            m.record,
            "v=spf1 ip4:192.0.2.10 include:_spf.google.com -all"
        );
        assert_eq!(
            m.replaces.as_deref(),
            Some("v=spf1 include:_spf.google.com -all")
        );
        // Already authorised (with an explicit + qualifier): nothing added.
        let m = merge(&s(&["v=spf1 +ip4:192.0.2.10 mx ~all"]), &ours).unwrap();
        assert_eq!(m.record, "v=spf1 +ip4:192.0.2.10 mx ~all");
        // Redirect-only records keep their modifier.
        let m = merge(&s(&["v=spf1 redirect=_spf.example.com"]), &ours).unwrap();
        assert_eq!(m.record, "v=spf1 ip4:192.0.2.10 redirect=_spf.example.com");
        // Two SPF records, or a broken one: refused, naming the problem.
        assert_eq!(
            merge(&s(&["v=spf1 a -all", "v=spf1 mx -all"]), &ours),
            Err(SpfError::Several(2))
        );
        let e = merge(&s(&["v=spf1 ip4:999.1.1.1 -all"]), &ours).unwrap_err();
        assert!(e.to_string().contains("ip4:999.1.1.1"), "{e}");
        let e = merge(&s(&["v=spf1 inclde:x.test -all"]), &ours).unwrap_err();
        assert!(e.to_string().contains("inclde:x.test"), "{e}");
    }

    #[test]
    fn validate_table() {
        for ok in [
            "v=spf1 -all",
            "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx/24 ptr include:a.test ~all",
            "v=spf1 a:mail.x.test//64 exists:%{i}.x.test ?all",
            "v=spf1 redirect=_spf.x.test",
            "V=SPF1 IP4:192.0.2.1 -ALL",
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        for bad in [
            "v=spf2 -all",
            "v=spf1 ip4:192.0.2.1/33 -all",
            "v=spf1 include -all",
            "v=spf1 ++all",
            "v=spf1 foo -all",
            "v=spf1 redirect= -all",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        assert!(is_spf("v=spf1"));
        assert!(!is_spf("v=spf10 a"));
        assert!(
            !is_spf("v=spf\u{e9} a"),
            "a multi-byte character where v=spf1 would end"
        );
        assert!(validate("v=spf1 ip4:é/8 -all").is_err());
    }
}
