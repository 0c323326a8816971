//! The satellite sites as an operator sees them (`GET sites`, `GET sites/{name}`, from the
//! directory and the queue index: no storage read), and what an operator changes of one
//! (`POST sites/{name}/reset-hardware`, `PUT sites/{name}/password`), through the sync writer.

use crate::api::error::ApiError;
use crate::domain::credentials::PasswordHash;
use crate::domain::directory::Site;
use crate::domain::ids::SiteId;
use crate::sync::{Initialisation, SiteChange, SyncEngine};
use crate::wire::admin::{decode_request, site_body, sites_body, PasswordRequest, SiteSummary};

/// Every satellite site, by id.
pub fn list(engine: &SyncEngine) -> Vec<u8> {
    let mut sites: Vec<Site> =
        engine.with_directory(|d| d.sites().filter(|site| site.id != d.primary()).cloned().collect());
    sites.sort_by_key(|site| site.id);
    let summaries: Vec<SiteSummary> = sites.iter().map(|site| summary(engine, site)).collect();
    sites_body(&summaries)
}

/// One satellite site, by its name.
pub fn show(engine: &SyncEngine, name: &str) -> Result<Vec<u8>, ApiError> {
    Ok(site_body(&summary(engine, &satellite(engine, name)?)))
}

/// The satellite site named `name`; 404 for any other name, the primary's own included.
pub fn satellite(engine: &SyncEngine, name: &str) -> Result<Site, ApiError> {
    engine
        .with_directory(|d| d.site_named(name).filter(|site| site.id != d.primary()).cloned())
        .ok_or_else(|| ApiError::NotFound(format!("site {name}")))
}

/// Forgets the site's hardware binding, so that its next request binds it anew.
pub async fn reset_hardware(engine: &SyncEngine, operator: &str, name: &str) -> Result<Vec<u8>, ApiError> {
    let site = satellite(engine, name)?;
    changed(engine, site.id, SiteChange::ResetHardware).await?;
    tracing::info!(operator, site = name, "hardware binding reset");
    show(engine, name)
}

/// Sets the site's password (the one its satellite logs in with), from `{"password":…}`.
pub async fn set_password(engine: &SyncEngine, operator: &str, name: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let site = satellite(engine, name)?;
    let request: PasswordRequest = decode_request(body)?;
    if request.password.is_empty() {
        return Err(ApiError::BadRequest("the password is empty".into()));
    }
    let password = PasswordHash::from_password(&request.password);
    changed(engine, site.id, SiteChange::Password(password)).await?;
    tracing::info!(operator, site = name, "site password changed");
    show(engine, name)
}

async fn changed(engine: &SyncEngine, site: SiteId, change: SiteChange) -> Result<(), ApiError> {
    Ok(engine.change_site(site, change).await?)
}

fn summary(engine: &SyncEngine, site: &Site) -> SiteSummary {
    SiteSummary {
        id: site.id.0,
        name: site.name.clone(),
        stores: site.stores.clone(),
        client: engine.client(site.id).name(),
        hardware_id: site.hardware_id.clone(),
        initialisation: match engine.initialisation(site.id) {
            Initialisation::New => "new",
            Initialisation::Started => "initialising",
            Initialisation::Completed => "initialised",
        },
        queued: engine.count(site.id),
    }
}
