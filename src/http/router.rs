//! The one route table: every endpoint the primary serves.

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Site,
    User,
    QueuedRecords,
    QueuedRecordsCount,
    AcknowledgedRecords,
    InitialDump,
}

/// The API versions whose routes share the v2 handlers (v3 is the v2 format).
const V2_PREFIXES: [&str; 2] = ["/sync/v2/", "/sync/v3/"];

const V2_ENDPOINTS: [(&str, Endpoint); 6] = [
    ("site", Endpoint::Site),
    ("user", Endpoint::User),
    ("queued_records", Endpoint::QueuedRecords),
    ("queued_records/count", Endpoint::QueuedRecordsCount),
    ("acknowledged_records", Endpoint::AcknowledgedRecords),
    ("initial_dump", Endpoint::InitialDump),
];

/// The endpoint for `path`, with or without a trailing slash.
pub fn route(path: &str) -> Option<Endpoint> {
    let rest = V2_PREFIXES.iter().find_map(|prefix| path.strip_prefix(prefix))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    V2_ENDPOINTS
        .iter()
        .find(|(name, _)| *name == rest)
        .map(|(_, endpoint)| *endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_with_and_without_trailing_slash_on_v2_and_v3() {
        for prefix in V2_PREFIXES {
            for (name, endpoint) in V2_ENDPOINTS {
                assert_eq!(route(&format!("{prefix}{name}")), Some(endpoint));
                assert_eq!(route(&format!("{prefix}{name}/")), Some(endpoint));
            }
        }
        assert_eq!(route("/sync/v9/site"), None);
        assert_eq!(route("/sync/v2/site//"), None);
        assert_eq!(route("/sync/v2/"), None);
    }
}
