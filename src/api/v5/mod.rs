//! v5, for open-mSupply remote sites: the site is the one the credentials name (no
//! `from_site`/`to_site`): `site`, `initialise`, `site_status`, `central_records`,
//! `queued_records` (GET and POST) and `acknowledged_records`.

use std::sync::Arc;

use crate::api::auth::{authenticate_site, seen};
use crate::api::call::Call;
use crate::api::endpoint::Endpoint;
use crate::api::error::ApiError;
use crate::api::run_pull;
use crate::config::V5Config;
use crate::domain::versions;
use crate::primary::Primary;
use crate::sync::ClientKind;
use crate::wire::v5;

/// What open-mSupply pulls at a time when it does not say.
const DEFAULT_LIMIT: usize = 500;

pub async fn handle(primary: &Arc<Primary>, endpoint: Endpoint, call: Call) -> Result<Vec<u8>, ApiError> {
    use http::Method;
    check_versions(&primary.config.v5, &call.headers)?;
    let site = authenticate_site(&primary.engine, &call.headers).await?;
    seen(&primary.engine, site, &call);
    let engine = &primary.engine;
    // open-mSupply builds its own half of transfers: the primary must not generate it.
    engine.note_client(site, ClientKind::OpenMsupply).await?;
    match (endpoint, &call.method) {
        (Endpoint::Site, &Method::GET) => Ok(v5::encode_site(
            site.0,
            engine.initialisation(site),
            primary.config.server.primary_site_id,
            &central_url(&primary.config, &call),
        )),
        (Endpoint::Initialise, &Method::POST) => {
            let queued = engine.initial_dump(site, false, ClientKind::OpenMsupply).await?;
            Ok(v5::encode_queue_length(queued))
        }
        // Initialisation is a view over the log, ready as soon as it is asked for: the primary
        // is never busy preparing it.
        (Endpoint::SiteStatus, &Method::GET) => Ok(br#"{"code":"idle","message":"","data":null}"#.to_vec()),
        (Endpoint::CentralRecords, &Method::GET) => {
            let cursor = number(&call, "cursor", 0)?;
            let limit =
                (number(&call, "limit", DEFAULT_LIMIT as u64)? as usize).min(primary.config.limits.max_pull_limit);
            run_pull(primary, move |primary| {
                let (max_cursor, records) = primary.engine.central_after(site, cursor, limit)?;
                primary.engine.health().pulled_feed(site);
                primary.engine.activity().delivered(records.len() as u64);
                Ok(v5::encode_central(max_cursor, &records, &primary.config.fields))
            })
            .await
        }
        (Endpoint::QueuedRecords, &Method::GET) => {
            let limit =
                (number(&call, "limit", DEFAULT_LIMIT as u64)? as usize).min(primary.config.limits.max_pull_limit);
            run_pull(primary, move |primary| {
                let records = primary.engine.deliver(site, limit)?;
                Ok(v5::encode_queued(
                    primary.engine.count(site),
                    &records,
                    &primary.config.fields,
                ))
            })
            .await
        }
        (Endpoint::AcknowledgedRecords, &Method::POST) => {
            let body = call.body().await?;
            let ids = v5::decode_acknowledgement(&body)?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            Ok(v5::encode_queue_length(engine.acknowledge(site, &ids).await?))
        }
        (Endpoint::QueuedRecords, &Method::POST) => {
            let body = call.body().await?;
            // `queueLength` says how much the site still has to push; the records are applied
            // at once either way, so the last push of a cycle ({"queueLength":0}) ends it.
            let pushed = v5::decode_push(&body, primary.config.limits.max_push_records)?;
            engine.push(site, pushed.records).await?;
            Ok(br#"{"integrationStarted":true}"#.to_vec())
        }
        (_, method) => Err(ApiError::MethodNotAllowed(method.to_string())),
    }
}

/// Refuses a client whose sync API version (header `version`) or app version (`app-version`)
/// is outside what the configuration accepts. A client that does not say is let through.
fn check_versions(accepted: &V5Config, headers: &http::HeaderMap) -> Result<(), ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(sent) = header("version") {
        let (min, max) = (accepted.min_sync_version, accepted.max_sync_version);
        let served = if max == u32::MAX {
            format!("sync API version {min} or later")
        } else {
            format!("sync API versions {min} to {max}")
        };
        match sent.parse::<u32>() {
            Ok(version) if (min..=max).contains(&version) => {}
            _ => {
                return Err(ApiError::VersionIncompatible(format!(
                    "this primary serves {served}; the site sent version \"{sent}\""
                )))
            }
        }
    }
    if let (Some(oldest), Some(sent)) = (&accepted.min_app_version, header("app-version")) {
        let oldest_parts = versions::parse(oldest).expect("checked when the configuration loads");
        let too_old = versions::parse(sent).is_none_or(|v| versions::compare(&v, &oldest_parts).is_lt());
        if too_old {
            return Err(ApiError::VersionIncompatible(format!(
                "this primary accepts open-mSupply {oldest} or later; the site runs \"{sent}\": upgrade it"
            )));
        }
    }
    Ok(())
}

/// Where the site's v6 calls go (`<url>/central/sync/`, answered by `api::v6`): the configured
/// address, or the host the request came to with the scheme it came by, which the remote can
/// reach (an empty or unparsable URL fails its whole sync).
fn central_url(config: &crate::config::Config, call: &Call) -> String {
    if let Some(url) = &config.v5.central_url {
        return url.trim_end_matches('/').to_string();
    }
    let (scheme, listen) = match (&config.tls, call.over_tls) {
        (Some(tls), true) => ("https", Some(tls.listen)),
        _ => ("http", config.server.listen),
    };
    let host = call
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .or_else(|| listen.map(|address| address.to_string()))
        .unwrap_or_default();
    format!("{scheme}://{host}")
}

/// A whole-number query parameter, `default` when absent.
fn number(call: &Call, name: &str, default: u64) -> Result<u64, ApiError> {
    match call.query.get(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("{name} must be a whole number, not \"{text}\""))),
    }
}
