//! Which stores belong to the site, and the records of those stores the primary must not send back.
//! The remote counts a store as active when its store record's `sync_id_remote_site` equals the
//! site's `siteId` (§4.2); `/site`'s list of stores says which ones that should be. Store-owned
//! records come from the site itself: once it has them, echoing them back overwrites its newer
//! local edits (§4.3, §7 item 9).

use crate::semantics::Ctx;
use crate::state::RemoteState;
use crate::Site;

/// Store-owned tables and the key naming their store.
const OWNED_BY_STORE: &[(&str, &str)] = &[
    ("item_line", "store_ID"),
    ("Location", "store_ID"),
    ("location_movement", "store_ID"),
    ("Stock_take", "store_ID"),
    ("requisition", "store_ID"),
    ("sensor", "storeID"),
    ("temperature_log", "store_ID"),
    ("temperature_breach", "store_ID"),
    ("vaccine_vial_monitor_status_log", "store_ID"),
    ("indicator_value", "store_ID"),
    ("purchase_order", "store_ID"),
    ("purchase_order_line", "store_ID"),
    ("om_activity_log", "store_ID"),
];

/// Line tables, owned through their header's store.
const OWNED_BY_HEADER: &[(&str, &str)] = &[
    ("trans_line", "transaction_ID"),
    ("requisition_line", "requisition_ID"),
    ("Stock_take_lines", "stock_take_ID"),
];

/// True when the site's store record makes the store active on it.
pub(crate) fn is_active(site: &Site, state: &RemoteState, store_id: &str) -> bool {
    state
        .stores
        .get(store_id)
        .is_some_and(|store| store.site_id == Some(i64::from(site.site_id)))
}

/// True when `/site` lists the store as one the site hosts.
pub(crate) fn is_own(site: &Site, store_id: &str) -> bool {
    site.own_stores.iter().any(|own| own == store_id)
}

/// A store record must make exactly the site's own stores active on it.
pub(crate) fn check_store_activity(ctx: &mut Ctx) {
    let remote_site = ctx.data.get("sync_id_remote_site").and_then(serde_json::Value::as_i64);
    let active = remote_site == Some(i64::from(ctx.site.site_id));
    let own = is_own(ctx.site, ctx.id);
    if own && !active {
        let shown = remote_site.map_or_else(|| "none".to_string(), |id| id.to_string());
        ctx.defects.push(format!(
            "store not active on the site: it is one of the site's stores but sync_id_remote_site is {shown}, not {}",
            ctx.site.site_id
        ));
    }
    if active && !own {
        ctx.defects.push(format!(
            "sync_id_remote_site {} makes the store active on the site, but /site does not list it",
            ctx.site.site_id
        ));
    }
}

/// Notes a defect when a record of one of the site's stores comes back after it was integrated.
pub(crate) fn note_echo(ctx: &mut Ctx) {
    if !ctx.state.has(ctx.table, ctx.id) {
        return;
    }
    let store = if let Some((_, key)) = OWNED_BY_STORE.iter().find(|(table, _)| *table == ctx.table) {
        ctx.text(key).to_string()
    } else if let Some((_, key)) = OWNED_BY_HEADER.iter().find(|(table, _)| *table == ctx.table) {
        match ctx.state.header_stores.get(ctx.text(key)) {
            Some(store) => store.clone(),
            None => return,
        }
    } else {
        return;
    };
    if is_own(ctx.site, &store) || is_active(ctx.site, ctx.state, &store) {
        ctx.defects.push(format!(
            "a record of the site's own store {store} echoed back after it was integrated: it overwrites local edits (§4.3)"
        ));
    }
}
