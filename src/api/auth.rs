//! HTTP Basic authentication of sites and users, and the hardware binding of sites.

use base64::Engine;
use http::HeaderMap;

use super::error::ApiError;
use crate::config::V1Config;
use crate::domain::credentials::client_secret;
use crate::domain::directory::Operator;
use crate::domain::ids::SiteId;
use crate::sync::SyncEngine;

/// The header mobile sends with its hardware id.
pub const HARDWARE_HEADER: &str = "msupply-site-uuid";

/// (name, secret) from `Authorization: Basic base64(name:secret)`.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, secret) = text.split_once(':')?;
    Some((name.to_string(), secret.to_string()))
}

/// The operator the request is authenticated as: HTTP Basic with the operator's plain password,
/// or `Bearer` with a token issued to the operator. Only operators: a site's or a user's
/// credentials are refused like wrong ones.
pub fn authenticate_operator(engine: &SyncEngine, headers: &HeaderMap) -> Result<String, ApiError> {
    let (name, secret, by_token) = match bearer_token(headers) {
        Some(token) => {
            let (name, secret) = Operator::split_token(token).ok_or(ApiError::Unauthorized)?;
            (name.to_string(), secret.to_string(), true)
        }
        None => {
            let (name, password) = basic_credentials(headers).ok_or(ApiError::Unauthorized)?;
            (name, password, false)
        }
    };
    let secret = client_secret(&secret);
    let known = engine.with_directory(|d| match d.operator(&name) {
        Some(operator) if by_token => operator.tokens.iter().any(|token| token.verify(&secret)),
        Some(operator) => operator.password.verify(&secret),
        None => false,
    });
    known.then_some(name).ok_or(ApiError::Unauthorized)
}

/// The token of `Authorization: Bearer <token>`.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The site the request is authenticated as; binds it to its hardware id on first use.
pub async fn authenticate_site(engine: &SyncEngine, headers: &HeaderMap) -> Result<SiteId, ApiError> {
    let (name, secret) = basic_credentials(headers).ok_or(ApiError::Unauthorized)?;
    authenticate_site_as(engine, &name, &secret, presented_hardware(headers)).await
}

/// The site named `name` if `secret` is its password, with its binding checked against the
/// hardware id presented (v6 carries both in its body instead of headers).
pub async fn authenticate_site_as(
    engine: &SyncEngine,
    name: &str,
    secret: &str,
    hardware: Option<&str>,
) -> Result<SiteId, ApiError> {
    let (site, bound) = engine
        .with_directory(|d| {
            let site = d.site_named(name).filter(|s| s.id != d.primary())?;
            site.password
                .verify(secret)
                .then(|| (site.id, site.hardware_id.clone()))
        })
        .ok_or(ApiError::Unauthorized)?;
    check_hardware(engine, hardware, site, bound).await
}

/// The site a request of the shared v1 user acts for.
#[derive(Debug, Clone, Copy)]
pub enum Claim<'a> {
    /// `from_site` of a queue call.
    Id(u32),
    /// `site_name` of `GET site`.
    Name(&'a str),
}

/// v1: the site's own credentials as on every version, or, when the configuration enables it,
/// the one shared sync user of historic v1 (plain `username:password`, or the SHA-256 hex of
/// the password), acting for the site the request names. That site's hardware binding holds
/// either way.
pub async fn authenticate_site_v1(
    engine: &SyncEngine,
    headers: &HeaderMap,
    v1: &V1Config,
    claim: Option<Claim<'_>>,
) -> Result<SiteId, ApiError> {
    match authenticate_site(engine, headers).await {
        Err(ApiError::Unauthorized) => {}
        answered => return answered,
    }
    let (Some(shared_user), Some(shared_hash)) = (&v1.shared_user, &v1.shared_password_hash) else {
        return Err(ApiError::Unauthorized);
    };
    let (name, password) = basic_credentials(headers).ok_or(ApiError::Unauthorized)?;
    let shared =
        name == *shared_user && (shared_hash.verify(&client_secret(&password)) || shared_hash.verify(&password));
    if !shared {
        return Err(ApiError::Unauthorized);
    }
    // An unknown or missing site is refused like a wrong password: the shared user learns
    // nothing about which sites exist.
    let (site, bound) = engine
        .with_directory(|d| {
            let site = match claim? {
                Claim::Id(id) => d.site(SiteId(id)),
                Claim::Name(name) => d.site_named(name),
            }?;
            (site.id != d.primary()).then(|| (site.id, site.hardware_id.clone()))
        })
        .ok_or(ApiError::Unauthorized)?;
    check_hardware(engine, presented_hardware(headers), site, bound).await
}

/// The hardware id a request presents in its header, if any.
fn presented_hardware(headers: &HeaderMap) -> Option<&str> {
    headers.get(HARDWARE_HEADER).and_then(|v| v.to_str().ok())
}

/// Binds `site` to the hardware id presented on first use; refuses another one afterwards.
async fn check_hardware(
    engine: &SyncEngine,
    presented: Option<&str>,
    site: SiteId,
    bound: Option<String>,
) -> Result<SiteId, ApiError> {
    let presented = presented.filter(|v| !v.is_empty());
    match (presented, bound) {
        // The 2017 app never sends the header: a site never bound accepts that. A bound site
        // refuses it like any other id, or anyone with the password could bypass the binding.
        (None, None) => Ok(site),
        (None, Some(_)) => Err(ApiError::HardwareMismatch),
        (Some(presented), Some(bound)) if presented == bound => Ok(site),
        (Some(_), Some(_)) => Err(ApiError::HardwareMismatch),
        (Some(presented), None) => {
            engine.bind_hardware(site, presented).await?;
            Ok(site)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_header_decodes() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            "Basic dXNlcm5hbWU6NWU4ODQ4OThkYTI4MDQ3MTUxZDBlNTZmOGRjNjI5Mjc3MzYwM2QwZDZhYWJiZGQ2MmExMWVmNzIxZDE1NDJkOA=="
                .parse()
                .unwrap(),
        );
        let (name, secret) = basic_credentials(&headers).unwrap();
        assert_eq!(name, "username");
        assert_eq!(secret, crate::domain::credentials::client_secret("password"));
    }

    #[test]
    fn other_schemes_and_garbage_are_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(basic_credentials(&headers), None);
        headers.insert(http::header::AUTHORIZATION, "Basic !!!".parse().unwrap());
        assert_eq!(basic_credentials(&headers), None);
        assert_eq!(basic_credentials(&HeaderMap::new()), None);
    }
}
