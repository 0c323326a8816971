//! Connections per client address, capped (`[server] max_connections_per_address`): one host
//! opening connection after connection (trickling their headers, or never reading) cannot take
//! the slots every satellite shares. A connection over the cap is closed as soon as it is
//! accepted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use parking_lot::Mutex;

pub struct PerAddress {
    /// 0: no cap.
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection of an address; its place is given back when it is dropped.
pub struct Slot {
    owner: Arc<PerAddress>,
    address: IpAddr,
}

impl PerAddress {
    pub fn new(limit: usize) -> Arc<PerAddress> {
        Arc::new(PerAddress {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a new connection from `address`, unless it holds its limit already.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock();
        let count = open.entry(address).or_insert(0);
        if self.limit > 0 && *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Slot {
            owner: self.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock();
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_limit_and_gets_places_back() {
        let cap = PerAddress::new(2);
        let (one, other): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = cap.admit(one).unwrap();
        let _second = cap.admit(one).unwrap();
        assert!(cap.admit(one).is_none(), "a third is refused");
        assert!(cap.admit(other).is_some(), "another address is not");
        drop(first);
        assert!(cap.admit(one).is_some(), "a closed connection gives its place back");
        assert!(PerAddress::new(0).admit(one).is_some(), "0 is no cap");
    }
}
