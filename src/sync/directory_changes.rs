//! An operator's change of the directory, written: what each [`DirectoryChange`] writes to a
//! batch. The writer writes them in its group (and then applies them to the directory, the
//! index's views and the queues); the command line writes them the same way while no server runs.

use crate::domain::directory::{Directory, DirectoryChange};
use crate::store::DirectoryWrites;

/// Writes `change` to `batch`. `before` is the directory the change applies to (a removed
/// site's stores are taken from it). A new site's queue state is the caller's to write: it
/// starts where the caller's log ends.
pub fn write_change(batch: &mut impl DirectoryWrites, before: &Directory, change: &DirectoryChange) {
    match change {
        DirectoryChange::PutSite(site) => batch.put_site(site),
        DirectoryChange::RemoveSite(id) => {
            batch.delete_site(*id);
            for store in before.site(*id).map(|site| site.stores.as_slice()).unwrap_or_default() {
                batch.delete_store(store);
            }
        }
        DirectoryChange::PutStore(store) => batch.put_store(store),
        DirectoryChange::PutUser(user) => batch.put_user(user),
        DirectoryChange::PutOperator(operator) => batch.put_operator(operator),
    }
}

/// The site a change adds, if it adds one to `before`.
pub fn added_site(before: &Directory, change: &DirectoryChange) -> Option<crate::domain::ids::SiteId> {
    match change {
        DirectoryChange::PutSite(site) if before.site(site.id).is_none() => Some(site.id),
        _ => None,
    }
}
