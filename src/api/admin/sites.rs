//! The satellite sites as an operator sees them (`GET sites`, `GET sites/{name}`, from the
//! directory and the queue index: no storage read), and what an operator does to them: add
//! (`POST sites`), remove (`DELETE sites/{name}`), disable and enable, reset the hardware binding,
//! set the password. Every change is a plan of `admin::directory` run by the sync writer.

use std::collections::HashMap;

use super::health::{flag_kinds, initialisation_name};
use crate::admin::directory::{plan_add_site, plan_change_site, plan_remove_site, put_site};
use crate::api::error::ApiError;
use crate::domain::credentials::PasswordHash;
use crate::domain::directory::{Directory, Site};
use crate::sync::{ClientKind, SyncEngine};
use crate::wire::admin::{
    decode_request, one_body, removed_body, sites_page_body, ClientRequest, NewSiteRequest, PasswordRequest,
    SiteSummary,
};

/// The satellite sites, one page at a time for the dashboard's table of tens of thousands:
/// `q` (part of the name, or the id), `state` (`new`, `initialising`, `initialised`,
/// `disabled`, `flagged`), `sort` (`id`, `name`, `last_request`), `order` (`asc`, `desc`),
/// `offset` and `limit` (all when left out). The reply says how many match.
pub fn list(engine: &SyncEngine, query: &HashMap<String, String>) -> Result<Vec<u8>, ApiError> {
    let number = |name: &str| -> Result<Option<usize>, ApiError> {
        query
            .get(name)
            .map(|text| {
                text.parse()
                    .map_err(|_| ApiError::BadRequest(format!("{name} must be a whole number, not {text:?}")))
            })
            .transpose()
    };
    let (offset, limit) = (number("offset")?.unwrap_or(0), number("limit")?.unwrap_or(usize::MAX));
    let needle = query
        .get("q")
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty());
    let state = query.get("state").map(String::as_str).filter(|s| !s.is_empty());
    if let Some(state) = state.filter(|s| !STATES.contains(s)) {
        return Err(ApiError::BadRequest(format!(
            "no state {state} (known: {})",
            STATES.join(", ")
        )));
    }
    let mut sites: Vec<Site> = engine.with_directory(|d| {
        d.sites()
            .filter(|site| site.id != d.primary())
            .filter(|site| match &needle {
                None => true,
                Some(needle) => site.name.to_lowercase().contains(needle) || site.id.0.to_string() == *needle,
            })
            .cloned()
            .collect()
    });
    if let Some(state) = state {
        sites.retain(|site| in_state(engine, site, state));
    }
    match query.get("sort").map(String::as_str).unwrap_or("id") {
        "id" => sites.sort_by_key(|site| site.id),
        "name" => sites.sort_by(|a, b| a.name.cmp(&b.name)),
        "last_request" => sites.sort_by_key(|site| engine.health().of(site.id).last_request_at),
        other => {
            return Err(ApiError::BadRequest(format!(
                "no sort {other} (known: id, name, last_request)"
            )))
        }
    }
    match query.get("order").map(String::as_str).unwrap_or("asc") {
        "asc" => {}
        "desc" => sites.reverse(),
        other => return Err(ApiError::BadRequest(format!("order is asc or desc, not {other}"))),
    }
    let page: Vec<SiteSummary> = sites
        .iter()
        .skip(offset)
        .take(limit)
        .map(|site| summary(engine, site))
        .collect();
    Ok(sites_page_body(sites.len(), &page))
}

/// The states a site is filtered by.
const STATES: [&str; 5] = ["new", "initialising", "initialised", "disabled", "flagged"];

fn in_state(engine: &SyncEngine, site: &Site, state: &str) -> bool {
    match state {
        "disabled" => site.disabled,
        "flagged" => !engine.flags(site.id).is_empty(),
        initialisation => initialisation_name(engine.initialisation(site.id)) == initialisation,
    }
}

/// One satellite site, by its name.
pub fn show(engine: &SyncEngine, name: &str) -> Result<Vec<u8>, ApiError> {
    Ok(one_body(&summary(engine, &satellite(engine, name)?)))
}

/// The satellite site named `name`; 404 for any other name, the primary's own included.
pub fn satellite(engine: &SyncEngine, name: &str) -> Result<Site, ApiError> {
    engine
        .with_directory(|d| d.site_named(name).filter(|site| site.id != d.primary()).cloned())
        .ok_or_else(|| ApiError::NotFound(format!("site {name}")))
}

