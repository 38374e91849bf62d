//! Who the client is, behind reverse proxies (`[http] trust_forwarded_for`, `trusted_proxies`).
//!
//! Each proxy appends the address it saw to `X-Forwarded-For`; everything to the left of that
//! was written by the client and proves nothing. So the client is the rightmost address that
//! is not one of our proxies, never the leftmost (with which a forged Apple address once
//! recorded an open as a machine's).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use herald_engine::feedback::engagement::Cidr;

/// How the client address is found.
#[derive(Debug, Clone, Default)]
pub struct ClientIp {
    /// Read `X-Forwarded-For` (Herald is behind a reverse proxy).
    pub trust_forwarded: bool,
    /// Our proxies. Empty: the direct peer is the one proxy. Otherwise a peer outside these
    /// is a client that came around the proxies, and its header is ignored.
    pub trusted_proxies: Vec<Cidr>,
}

impl ClientIp {
    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }

    /// The client's address for a request from `peer`.
    pub fn of(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.ip();
        if !self.trust_forwarded || (!self.trusted_proxies.is_empty() && !self.trusted(peer)) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop that is not an address was written by someone we do not trust: stop at
            // the last address our own proxies vouched for.
            // Some balancers write the port too: `203.0.113.9:51234`, `[2001:db8::1]:443`.
            let parsed = hop
                .parse::<IpAddr>()
                .ok()
                .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
                .or_else(|| {
                    hop.strip_prefix('[')
                        .and_then(|h| h.strip_suffix(']'))
                        .and_then(|h| h.parse().ok())
                });
            let Some(ip) = parsed else {
                break;
            };
            client = ip;
            if !self.trusted(ip) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().expect("header"));
        }
        h
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let peer: SocketAddr = "10.0.0.5:4000".parse().expect("addr");
        let direct = ClientIp::default();
        assert_eq!(
            direct.of(peer, &headers(&["17.1.2.3"])).to_string(),
            "10.0.0.5",
            "not behind a proxy: the header is ignored"
        );
        let one = ClientIp {
            trust_forwarded: true,
            trusted_proxies: Vec::new(),
        };
        // The client wrote 17.1.2.3 (an Apple proxy); the proxy appended what it saw.
        assert_eq!(
            one.of(peer, &headers(&["17.1.2.3, 203.0.113.9"]))
                .to_string(),
            "203.0.113.9"
        );
        assert_eq!(
            one.of(peer, &headers(&["17.1.2.3", "203.0.113.9"]))
                .to_string(),
            "203.0.113.9",
            "several header lines read as one list"
        );
        assert_eq!(one.of(peer, &headers(&[])).to_string(), "10.0.0.5");
        assert_eq!(
            one.of(peer, &headers(&["17.1.2.3, 203.0.113.9:51234"]))
                .to_string(),
            "203.0.113.9",
            "with a port"
        );
        assert_eq!(
            one.of(peer, &headers(&["[2001:db8::7]:443"])).to_string(),
            "2001:db8::7"
        );
        let chain = ClientIp {
            trust_forwarded: true,
            trusted_proxies: vec![Cidr::parse("10.0.0.0/8").expect("cidr")],
        };
        assert_eq!(
            chain
                .of(peer, &headers(&["17.1.2.3, 203.0.113.9, 10.1.1.1"]))
                .to_string(),
            "203.0.113.9"
        );
        assert_eq!(
            chain.of(peer, &headers(&["garbage, 10.1.1.1"])).to_string(),
            "10.1.1.1"
        );
        let outsider: SocketAddr = "198.51.100.1:4000".parse().expect("addr");
        assert_eq!(
            chain.of(outsider, &headers(&["17.1.2.3"])).to_string(),
            "198.51.100.1",
            "a peer that is not our proxy cannot speak for others"
        );
    }
}
