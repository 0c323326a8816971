//! Sites, stores and users.

use super::{AdminError, Result};
use crate::domain::credentials::PasswordHash;
use crate::domain::directory::{Directory, DirectoryChange, Site, Store, User};
use crate::domain::ids::{new_hex_id, SiteId};
use crate::store::{Database, DirectoryReads, DirectoryWrites, LogReads};
use crate::sync::directory_changes::{added_site, write_change};
use crate::sync::site_queue::{ClientKind, SiteQueue};

/// Runs an operator's act on the database while no server runs: `plan` decides the changes
/// against the stored directory, and they are written as the writer writes them (a new site's
/// queue starting at the current end of the log: it receives changes from now on, and
/// everything else through `initial_dump`). With a server running, the admin API hands the same
/// plans to its writer.
pub fn change_offline(
    storage: &Database,
    primary: SiteId,
    plan: impl FnOnce(&Directory) -> Result<Vec<DirectoryChange>>,
) -> Result<Vec<DirectoryChange>> {
    let mut directory = storage.load_directory(primary)?;
    let changes = plan(&directory)?;
    let start = SiteQueue::starting_at(storage.next_seq()? - 1).encode();
    let mut batch = storage.batch();
    for change in &changes {
        write_change(&mut batch, &directory, change);
        if let Some(site) = added_site(&directory, change) {
            batch.put_site_queue(site, &start);
        }
        directory.apply(change);
    }
    storage.commit(batch)?;
    Ok(changes)
}

/// A new satellite site, with no store yet.
pub fn plan_add_site(
    directory: &Directory,
    name: &str,
    password: PasswordHash,
    id: Option<u32>,
) -> Result<Vec<DirectoryChange>> {
    check_site_name(directory, name)?;
    let id = SiteId(id.unwrap_or_else(|| next_free_site_id(directory)));
    if id == directory.primary() || directory.site(id).is_some() {
        return Err(AdminError::Invalid(format!("site id {id} is taken")));
    }
    Ok(vec![DirectoryChange::PutSite(Site {
        id,
        name: name.to_string(),
        password,
        hardware_id: None,
        stores: Vec::new(),
        disabled: false,
    })])
}

/// The satellite site named `name`, changed by `change`.
pub fn plan_change_site(
    directory: &Directory,
    name: &str,
    change: impl FnOnce(&mut Site),
) -> Result<Vec<DirectoryChange>> {
    let mut site = satellite_named(directory, name)?.clone();
    change(&mut site);
    Ok(vec![DirectoryChange::PutSite(site)])
}

/// Removes the satellite site named `name` and the stores it hosts from the directory, with its
/// queue. Its records stay in the log (they are the country's data), and its skip log stays.
pub fn plan_remove_site(directory: &Directory, name: &str) -> Result<Vec<DirectoryChange>> {
    Ok(vec![DirectoryChange::RemoveSite(satellite_named(directory, name)?.id)])
}

/// A store added to the site `new` names (a store lives on exactly one site).
pub fn plan_add_store(directory: &Directory, new: &NewStore<'_>) -> Result<Vec<DirectoryChange>> {
    let mut site = satellite_named(directory, new.site)?.clone();
    let store = new_store(directory, site.id, new)?;
    site.stores.push(store.id.clone());
    Ok(vec![DirectoryChange::PutStore(store), DirectoryChange::PutSite(site)])
}

/// A user (new, or replacing the one of that name, whose id it keeps) who may log in to `stores`.
pub fn plan_put_user(
    directory: &Directory,
    name: &str,
    password: PasswordHash,
    stores: &[String],
    is_admin: bool,
    permissions: &[String],
) -> Result<Vec<DirectoryChange>> {
    if name.is_empty() {
        return Err(AdminError::Invalid("a user name must be non-empty".into()));
    }
    check_permissions(permissions)?;
    for store in stores {
        if directory.store(store).is_none() {
            return Err(AdminError::Invalid(format!("no store {store}")));
        }
    }
    let id = directory.user(name).map(|u| u.id.clone()).unwrap_or_else(new_hex_id);
    Ok(vec![DirectoryChange::PutUser(User {
        id,
        name: name.to_string(),
        password,
        stores: stores.to_vec(),
        is_admin,
        permissions: permissions.to_vec(),
    })])
}

