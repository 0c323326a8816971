//! Sites, their stores, and the users who log in on them: the primary's directory, held in memory
//! and persisted by the storage layer.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::credentials::PasswordHash;
use super::ids::{SiteId, StoreKey};

/// A site registered on the primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    pub password: PasswordHash,
    /// The hardware id this site is bound to (`msupply-site-uuid`), set on first use.
    pub hardware_id: Option<String>,
    /// The stores this site hosts, ids as the operator gave them.
    pub stores: Vec<String>,
    /// Set by an operator: the site's satellite is refused (with a message it shows its user)
    /// until an operator enables it again. Its queue keeps filling meanwhile.
    #[serde(default)]
    pub disabled: bool,
}

/// A store: the unit that holds stock, hosted by exactly one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    pub id: String,
    pub name: String,
    pub code: String,
    /// The id of the `name` record that stands for this store (as a customer or supplier).
    pub name_id: String,
    pub site: SiteId,
    pub supplying_store_id: String,
    pub supplying_store_name_id: String,
}

/// A person who logs in on a satellite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub password: PasswordHash,
    pub stores: Vec<String>,
    pub is_admin: bool,
    /// Names from [`super::permissions`]; absent in users stored before permissions existed.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// One change of the directory, as the writer applies it: an operator's act comes to it as the
/// list of changes it makes, decided against the directory the writer holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirectoryChange {
    /// A new site, or new values for one (its queue is the writer's business).
    PutSite(Site),
    /// A site and everything the directory holds for it: the stores it hosts.
    RemoveSite(SiteId),
    PutStore(Store),
    PutUser(User),
    /// A new operator of the admin API, or one with a new token.
    PutOperator(Operator),
}

/// A person who administers the primary through its admin API: never a site or a satellite
/// user (their credentials open nothing there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub name: String,
    /// Of the plain password, as [`PasswordHash::from_password`] keeps it.
    pub password: PasswordHash,
    /// Of the secret part of each bearer token issued to the operator (see [`Operator::token`]).
    #[serde(default)]
    pub tokens: Vec<PasswordHash>,
}

impl Operator {
    /// The bearer token text for a secret: the operator's name, a dot, the secret. The name
    /// tells whose tokens to check; only the secret's hash is kept.
    pub fn token(&self, secret: &str) -> String {
        format!("{}.{secret}", self.name)
    }

    /// (operator name, secret) of a bearer token's text.
    pub fn split_token(token: &str) -> Option<(&str, &str)> {
        token
            .rsplit_once('.')
            .filter(|(name, secret)| !name.is_empty() && !secret.is_empty())
    }
}

impl Site {
    #[cfg(test)]
    pub fn for_test(id: SiteId, stores: &[&str]) -> Site {
        Site {
            id,
            name: format!("site{}", id.0),
            password: PasswordHash::from_password("test"),
            hardware_id: None,
            stores: stores.iter().map(|s| s.to_string()).collect(),
            disabled: false,
        }
    }
}

impl Store {
    #[cfg(test)]
    pub fn for_test(id: &str, site: SiteId) -> Store {
        Store {
            id: id.to_string(),
            name: format!("store {id}"),
            code: id.to_string(),
            name_id: format!("NAME-{id}"),
            site,
            supplying_store_id: String::new(),
            supplying_store_name_id: String::new(),
        }
    }
}

/// Every site, store and user, with the lookups the sync layer needs.
#[derive(Debug, Clone)]
pub struct Directory {
    primary: SiteId,
    sites: HashMap<SiteId, Site>,
    site_names: HashMap<String, SiteId>,
    stores: HashMap<StoreKey, Store>,
    store_by_name_id: HashMap<String, StoreKey>,
    users: HashMap<String, User>,
    operators: HashMap<String, Operator>,
}

impl Directory {
    pub fn new(primary: SiteId) -> Directory {
        Directory {
            primary,
            sites: HashMap::new(),
            site_names: HashMap::new(),
            stores: HashMap::new(),
            store_by_name_id: HashMap::new(),
            users: HashMap::new(),
            operators: HashMap::new(),
        }
    }

    pub fn primary(&self) -> SiteId {
        self.primary
    }

    pub fn put_site(&mut self, site: Site) {
        if let Some(old) = self.sites.get(&site.id) {
            self.site_names.remove(&old.name);
        }
        self.site_names.insert(site.name.clone(), site.id);
        self.sites.insert(site.id, site);
    }

    pub fn put_store(&mut self, store: Store) {
        let key = StoreKey::new(&store.id);
        if !store.name_id.is_empty() {
            self.store_by_name_id
                .insert(crate::domain::ids::key_form(&store.name_id), key.clone());
        }
        self.stores.insert(key, store);
    }

    pub fn put_user(&mut self, user: User) {
        self.users.insert(user.name.clone(), user);
    }

    /// Removes a site and the stores it hosts.
    pub fn remove_site(&mut self, id: SiteId) -> Option<Site> {
        let site = self.sites.remove(&id)?;
        self.site_names.remove(&site.name);
        for store in &site.stores {
            if let Some(gone) = self.stores.remove(&StoreKey::new(store)) {
                self.store_by_name_id
                    .remove(&crate::domain::ids::key_form(&gone.name_id));
            }
        }
        Some(site)
    }

    /// Applies one change, as the writer does once it is durable.
    pub fn apply(&mut self, change: &DirectoryChange) {
        match change {
            DirectoryChange::PutSite(site) => self.put_site(site.clone()),
            DirectoryChange::RemoveSite(id) => drop(self.remove_site(*id)),
            DirectoryChange::PutStore(store) => self.put_store(store.clone()),
            DirectoryChange::PutUser(user) => self.put_user(user.clone()),
            DirectoryChange::PutOperator(operator) => self.put_operator(operator.clone()),
        }
    }

    /// Every store, in no particular order.
    pub fn stores(&self) -> impl Iterator<Item = &Store> {
        self.stores.values()
    }

    /// Every user, in no particular order.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    pub fn site(&self, id: SiteId) -> Option<&Site> {
        self.sites.get(&id)
    }

    pub fn site_named(&self, name: &str) -> Option<&Site> {
        self.site_names.get(name).and_then(|id| self.sites.get(id))
    }

    pub fn sites(&self) -> impl Iterator<Item = &Site> {
        self.sites.values()
    }

    /// Every site except the primary.
    pub fn satellites(&self) -> impl Iterator<Item = SiteId> + '_ {
        self.sites.keys().copied().filter(move |id| *id != self.primary)
    }

    pub fn store(&self, id: &str) -> Option<&Store> {
        self.stores.get(&StoreKey::new(id))
    }

    pub fn site_of_store(&self, store: &StoreKey) -> Option<SiteId> {
        self.stores.get(store).map(|s| s.site)
    }

    pub fn store_with_name_id(&self, name_id: &str) -> Option<&StoreKey> {
        self.store_by_name_id.get(&crate::domain::ids::key_form(name_id))
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    pub fn put_operator(&mut self, operator: Operator) {
        self.operators.insert(operator.name.clone(), operator);
    }

    pub fn operator(&self, name: &str) -> Option<&Operator> {
        self.operators.get(name)
    }

    /// Every operator, in no particular order.
    pub fn operators(&self) -> impl Iterator<Item = &Operator> {
        self.operators.values()
    }

    /// The store keys a site hosts.
    pub fn store_keys_of(&self, site: SiteId) -> Vec<StoreKey> {
        self.sites
            .get(&site)
            .map(|s| s.stores.iter().map(|id| StoreKey::new(id)).collect())
            .unwrap_or_default()
    }
}
