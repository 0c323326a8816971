//! Users who log in on satellites, as an operator sees them (`GET users`) and adds or replaces
//! one (`PUT users/{name}`), through the sync writer. Their passwords' hashes are never shown.

use super::sites::new_password;
use crate::admin::directory::{plan_put_user, put_user};
use crate::api::error::ApiError;
use crate::domain::directory::{Directory, User};
use crate::sync::SyncEngine;
use crate::wire::admin::{decode_request, one_body, users_body, UserRequest, UserSummary};

/// Every user, by name.
pub fn list(engine: &SyncEngine) -> Vec<u8> {
    let mut users: Vec<UserSummary> = engine.with_directory(|d| d.users().map(summary).collect());
    users.sort_by(|a, b| a.name.cmp(&b.name));
    users_body(&users)
}

/// Adds the user `name`, or replaces it (keeping its id), from `{"password","stores","admin",
/// "permissions"}`.
pub async fn put(engine: &SyncEngine, operator: &str, name: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let request: UserRequest = decode_request(body)?;
    let password = new_password(&request.password)?;
    let owned = name.to_string();
    let changes = engine
        .change_directory(Box::new(move |d: &Directory| {
            plan_put_user(
                d,
                &owned,
                password,
                &request.stores,
                request.admin,
                &request.permissions,
            )
            .map_err(|e| e.to_string())
        }))
        .await?;
    let user = put_user(changes);
    tracing::info!(operator, user = name, "user added or replaced");
    Ok(one_body(&summary(&user)))
}

fn summary(user: &User) -> UserSummary {
    UserSummary {
        id: user.id.clone(),
        name: user.name.clone(),
        stores: user.stores.clone(),
        admin: user.is_admin,
        permissions: user.permissions.clone(),
    }
}
