//! Was it a person? The verdict on an open or a click, in plain rules (table-tested below).
//!
//! Most "opens" today are Apple Mail Privacy Protection fetching every image through Apple's
//! proxies, and many "clicks" are security scanners following every link seconds after
//! delivery. Every event is kept; the verdict says which ones count as a person, and why not.

use std::net::IpAddr;

use serde::Serialize;

/// Open or click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Open,
    Click,
}

/// What is known about one request.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    pub action: Action,
    /// A HEAD request: a link checker, never a browser following a link.
    pub head: bool,
    pub user_agent: &'a str,
    pub ip: Option<IpAddr>,
    /// Seconds between rendering (≈ sending) and this request.
    pub seconds_after_send: i64,
    /// Other links of the same delivery clicked within the burst window before this one.
    pub recent_other_clicks: usize,
}

/// Human, or machine with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    Human,
    Machine(String),
}

/// A network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (ip, prefix) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: expected address/prefix"))?;
        let net: IpAddr = ip.parse().map_err(|_| format!("{s:?}: bad address"))?;
        let prefix: u8 = prefix.parse().map_err(|_| format!("{s:?}: bad prefix"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(format!("{s:?}: prefix longer than {max}"));
        }
        Ok(Cidr { net, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v) => (u32::from(v) as u128, 32),
                IpAddr::V6(v) => match v.to_ipv4_mapped() {
                    Some(v4) => (u32::from(v4) as u128, 32),
                    None => (u128::from(v), 128),
                },
            }
        };
        let (a, wa) = bits(self.net);
        let (b, wb) = bits(ip);
        if wa != wb {
            return false;
        }
        if self.prefix == 0 {
            return true;
        }
        let shift = wa - self.prefix;
        (a >> shift) == (b >> shift)
    }
}

/// The thresholds and lists the rules use (`[tracking]` settings).
#[derive(Debug, Clone)]
pub struct Rules {
    /// Networks whose requests are proxies fetching for everyone (Apple MPP: 17.0.0.0/8).
    pub proxy_networks: Vec<Cidr>,
    /// A click this soon after sending is a scanner at the receiving gateway.
    pub min_click_seconds: i64,
    /// An open this soon after sending is a prefetch at the receiving gateway.
    pub min_open_seconds: i64,
    /// This many other links of the same message clicked just before: a scanner's burst.
    pub burst_clicks: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            proxy_networks: vec![Cidr {
                net: IpAddr::V4(std::net::Ipv4Addr::new(17, 0, 0, 0)),
                prefix: 8,
            }],
            min_click_seconds: 10,
            min_open_seconds: 2,
            burst_clicks: 2,
        }
    }
}

/// User-agent words of security scanners, link checkers, previewers and scripts.
const MACHINE_AGENTS: &[&str] = &[
    "barracuda",
    "mimecast",
    "proofpoint",
    "safelinks",
    "ironport",
    "cisco",
    "trendmicro",
    "trend micro",
    "symantec",
    "forcepoint",
    "sophos",
    "fireeye",
    "zscaler",
    "checkpoint",
    "fortinet",
    "hornetsecurity",
    "urlscan",
    "scanner",
    "bot",
    "crawler",
    "spider",
    "preview",
    "python-requests",
    "python-urllib",
    "curl/",
    "wget",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "headlesschrome",
    "phantomjs",
    "facebookexternalhit",
    "slackbot",
    "whatsapp",
];

