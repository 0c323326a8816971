//! The views of a patient's sync: the `data` of `/status`, `/status-detail` and `/data-status`, as
//! serde structs whose JSON is the API's (the HTTP layer adds the `{data, status}` envelope).
//! Every key eHMP's published schemas require is always written, with the spec's value for what
//! the patient does not have (an ICN `""`, a stamp `0`, an empty map); the optional ones are left
//! out when empty. Whether anything is complete is always asked of [`completion`], so the views
//! agree with each other and with `/load`.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use super::completion::{self, all_sites_complete, is_source_complete};
use super::ids::{Icn, Jpid, SiteCode, SourcePid};
use super::jobs::{job_status, JobRecord};
use super::metastamp::SourceSyncState;
use super::stamp::StampTime;
use super::Source;

/// What the views are rendered from: one patient's kept state.
#[derive(Debug, Clone, Copy)]
pub struct PatientSyncView<'a> {
    pub jpid: &'a Jpid,
    /// The patient's ICN, when it has one.
    pub icn: Option<&'a Icn>,
    /// When the patient was last loaded or looked at.
    pub last_access_time: Option<StampTime>,
    /// Every source the patient has, answered or not.
    pub sources: &'a [SourceSyncState],
    /// Every job record of the patient.
    pub jobs: &'a [JobRecord],
}

/// The `data` of `/status`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusData {
    pub jpid: Jpid,
    pub sync_status: SyncStatus,
    pub job_status: Vec<JobRecord>,
}

/// Complete sources under `completedStamp`, always there (with no source while none is
/// complete); the others under `inProgress`, there only while some source is incomplete.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    pub completed_stamp: PatientStamps,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<PatientStamps>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientStamps {
    /// `""` for a patient without an ICN.
    pub icn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_access_time: Option<StampTime>,
    pub source_meta_stamp: BTreeMap<Source, SourceStampView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStampView {
    pub pid: SourcePid,
    pub local_id: LocalId,
    /// `0` while the source has sent no metastamp.
    #[serde(serialize_with = "stamp_or_zero")]
    pub stamp_time: Option<StampTime>,
    pub sync_completed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_complete_as_of: Option<StampTime>,
    pub domain_meta_stamp: BTreeMap<String, DomainStampView>,
}

/// The patient's id at the source: a site's DFN is a number, the others are text (an EDIPI's
/// leading zeros are part of it).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum LocalId {
    Dfn(u64),
    Text(String),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainStampView {
    pub domain: String,
    /// `0` while the source has not stamped the domain.
    #[serde(serialize_with = "stamp_or_zero")]
    pub stamp_time: Option<StampTime>,
    pub event_count: usize,
    pub stored_count: usize,
    pub sync_completed: bool,
    /// Only in `/status-detail`, and there always (`{}` for a domain without events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_meta_stamp: Option<BTreeMap<String, EventStampView>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventStampView {
    pub stamp_time: StampTime,
    pub stored: bool,
}

/// The `data` of `/data-status`: satellites under `VISTA` (always there), secondary sources at the
/// top level. `DOD` and `VLER` are always there (the published schema requires them): one the
/// patient has no identifier for has nothing to wait for. `HDR` is there when the patient has it.
#[derive(Debug, Serialize)]
pub struct DataStatus {
    #[serde(rename = "VISTA")]
    pub vista: BTreeMap<SiteCode, SourceDataStatus>,
    #[serde(rename = "DOD")]
    pub dod: SourceDataStatus,
    #[serde(rename = "HDR", skip_serializing_if = "Option::is_none")]
    pub hdr: Option<SourceDataStatus>,
    #[serde(rename = "VLER")]
    pub vler: SourceDataStatus,
    #[serde(rename = "allSites")]
    pub all_sites: bool,
}

/// `completedStamp`: the stamp time of the source's latest complete metastamp; a `VISTA` site
/// always carries it (`0` until it is first complete), a secondary source once it has one.
/// `hasError` while the source is incomplete.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceDataStatus {
    pub is_sync_completed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_stamp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_error: Option<bool>,
}

impl SourceDataStatus {
    /// A secondary source the patient has no identifier for: nothing to wait for.
    fn not_a_source() -> SourceDataStatus {
        SourceDataStatus {
            is_sync_completed: true,
            completed_stamp: None,
            has_error: None,
        }
    }
}

