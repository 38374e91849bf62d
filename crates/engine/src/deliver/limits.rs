//! Per-receiver limits (`[[delivery.limit]]`): connections, messages per connection and a
//! message rate for one receiver — the group of MX hosts that answers for many domains
//! (`google.com` answers for gmail.com and every Google Workspace domain, `outlook.com` for
//! hotmail.com and every Microsoft 365 tenant), so a company on Microsoft 365 and outlook.com
//! share one limit. Big receivers have defaults: conservative starting points, not quotas they
//! publish (none do); `[[delivery.limit]]` replaces them or adds receivers. The limits are per
//! node, as the other connection limits.

use std::collections::HashMap;
use std::sync::Arc;

use super::pace::{Pace, Rate};

/// One receiver's limits.
#[derive(Debug, Clone)]
pub struct Limit {
    pub connections: usize,
    pub messages_per_connection: usize,
    /// Messages per period to this receiver, from this node; shared by its connections.
    pub pace: Option<Arc<Pace>>,
}

/// A `[[delivery.limit]]` as written: the receiver's group, and what it changes (the rest stays
/// the default's, or the node's general limits).
#[derive(Debug, Clone, Default)]
pub struct LimitSetting {
    pub mx: String,
    pub connections: Option<usize>,
    pub messages_per_connection: Option<usize>,
    pub rate: Option<String>,
}

/// (group, connections, messages per connection): the defaults.
pub const DEFAULTS: &[(&str, usize, usize)] = &[
    ("google.com", 10, 100),
    ("outlook.com", 5, 50),
    ("yahoodns.net", 5, 20),
    ("icloud.com", 5, 50),
];

/// The receivers' limits of one node.
#[derive(Debug, Default)]
pub struct Limits {
    groups: HashMap<String, Limit>,
}

impl Limits {
    /// The defaults with `settings` applied over them (a setting for a receiver without a
    /// default starts from `general`: the node's per-domain connections and messages per
    /// connection). An error names the setting.
    pub fn new(settings: &[LimitSetting], general: (usize, usize)) -> Result<Self, String> {
        // The defaults only ever lower the node's own limits.
        let mut groups: HashMap<String, Limit> = DEFAULTS
            .iter()
            .map(|(g, c, m)| {
                (
                    g.to_string(),
                    Limit {
                        connections: (*c).min(general.0),
                        messages_per_connection: (*m).min(general.1),
                        pace: None,
                    },
                )
            })
            .collect();
        for s in settings {
            let given = s.mx.trim().trim_end_matches('.').to_ascii_lowercase();
            if given.is_empty() || given.contains(|c: char| c.is_whitespace() || c == '@') {
                return Err(format!(
                    "[[delivery.limit]] mx = {:?}: expected a receiver's MX group, e.g. \"google.com\"",
                    s.mx
                ));
            }
            // A host written for the receiver (`mx1.example-corp.com`) means its group.
            let mx = super::throttle::group_of(&given);
            if s.connections == Some(0) || s.messages_per_connection == Some(0) {
                return Err(format!(
                    "[[delivery.limit]] {mx}: connections and messages_per_connection must be at least 1"
                ));
            }
            let rate = s
                .rate
                .as_deref()
                .map(|r| {
                    r.parse::<Rate>()
                        .map_err(|e| format!("[[delivery.limit]] {mx}: {e}"))
                })
                .transpose()?;
            let l = groups.entry(mx).or_insert(Limit {
                connections: general.0,
                messages_per_connection: general.1,
                pace: None,
            });
            if let Some(c) = s.connections {
                l.connections = c;
            }
            if let Some(m) = s.messages_per_connection {
                l.messages_per_connection = m;
            }
            if let Some(r) = rate {
                l.pace = Some(Arc::new(Pace::new(r)));
            }
        }
        Ok(Self { groups })
    }

    /// The limits of the receiver group `group`, if it has any.
    pub fn get(&self, group: &str) -> Option<&Limit> {
        self.groups.get(group)
    }
}

