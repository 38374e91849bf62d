//! `[[relay.route]]`: one installation sending some mail straight to the recipients' MX hosts
//! and some through its relay. The queue's own route is `[delivery] transport`; the rules,
//! read in order, pick the deliveries that take the other one (the first rule that matches
//! decides; none: the queue's own route).

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::deliver::{DeliverConfig, SharedResolver};

/// One rule: mail From one of `from_domains` and/or to one of `recipient_domains` (an empty
/// list matches any), and whether it takes the other route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    pub from_domains: Vec<String>,
    pub recipient_domains: Vec<String>,
    pub other_route: bool,
}

impl RouteRule {
    fn matches(&self, from_domain: &str, recipient_domain: &str) -> bool {
        let any = |list: &[String], d: &str| {
            list.is_empty() || list.iter().any(|x| x.eq_ignore_ascii_case(d))
        };
        any(&self.from_domains, from_domain) && any(&self.recipient_domains, recipient_domain)
    }
}

/// The other route and the rules that send mail through it.
pub struct OtherRoute {
    pub rules: Vec<RouteRule>,
    pub deliver: DeliverConfig,
    pub resolver: SharedResolver,
    /// Connections this node opens on it at once.
    pub(crate) conns: Arc<Semaphore>,
    /// Receivers that asked for a slow-down on this route (a relay's 421 is the relay's, not
    /// the recipient's: each route learns and paces on its own).
    pub(crate) throttles: Arc<crate::deliver::throttle::Throttles>,
}

impl OtherRoute {
    pub fn new(
        rules: Vec<RouteRule>,
        deliver: DeliverConfig,
        resolver: SharedResolver,
        max_connections: usize,
    ) -> Self {
        Self {
            rules,
            deliver,
            resolver,
            conns: Arc::new(Semaphore::new(max_connections.max(1))),
            throttles: Arc::default(),
        }
    }

    /// Whether mail From `from_domain` to `recipient_domain` takes this route.
    pub fn takes(&self, from_domain: &str, recipient_domain: &str) -> bool {
        self.rules
            .iter()
            .find(|r| r.matches(from_domain, recipient_domain))
            .is_some_and(|r| r.other_route)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_rule_decides() {
        let rule = |from: &[&str], to: &[&str], other| RouteRule {
            from_domains: from.iter().map(|s| s.to_string()).collect(),
            recipient_domains: to.iter().map(|s| s.to_string()).collect(),
            other_route: other,
        };
        let rules = [
            // Transactional mail always goes the queue's own way…
            rule(&["notify.example.com"], &[], false),
            // …the rest to Microsoft through the other.
            rule(&[], &["outlook.com", "hotmail.com"], true),
            rule(&["news.example.com"], &["gmail.com"], true),
        ];
        let takes = |from: &str, to: &str| {
            rules
                .iter()
                .find(|r| r.matches(from, to))
                .is_some_and(|r| r.other_route)
        };
        assert!(takes("news.example.com", "Outlook.COM"));
        assert!(!takes("notify.example.com", "outlook.com"));
        assert!(takes("news.example.com", "gmail.com"));
        assert!(!takes("shop.example.com", "gmail.com"));
        assert!(!takes("news.example.com", "example.net"));
    }
}