/// The satellite site named `name` (not the primary's own).
pub fn satellite_named<'d>(directory: &'d Directory, name: &str) -> Result<&'d Site> {
    directory
        .site_named(name)
        .filter(|site| site.id != directory.primary())
        .ok_or_else(|| AdminError::Invalid(format!("no site named {name}")))
}

/// The site a plan put.
pub fn put_site(changes: Vec<DirectoryChange>) -> Site {
    changes
        .into_iter()
        .find_map(|change| match change {
            DirectoryChange::PutSite(site) => Some(site),
            _ => None,
        })
        .expect("the plan puts a site")
}

/// The store a plan put.
pub fn put_store(changes: Vec<DirectoryChange>) -> Store {
    changes
        .into_iter()
        .find_map(|change| match change {
            DirectoryChange::PutStore(store) => Some(store),
            _ => None,
        })
        .expect("the plan puts a store")
}

/// The user a plan put.
pub fn put_user(changes: Vec<DirectoryChange>) -> User {
    changes
        .into_iter()
        .find_map(|change| match change {
            DirectoryChange::PutUser(user) => Some(user),
            _ => None,
        })
        .expect("the plan puts a user")
}

/// Registers a satellite site (offline).
pub fn add_site(storage: &Database, primary: SiteId, name: &str, password: &str, id: Option<u32>) -> Result<Site> {
    let password = PasswordHash::from_password(password);
    let changes = change_offline(storage, primary, |d| plan_add_site(d, name, password, id))?;
    Ok(put_site(changes))
}

/// A satellite as it is set up in one go: a site, the one store it hosts, and a user of that
/// store. Ids left out are chosen (the next free site id, new hex ids).
#[derive(Debug, Clone, Copy)]
pub struct NewSatellite<'a> {
    pub site_name: &'a str,
    pub site_password: &'a str,
    pub site_id: Option<u32>,
    /// Its `site` is `site_name`; its supplier a store that exists or one of an earlier
    /// satellite of the same call.
    pub store: NewStore<'a>,
    pub user_name: &'a str,
    pub user_password: &'a str,
    pub permissions: &'a [String],
}

/// What [`add_satellites`] registered for one satellite.
#[derive(Debug, Clone)]
pub struct Satellite {
    pub site: Site,
    pub store: Store,
    pub user: User,
}

