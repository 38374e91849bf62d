//! Connections open per client address: the one counter behind `[http]` and `[inbound]`
//! `max_connections_per_ip`, so a single address cannot take every slot of a listener.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Open connections by client address.
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
        map.get(&ip).copied().unwrap_or(0)
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
    }
}