/// The receiver of a big mailbox provider's own domains, known before any MX lookup (a company
/// domain on Google or Microsoft is grouped once its MX host answered).
pub fn well_known_group(domain: &str) -> Option<&'static str> {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    let (first, rest) = d.split_once('.').unwrap_or((&d, ""));
    // A country's or the world's suffix: `com`, `fr`, `co.uk`, `com.br`.
    let suffix = match rest.split_once('.') {
        None => !rest.is_empty(),
        Some((second, cc)) => matches!(second, "co" | "com") && cc.len() == 2,
    };
    Some(match d.as_str() {
        "gmail.com" | "googlemail.com" => "google.com",
        "outlook.com" | "msn.com" => "outlook.com",
        "ymail.com" | "rocketmail.com" | "aol.com" => "yahoodns.net",
        "icloud.com" | "me.com" | "mac.com" => "icloud.com",
        // Yahoo Japan is another company with its own servers.
        "yahoo.co.jp" => return None,
        _ if matches!(first, "hotmail" | "live" | "outlook") && suffix => "outlook.com",
        _ if first == "yahoo" && suffix => "yahoodns.net",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn settings_replace_defaults_and_add_receivers() {
        let l = Limits::new(
            &[
                LimitSetting {
                    mx: "Google.com.".into(),
                    connections: Some(3),
                    ..LimitSetting::default()
                },
                LimitSetting {
                    mx: "mailgun.org".into(),
                    rate: Some("60/min".into()),
                    ..LimitSetting::default()
                },
            ],
            (5, 100),
        )
        .unwrap();
        let g = l.get("google.com").unwrap();
        assert_eq!((g.connections, g.messages_per_connection), (3, 100));
        // Defaults never raise the node's own limits.
        let low = Limits::new(&[], (2, 10)).unwrap();
        let g = low.get("google.com").unwrap();
        assert_eq!((g.connections, g.messages_per_connection), (2, 10));
        // A host of the receiver names its group.
        let host = Limits::new(
            &[LimitSetting {
                mx: "MX1.Example-Corp.com".into(),
                connections: Some(1),
                ..LimitSetting::default()
            }],
            (5, 100),
        )
        .unwrap();
        assert_eq!(host.get("example-corp.com").unwrap().connections, 1);
        let m = l.get("mailgun.org").unwrap();
        assert_eq!((m.connections, m.messages_per_connection), (5, 100));
        assert!(m.pace.is_some());
        assert_eq!(l.get("outlook.com").unwrap().connections, 5);
        assert!(l.get("example.com").is_none());
    }

    #[test]
    fn bad_settings_are_named() {
        for (s, says) in [
            (
                LimitSetting {
                    mx: "a b".into(),
                    ..LimitSetting::default()
                },
                "MX group",
            ),
            (
                LimitSetting {
                    mx: "x.test".into(),
                    connections: Some(0),
                    ..LimitSetting::default()
                },
                "at least 1",
            ),
            (
                LimitSetting {
                    mx: "x.test".into(),
                    rate: Some("fast".into()),
                    ..LimitSetting::default()
                },
                "x.test: rate",
            ),
        ] {
            let e = Limits::new(&[s], (5, 100)).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn big_providers_domains_are_grouped_before_any_lookup() {
        assert_eq!(well_known_group("GMail.com"), Some("google.com"));
        assert_eq!(well_known_group("hotmail.co.uk"), Some("outlook.com"));
        assert_eq!(well_known_group("live.fr"), Some("outlook.com"));
        assert_eq!(well_known_group("yahoo.co.uk"), Some("yahoodns.net"));
        assert_eq!(well_known_group("yahoo.co.jp"), None);
        assert_eq!(well_known_group("me.com"), Some("icloud.com"));
        assert_eq!(well_known_group("notgmail.com"), None);
        assert_eq!(well_known_group("outlook.example.com"), None);
    }
}
