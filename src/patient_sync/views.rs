//! The read-only views: `/status`, `/status-detail`, `/data-status` of a patient, and
//! `/operational-status` of a site (its initialisation, per table, in the metastamp shape).

use serde_json::Value;

use super::Host;
use crate::domain::ids::SiteId;
use crate::patient::ids::PatientId;
use crate::patient::operational::{self, Initialisation, TableCounts};
use crate::patient::stamp::StampTime;
use crate::patient::status;
use crate::wire::patient::{no_operational_status_message, unsynced_message};

use super::identity::{known_jpid, site_code};
use super::state::PatientState;
use super::{PatientSyncError, Result};

/// Which view of a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Status,
    Detail,
    Data,
}

/// The `data` of a patient view; 404 with "pid … is unsynced" for a patient not kept.
pub fn patient_view(host: &dyn Host, pid: &PatientId, view: View) -> Result<Value> {
    let storage = host.engine().storage();
    let Some(jpid) = known_jpid(storage, pid)? else {
        return Err(PatientSyncError::NotFound(unsynced_message(&pid.to_string())));
    };
    Ok(render(&PatientState::read(storage, &jpid)?, view))
}

/// The `data` of `view` of `patient` (also what `load` answers, as `View::Status`).
pub fn render(patient: &PatientState, view: View) -> Value {
    let view_of = patient.view();
    let value = match view {
        View::Status => serde_json::to_value(status::status(&view_of)),
        View::Detail => serde_json::to_value(status::status_detail(&view_of)),
        View::Data => serde_json::to_value(status::data_status(&view_of)),
    };
    value.expect("views serialise")
}

/// The `data` of `/operational-status` for `site`: what its latest initial dump queued per
/// table against what it has acknowledged. 404 when it never initialised.
pub fn operational_status(host: &dyn Host, site: SiteId) -> Result<Value> {
    let Some(progress) = host.engine().dump_progress(site) else {
        return Err(PatientSyncError::NotFound(no_operational_status_message(
            site_code(site).as_str(),
        )));
    };
    let initialisation = Initialisation {
        tables: progress
            .tables
            .into_iter()
            .map(|table| TableCounts {
                table: table.table,
                queued: table.queued,
                acknowledged: table.acknowledged,
            })
            .collect(),
        started: StampTime::from_unix_seconds(progress.started_unix_seconds),
        completed: progress.completed_unix_seconds.map(StampTime::from_unix_seconds),
    };
    let status = operational::operational_status(&site_code(site), &initialisation);
    Ok(serde_json::to_value(status).expect("views serialise"))
}
