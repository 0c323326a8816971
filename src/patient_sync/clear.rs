//! `clear`: tells the satellites holding the patient to stop sending it, then deletes everything
//! the patient sync kept for every identifier of the patient (records, metastamps, jobs,
//! demographics, identifier associations) in one durable write. The satellites' own mSupply data
//! lives in other column families and is not touched.

use super::Shared;
use crate::patient::ids::{PatientId, SourcePid};
use crate::patient::jobs::{unix_millis_now, JobRecord, JobType};
use crate::store::PatientWrites;
use crate::wire::patient::not_found_message;

use super::dispatch::tell_sites_to_stop;
use super::identity::known_jpid;
use super::state::PatientState;
use super::{on_writer, write, PatientSyncError, Result};

pub async fn clear(host: &Shared, pid: PatientId) -> Result<()> {
    let storage = host.engine().storage();
    let Some(jpid) = known_jpid(storage, &pid)? else {
        return Err(PatientSyncError::NotFound(not_found_message(&pid.to_string())));
    };
    let patient = PatientState::read(storage, &jpid)?;
    let sites: Vec<SourcePid> = patient
        .identifiers
        .iter()
        .filter_map(|id| match id {
            PatientId::Source(pid @ SourcePid::Site { .. }) => Some(pid.clone()),
            _ => None,
        })
        .collect();
    let request = JobRecord::created(JobType::EnterpriseSync, &jpid, &pid, None, unix_millis_now());
    tell_sites_to_stop(host, &request, &sites).await?;
    on_writer(host, move |p| {
        let storage = p.engine().storage();
        // Read again on the writer: an answer may have added identifiers meanwhile.
        let identifiers = storage.patient_identifiers(&jpid)?;
        let mut batch = PatientWrites::new();
        batch.clear_patient(&jpid, &identifiers);
        write(p, batch)?;
        p.patients().waiters.notify(&jpid);
        Ok(())
    })
    .await
}
