//! Wakes the `load` calls waiting on a patient when something about it changed. Waiting holds no
//! thread: a waiter awaits a watch channel of its patient, and every committed change of that
//! patient bumps it. A change that lands between a waiter's read and its wait is not missed:
//! the receiver is taken before the read, so it sees the bump as unseen.

use std::collections::HashMap;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::patient::ids::Jpid;

#[derive(Default)]
pub struct Waiters {
    channels: Mutex<HashMap<Jpid, watch::Sender<u64>>>,
}

impl Waiters {
    /// A receiver that sees every change of `jpid` committed after this call.
    pub fn subscribe(&self, jpid: &Jpid) -> watch::Receiver<u64> {
        let mut channels = self.channels.lock();
        match channels.get(jpid) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = watch::channel(0);
                channels.insert(jpid.clone(), sender);
                receiver
            }
        }
    }

    /// Wakes whoever waits on `jpid`; forgets the channel once nobody does, so the map holds
    /// only the patients being waited on.
    pub fn notify(&self, jpid: &Jpid) {
        let mut channels = self.channels.lock();
        if let Some(sender) = channels.get(jpid) {
            if sender.receiver_count() == 0 {
                channels.remove(jpid);
            } else {
                sender.send_modify(|version| *version += 1);
            }
        }
    }
}

impl Waiters {
    /// Wakes every waiter (they read their patient again): for changes that came through a
    /// cluster's log, whose patients this instance does not know without reading them.
    pub fn notify_all(&self) {
        let mut channels = self.channels.lock();
        channels.retain(|_, sender| sender.receiver_count() > 0);
        for sender in channels.values() {
            sender.send_modify(|version| *version += 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_after_subscribing_wakes_the_waiter_and_idle_channels_are_dropped() {
        let waiters = Waiters::default();
        let jpid = Jpid::generate();
        let mut receiver = waiters.subscribe(&jpid);
        waiters.notify(&jpid);
        tokio::time::timeout(std::time::Duration::from_secs(1), receiver.changed())
            .await
            .expect("woken")
            .expect("sender alive");
        drop(receiver);
        waiters.notify(&jpid);
        assert!(waiters.channels.lock().is_empty());
    }
}
