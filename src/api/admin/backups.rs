//! Online backups (`POST backups`, optionally `{"name":…}`; `GET backups`): a consistent copy
//! of the database taken while the primary serves, under `[admin] backup_dir`. The copy runs on
//! the blocking pool: it flushes and links files, and must not hold up an async worker.

use std::sync::Arc;

use crate::admin::backup;
use crate::api::error::ApiError;
use crate::primary::Primary;
use crate::wire::admin::{backup_body, backups_body, decode_request, BackupRequest};

pub async fn take(primary: &Arc<Primary>, operator: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let request: BackupRequest = if body.iter().all(u8::is_ascii_whitespace) {
        BackupRequest::default()
    } else {
        decode_request(body)?
    };
    let app = primary.clone();
    let made = tokio::task::spawn_blocking(move || {
        let backups = app.config.admin.backups_of(&app.config.storage.data_dir);
        backup::take(app.engine.storage(), &backups, request.name.as_deref())
    })
    .await
    .map_err(|_| ApiError::Internal)?
    .map_err(admin_error)?;
    tracing::info!(operator, path = %made.path.display(), seconds = made.seconds, "backup taken");
    Ok(backup_body(&made.path.to_string_lossy(), made.seconds, made.bytes))
}

pub fn list(primary: &Primary) -> Result<Vec<u8>, ApiError> {
    let backups = primary.config.admin.backups_of(&primary.config.storage.data_dir);
    let found = backup::list(&backups).map_err(admin_error)?;
    Ok(backups_body(&backups.to_string_lossy(), &found))
}

fn admin_error(error: crate::admin::AdminError) -> ApiError {
    use crate::admin::AdminError;
    match error {
        AdminError::Invalid(message) => ApiError::BadRequest(message),
        other => {
            tracing::error!(error = %other, "backup failed");
            ApiError::Internal
        }
    }
}
