//! What each satellite should hold, and what it holds: an order-independent digest (count and
//! wrapping sum of a hash of table, id and data bytes), computed for the expectation from the
//! data set generator (which says whom each record is meant for) and for the satellite from
//! what it received. Equal digests mean nothing lost, nothing twice, nothing altered. The
//! expectation is of the data as it arrives over the API driven (v1 carries text only: see
//! [`crate::formats::as_received`]), so that like is compared with like.

use std::hash::{DefaultHasher, Hash, Hasher};

use satsync::admin::dataset::{generate, DatasetSpec, Intended};

use crate::formats::{as_received, Api};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Digest {
    pub records: u64,
    pub sum: u64,
}

impl Digest {
    pub fn add(&mut self, table: &str, id: &str, data: &str) {
        let mut hasher = DefaultHasher::new();
        (table, id, data).hash(&mut hasher);
        self.records += 1;
        self.sum = self.sum.wrapping_add(hasher.finish());
    }

    pub fn plus(self, other: Digest) -> Digest {
        Digest {
            records: self.records + other.records,
            sum: self.sum.wrapping_add(other.sum),
        }
    }
}

/// Expected holdings of every site of the data set.
pub struct Expected {
    central: Digest,
    stores: Vec<Digest>,
    api: Api,
}

impl Expected {
    pub fn of(spec: &DatasetSpec, api: Api) -> Expected {
        let mut expected = Expected {
            central: Digest::default(),
            stores: vec![Digest::default(); spec.sites],
            api,
        };
        generate(spec, |g| {
            let data = as_received(api, g.table, g.data);
            match g.intended {
                Intended::Central => expected.central.add(g.table, g.id, &data),
                Intended::Store(n) => expected.stores[n].add(g.table, g.id, &data),
            }
        });
        expected
    }

    /// Everything site number `n` should hold after a full initial dump.
    pub fn site(&self, n: usize) -> Digest {
        self.central.plus(self.stores[n])
    }

    /// How many records site number `n`'s initial dump queues: all it should hold, but over v5
    /// its stores' only (open-mSupply reads central data from the central feed).
    pub fn queued(&self, n: usize) -> u64 {
        match self.api {
            Api::V5 => self.stores[n].records,
            Api::V1 | Api::V3 => self.site(n).records,
        }
    }
}
