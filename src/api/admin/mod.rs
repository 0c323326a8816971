//! The admin API under `/admin/v1/`, served on its own listener (`[admin] listen`) and nowhere
//! else. Every call authenticates an operator (HTTP Basic with the plain password, or a bearer
//! token; operators are a namespace of their own: no site's or user's credentials open it) before anything else, so
//! an unauthenticated caller learns nothing, not even which paths exist. Replies and errors are
//! `wire::admin`'s shapes, statuses from the one error table (`Shape::Admin`).

mod backups;
mod exports;
mod health;
mod imports;
mod operators;
pub mod overview;
mod patients;
mod queue;
mod sites;
mod stores;
mod users;

use std::sync::Arc;

use http::{Method, StatusCode};

use super::auth::authenticate_operator;
use super::call::Call;
use super::error::ApiError;
use crate::primary::Primary;

/// Where every admin endpoint lives.
pub const PREFIX: &str = "/admin/v1/";

/// Where the export is, which [`export`] answers as a stream.
pub const EXPORT_PATH: &str = "/admin/v1/export";

/// `GET export?table=`: every stored record as JSON lines in the push shape (what `POST import`
/// and `satsync import` read), sent as it is read; or the error's status and body.
pub async fn export(
    primary: &Arc<Primary>,
    call: Call,
) -> Result<tokio::sync::mpsc::Receiver<bytes::Bytes>, (StatusCode, Vec<u8>)> {
    let operator = authenticate_operator(&primary.engine, &call.headers).map_err(|e| e.admin_response())?;
    let table = call.query.get("table").cloned().filter(|t| !t.is_empty());
    exports::start(primary, &operator, table).map_err(|error| {
        tracing::error!(%error, "no thread for an export");
        ApiError::Internal.admin_response()
    })
}

/// The endpoint `path` calls, as the metrics name it: its route below with `{name}` for the
/// site, operator or user it names, so that no name becomes a label; `None` when no route has
/// its shape. Kept beside [`serve`]'s routes, which it follows (the method aside).
pub fn endpoint_name(path: &str) -> Option<&'static str> {
    let rest = path.strip_prefix(PREFIX)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segments: Vec<&str> = rest.split('/').collect();
    Some(match segments.as_slice() {
        ["sites"] => "sites",
        ["sites", _] => "sites/{name}",
        ["sites", _, "disable"] => "sites/{name}/disable",
        ["sites", _, "enable"] => "sites/{name}/enable",
        ["sites", _, "reset-hardware"] => "sites/{name}/reset-hardware",
        ["sites", _, "client"] => "sites/{name}/client",
        ["sites", _, "password"] => "sites/{name}/password",
        ["sites", _, "queue"] => "sites/{name}/queue",
        ["sites", _, "queue", "skip"] => "sites/{name}/queue/skip",
        ["sites", _, "skips"] => "sites/{name}/skips",
        ["sites", _, "health"] => "sites/{name}/health",
        ["flagged"] => "flagged",
        ["overview"] => "overview",
        ["import"] => "import",
        ["imports"] => "imports",
        ["patient-jobs"] => "patient-jobs",
        ["export"] => "export",
        ["backups"] => "backups",
        ["stores"] => "stores",
        ["operators"] => "operators",
        ["operators", _, "tokens"] => "operators/{name}/tokens",
        ["users"] => "users",
        ["users", _] => "users/{name}",
        _ => return None,
    })
}

/// Answers one call of the admin API: its status and JSON body.
pub async fn handle(primary: &Arc<Primary>, call: Call) -> (StatusCode, Vec<u8>) {
    match serve(primary, call).await {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => error.admin_response(),
    }
}