/// The verdict on one request.
pub fn verdict(rules: &Rules, hit: &Hit<'_>) -> Verdict {
    let ua = hit.user_agent.trim();
    let lower = ua.to_ascii_lowercase();
    let machine = |r: &str| Verdict::Machine(r.to_string());
    if ua.is_empty() {
        return machine("no_user_agent");
    }
    if let Some(agent) = MACHINE_AGENTS.iter().find(|a| lower.contains(*a)) {
        return Verdict::Machine(format!("scanner_agent:{}", agent.trim_end_matches('/')));
    }
    match hit.action {
        Action::Open => {
            // Apple's proxy fetches every image of every message, read or not: it identifies as
            // a bare "Mozilla/5.0" and comes from Apple's network.
            if hit
                .ip
                .is_some_and(|ip| rules.proxy_networks.iter().any(|n| n.contains(ip)))
                || ua == "Mozilla/5.0"
            {
                return machine("apple_mpp");
            }
            if hit.seconds_after_send < rules.min_open_seconds {
                return machine("prefetch");
            }
            Verdict::Human
        }
        Action::Click => {
            if hit.head {
                return machine("head_request");
            }
            if hit.seconds_after_send < rules.min_click_seconds {
                return machine("too_soon_after_delivery");
            }
            if hit.recent_other_clicks >= rules.burst_clicks {
                return machine("burst_of_links");
            }
            Verdict::Human
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
    const OUTLOOK: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Microsoft Outlook 16.0.17928; ms-office; MSOffice 16)";

    fn hit(action: Action, ua: &str, ip: &str, secs: i64) -> Hit<'static> {
        Hit {
            action,
            head: false,
            user_agent: Box::leak(ua.to_string().into_boxed_str()),
            ip: ip.parse().ok(),
            seconds_after_send: secs,
            recent_other_clicks: 0,
        }
    }

    #[test]
    fn table() {
        use Action::*;
        let r = Rules::default();
        let m = |s: &str| Verdict::Machine(s.to_string());
        let cases: Vec<(Hit<'static>, Verdict)> = vec![
            (hit(Open, SAFARI, "198.51.100.7", 600), Verdict::Human),
            (hit(Open, OUTLOOK, "2001:db8::1", 600), Verdict::Human),
            (
                hit(Open, "Mozilla/5.0", "198.51.100.7", 600),
                m("apple_mpp"),
            ),
            (hit(Open, SAFARI, "17.58.1.2", 600), m("apple_mpp")),
            (hit(Open, SAFARI, "::ffff:17.58.1.2", 600), m("apple_mpp")),
            (hit(Open, SAFARI, "198.51.100.7", 1), m("prefetch")),
            (hit(Open, "", "198.51.100.7", 600), m("no_user_agent")),
            (
                hit(Open, "Barracuda Sentinel (EE)", "198.51.100.7", 600),
                m("scanner_agent:barracuda"),
            ),
            (hit(Click, SAFARI, "198.51.100.7", 600), Verdict::Human),
            (
                hit(Click, SAFARI, "198.51.100.7", 3),
                m("too_soon_after_delivery"),
            ),
            (
                hit(Click, "python-requests/2.31", "198.51.100.7", 600),
                m("scanner_agent:python-requests"),
            ),
            (
                hit(Click, "Go-http-client/1.1", "198.51.100.7", 600),
                m("scanner_agent:go-http-client"),
            ),
            // Apple's proxy network is about images; a click from there is a person on iCloud Private Relay.
            (hit(Click, SAFARI, "17.58.1.2", 600), Verdict::Human),
        ];
        for (h, want) in cases {
            assert_eq!(verdict(&r, &h), want, "{h:?}");
        }
        let mut head = hit(Click, SAFARI, "198.51.100.7", 600);
        head.head = true;
        assert_eq!(verdict(&r, &head), m("head_request"));
        let mut burst = hit(Click, SAFARI, "198.51.100.7", 600);
        burst.recent_other_clicks = 2;
        assert_eq!(verdict(&r, &burst), m("burst_of_links"));
    }

    #[test]
    fn cidr() {
        let n = Cidr::parse("17.0.0.0/8").expect("cidr");
        assert!(n.contains("17.255.0.1".parse().expect("ip")));
        assert!(!n.contains("18.0.0.1".parse().expect("ip")));
        let v6 = Cidr::parse("2a01:b740::/32").expect("cidr");
        assert!(v6.contains("2a01:b740:1::5".parse().expect("ip")));
        assert!(!v6.contains("17.0.0.1".parse().expect("ip")));
        assert!(Cidr::parse("1.2.3.4/33").is_err());
        assert!(Cidr::parse("nope").is_err());
        assert!(
            Cidr::parse("0.0.0.0/0")
                .expect("cidr")
                .contains("9.9.9.9".parse().expect("ip"))
        );
    }
}
