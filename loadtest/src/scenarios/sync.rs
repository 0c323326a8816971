//! `sync`: steady state. Every satellite loops: push a batch of its own store's changes, then
//! count → pull → acknowledge until empty; meanwhile satellite 0 injects central changes (new
//! versions of a pool of items). Integrity: when the injection stops and every queue is drained,
//! every other satellite holds the latest version of every injected item.
//!
//! With `count_losses` (the failover scenario) every push also carries a marker: a central item
//! of its own, never changed again, so that no later change supersedes it. Every other satellite
//! must receive the marker of every push that was answered with success; one missing is a change
//! acknowledged and then lost. (The injected items cannot show that: each is changed again within
//! a second, and its latest version hides the loss of an earlier one.)
//!
//! The changes are whole rows, as the satellites push them. Every field pushed has a v1 number
//! (configs/fields.toml), so that the same changes go over v1, v3 and v5 alike: the injected
//! version travels in `item_name`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{drain, Context, DrainOptions, Outcome};
use crate::judging::JudgeAs;

/// Items the injector keeps changing.
const INJECTED_ITEMS: u64 = 500;
/// Central changes injected per 100 ms.
const INJECTED_PER_TICK: u64 = 50;

type Versions = HashMap<String, u64>;
/// The markers of the pushes answered with success, each with the satellite that pushed it.
type Answered = Arc<Mutex<Vec<(String, usize)>>>;

/// What an injected item's name says before its version.
const VERSION_PREFIX: &str = "Injected v";

fn injected_id(k: u64) -> String {
    format!("1A{k:030}")
}

/// Version `version` of one of the injected items, as a v2 push record; and the item's id.
fn injected_change(version: u64) -> (String, String) {
    let id = injected_id(version % INJECTED_ITEMS);
    (
        item_line(&format!("INJ{version:029}"), &id, &format!("{VERSION_PREFIX}{version}")),
        id,
    )
}

/// The marker of the injector's push of `version`, and of satellite `site_id`'s push of `round`.
fn injector_marker(version: u64) -> String {
    format!("1C{version:030}")
}

fn satellite_marker(site_id: u32, round: u64) -> String {
    format!("1B{site_id:08X}{round:022}")
}

fn is_marker(id: &str) -> bool {
    id.starts_with("1B") || id.starts_with("1C")
}

/// A marker as a v2 push record (a new central item).
fn marker_line(id: &str) -> String {
    item_line(&format!("MK{}", &id[2..]), id, "Loss marker")
}

/// An item as a v2 push record, with every field the injected items have.
fn item_line(sync_id: &str, id: &str, name: &str) -> String {
    format!(
        r#"{{"SyncID":"{sync_id}","RecordType":"item","RecordID":"{id}","SyncType":"U","StoreID":"","Data":{{"ID":"{id}","code":"INJ","item_name":"{name}","type_of":"general","default_pack_size":"1","outer_pack_size":"0","doses":"0","is_vaccine":"false","description":"","strength":"","catalogue_code":"","unit_ID":"","category_ID":"","department_ID":"","cross_ref_item_ID":"","restricted_location_type_ID":"","VEN_category":"","universalcodes_code":"","volume_per_pack":"0","buy_price":"0"}}}}"#
    )
}