/// Registers satellites, each a site hosting one store with one user of it, in one write: the
/// demo, the standard data set and the tests all set satellites up this way. Each is checked as
/// `site add`, `store add` and `user add` check theirs, against the directory and the satellites
/// before it in `news`; nothing is written unless every one is valid. Their queues start at the
/// current end of the log, as `site add`'s do.
pub fn add_satellites(storage: &Database, primary: SiteId, news: &[NewSatellite<'_>]) -> Result<Vec<Satellite>> {
    let mut directory = storage.load_directory(primary)?;
    let start = SiteQueue::starting_at(storage.next_seq()? - 1).encode();
    let mut batch = storage.batch();
    let mut added = Vec::with_capacity(news.len());
    for new in news {
        check_site_name(&directory, new.site_name)?;
        check_permissions(new.permissions)?;
        let id = SiteId(new.site_id.unwrap_or_else(|| next_free_site_id(&directory)));
        if id == primary || directory.site(id).is_some() {
            return Err(AdminError::Invalid(format!("site id {id} is taken")));
        }
        let store = new_store(&directory, id, &new.store)?;
        let store_id = store.id.clone();
        if directory.user(new.user_name).is_some() {
            let name = new.user_name;
            return Err(AdminError::Invalid(format!("a user named {name} exists already")));
        }
        let site = Site {
            id,
            name: new.site_name.to_string(),
            password: PasswordHash::from_password(new.site_password),
            hardware_id: None,
            stores: vec![store_id.clone()],
            disabled: false,
        };
        let user = User {
            id: new_hex_id(),
            name: new.user_name.to_string(),
            password: PasswordHash::from_password(new.user_password),
            stores: vec![store_id],
            is_admin: false,
            permissions: new.permissions.to_vec(),
        };
        batch.put_site(&site);
        batch.put_store(&store);
        batch.put_user(&user);
        batch.put_site_queue(id, &start);
        directory.put_site(site.clone());
        directory.put_store(store.clone());
        directory.put_user(user.clone());
        added.push(Satellite { site, store, user });
    }
    storage.commit(batch)?;
    Ok(added)
}

fn check_site_name(directory: &Directory, name: &str) -> Result<()> {
    if name.is_empty() || name.contains(':') {
        return Err(AdminError::Invalid(
            "a site name must be non-empty and must not contain ':'".into(),
        ));
    }
    if directory.site_named(name).is_some() {
        return Err(AdminError::Invalid(format!("a site named {name} exists already")));
    }
    Ok(())
}

fn next_free_site_id(directory: &Directory) -> u32 {
    directory
        .sites()
        .map(|s| s.id.0)
        .chain([directory.primary().0])
        .max()
        .unwrap_or(1)
        + 1
}

fn check_permissions(permissions: &[String]) -> Result<()> {
    for permission in permissions {
        if !crate::domain::permissions::ALL.contains(&permission.as_str()) {
            return Err(AdminError::Invalid(format!(
                "no permission {permission} (known: {})",
                crate::domain::permissions::ALL.join(", ")
            )));
        }
    }
    Ok(())
}

/// Declares which client a site runs before it first syncs (an open-mSupply site builds its own
/// half of transfers, so those sent to its stores are routed to it as they are, never generated
/// as a mobile half). A site's calls still tell the primary later: the first sync with another
/// client changes it.
pub fn declare_client(storage: &Database, primary: SiteId, name: &str, client: ClientKind) -> Result<Site> {
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
pub fn site_client(storage: &Database, site: SiteId) -> Result<ClientKind> {
    Ok(site_queue(storage, site)?.client)
}

fn site_queue(storage: &Database, site: SiteId) -> Result<SiteQueue> {
    let bytes = storage
        .site_queue(site)?
        .ok_or_else(|| AdminError::Invalid(format!("site {site} has no queue")))?;
    SiteQueue::decode(&bytes).ok_or_else(|| AdminError::Invalid(format!("the queue of site {site} cannot be read")))
}

/// Forgets a site's hardware binding, so that the next machine to log in binds it again.
pub fn reset_hardware(storage: &Database, primary: SiteId, name: &str) -> Result<Site> {
    let changes = change_offline(storage, primary, |d| {
        plan_change_site(d, name, |site| site.hardware_id = None)
    })?;
    Ok(put_site(changes))
}

pub fn set_password(storage: &Database, primary: SiteId, name: &str, password: &str) -> Result<Site> {
    let password = PasswordHash::from_password(password);
    let changes = change_offline(storage, primary, |d| {
        plan_change_site(d, name, |site| site.password = password)
    })?;
    Ok(put_site(changes))
}

/// Disables a site (its satellite is refused until enabled) or enables it again.
pub fn set_disabled(storage: &Database, primary: SiteId, name: &str, disabled: bool) -> Result<Site> {
    let changes = change_offline(storage, primary, |d| {
        plan_change_site(d, name, |site| site.disabled = disabled)
    })?;
    Ok(put_site(changes))
}

pub fn remove_site(storage: &Database, primary: SiteId, name: &str) -> Result<()> {
    change_offline(storage, primary, |d| plan_remove_site(d, name)).map(drop)
}

pub fn list_sites(storage: &Database, primary: SiteId) -> Result<Vec<Site>> {
    let mut sites: Vec<Site> = storage.load_directory(primary)?.sites().cloned().collect();
    sites.sort_by_key(|s| s.id);
    Ok(sites)
}

/// What `store add` needs.
#[derive(Debug, Clone, Copy)]
pub struct NewStore<'a> {
    pub id: Option<&'a str>,
    pub name: &'a str,
    pub code: &'a str,
    pub name_id: Option<&'a str>,
    pub site: &'a str,
    pub supplying_store_id: &'a str,
}

/// Adds a store to a site (offline).
pub fn add_store(storage: &Database, primary: SiteId, new: NewStore<'_>) -> Result<Store> {
    let changes = change_offline(storage, primary, |d| plan_add_store(d, &new))?;
    Ok(put_store(changes))
}

/// The store `new` describes, on `site`, checked against `directory`: its id must be free, and
/// its supplier, if it names one that exists, is linked with its name.
fn new_store(directory: &Directory, site: SiteId, new: &NewStore<'_>) -> Result<Store> {
    let id = new.id.map(str::to_string).unwrap_or_else(new_hex_id);
    if let Some(existing) = directory.store(&id) {
        let on = existing.site;
        return Err(AdminError::Invalid(format!("store {id} exists already, on site {on}")));
    }
    let supplying = directory.store(new.supplying_store_id);
    Ok(Store {
        id,
        name: new.name.to_string(),
        code: new.code.to_string(),
        name_id: new.name_id.map(str::to_string).unwrap_or_else(new_hex_id),
        site,
        supplying_store_id: supplying.map(|s| s.id.clone()).unwrap_or_default(),
        supplying_store_name_id: supplying.map(|s| s.name_id.clone()).unwrap_or_default(),
    })
}

/// Adds (or replaces) a user who may log in to `stores` (offline).
pub fn add_user(
    storage: &Database,
    primary: SiteId,
    name: &str,
    password: &str,
    stores: &[String],
    is_admin: bool,
    permissions: &[String],
) -> Result<User> {
    let password = PasswordHash::from_password(password);
    let changes = change_offline(storage, primary, |d| {
        plan_put_user(d, name, password, stores, is_admin, permissions)
    })?;
    Ok(put_user(changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn satellite<'a>(site: &'a str, store: &'a str, supplier: &'a str, user: &'a str) -> NewSatellite<'a> {
        NewSatellite {
            site_name: site,
            site_password: "pw",
            site_id: None,
            store: NewStore {
                id: Some(store),
                name: store,
                code: "",
                name_id: None,
                site,
                supplying_store_id: supplier,
            },
            user_name: user,
            user_password: "pw",
            permissions: &[],
        }
    }

    #[test]
    fn satellites_are_added_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Database::open(dir.path(), 8).unwrap();
        let primary = SiteId(1);
        let added = add_satellites(
            &storage,
            primary,
            &[satellite("a", "SA", "", "ua"), satellite("b", "SB", "SA", "ub")],
        )
        .unwrap();
        assert_eq!((added[0].site.id, added[1].site.id), (SiteId(2), SiteId(3)));
        assert_eq!(
            added[1].store.supplying_store_name_id, added[0].store.name_id,
            "a store of an earlier satellite of the same call supplies"
        );
        let directory = storage.load_directory(primary).unwrap();
        assert_eq!(directory.site_named("b").unwrap().stores, ["SB"]);
        assert_eq!(directory.user("ub").unwrap().stores, ["SB"]);
        assert!(storage.site_queue(SiteId(3)).unwrap().is_some(), "each gets its queue");

        // The second of these reuses the first's store id: neither is written.
        let refused = add_satellites(
            &storage,
            primary,
            &[satellite("c", "SC", "", "uc"), satellite("d", "SC", "", "ud")],
        );
        assert!(matches!(refused, Err(AdminError::Invalid(message)) if message.contains("SC")));
        let directory = storage.load_directory(primary).unwrap();
        assert!(
            directory.site_named("c").is_none(),
            "nothing of a refused call is written"
        );
        for taken in [satellite("a", "SE", "", "ue"), satellite("e", "SE", "", "ua")] {
            assert!(add_satellites(&storage, primary, &[taken]).is_err());
        }
    }
}