async fn serve(primary: &Arc<Primary>, call: Call) -> Result<Vec<u8>, ApiError> {
    let operator = authenticate_operator(&primary.engine, &call.headers)?;
    let path = call.path.clone();
    let not_found = || ApiError::NotFound(path.clone());
    let rest = path.strip_prefix(PREFIX).ok_or_else(not_found)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segments: Vec<String> = rest
        .split('/')
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let only = |method: Method| {
        if call.method == method {
            Ok(())
        } else {
            Err(ApiError::MethodNotAllowed(call.method.to_string()))
        }
    };
    let engine = &primary.engine;
    match segments.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["sites"] if call.method == Method::POST => sites::add(engine, &operator, &call.body().await?).await,
        ["sites"] => only(Method::GET).and_then(|()| sites::list(engine, &call.query)),
        ["sites", name] if call.method == Method::DELETE => sites::remove(engine, &operator, name).await,
        ["sites", name] => only(Method::GET).and_then(|()| sites::show(engine, name)),
        ["sites", name, act @ ("disable" | "enable")] => {
            only(Method::POST)?;
            sites::set_disabled(engine, &operator, name, *act == "disable").await
        }
        ["sites", name, "reset-hardware"] => {
            only(Method::POST)?;
            sites::reset_hardware(engine, &operator, name).await
        }
        ["sites", name, "client"] => {
            only(Method::PUT)?;
            let name = name.to_string();
            sites::set_client(engine, &operator, &name, &call.body().await?).await
        }
        ["sites", name, "password"] => {
            only(Method::PUT)?;
            let name = name.to_string();
            sites::set_password(engine, &operator, &name, &call.body().await?).await
        }
        ["sites", name, "queue"] => {
            only(Method::GET)?;
            let limit = queue::limit(&call.query, queue::DEFAULT_LIMIT, primary.config.limits.max_pull_limit)?;
            queue::head(primary, name, limit).await
        }
        ["sites", name, "queue", "skip"] => {
            only(Method::POST)?;
            let name = name.to_string();
            queue::skip(engine, &operator, &name, &call.body().await?).await
        }
        ["sites", name, "skips"] => only(Method::GET).and_then(|()| queue::skips(engine, name)),
        ["sites", name, "health"] => only(Method::GET).and_then(|()| health::of_site(engine, name)),
        ["flagged"] => only(Method::GET).map(|()| health::flagged(engine)),
        ["overview"] => only(Method::GET).map(|()| overview::overview(primary)),
        ["import"] => {
            only(Method::POST)?;
            imports::import(primary, &operator, call).await
        }
        ["imports"] => only(Method::GET).map(|()| imports::list(primary)),
        ["patient-jobs"] => {
            only(Method::GET)?;
            patients::in_flight(primary, &call.query).await
        }
        // A GET is answered as a stream before it gets here (`export`).
        ["export"] => Err(ApiError::MethodNotAllowed(call.method.to_string())),
        ["backups"] if call.method == Method::POST => backups::take(primary, &operator, &call.body().await?).await,
        ["backups"] => only(Method::GET).and_then(|()| backups::list(primary)),
        ["stores"] if call.method == Method::POST => stores::add(engine, &operator, &call.body().await?).await,
        ["stores"] => only(Method::GET).map(|()| stores::list(engine)),
        ["operators"] if call.method == Method::POST => operators::add(engine, &operator, &call.body().await?).await,
        ["operators"] => only(Method::GET).map(|()| operators::list(engine)),
        ["operators", name, "tokens"] => {
            only(Method::POST)?;
            operators::issue_token(engine, &operator, name).await
        }
        ["users"] => only(Method::GET).map(|()| users::list(engine)),
        ["users", name] => {
            only(Method::PUT)?;
            let name = name.to_string();
            users::put(engine, &operator, &name, &call.body().await?).await
        }
        _ => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_names_keep_the_route_and_never_the_name_in_it() {
        assert_eq!(endpoint_name("/admin/v1/sites"), Some("sites"));
        assert_eq!(endpoint_name("/admin/v1/sites/"), Some("sites"));
        assert_eq!(endpoint_name("/admin/v1/sites/CLINIC%201"), Some("sites/{name}"));
        assert_eq!(
            endpoint_name("/admin/v1/sites/clinic/queue/skip"),
            Some("sites/{name}/queue/skip")
        );
        assert_eq!(
            endpoint_name("/admin/v1/operators/ana/tokens"),
            Some("operators/{name}/tokens")
        );
        assert_eq!(endpoint_name("/admin/v1/users/nurse"), Some("users/{name}"));
        assert_eq!(endpoint_name("/admin/v1/sites/clinic/elsewhere"), None);
        assert_eq!(endpoint_name("/admin/v1/"), None);
        assert_eq!(endpoint_name("/admin/v2/sites"), None);
    }
}
