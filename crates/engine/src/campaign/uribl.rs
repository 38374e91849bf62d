//! The pre-send check's URI blocklist lookups (`[dns] uri_blocklists`): every host a campaign's
//! links and images point to, looked up in DNS-based URI blocklists (Spamhaus DBL, SURBL,
//! URIBL — RFC 5782's convention for names: `<domain>.<zone>` answers 127.x.y.z when listed).
//! Receivers junk or refuse mail that links to a listed domain, whatever else it does right.

use std::net::IpAddr;

use hickory_resolver::TokioResolver;

use crate::api_types::{CheckFinding, CheckSeverity};

/// Hosts looked up per message, at most (a newsletter links to a few dozen).
const MAX_HOSTS: usize = 50;

/// The host names `html` links to or loads images from (`href=` and `src=` with http(s)),
/// lower-case, without duplicates, IP literals left out. Lexical, like the check's other
/// scans of the HTML.
pub fn hosts(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    for attr in ["href", "src"] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(attr) {
            let start = from + at + attr.len();
            from = start;
            let rest = lower[start..].trim_start();
            let Some(rest) = rest.strip_prefix('=') else {
                continue;
            };
            let rest = rest.trim_start().trim_start_matches(['"', '\'']);
            let Some(after) = rest
                .strip_prefix("https://")
                .or_else(|| rest.strip_prefix("http://"))
            else {
                continue;
            };
            let end = after
                .find(['/', '?', '#', '"', '\'', ' ', '>', ':'])
                .unwrap_or(after.len());
            let host = after[..end]
                .rsplit('@')
                .next()
                .unwrap_or("")
                .trim_end_matches('.');
            let valid = host.contains('.')
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
            if valid && host.parse::<IpAddr>().is_err() && !out.iter().any(|h| h == host) {
                out.push(host.to_string());
            }
        }
    }
    out.truncate(MAX_HOSTS);
    out
}

/// The names to look up for `host`: itself and each parent with at least two labels
/// (`a.b.example.com`, `b.example.com`, `example.com`): lists hold registered domains and,
/// some of them, subdomains.
fn candidates(host: &str) -> Vec<String> {
    let labels: Vec<&str> = host.split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .collect()
}

/// One listing: a domain the message points to, the list it is on, the list's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub host: String,
    pub domain: String,
    pub zone: String,
    pub answer: IpAddr,
}

/// What the lookups found: listings, and lookups that did not answer or were refused.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    pub checked: usize,
    pub listed: Vec<Listing>,
    pub errors: Vec<String>,
}

/// Look every host of `hosts` (and its parents) up in every zone.
pub async fn lookup(r: &TokioResolver, hosts: &[String], zones: &[String]) -> Lookups {
    let mut out = Lookups {
        checked: hosts.len(),
        ..Lookups::default()
    };
    for host in hosts {
        for domain in candidates(host) {
            for zone in zones {
                let q = format!("{domain}.{}.", zone.trim_end_matches('.'));
                match r.lookup_ip(q.as_str()).await {
                    Ok(l) => {
                        let Some(answer) = l
                            .iter()
                            .find(|a| matches!(a, IpAddr::V4(v) if v.octets()[0] == 127))
                        else {
                            continue;
                        };
                        // 127.255.255.x: the list refused the query (a public resolver, too
                        // many queries), which says nothing about the domain.
                        if matches!(answer, IpAddr::V4(v) if v.octets()[1..3] == [255, 255]) {
                            out.errors
                                .push(format!("{zone} refused the query ({answer})"));
                            continue;
                        }
                        if !out
                            .listed
                            .iter()
                            .any(|x| x.domain == domain && x.zone == *zone)
                        {
                            out.listed.push(Listing {
                                host: host.clone(),
                                domain: domain.clone(),
                                zone: zone.clone(),
                                answer,
                            });
                        }
                    }
                    Err(e) if e.is_nx_domain() || e.is_no_records_found() => {}
                    Err(e) => out.errors.push(format!("{q}: {e}")),
                }
            }
        }
    }
    out.errors.sort();
    out.errors.dedup();
    out
}

/// The findings of `l` against `zones`.
pub fn findings(l: &Lookups, zones: &[String]) -> Vec<CheckFinding> {
    let mut out: Vec<CheckFinding> = l
        .listed
        .iter()
        .map(|x| CheckFinding {
            code: "uri_blocklisted".into(),
            severity: CheckSeverity::Problem,
            text: format!(
                "The message links to {} ({}), which {} lists ({}): receivers that use this \
                 list junk or refuse mail that points to it.",
                x.host, x.domain, x.zone, x.answer
            ),
            fix: Some(format!(
                "remove or replace every link and image on {}, then check again",
                x.domain
            )),
        })
        .collect();
    if !l.errors.is_empty() {
        out.push(CheckFinding {
            code: "uri_blocklist_unavailable".into(),
            severity: CheckSeverity::Warning,
            text: format!(
                "Some URI blocklist lookups did not answer, so a listing may be missed: {}",
                l.errors
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            fix: Some(
                "check [dns] nameservers (public lists refuse queries from public resolvers)"
                    .into(),
            ),
        });
    }
    if l.listed.is_empty() && l.errors.is_empty() {
        out.push(CheckFinding {
            code: "uri_blocklists_clean".into(),
            severity: CheckSeverity::Info,
            text: format!(
                "{} link and image host(s) checked against {}: none listed.",
                l.checked,
                zones.join(", ")
            ),
            fix: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_links_and_images() {
        let html = "<a href=\"https://www.Shop.example/x?a=1\">a</a> <A HREF='http://user@b.example:8080/'>b</A>\
            <img src=\"https://cdn.example.net/i.png\"><a href=\"mailto:x@y.example\">m</a>\
            <a href=\"https://192.0.2.1/\">ip</a><a href=https://www.shop.example/again>c</a>\
            <a href=\"{{x}}\">t</a><link href=\"https://fonts.example/\">";
        assert_eq!(
            hosts(html),
            [
                "www.shop.example",
                "b.example",
                "fonts.example",
                "cdn.example.net"
            ]
        );
        assert_eq!(
            candidates("a.b.example.com"),
            ["a.b.example.com", "b.example.com", "example.com"]
        );
    }

    #[test]
    fn listed_is_a_problem_and_silence_is_said() {
        let zones = vec!["dbl.example".to_string()];
        let l = Lookups {
            checked: 2,
            listed: vec![Listing {
                host: "www.bad.example".into(),
                domain: "bad.example".into(),
                zone: "dbl.example".into(),
                answer: "127.0.1.2".parse().unwrap(),
            }],
            errors: Vec::new(),
        };
        let f = findings(&l, &zones);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].code.as_str(), f[0].severity),
            ("uri_blocklisted", CheckSeverity::Problem)
        );
        assert!(
            f[0].text
                .contains("www.bad.example (bad.example), which dbl.example lists (127.0.1.2)")
        );
        let clean = findings(
            &Lookups {
                checked: 3,
                ..Lookups::default()
            },
            &zones,
        );
        assert_eq!(clean[0].code, "uri_blocklists_clean");
        assert!(
            clean[0]
                .text
                .starts_with("3 link and image host(s) checked against dbl.example")
        );
        let down = findings(
            &Lookups {
                checked: 1,
                listed: Vec::new(),
                errors: vec!["x: timeout".into()],
            },
            &zones,
        );
        assert_eq!(down[0].code, "uri_blocklist_unavailable");
    }
}
