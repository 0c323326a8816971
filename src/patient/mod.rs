//! Patient sync ("Group Sync"): the pure model of the patient-centred API.
//!
//! A clinician's application asks the primary to gather one patient's data from every source that
//! holds some of it, and watches the progress. This module owns the identifiers and how they are
//! derived, stamp times, the metastamp kept per (patient, source), the sync jobs, the completion
//! rules, and the views `/status`, `/status-detail` and `/data-status` render.
//!
//! Pure: no I/O, no RocksDB, no HTTP. What will be stored derives serde, so `store/` can persist it
//! as it is; handlers decode a request, act through the sync layer, and render with [`status`].
//! Imports nothing else of the crate.

pub mod completion;
pub mod ids;
pub mod jobs;
pub mod metastamp;
pub mod operational;
pub mod stamp;
pub mod status;

use std::fmt;

use ids::{IdError, SiteCode};

/// Where a share of a patient's data lives.
///
/// The order (primary sources by site code, then DOD, HDR, VLER) is the order views list them in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Source {
    /// A satellite, which answers through its outgoing sync queue.
    Primary(SiteCode),
    /// The DOD system (through JMeadows), fetched by the primary by EDIPI.
    Dod,
    /// The Health Data Repository, fetched by the primary by ICN.
    Hdr,
    /// The VLER exchange, fetched by the primary by ICN.
    Vler,
}

impl Source {
    /// Parses a source code as `prioritySite` and `forcedSite` name it: a site code or one of the
    /// secondary sources' names (in any case, like site codes).
    pub fn parse(code: &str) -> Result<Source, IdError> {
        match code.to_ascii_uppercase().as_str() {
            "DOD" => Ok(Source::Dod),
            "HDR" => Ok(Source::Hdr),
            "VLER" => Ok(Source::Vler),
            _ => SiteCode::parse(code).map(Source::Primary).map_err(|_| IdError::Source {
                value: code.to_string(),
            }),
        }
    }

    /// The code views key the source by: the site code, or `DOD`, `HDR`, `VLER`.
    pub fn code(&self) -> &str {
        match self {
            Source::Primary(site) => site.as_str(),
            Source::Dod => "DOD",
            Source::Hdr => "HDR",
            Source::Vler => "VLER",
        }
    }

    /// Whether the source is a satellite (grouped under `VISTA` by `/data-status`).
    pub fn is_primary(&self) -> bool {
        matches!(self, Source::Primary(_))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Source {
    type Error = IdError;
    fn try_from(code: String) -> Result<Source, IdError> {
        Source::parse(&code)
    }
}

impl From<Source> for String {
    fn from(source: Source) -> String {
        source.code().to_string()
    }
}

/// An error of a sync: one a source reported, or one the primary recorded for it (a failed fetch,
/// a time-out). Jobs carry it as `error:{type,message}`; a source holding one is not complete.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncError {
    /// A short machine-readable kind, such as `timeout` or `fetch`.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

impl SyncError {
    pub fn new(kind: &str, message: &str) -> SyncError {
        SyncError {
            kind: kind.to_string(),
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_codes_round_trip_and_secondary_names_are_reserved() {
        for code in ["9E7A", "C877", "DOD", "HDR", "VLER"] {
            assert_eq!(Source::parse(code).unwrap().code(), code);
        }
        assert_eq!(Source::parse("dod").unwrap(), Source::Dod);
        assert_eq!(Source::parse("9e7a").unwrap().code(), "9E7A");
        assert!(Source::parse("9E").is_err());
        assert!(Source::parse("9E-7A").is_err());
        assert!(Source::parse("C877").unwrap().is_primary());
        assert!(!Source::parse("VLER").unwrap().is_primary());
    }

    #[test]
    fn sources_sort_primary_first_then_dod_hdr_vler() {
        let mut sources = vec![Source::Vler, Source::parse("C877").unwrap(), Source::Dod, Source::Hdr];
        sources.push(Source::parse("9E7A").unwrap());
        sources.sort();
        let codes: Vec<&str> = sources.iter().map(Source::code).collect();
        assert_eq!(codes, ["9E7A", "C877", "DOD", "HDR", "VLER"]);
    }

    #[test]
    fn sync_error_has_the_type_message_shape() {
        let json = serde_json::to_value(SyncError::new("timeout", "no answer")).unwrap();
        assert_eq!(json, serde_json::json!({"type": "timeout", "message": "no answer"}));
    }
}
