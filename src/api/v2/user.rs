//! `GET user?store=…`: may this user (by their own credentials) log in to that store?

use crate::api::auth::basic_credentials;
use crate::api::call::Call;
use crate::api::error::ApiError;
use crate::primary::Primary;
use crate::wire::v2;
use std::sync::Arc;

pub async fn get(primary: &Arc<Primary>, call: Call) -> Result<Vec<u8>, ApiError> {
    let (name, secret) = basic_credentials(&call.headers).ok_or(ApiError::Unauthorized)?;
    let store = call.query.get("store").cloned().unwrap_or_default();
    let reply = primary.engine.with_directory(|d| {
        let user = d.user(&name).filter(|u| u.password.verify(&secret))?;
        let allowed = store.is_empty() || user.stores.iter().any(|s| s.eq_ignore_ascii_case(&store));
        allowed.then(|| v2::encode_user(&user.id, user.is_admin))
    });
    reply.ok_or(ApiError::Unauthorized)
}
