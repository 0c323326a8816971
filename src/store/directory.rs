//! The directory (sites, stores, users), the satellites' queue states and the skip log.

use rocksdb::IteratorMode;

use super::backend::{DirectoryReads, DirectoryWrites};
use super::{cf, corrupt, keys, Batch, Result, Storage};
use crate::domain::directory::{Directory, Operator, Site, Store, User};
use crate::domain::ids::SiteId;

impl DirectoryReads for Storage {
    fn load_directory(&self, primary: SiteId) -> Result<Directory> {
        let mut directory = Directory::new(primary);
        for item in self.db.iterator_cf(self.cf(cf::DIRECTORY), IteratorMode::Start) {
            let (key, value) = item?;
            let bad = |what: &str| corrupt(cf::DIRECTORY, what);
            match key.first() {
                Some(&keys::DIRECTORY_SITE) => {
                    directory.put_site(serde_json::from_slice::<Site>(&value).map_err(|_| bad("site"))?)
                }
                Some(&keys::DIRECTORY_STORE) => {
                    directory.put_store(serde_json::from_slice::<Store>(&value).map_err(|_| bad("store"))?)
                }
                Some(&keys::DIRECTORY_USER) => {
                    directory.put_user(serde_json::from_slice::<User>(&value).map_err(|_| bad("user"))?)
                }
                Some(&keys::DIRECTORY_OPERATOR) => {
                    directory.put_operator(serde_json::from_slice::<Operator>(&value).map_err(|_| bad("operator"))?)
                }
                _ => return Err(bad("unknown key kind")),
            }
        }
        Ok(directory)
    }

    fn site_queue(&self, site: SiteId) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get_cf(self.cf(cf::SITE_QUEUES), keys::site_queue_key(site))?)
    }

    fn site_queues(&self) -> Result<Vec<(SiteId, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(cf::SITE_QUEUES), IteratorMode::Start) {
            let (key, value) = item?;
            let site = keys::parse_site_queue_key(&key).ok_or_else(|| corrupt(cf::SITE_QUEUES, "key"))?;
            out.push((site, value.to_vec()));
        }
        Ok(out)
    }

    fn site_healths(&self) -> Result<Vec<(SiteId, Vec<u8>)>> {
        let mut out = Vec::new();
        self.scan_prefix(cf::META, &keys::site_health_prefix(), |key, value| {
            let site = keys::parse_site_health_key(key).ok_or_else(|| corrupt(cf::META, "site health key"))?;
            out.push((site, value.to_vec()));
            Ok(())
        })?;
        Ok(out)
    }

    fn skips(&self, site: SiteId) -> Result<Vec<String>> {
        let mut entries = Vec::new();
        self.scan_prefix(cf::META, &keys::skip_prefix(site), |_, value| {
            entries.push(String::from_utf8(value.to_vec()).map_err(|_| corrupt(cf::META, "skip log entry"))?);
            Ok(())
        })?;
        Ok(entries)
    }
}

impl DirectoryWrites for Batch<'_> {
    /// Keyed by [`keys::skip_key`].
    fn put_skip(&mut self, site: SiteId, at_micros: u64, entry: &str) {
        self.put(cf::META, keys::skip_key(site, at_micros), entry);
    }

    fn put_site_queue(&mut self, site: SiteId, state: &[u8]) {
        self.put(cf::SITE_QUEUES, keys::site_queue_key(site), state);
    }

    fn put_site(&mut self, site: &Site) {
        self.put(
            cf::DIRECTORY,
            keys::site_key(site.id),
            serde_json::to_vec(site).expect("sites serialise"),
        );
    }

    fn put_store(&mut self, store: &Store) {
        self.put(
            cf::DIRECTORY,
            keys::store_key(&store.id),
            serde_json::to_vec(store).expect("stores serialise"),
        );
    }

    fn put_user(&mut self, user: &User) {
        self.put(
            cf::DIRECTORY,
            keys::user_key(&user.name),
            serde_json::to_vec(user).expect("users serialise"),
        );
    }

    fn put_operator(&mut self, operator: &Operator) {
        self.put(
            cf::DIRECTORY,
            keys::operator_key(&operator.name),
            serde_json::to_vec(operator).expect("operators serialise"),
        );
    }

    fn delete_site(&mut self, site: SiteId) {
        self.delete(cf::DIRECTORY, keys::site_key(site));
        self.delete(cf::SITE_QUEUES, keys::site_queue_key(site));
        self.delete(cf::META, keys::site_health_key(site));
    }

    fn delete_store(&mut self, store_id: &str) {
        self.delete(cf::DIRECTORY, keys::store_key(store_id));
    }

    fn put_site_health(&mut self, site: SiteId, health: &[u8]) {
        self.put(cf::META, keys::site_health_key(site), health);
    }
}
