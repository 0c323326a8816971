//! Sites, stores and users.

use super::{AdminError, Result};
use crate::domain::credentials::PasswordHash;
use crate::domain::directory::{Site, Store, User};
use crate::domain::ids::{new_hex_id, SiteId};
use crate::store::Storage;
use crate::sync::site_queue::{ClientKind, SiteQueue};

/// Registers a satellite. Its queue starts at the current end of the log: it receives changes
/// from now on, and everything else through `initial_dump`.
pub fn add_site(storage: &Storage, primary: SiteId, name: &str, password: &str, id: Option<u32>) -> Result<Site> {
    let directory = storage.load_directory(primary)?;
    if name.is_empty() || name.contains(':') {
        return Err(AdminError::Invalid(
            "a site name must be non-empty and must not contain ':'".into(),
        ));
    }
    if directory.site_named(name).is_some() {
        return Err(AdminError::Invalid(format!("a site named {name} exists already")));
    }
    let next_free = directory.sites().map(|s| s.id.0).chain([primary.0]).max().unwrap_or(1) + 1;
    let id = SiteId(id.unwrap_or(next_free));
    if id == primary || directory.site(id).is_some() {
        return Err(AdminError::Invalid(format!("site id {id} is taken")));
    }
    let site = Site {
        id,
        name: name.to_string(),
        password: PasswordHash::from_password(password),
        hardware_id: None,
        stores: Vec::new(),
    };
    let mut batch = storage.batch();
    batch.put_site(&site);
    batch.put_site_queue(id, &SiteQueue::starting_at(storage.next_seq()? - 1).encode());
    storage.commit(batch)?;
    Ok(site)
}

fn update_site(storage: &Storage, primary: SiteId, name: &str, change: impl FnOnce(&mut Site)) -> Result<Site> {
    let directory = storage.load_directory(primary)?;
    let mut site = directory
        .site_named(name)
        .cloned()
        .ok_or_else(|| AdminError::Invalid(format!("no site named {name}")))?;
    change(&mut site);
    let mut batch = storage.batch();
    batch.put_site(&site);
    storage.commit(batch)?;
    Ok(site)
}

/// Declares which client a site runs before it first syncs (an open-mSupply site builds its own
/// half of transfers, so those sent to its stores are routed to it as they are, never generated
/// as a mobile half). A site's calls still tell the primary later: the first sync with another
/// client changes it.
pub fn declare_client(storage: &Storage, primary: SiteId, name: &str, client: ClientKind) -> Result<Site> {
    let directory = storage.load_directory(primary)?;
    let site = directory
        .site_named(name)
        .cloned()
        .ok_or_else(|| AdminError::Invalid(format!("no site named {name}")))?;
    let mut queue = site_queue(storage, site.id)?;
    queue.client = client;
    let mut batch = storage.batch();
    batch.put_site_queue(site.id, &queue.encode());
    storage.commit(batch)?;
    Ok(site)
}

/// The client each site was declared or last seen with.
pub fn site_client(storage: &Storage, site: SiteId) -> Result<ClientKind> {
    Ok(site_queue(storage, site)?.client)
}

fn site_queue(storage: &Storage, site: SiteId) -> Result<SiteQueue> {
    let bytes = storage
        .site_queue(site)?
        .ok_or_else(|| AdminError::Invalid(format!("site {site} has no queue")))?;
    SiteQueue::decode(&bytes).ok_or_else(|| AdminError::Invalid(format!("the queue of site {site} cannot be read")))
}

/// Forgets a site's hardware binding, so that the next machine to log in binds it again.
pub fn reset_hardware(storage: &Storage, primary: SiteId, name: &str) -> Result<Site> {
    update_site(storage, primary, name, |site| site.hardware_id = None)
}

pub fn set_password(storage: &Storage, primary: SiteId, name: &str, password: &str) -> Result<Site> {
    update_site(storage, primary, name, |site| {
        site.password = PasswordHash::from_password(password)
    })
}

pub fn list_sites(storage: &Storage, primary: SiteId) -> Result<Vec<Site>> {
    let mut sites: Vec<Site> = storage.load_directory(primary)?.sites().cloned().collect();
    sites.sort_by_key(|s| s.id);
    Ok(sites)
}

/// What `store add` needs.
pub struct NewStore<'a> {
    pub id: Option<&'a str>,
    pub name: &'a str,
    pub code: &'a str,
    pub name_id: Option<&'a str>,
    pub site: &'a str,
    pub supplying_store_id: &'a str,
}

/// Adds a store to a site (a store lives on exactly one site).
pub fn add_store(storage: &Storage, primary: SiteId, new: NewStore<'_>) -> Result<Store> {
    let directory = storage.load_directory(primary)?;
    let mut site = directory
        .site_named(new.site)
        .cloned()
        .ok_or_else(|| AdminError::Invalid(format!("no site named {}", new.site)))?;
    let id = new.id.map(str::to_string).unwrap_or_else(new_hex_id);
    if let Some(existing) = directory.store(&id) {
        return Err(AdminError::Invalid(format!(
            "store {id} exists already, on site {}",
            existing.site
        )));
    }
    let supplying = directory.store(new.supplying_store_id);
    let store = Store {
        id: id.clone(),
        name: new.name.to_string(),
        code: new.code.to_string(),
        name_id: new.name_id.map(str::to_string).unwrap_or_else(new_hex_id),
        site: site.id,
        supplying_store_id: supplying.map(|s| s.id.clone()).unwrap_or_default(),
        supplying_store_name_id: supplying.map(|s| s.name_id.clone()).unwrap_or_default(),
    };
    site.stores.push(id);
    let mut batch = storage.batch();
    batch.put_store(&store);
    batch.put_site(&site);
    storage.commit(batch)?;
    Ok(store)
}

/// Adds (or replaces) a user who may log in to `stores`.
pub fn add_user(
    storage: &Storage,
    primary: SiteId,
    name: &str,
    password: &str,
    stores: &[String],
    is_admin: bool,
    permissions: &[String],
) -> Result<User> {
    let directory = storage.load_directory(primary)?;
    for permission in permissions {
        if !crate::domain::permissions::ALL.contains(&permission.as_str()) {
            return Err(AdminError::Invalid(format!(
                "no permission {permission} (known: {})",
                crate::domain::permissions::ALL.join(", ")
            )));
        }
    }
    for store in stores {
        if directory.store(store).is_none() {
            return Err(AdminError::Invalid(format!("no store {store}")));
        }
    }
    let id = directory.user(name).map(|u| u.id.clone()).unwrap_or_else(new_hex_id);
    let user = User {
        id,
        name: name.to_string(),
        password: PasswordHash::from_password(password),
        stores: stores.to_vec(),
        is_admin,
        permissions: permissions.to_vec(),
    };
    let mut batch = storage.batch();
    batch.put_user(&user);
    storage.commit(batch)?;
    Ok(user)
}
