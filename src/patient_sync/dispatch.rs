//! Asking the sources. A satellite gets a `patient_sync_request` record in its ordinary outgoing
//! queue (a push from the primary itself, to the satellite's first store, so the sync core routes
//! and delivers it like any other record) and answers through the ingestion endpoint; a secondary
//! source is fetched in the background. Every request has a time-out that fails its job.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::{Host, Shared};
use crate::domain::record::{PushedRecord, SyncRecord, SyncType};
use crate::patient::ids::{random_uuid_v4, SourcePid};
use crate::patient::jobs::JobRecord;
use crate::wire::patient::{sync_request_data, SYNC_REQUEST_CLEAR, SYNC_REQUEST_LOAD, SYNC_REQUEST_TABLE};

use super::apply::{self, Request};
use super::identity::{secondary_url, site_of_code};
use super::{on_writer, Result};

/// Sends `requests` and arms their time-outs. Boxed because an answer may name new sources,
/// which are dispatched from the task that applied it.
pub fn dispatch(host: Shared, requests: Vec<Request>) -> Pin<Box<dyn Future<Output = Result<()>> + Send>> {
    Box::pin(async move {
        let timeout = Duration::from_secs(host.patients().config.source_timeout_seconds);
        let mut to_sites = Vec::new();
        for request in requests {
            match secondary_url(&request.pid, &host.patients().config) {
                Some(url) => {
                    let url = url.to_string();
                    tokio::spawn(fetch(host.clone(), request, url, timeout));
                }
                None => {
                    if let Some(record) = site_request(&*host, SYNC_REQUEST_LOAD, &request.job, &request.pid) {
                        to_sites.push(record);
                    }
                    tokio::spawn(expire(host.clone(), request, timeout));
                }
            }
        }
        push(&*host, to_sites).await
    })
}

/// Queues a `clear` to every satellite in `pids` (the others are ignored).
pub async fn tell_sites_to_stop(host: &Shared, job: &JobRecord, pids: &[SourcePid]) -> Result<()> {
    let records = pids
        .iter()
        .filter_map(|pid| site_request(&**host, SYNC_REQUEST_CLEAR, job, pid))
        .collect();
    push(&**host, records).await
}

/// The request record for the satellite `pid` names, when it exists and hosts a store.
/// `action` is `SYNC_REQUEST_LOAD` or `SYNC_REQUEST_CLEAR`.
fn site_request(host: &dyn Host, action: &str, job: &JobRecord, pid: &SourcePid) -> Option<PushedRecord> {
    let SourcePid::Site { site, .. } = pid else {
        return None;
    };
    let store = host.engine().with_directory(|directory| {
        let id = site_of_code(site, directory)?;
        directory.site(id)?.stores.first().cloned()
    })?;
    let data = serde_json::to_vec(&sync_request_data(action, job, pid)).expect("json values serialise");
    // Each request is a record of its own: a later one never replaces an earlier one unread.
    let record_id = random_uuid_v4().replace('-', "").to_ascii_uppercase();
    Some(PushedRecord::new(
        record_id.clone(),
        SyncRecord {
            table: SYNC_REQUEST_TABLE.to_string(),
            record_id,
            sync_type: SyncType::Insert,
            store_id: store,
            key_field_id: String::new(),
            merge_id_to_keep: String::new(),
            merge_id_to_delete: String::new(),
            data,
        },
    ))
}

async fn push(host: &dyn Host, records: Vec<PushedRecord>) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let from = host.engine().with_directory(|directory| directory.primary());
    host.engine().push(from, records).await?;
    Ok(())
}

async fn fetch(host: Shared, request: Request, url: String, timeout: Duration) {
    let answer = host.patients().secondary.fetch(&url, &request.pid, timeout).await;
    let Request { jpid, pid, job } = request;
    let applied = on_writer(&host, move |p| {
        apply::secondary_answer(p, &jpid, &pid, &job.job_id, &answer)
    })
    .await;
    follow_up(host, applied).await;
}

async fn expire(host: Shared, request: Request, timeout: Duration) {
    tokio::time::sleep(timeout).await;
    let Request { jpid, pid, job } = request;
    let seconds = timeout.as_secs();
    let expired = on_writer(&host, move |p| {
        apply::source_timed_out(p, &jpid, &pid, &job.job_id, seconds)
    })
    .await;
    if let Err(error) = expired {
        tracing::error!(%error, "recording a patient source's time-out failed");
    }
}

async fn follow_up(host: Shared, applied: Result<Vec<Request>>) {
    let dispatched = match applied {
        Ok(requests) => dispatch(host, requests).await,
        Err(error) => Err(error),
    };
    if let Err(error) = dispatched {
        tracing::error!(%error, "applying a secondary source's answer failed");
    }
}