pub async fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    if ctx.spec.sites < 2 {
        anyhow::bail!("sync needs at least 2 sites");
    }
    let deadline = Instant::now() + ctx.duration;
    let hold = ctx.hold.clone();
    ctx.progress.set_length(ctx.duration.as_secs());
    let latest: Arc<Mutex<Versions>> = Arc::default();
    // With count_losses: each marker of a push answered with success, and who pushed it.
    let answered: Option<Answered> = ctx.count_losses.then(Arc::default);
    // The satellites were initialised before the run: over v5 they read the central feed from
    // where it ends before the first injected change.
    for n in 1..ctx.spec.sites {
        ctx.satellite(n).resume().await?;
    }
    let mut injector = Some({
        let (satellite, latest, metrics) = (ctx.satellite(0), latest.clone(), ctx.metrics.clone());
        let (hold, answered) = (hold.clone(), answered.clone());
        tokio::spawn(async move {
            let mut version = 0u64;
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            while !hold.over(deadline) {
                tick.tick().await;
                let mut lines = Vec::new();
                let mut changed = Vec::new();
                for _ in 0..INJECTED_PER_TICK {
                    version += 1;
                    let (line, id) = injected_change(version);
                    lines.push(line);
                    changed.push((id, version));
                }
                let marker = answered.as_ref().map(|_| injector_marker(version));
                lines.extend(marker.as_deref().map(marker_line));
                satellite.push(format!("[{}]", lines.join(",")).into_bytes()).await?;
                metrics.records(lines.len() as u64, 0);
                latest.lock().expect("versions lock").extend(changed);
                if let (Some(answered), Some(marker)) = (&answered, marker) {
                    answered.lock().expect("markers lock").push((marker, 0));
                }
            }
            anyhow::Ok(())
        })
    });

    let copies: Arc<Vec<Mutex<Versions>>> = Arc::new((0..ctx.spec.sites).map(|_| Mutex::default()).collect());
    // The markers each satellite received (with count_losses).
    let received: Arc<Vec<Mutex<HashSet<String>>>> = Arc::new((0..ctx.spec.sites).map(|_| Mutex::default()).collect());
    let others: Vec<usize> = (1..ctx.spec.sites).collect();
    let mut round = 0u64;
    let mut failures = Vec::new();
    loop {
        let last = hold.over(deadline);
        if last {
            if let Some(injector) = injector.take() {
                injector.await??;
            }
        }
        let (batch, push_batch, metrics, copies, judging) = (
            ctx.batch,
            if last { 0 } else { ctx.push_batch },
            ctx.metrics.clone(),
            copies.clone(),
            ctx.judging.clone(),
        );
        let (answered, received) = (answered.clone(), received.clone());
        let results = ctx
            .each(others.clone(), move |satellite| {
                let (metrics, copies, judging) = (metrics.clone(), copies.clone(), judging.clone());
                let (answered, received) = (answered.clone(), received.clone());
                async move {
                    if push_batch > 0 {
                        let mut lines = own_changes(satellite.site_id, satellite.store_id(), round, push_batch);
                        let marker = answered.as_ref().map(|_| satellite_marker(satellite.site_id, round));
                        lines.extend(marker.as_deref().map(marker_line));
                        satellite.push(array(&lines)).await?;
                        metrics.records(lines.len() as u64, 0);
                        if let (Some(answered), Some(marker)) = (&answered, marker) {
                            answered.lock().expect("markers lock").push((marker, satellite.number));
                        }
                    }
                    let mut seen = Vec::new();
                    let mut markers = Vec::new();
                    let options = DrainOptions {
                        batch,
                        quiescent: last,
                        drop_one: false,
                        save: None,
                        defer_digest: false,
                        judge: Some(JudgeAs {
                            judging: judging.clone(),
                            rank: satellite.number - 1,
                            fresh: false,
                        }),
                    };
                    drain(&satellite, &metrics, &options, |record| {
                        if record.table == "item" && record.id.starts_with("1A") {
                            seen.push((record.id.to_string(), version_of(record.data.get())));
                        }
                        if record.table == "item" && is_marker(&record.id) {
                            markers.push(record.id.to_string());
                        }
                    })
                    .await?;
                    copies[satellite.number].lock().expect("copy lock").extend(seen);
                    received[satellite.number].lock().expect("markers lock").extend(markers);
                    anyhow::Ok(())
                }
            })
            .await;
        failures.extend(
            results
                .into_iter()
                .filter_map(Result::err)
                .map(|e| format!("round {round}: {e}")),
        );
        ctx.progress.set_position(ctx.duration.as_secs().min(round + 1));
        round += 1;
        if last {
            break;
        }
    }
    outcome.figure("rounds", round);
    outcome.failures = failures;
    let latest = latest.lock().expect("versions lock").clone();
    for n in 1..ctx.spec.sites {
        let copy = copies[n].lock().expect("copy lock");
        if *copy != latest {
            let stale = latest.iter().filter(|(id, v)| copy.get(*id) != Some(v)).count();
            outcome.failures.push(format!(
                "site {n}: {stale} of {} injected items are missing or stale",
                latest.len()
            ));
        }
    }
    if let Some(answered) = answered {
        count_losses(
            &mut outcome,
            &answered.lock().expect("markers lock"),
            &received,
            ctx.spec.sites,
        );
    }
    Ok(outcome)
}

