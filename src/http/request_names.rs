//! What the metrics count a request under: its API and its endpoint, as the route tables name
//! them (this one's, the patient API's, the admin API's), never the path itself, which may hold
//! a site's name or a patient's id. A path no table knows is `unknown`, under the API whose
//! prefix it has, or `none`.

use super::{dashboard, router, Surface};
use crate::api::request_metrics::RequestLabels;
use crate::primary::Primary;

const UNKNOWN: &str = "unknown";

/// The labels of a request to `path` on `surface`, answered with `status`.
pub fn labels(primary: &Primary, surface: Surface, path: &str, status: u16) -> RequestLabels {
    let (api, endpoint) = names(&primary.config.patient.base_path, surface, path);
    RequestLabels { api, endpoint, status }
}

/// (API, endpoint) of `path`, the patient API being under `patient_base`.
fn names(patient_base: &str, surface: Surface, path: &str) -> (&'static str, &'static str) {
    use crate::api::{admin, health, metrics, patient};
    match path {
        health::LIVE => return ("health", "healthz"),
        health::READY => return ("health", "readyz"),
        _ => {}
    }
    match surface {
        Surface::Admin if path == metrics::PATH => ("admin", "metrics"),
        Surface::Admin if dashboard::asset(path).is_some() => ("admin", "dashboard"),
        Surface::Admin => ("admin", admin::endpoint_name(path).unwrap_or(UNKNOWN)),
        Surface::Satellites => match path.strip_prefix(patient_base) {
            // As `handle` tells the patient API's paths.
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                ("patient", patient::endpoint_name(rest).unwrap_or(UNKNOWN))
            }
            _ => match router::names(path) {
                Some((api, endpoint)) => (api, endpoint.unwrap_or(UNKNOWN)),
                None => ("none", UNKNOWN),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "/resource/sync";

    #[test]
    fn each_surface_names_its_routes_and_nothing_of_a_path_leaks() {
        let satellites = |path| names(BASE, Surface::Satellites, path);
        let admin = |path| names(BASE, Surface::Admin, path);
        assert_eq!(satellites("/sync/v3/queued_records"), ("v3", "queued_records"));
        assert_eq!(
            satellites("/sync/v1/queued_records/count/"),
            ("v1", "queued_records/count")
        );
        assert_eq!(satellites("/sync/v5/site/CLINIC-7"), ("v5", "unknown"));
        assert_eq!(satellites("/resource/sync/load"), ("patient", "load"));
        assert_eq!(satellites("/resource/sync/9E7A;3"), ("patient", "unknown"));
        assert_eq!(satellites("/resource/synced"), ("none", "unknown"));
        assert_eq!(satellites("/healthz"), ("health", "healthz"));
        assert_eq!(satellites("/metrics"), ("none", "unknown"), "not served here");
        assert_eq!(admin("/readyz"), ("health", "readyz"));
        assert_eq!(admin("/metrics"), ("admin", "metrics"));
        assert_eq!(admin("/admin/app.js"), ("admin", "dashboard"));
        assert_eq!(admin("/admin/v1/sites/CLINIC-7/queue"), ("admin", "sites/{name}/queue"));
        assert_eq!(admin("/admin/v1/export"), ("admin", "export"));
        assert_eq!(admin("/sync/v3/site"), ("admin", "unknown"), "not served here");
    }
}
