//! What the site still lacks after what it has integrated (§3.5, §3.6, §3.11, §4.2, §7 item 11): a
//! home currency when invoices have no currency, the `invad` name, its own stores (active on it),
//! master lists joined to each own store's name, the stores its invoices and requisitions name, and
//! visibility joins from each own store to the names of the stores it trades with.

use std::collections::{BTreeSet, HashSet};

use crate::ownership::{is_active, is_own};
use crate::state::RemoteState;
use crate::Site;

pub(crate) fn missing(site: &Site, state: &RemoteState) -> Vec<String> {
    let mut missing = Vec::new();
    if state.needs_home_currency && state.home_currencies.is_empty() {
        missing.push("no home currency (is_home_currency: true), and an invoice has an empty currency_ID".to_string());
    }
    if !state.has_invad_name() {
        missing.push("no invad name (code \"invad\"), needed for inventory adjustments".to_string());
    }
    for store_id in &site.own_stores {
        match state.stores.get(store_id) {
            None => missing.push(format!("own store {store_id}: no store record integrated")),
            Some(_) if !is_active(site, state, store_id) => missing.push(format!(
                "own store {store_id}: its store record does not make it active on site {}",
                site.site_id
            )),
            Some(_) => {}
        }
    }
    for (store_id, name_id) in own_store_names(site, state) {
        if !state.list_joins.values().any(|joined| *joined == name_id) {
            missing.push(format!(
                "own store {store_id}: no list_master_name_join for its name {name_id} (it sees no items)"
            ));
        }
    }
    let unknown: BTreeSet<&String> = state
        .referenced_stores
        .iter()
        .filter(|store_id| !state.stores.contains_key(*store_id))
        .collect();
    for store_id in unknown {
        missing.push(format!(
            "store {store_id}: named by an invoice or requisition but not integrated"
        ));
    }
    let mut store_names: BTreeSet<&String> = BTreeSet::new();
    for (_, name_id) in &state.trades {
        let store_type = state.names.get(name_id).is_some_and(|name| name.kind == "store");
        if store_type && state.store_named(name_id).is_none() {
            store_names.insert(name_id);
        }
    }
    for name_id in store_names {
        missing.push(format!(
            "name {name_id}: a store's name traded with, but its store record is not integrated"
        ));
    }
    missing.extend(missing_visibility(site, state));
    missing
}

/// Own stores (listed by `/site` or active on the site) whose store record is held, with their names.
fn own_store_names(site: &Site, state: &RemoteState) -> BTreeSet<(String, String)> {
    state
        .stores
        .iter()
        .filter(|(id, _)| is_own(site, id) || is_active(site, state, id))
        .map(|(id, store)| (id.clone(), store.name_id.clone()))
        .collect()
}

/// For each pair of stores trading (an invoice or requisition of one naming the other's name), the
/// own store among them needs a `name_store_join` to the other's name.
fn missing_visibility(site: &Site, state: &RemoteState) -> Vec<String> {
    let seen: HashSet<(&str, &str)> = state
        .visibility
        .values()
        .map(|(store, name)| (store.as_str(), name.as_str()))
        .collect();
    let mut needed: BTreeSet<(String, String)> = BTreeSet::new();
    for (store_id, name_id) in &state.trades {
        let Some(partner) = state.store_named(name_id) else {
            continue;
        };
        if partner == store_id {
            continue;
        }
        needed.insert((store_id.clone(), name_id.clone()));
        if let Some(own_name) = state.stores.get(store_id).map(|store| store.name_id.clone()) {
            needed.insert((partner.to_string(), own_name));
        }
    }
    needed
        .into_iter()
        .filter(|(store_id, _)| is_own(site, store_id) || is_active(site, state, store_id))
        .filter(|(store_id, name_id)| !seen.contains(&(store_id.as_str(), name_id.as_str())))
        .map(|(store_id, name_id)| {
            format!("own store {store_id}: no name_store_join to name {name_id} of a store it trades with")
        })
        .collect()
}
