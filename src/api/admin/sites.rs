//! `GET /admin/v1/sites` and `GET /admin/v1/sites/{name}`: the satellite sites as an operator
//! sees them, from the directory and the queue index (no storage read).

use crate::api::error::ApiError;
use crate::domain::directory::Site;
use crate::sync::{Initialisation, SyncEngine};
use crate::wire::admin::{site_body, sites_body, SiteSummary};

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
    let site = engine
        .with_directory(|d| d.site_named(name).filter(|site| site.id != d.primary()).cloned())
        .ok_or_else(|| ApiError::NotFound(format!("site {name}")))?;
    Ok(site_body(&summary(engine, &site)))
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
