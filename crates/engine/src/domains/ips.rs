//! The sending IPs as receivers see them: reverse DNS (PTR), whether it is forward-confirmed
//! (the PTR name resolves back to the IP), and listings on DNS blocklists. Receivers like Gmail
//! and Microsoft reject or junk mail from IPs without forward-confirmed reverse DNS, and a
//! blocklist listing explains "delivered to nobody" better than anything else.

use std::net::IpAddr;

use hickory_resolver::TokioResolver;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IpReport {
    pub ip: IpAddr,
    /// PTR names, or empty when there is none.
    pub ptr: Vec<String>,
    /// A PTR name resolves back to this IP.
    pub fcrdns: bool,
    /// Blocklist zones that list this IP.
    pub listed_on: Vec<String>,
    /// Lookups that failed (so a "not listed" is not over-trusted).
    pub errors: Vec<String>,
}

/// The addresses this machine would send from when no sending IPs are configured: for IPv4
/// and IPv6, the local address of a UDP socket connected towards a documentation address
/// (RFC 5737 / RFC 3849). Connecting a UDP socket only consults the routing table — no packet
/// is sent. Loopback and unspecified answers (no route) are left out.
pub fn egress_ips() -> Vec<IpAddr> {
    let probe = |bind: &str, towards: &str| -> Option<IpAddr> {
        let s = std::net::UdpSocket::bind(bind).ok()?;
        s.connect(towards).ok()?;
        let ip = s.local_addr().ok()?.ip();
        (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
    };
    [
        probe("0.0.0.0:0", "192.0.2.1:25"),
        probe("[::]:0", "[2001:db8::1]:25"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The DNSBL query name: reversed address labels under the zone (RFC 5782).
pub fn dnsbl_name(ip: IpAddr, zone: &str) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.{zone}", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let nibbles: Vec<String> = v6
                .octets()
                .iter()
                .rev()
                .flat_map(|b| [format!("{:x}", b & 0xf), format!("{:x}", b >> 4)])
                .collect();
            format!("{}.{zone}", nibbles.join("."))
        }
    }
}

/// Check one sending IP.
pub async fn check_ip(r: &TokioResolver, ip: IpAddr, dnsbl_zones: &[String]) -> IpReport {
    let mut report = IpReport {
        ip,
        ptr: Vec::new(),
        fcrdns: false,
        listed_on: Vec::new(),
        errors: Vec::new(),
    };
    // Note: hickory answers reverse names under 127.in-addr.arpa itself ("localhost",
    // RFC 6761), so loopback sending IPs always show that.
    match r.reverse_lookup(ip).await {
        Ok(l) => {
            report.ptr = l
                .answers()
                .iter()
                .filter_map(|rec| match &rec.data {
                    hickory_resolver::proto::rr::RData::PTR(p) => {
                        Some(p.0.to_utf8().trim_end_matches('.').to_string())
                    }
                    _ => None,
                })
                .collect();
        }
        Err(e) if e.is_nx_domain() || e.is_no_records_found() => {}
        Err(e) => report.errors.push(format!("PTR lookup: {e}")),
    }
    for name in report.ptr.clone() {
        match r.lookup_ip(format!("{name}.").as_str()).await {
            Ok(l) if l.iter().any(|a| a == ip) => report.fcrdns = true,
            Ok(_) => {}
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => {}
            Err(e) => report.errors.push(format!("forward lookup of {name}: {e}")),
        }
    }
    for zone in dnsbl_zones {
        let q = dnsbl_name(ip, zone);
        match r.lookup_ip(format!("{q}.").as_str()).await {
            // Listings answer 127.0.0.x (RFC 5782 §2.1).
            Ok(l)
                if l.iter()
                    .any(|a| matches!(a, IpAddr::V4(v) if v.octets()[0] == 127)) =>
            {
                report.listed_on.push(zone.clone())
            }
            Ok(_) => {}
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => {}
            Err(e) => report.errors.push(format!("{zone}: {e}")),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dnsbl_names() {
        assert_eq!(
            dnsbl_name("192.0.2.99".parse().unwrap(), "zen.example"),
            "99.2.0.192.zen.example"
        );
        let v6 = dnsbl_name("2001:db8::1".parse().unwrap(), "bl.example");
        assert!(
            v6.starts_with("1.0.0.0.0.0.0.0") && v6.ends_with("8.b.d.0.1.0.0.2.bl.example"),
            "{v6}"
        );
    }
}