/// Registers a site from `{"name","password","id"?,"client"?}`.
pub async fn add(engine: &SyncEngine, operator: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let request: NewSiteRequest = decode_request(body)?;
    let client = request.client.as_deref().map(client_named).transpose()?;
    let password = new_password(&request.password)?;
    let (name, id) = (request.name.clone(), request.id);
    let changes = engine
        .change_directory(Box::new(move |d: &Directory| {
            plan_add_site(d, &name, password, id).map_err(|e| e.to_string())
        }))
        .await?;
    let site = put_site(changes);
    if let Some(client) = client {
        engine.note_client(site.id, client).await?;
    }
    tracing::info!(operator, site = %site.name, id = site.id.0, "site added");
    show(engine, &site.name)
}

/// Declares the client a site runs, from `{"client":…}` (it changes by itself when the site
/// syncs with another).
pub async fn set_client(engine: &SyncEngine, operator: &str, name: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let request: ClientRequest = decode_request(body)?;
    let client = client_named(&request.client)?;
    let site = satellite(engine, name)?;
    engine.note_client(site.id, client).await?;
    tracing::info!(operator, site = name, client = client.name(), "site client declared");
    show(engine, name)
}

fn client_named(name: &str) -> Result<ClientKind, ApiError> {
    ClientKind::named(name)
        .ok_or_else(|| ApiError::BadRequest(format!("no client {name} (known: mobile, mobile-2017, open-msupply)")))
}

/// Removes a site, its stores and its queue (its records stay in the log).
pub async fn remove(engine: &SyncEngine, operator: &str, name: &str) -> Result<Vec<u8>, ApiError> {
    let site = satellite(engine, name)?;
    let owned = name.to_string();
    engine
        .change_directory(Box::new(move |d: &Directory| {
            plan_remove_site(d, &owned).map_err(|e| e.to_string())
        }))
        .await?;
    engine.health().forget(site.id);
    tracing::info!(operator, site = name, id = site.id.0, "site removed");
    Ok(removed_body(name))
}

/// Disables a site (`disabled`) or enables it again.
pub async fn set_disabled(
    engine: &SyncEngine,
    operator: &str,
    name: &str,
    disabled: bool,
) -> Result<Vec<u8>, ApiError> {
    change(engine, name, move |site| site.disabled = disabled).await?;
    let act = if disabled { "site disabled" } else { "site enabled" };
    tracing::info!(operator, site = name, "{act}");
    show(engine, name)
}

/// Forgets the site's hardware binding, so that its next request binds it anew.
pub async fn reset_hardware(engine: &SyncEngine, operator: &str, name: &str) -> Result<Vec<u8>, ApiError> {
    change(engine, name, |site| site.hardware_id = None).await?;
    tracing::info!(operator, site = name, "hardware binding reset");
    show(engine, name)
}

/// Sets the site's password (the one its satellite logs in with), from `{"password":…}`.
pub async fn set_password(engine: &SyncEngine, operator: &str, name: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let request: PasswordRequest = decode_request(body)?;
    let password = new_password(&request.password)?;
    change(engine, name, move |site| site.password = password).await?;
    tracing::info!(operator, site = name, "site password changed");
    show(engine, name)
}

/// A password given to a site, hashed (before the writer sees it: hashing is slow on purpose).
pub fn new_password(password: &str) -> Result<PasswordHash, ApiError> {
    if password.is_empty() {
        return Err(ApiError::BadRequest("the password is empty".into()));
    }
    Ok(PasswordHash::from_password(password))
}

async fn change(
    engine: &SyncEngine,
    name: &str,
    change: impl FnOnce(&mut Site) + Send + 'static,
) -> Result<(), ApiError> {
    satellite(engine, name)?;
    let owned = name.to_string();
    engine
        .change_directory(Box::new(move |d: &Directory| {
            plan_change_site(d, &owned, change).map_err(|e| e.to_string())
        }))
        .await?;
    Ok(())
}

fn summary(engine: &SyncEngine, site: &Site) -> SiteSummary {
    let queued = engine.count(site.id);
    SiteSummary {
        id: site.id.0,
        name: site.name.clone(),
        stores: site.stores.clone(),
        client: engine.client(site.id).name(),
        hardware_id: site.hardware_id.clone(),
        initialisation: initialisation_name(engine.initialisation(site.id)),
        queued,
        disabled: site.disabled,
        last_request_at: engine.health().of(site.id).last_request_at,
        flags: flag_kinds(engine, site.id),
    }
}
