//! Connections open per client address: the one counter behind `[http]` and `[inbound]`
//! `max_connections_per_ip`, so a single address cannot take every slot of a listener.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The network a client is counted as: its IPv4 address, or the /64 of an IPv6 one (one host
/// usually holds a whole /64, so counting single IPv6 addresses would be no limit at all).
pub fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Open connections by client network ([`network`]).
#[derive(Debug, Default)]
pub struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One open connection of an address; the count goes down when it is dropped.
#[derive(Debug)]
pub struct AddressSlot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    /// A slot for a new connection from `ip`, unless `max` (0: no cap) are open already.
    pub fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<AddressSlot> {
        let ip = network(ip);
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip).or_insert(0);
        if max > 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            table: self.clone(),
            ip,
        })
    }

    /// Connections open from `ip`.
    pub fn open(&self, ip: IpAddr) -> usize {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&network(ip)).copied().unwrap_or(0)
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut map = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_address_and_given_back() {
        let t = Arc::new(PerAddress::default());
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let one = t.take(a, 2);
        let two = t.take(a, 2);
        assert!(one.is_some() && two.is_some());
        assert!(t.take(a, 2).is_none(), "capped");
        assert!(t.take(b, 2).is_some(), "per address");
        drop(one);
        assert_eq!(t.open(a), 1);
        assert!(t.take(a, 2).is_some(), "given back");
        assert!(t.take(a, 0).is_some(), "0: no cap");
        // One IPv6 host's /64 is one client.
        let v6 = |s: &str| s.parse::<IpAddr>().expect("ip");
        let _x = t.take(v6("2001:db8:1:2::1"), 1).expect("first");
        assert!(t.take(v6("2001:db8:1:2::ffff"), 1).is_none());
        assert!(t.take(v6("2001:db8:1:3::1"), 1).is_some());
    }
}