/// The `data` of `/status`: per-domain counts, no per-event detail.
pub fn status(view: &PatientSyncView<'_>) -> StatusData {
    StatusData {
        jpid: view.jpid.clone(),
        sync_status: sync_status(view, false),
        job_status: job_status(view.jobs),
    }
}

/// The `data` of `/status-detail`: the sync status itself, with every event's stamp and whether
/// it is stored.
pub fn status_detail(view: &PatientSyncView<'_>) -> SyncStatus {
    sync_status(view, true)
}

/// The `data` of `/data-status`.
pub fn data_status(view: &PatientSyncView<'_>) -> DataStatus {
    let mut data = DataStatus {
        vista: BTreeMap::new(),
        dod: SourceDataStatus::not_a_source(),
        hdr: None,
        vler: SourceDataStatus::not_a_source(),
        all_sites: all_sites_complete(view.sources, view.jobs),
    };
    for state in view.sources {
        let complete = is_source_complete(state);
        let completed_stamp = state.completed_stamp_time().map(StampTime::get);
        let mut rendered = SourceDataStatus {
            is_sync_completed: complete,
            completed_stamp,
            has_error: (!complete).then_some(state.error().is_some()),
        };
        match state.source() {
            Source::Primary(site) => {
                rendered.completed_stamp = Some(completed_stamp.unwrap_or(0));
                data.vista.insert(site, rendered);
            }
            Source::Dod => data.dod = rendered,
            Source::Hdr => data.hdr = Some(rendered),
            Source::Vler => data.vler = rendered,
        }
    }
    data
}

fn sync_status(view: &PatientSyncView<'_>, with_events: bool) -> SyncStatus {
    let (mut completed, mut in_progress) = (BTreeMap::new(), BTreeMap::new());
    for state in view.sources {
        let rendered = source_view(state, with_events);
        let group = if rendered.sync_completed {
            &mut completed
        } else {
            &mut in_progress
        };
        group.insert(state.source(), rendered);
    }
    let stamps = |sources: BTreeMap<Source, SourceStampView>| PatientStamps {
        icn: view.icn.map(ToString::to_string).unwrap_or_default(),
        last_access_time: view.last_access_time,
        source_meta_stamp: sources,
    };
    SyncStatus {
        completed_stamp: stamps(completed),
        in_progress: (!in_progress.is_empty()).then(|| stamps(in_progress)),
    }
}

/// A stamp the schemas require, `0` standing for one not there yet.
fn stamp_or_zero<S: Serializer>(stamp: &Option<StampTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match stamp {
        Some(stamp) => stamp.serialize(serializer),
        None => serializer.serialize_u64(0),
    }
}

fn source_view(state: &SourceSyncState, with_events: bool) -> SourceStampView {
    let mut domains = BTreeMap::new();
    for (name, stamps) in state.domains() {
        let progress = completion::domain_progress(state, stamps);
        let events = stamps.events.iter().map(|(uid, &latest)| {
            let stored = completion::is_event_stored(state, uid, latest);
            (
                uid.clone(),
                EventStampView {
                    stamp_time: latest,
                    stored,
                },
            )
        });
        let rendered = DomainStampView {
            domain: name.clone(),
            stamp_time: stamps.stamp_time,
            event_count: progress.event_count,
            stored_count: progress.stored_count,
            sync_completed: progress.complete,
            event_meta_stamp: with_events.then(|| events.collect()),
        };
        domains.insert(name.clone(), rendered);
    }
    let local_id = match state.pid() {
        SourcePid::Site { dfn, .. } => LocalId::Dfn(*dfn),
        SourcePid::Dod(edipi) => LocalId::Text(edipi.to_string()),
        SourcePid::Hdr(icn) | SourcePid::Vler(icn) => LocalId::Text(icn.to_string()),
    };
    SourceStampView {
        pid: state.pid().clone(),
        local_id,
        stamp_time: state.stamp_time(),
        sync_completed: is_source_complete(state),
        sync_complete_as_of: state.sync_complete_as_of(),
        domain_meta_stamp: domains,
    }
}

#[cfg(test)]
mod tests;
