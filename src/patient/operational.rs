//! The `data` of `/operational-status`: the completion model applied to a site's operational
//! (non-patient) data, which for a satellite is its initialisation: per table (the "domain"),
//! what its initial dump queued (`itemCount`) against what it has acknowledged (`storedCount`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::ids::SiteCode;
use super::stamp::StampTime;

/// One table of a site's initialisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCounts {
    pub table: String,
    pub queued: u64,
    pub acknowledged: u64,
}

/// A site's initialisation, as the sync core reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initialisation {
    pub tables: Vec<TableCounts>,
    pub started: StampTime,
    /// When every queued record was acknowledged; `None` while some are not.
    pub completed: Option<StampTime>,
}

/// `completedStamp` once the initialisation is complete, `inProgress` before.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationalStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_stamp: Option<OperationalStamps>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<OperationalStamps>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationalStamps {
    pub source_meta_stamp: BTreeMap<SiteCode, SiteStamp>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteStamp {
    pub stamp_time: StampTime,
    pub sync_completed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_complete_as_of: Option<StampTime>,
    pub domain_meta_stamp: BTreeMap<String, TableStamp>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableStamp {
    pub domain: String,
    pub item_count: u64,
    pub stored_count: u64,
    pub stamp_time: StampTime,
    pub sync_completed: bool,
}

pub fn operational_status(site: &SiteCode, progress: &Initialisation) -> OperationalStatus {
    let domains = progress
        .tables
        .iter()
        .map(|table| {
            let stamp = TableStamp {
                domain: table.table.clone(),
                item_count: table.queued,
                stored_count: table.acknowledged.min(table.queued),
                stamp_time: progress.started,
                sync_completed: table.acknowledged >= table.queued,
            };
            (table.table.clone(), stamp)
        })
        .collect();
    let stamp = SiteStamp {
        stamp_time: progress.started,
        sync_completed: progress.completed.is_some(),
        sync_complete_as_of: progress.completed,
        domain_meta_stamp: domains,
    };
    let stamps = OperationalStamps {
        source_meta_stamp: BTreeMap::from([(site.clone(), stamp)]),
    };
    match progress.completed {
        Some(_) => OperationalStatus {
            completed_stamp: Some(stamps),
            in_progress: None,
        },
        None => OperationalStatus {
            completed_stamp: None,
            in_progress: Some(stamps),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(acknowledged: u64, completed: Option<StampTime>) -> Initialisation {
        Initialisation {
            tables: vec![TableCounts {
                table: "item".to_string(),
                queued: 120,
                acknowledged,
            }],
            started: StampTime::from_number(20160706094004).unwrap(),
            completed,
        }
    }

    #[test]
    fn in_progress_until_every_queued_record_is_acknowledged() {
        let site = SiteCode::parse("9E7A").unwrap();
        let json = serde_json::to_value(operational_status(&site, &progress(100, None))).unwrap();
        let item = &json["inProgress"]["sourceMetaStamp"]["9E7A"]["domainMetaStamp"]["item"];
        assert_eq!(item["itemCount"], 120);
        assert_eq!(item["storedCount"], 100);
        assert_eq!(item["syncCompleted"], false);
        assert!(json.get("completedStamp").is_none());

        let done = StampTime::from_number(20160706100000).unwrap();
        let json = serde_json::to_value(operational_status(&site, &progress(120, Some(done)))).unwrap();
        let stamp = &json["completedStamp"]["sourceMetaStamp"]["9E7A"];
        assert_eq!(stamp["syncCompleted"], true);
        assert_eq!(stamp["syncCompleteAsOf"], 20160706100000_u64);
        assert_eq!(stamp["domainMetaStamp"]["item"]["syncCompleted"], true);
        assert!(json.get("inProgress").is_none());
    }
}
