//! Who calls the patient API and what they may do. A satellite authenticates with its own
//! credentials (its permissions are `[patient] site_permissions`); a user with theirs (their
//! permissions are their own, and their site is the one hosting their first store).

use http::HeaderMap;

use crate::api::auth::{authenticate_site, basic_credentials};
use crate::api::error::{ApiError, ErrorCode, INVALID_CREDENTIALS};
use crate::domain::ids::SiteId;
use crate::primary::Primary;
use crate::sync::Initialisation;

use super::Refusal;

pub struct Caller {
    /// The caller's site: its own, or the one hosting the user's first store.
    pub site: Option<SiteId>,
    /// Authenticated as a satellite rather than as a user.
    pub is_site: bool,
    pub is_admin: bool,
    permissions: Vec<String>,
}

impl Caller {
    /// 403 unless the caller holds `permission`.
    pub fn require(&self, permission: &str) -> Result<(), Refusal> {
        if self.permissions.iter().any(|held| held == permission) {
            Ok(())
        } else {
            Err(Refusal::new(
                ErrorCode::Forbidden,
                format!("this call needs the permission {permission}"),
            ))
        }
    }

    /// 503 while the caller's site is still initialising: its patients' data is not all there.
    pub fn require_initialised(&self, primary: &Primary) -> Result<(), Refusal> {
        match self.site.map(|site| primary.engine.initialisation(site)) {
            Some(Initialisation::Started) => Err(super::PatientSyncError::Initialising.into()),
            _ => Ok(()),
        }
    }
}

pub async fn caller(primary: &Primary, headers: &HeaderMap) -> Result<Caller, Refusal> {
    let unauthorized = || Refusal::new(ErrorCode::Unauthorized, INVALID_CREDENTIALS);
    match authenticate_site(&primary.engine, headers).await {
        Ok(site) => {
            return Ok(Caller {
                site: Some(site),
                is_site: true,
                is_admin: false,
                permissions: primary.patients.config.site_permissions.clone(),
            })
        }
        // Not a site's credentials: perhaps a user's.
        Err(ApiError::Unauthorized) => {}
        // The server stopping or failing is not the caller's credentials: 503, 500.
        Err(ApiError::Unavailable) => {
            return Err(super::PatientSyncError::Sync(crate::sync::SyncError::WriterStopped).into())
        }
        Err(ApiError::Internal) => return Err(super::PatientSyncError::Failed.into()),
        // A hardware mismatch, or anything else about the credentials presented.
        Err(_) => return Err(unauthorized()),
    }
    let (name, secret) = basic_credentials(headers).ok_or_else(unauthorized)?;
    primary
        .engine
        .with_directory(|directory| {
            let user = directory.user(&name).filter(|user| user.password.verify(&secret))?;
            let site = user
                .stores
                .iter()
                .find_map(|store| directory.store(store).map(|store| store.site));
            Some(Caller {
                site,
                is_site: false,
                is_admin: user.is_admin,
                permissions: user.permissions.clone(),
            })
        })
        .ok_or_else(unauthorized)
}
