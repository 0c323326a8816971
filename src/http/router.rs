//! The one route table: every endpoint the primary serves.

use crate::api::endpoint::{Api, Endpoint};

/// The API versions whose routes share the v2 handlers (v3 is the v2 format).
const V2_PREFIXES: [&str; 2] = ["/sync/v2/", "/sync/v3/"];

const V1_PREFIXES: [&str; 1] = ["/sync/v1/"];

/// The calls of v1, v2 and v3.
const V2_ENDPOINTS: [(&str, Endpoint); 6] = [
    ("site", Endpoint::Site),
    ("user", Endpoint::User),
    ("queued_records", Endpoint::QueuedRecords),
    ("queued_records/count", Endpoint::QueuedRecordsCount),
    ("acknowledged_records", Endpoint::AcknowledgedRecords),
    ("initial_dump", Endpoint::InitialDump),
];

const V4_PREFIXES: [&str; 2] = ["/sync/v4/", "/api/v4/"];

const V4_ENDPOINTS: [(&str, Endpoint); 2] = [
    ("name_store_join", Endpoint::NameStoreJoin),
    ("patient_history", Endpoint::PatientHistory),
];

const V5_PREFIXES: [&str; 1] = ["/sync/v5/"];

const V5_ENDPOINTS: [(&str, Endpoint); 6] = [
    ("central_records", Endpoint::CentralRecords),
    ("site", Endpoint::Site),
    ("initialise", Endpoint::Initialise),
    ("site_status", Endpoint::SiteStatus),
    ("queued_records", Endpoint::QueuedRecords),
    ("acknowledged_records", Endpoint::AcknowledgedRecords),
];

const V6_PREFIXES: [&str; 1] = ["/central/sync/"];

const V6_ENDPOINTS: [(&str, Endpoint); 3] = [
    ("pull", Endpoint::CentralPull),
    ("push", Endpoint::CentralPush),
    ("site_status", Endpoint::CentralSiteStatus),
];

/// One API's routes: its path prefixes and its endpoints under them.
struct Routes {
    api: Api,
    prefixes: &'static [&'static str],
    endpoints: &'static [(&'static str, Endpoint)],
}

const ROUTES: [Routes; 5] = [
    Routes {
        api: Api::V1,
        prefixes: &V1_PREFIXES,
        endpoints: &V2_ENDPOINTS,
    },
    Routes {
        api: Api::V2,
        prefixes: &V2_PREFIXES,
        endpoints: &V2_ENDPOINTS,
    },
    Routes {
        api: Api::V4,
        prefixes: &V4_PREFIXES,
        endpoints: &V4_ENDPOINTS,
    },
    Routes {
        api: Api::V5,
        prefixes: &V5_PREFIXES,
        endpoints: &V5_ENDPOINTS,
    },
    Routes {
        api: Api::V6,
        prefixes: &V6_PREFIXES,
        endpoints: &V6_ENDPOINTS,
    },
];

/// How the metrics name the API of each prefix: v3 has v2's handlers but clients of its own, and
/// v4's two prefixes are one API.
const API_NAMES: [(&str, &str); 7] = [
    ("/sync/v1/", "v1"),
    ("/sync/v2/", "v2"),
    ("/sync/v3/", "v3"),
    ("/sync/v4/", "v4"),
    ("/api/v4/", "v4"),
    ("/sync/v5/", "v5"),
    ("/central/sync/", "v6"),
];

/// The names the metrics count `path` under, from this table (never the path itself, which
/// may hold ids): its API's, and its endpoint's (`None`: no endpoint of that API). `None` when
/// `path` is under no API.
pub fn names(path: &str) -> Option<(&'static str, Option<&'static str>)> {
    let (prefix, api_name) = API_NAMES.iter().find(|(prefix, _)| path.starts_with(prefix))?;
    let routes = ROUTES.iter().find(|routes| routes.prefixes.contains(prefix))?;
    let rest = &path[prefix.len()..];
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let endpoint = routes
        .endpoints
        .iter()
        .find(|(name, _)| *name == rest)
        .map(|(name, _)| *name);
    Some((api_name, endpoint))
}