/// Counts the markers of pushes answered with success that a satellite which should have
/// received them (every one but the pusher and the injector) never did; any is a failure.
fn count_losses(
    outcome: &mut Outcome,
    answered: &[(String, usize)],
    received: &[Mutex<HashSet<String>>],
    sites: usize,
) {
    let (mut lost_pushes, mut lost_deliveries) = (0u64, 0u64);
    for (marker, pusher) in answered {
        let missing: Vec<usize> = (1..sites)
            .filter(|n| n != pusher && !received[*n].lock().expect("markers lock").contains(marker))
            .collect();
        if !missing.is_empty() {
            lost_pushes += 1;
            lost_deliveries += missing.len() as u64;
            if lost_pushes <= 10 {
                outcome.failures.push(format!(
                    "a push of satellite {pusher} answered with success (marker {marker}) never reached satellites {missing:?}"
                ));
            }
        }
    }
    outcome.figure("pushes_answered", answered.len() as u64);
    outcome.figure("pushes_lost", lost_pushes);
    outcome.figure("records_lost", lost_deliveries);
}

/// The item the pushed lines are of.
const ITEM: &str = "0A1B2C3D4E5F60718293A4B5C6D7E8F9";

/// A push body: the records as a JSON array.
fn array(lines: &[String]) -> Vec<u8> {
    format!("[{}]", lines.join(",")).into_bytes()
}

/// A batch of new trans_line records of the satellite's own store, with the fields mSupply
/// Mobile pushes (as it pushes them: a date as the UTC instant of local midnight).
fn own_changes(site_id: u32, store: &str, round: u64, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let id = format!("{site_id:08X}{round:08X}{i:016X}");
            format!(r#"{{"SyncID":"{id}","RecordType":"trans_line","RecordID":"{id}","SyncType":"I","StoreID":"{store}","Data":{{"ID":"{id}","transaction_ID":"LOADTEST","item_ID":"{ITEM}","batch":"B1","price_extension":"3.75","foreign_currency_price":"0","note":"","cost_price":"1.25","sell_price":"1.25","expiry_date":"2027-06-29T12:00:00.000Z","pack_size":"1","quantity":"3","item_line_ID":"{id}","line_number":"1","item_name":"Item","is_from_inventory_adjustment":"false","donor_id":"","type":"stock_out","medicine_administrator_ID":"","sent_pack_size":"1","store_ID":"{store}"}}}}"#)
        })
        .collect()
}

/// The version an injected item's data carries (0 if none: never the latest).
fn version_of(data: &str) -> u64 {
    serde_json::from_str::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v["item_name"].as_str()?.strip_prefix(VERSION_PREFIX)?.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{push_body, Api};

    #[test]
    fn the_pushed_changes_go_over_every_api_and_the_version_comes_back() {
        let (line, id) = injected_change(1234);
        assert_eq!(id, injected_id(1234 % INJECTED_ITEMS));
        let marker = marker_line(&satellite_marker(2, 1));
        assert_eq!(satellite_marker(2, 1).len(), 32);
        assert_eq!(injector_marker(7).len(), 32);
        for body in [
            format!("[{line},{marker}]").into_bytes(),
            array(&own_changes(2, "S", 1, 3)),
        ] {
            for api in [Api::V3, Api::V1, Api::V5] {
                push_body(api, body.clone()).unwrap_or_else(|e| panic!("{api:?}: {e}"));
            }
        }
        assert_eq!(
            version_of(r#"{"ID":"x","code":"INJ","item_name":"Injected v1234"}"#),
            1234
        );
        assert_eq!(version_of(r#"{"ID":"x","item_name":"Item 3"}"#), 0);
    }
}
