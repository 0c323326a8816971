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
    let found = engine.with_directory(|d| {
        let site = d.site_named(name).filter(|s| s.id != d.primary())?;
        let open = site.password.verify(secret);
        Some((site.id, open.then(|| (site.hardware_id.clone(), site.disabled))))
    });
    let Some((site, opened)) = found else {
        return Err(ApiError::Unauthorized);
    };
    let Some(facts) = opened else {
        engine.health().failed_login(site);
        return Err(ApiError::Unauthorized);
    };
    admit(engine, hardware, site, facts).await
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
    let (site, bound, disabled) = engine
        .with_directory(|d| {
            let site = match claim? {
                Claim::Id(id) => d.site(SiteId(id)),
                Claim::Name(name) => d.site_named(name),
            }?;
            (site.id != d.primary()).then(|| (site.id, site.hardware_id.clone(), site.disabled))
        })
        .ok_or(ApiError::Unauthorized)?;
    admit(engine, presented_hardware(headers), site, (bound, disabled)).await
}

/// The hardware id a request presents in its header, if any.
fn presented_hardware(headers: &HeaderMap) -> Option<&str> {
    headers.get(HARDWARE_HEADER).and_then(|v| v.to_str().ok())
}

/// Admits a site whose credentials are right: refused while an operator has it disabled;
/// bound to the hardware id presented on first use, and refusing another one afterwards.
async fn admit(
    engine: &SyncEngine,
    presented: Option<&str>,
    site: SiteId,
    (bound, disabled): (Option<String>, bool),
) -> Result<SiteId, ApiError> {
    if disabled {
        return Err(ApiError::SiteDisabled);
    }
    let presented = presented.filter(|v| !v.is_empty());
    let admitted = match (presented, bound) {
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
    };
    if matches!(admitted, Err(ApiError::HardwareMismatch)) {
        engine.health().failed_login(site);
    }
    admitted
}

/// The headers a satellite reports its app's version in: mSupply Mobile's, then
/// open-mSupply's.
const APP_VERSION_HEADERS: [&str; 3] = ["msupply-version", "mobile-version", "app-version"];

/// Notes in `site`'s health the request it just authenticated for: when, from where, over which
/// API, with which app.
pub fn seen(engine: &SyncEngine, site: SiteId, call: &super::call::Call) {
    SeenFrom::of(call).note(engine, site);
}

/// What a request tells of its satellite, taken before its body is read (v6 authenticates from
/// its body).
pub struct SeenFrom(crate::sync::health::Seen);

impl SeenFrom {
    pub fn of(call: &super::call::Call) -> SeenFrom {
        let is_version = |segment: &&str| {
            segment.len() >= 2 && segment.starts_with('v') && segment[1..].bytes().all(|b| b.is_ascii_digit())
        };
        let api = call.path.split('/').find(is_version).map(api_label).unwrap_or("other");
        let app_version = APP_VERSION_HEADERS
            .iter()
            .find_map(|name| call.headers.get(*name)?.to_str().ok())
            .map(|version| version.chars().take(64).collect());
        SeenFrom(crate::sync::health::Seen {
            api,
            address: call.peer.map(|ip| ip.to_string()),
            app_version,
        })
    }

    pub fn note(self, engine: &SyncEngine, site: SiteId) {
        engine.health().request(site, self.0);
    }
}

/// A static label for the API versions there are (health keeps a `&'static str`).
fn api_label(segment: &str) -> &'static str {
    match segment {
        "v1" => "v1",
        "v2" => "v2",
        "v3" => "v3",
        "v4" => "v4",
        "v5" => "v5",
        "v6" => "v6",
        _ => "other",
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