/// The API whose prefix `path` is under, endpoint or not (its errors take that API's shape).
pub fn api(path: &str) -> Option<Api> {
    ROUTES
        .iter()
        .find(|routes| routes.prefixes.iter().any(|prefix| path.starts_with(prefix)))
        .map(|routes| routes.api)
}

/// The API and endpoint for `path`, with or without a trailing slash.
pub fn route(path: &str) -> Option<(Api, Endpoint)> {
    ROUTES.iter().find_map(
        |Routes {
             api,
             prefixes,
             endpoints,
         }| {
            let rest = prefixes.iter().find_map(|prefix| path.strip_prefix(prefix))?;
            let rest = rest.strip_suffix('/').unwrap_or(rest);
            endpoints
                .iter()
                .find(|(name, _)| *name == rest)
                .map(|(_, endpoint)| (*api, *endpoint))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_with_and_without_trailing_slash_on_every_prefix() {
        for prefix in V2_PREFIXES {
            for (name, endpoint) in V2_ENDPOINTS {
                assert_eq!(route(&format!("{prefix}{name}")), Some((Api::V2, endpoint)));
                assert_eq!(route(&format!("{prefix}{name}/")), Some((Api::V2, endpoint)));
            }
        }
        for (name, endpoint) in V2_ENDPOINTS {
            assert_eq!(route(&format!("/sync/v1/{name}")), Some((Api::V1, endpoint)));
            assert_eq!(route(&format!("/sync/v1/{name}/")), Some((Api::V1, endpoint)));
        }
        for (name, endpoint) in V6_ENDPOINTS {
            assert_eq!(route(&format!("/central/sync/{name}")), Some((Api::V6, endpoint)));
        }
        for prefix in V4_PREFIXES {
            for (name, endpoint) in V4_ENDPOINTS {
                assert_eq!(route(&format!("{prefix}{name}")), Some((Api::V4, endpoint)));
                assert_eq!(route(&format!("{prefix}{name}/")), Some((Api::V4, endpoint)));
            }
        }
        for (name, endpoint) in V5_ENDPOINTS {
            assert_eq!(route(&format!("/sync/v5/{name}")), Some((Api::V5, endpoint)));
            assert_eq!(route(&format!("/sync/v5/{name}/")), Some((Api::V5, endpoint)));
        }
        assert_eq!(route("/sync/v5/queued_records/count"), None);
        assert_eq!(api("/sync/v5/nothing"), Some(Api::V5));
        assert_eq!(api("/api/v4/nothing"), Some(Api::V4));
        assert_eq!(api("/elsewhere"), None);
        assert_eq!(route("/sync/v4/site"), None);
        assert_eq!(route("/api/v2/site"), None);
        assert_eq!(route("/sync/v9/site"), None);
        assert_eq!(route("/sync/v2/site//"), None);
        assert_eq!(route("/sync/v2/"), None);
    }

    #[test]
    fn metrics_name_every_prefix_and_endpoint_from_the_table_and_nothing_else() {
        for routes in &ROUTES {
            for prefix in routes.prefixes {
                assert!(
                    API_NAMES.iter().any(|(named, _)| named == prefix),
                    "{prefix} has a name"
                );
                for (name, _) in routes.endpoints {
                    let (_, endpoint) = names(&format!("{prefix}{name}/")).unwrap();
                    assert_eq!(endpoint, Some(*name));
                }
            }
        }
        assert_eq!(names("/sync/v3/queued_records"), Some(("v3", Some("queued_records"))));
        assert_eq!(
            names("/sync/v2/queued_records/count"),
            Some(("v2", Some("queued_records/count")))
        );
        assert_eq!(names("/api/v4/patient_history"), Some(("v4", Some("patient_history"))));
        assert_eq!(names("/central/sync/pull"), Some(("v6", Some("pull"))));
        assert_eq!(
            names("/sync/v5/site/1234"),
            Some(("v5", None)),
            "a path with an id is no endpoint"
        );
        assert_eq!(names("/sync/v9/site"), None);
        assert_eq!(names("/"), None);
    }
}
