//! Applying a push: each record replaces its row's state in the log, routed to its audiences;
//! re-sent records (same sender, same SyncID) change nothing; joins make patients visible.

use super::group::Group;
use super::lookups;
use crate::domain::ids::{SiteId, StoreKey};
use crate::domain::record::{PushedRecord, SyncRecord};
use crate::domain::routing::{audiences, Audience, RoutingFacts, RoutingLookup};
use crate::domain::tables::{RouteKind, TableCatalogue, TableRoute};
use crate::store::{LogEntry, Result};
use crate::wire::json::top_level_strings;

/// What a push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushOutcome {
    pub applied: usize,
    /// Records whose SyncID this site had pushed before: recognised and skipped.
    pub repeated: usize,
}

struct Lookup<'a> {
    group: &'a Group<'a>,
    patient_stores: Vec<StoreKey>,
}

impl RoutingLookup for Lookup<'_> {
    fn store_named(&self, name_id: &str) -> Option<StoreKey> {
        self.group.state.directory.store_with_name_id(name_id).cloned()
    }
    fn patient_stores(&self, _name_id: &str) -> Vec<StoreKey> {
        self.patient_stores.clone()
    }
}

/// The audiences of a record, and the value of `also` read in the same pass over its data (the
/// field its lookup needs, so a push parses each record's data once).
fn route_record(
    group: &Group<'_>,
    route: &TableRoute,
    record: &SyncRecord,
    also: Option<&str>,
) -> Result<(Vec<Audience>, Option<String>)> {
    let mut wanted = route.routing_fields();
    wanted.extend(also);
    let fields = top_level_strings(&record.data, &wanted);
    let also_value = also
        .and_then(|name| fields.iter().find(|(field, _)| field == name))
        .and_then(|(_, value)| value.clone());
    let patient_stores = if route.route == RouteKind::Name {
        group
            .patient_stores(&record.record_id)?
            .iter()
            .map(|s| StoreKey::new(s))
            .collect()
    } else {
        Vec::new()
    };
    let lookup = Lookup { group, patient_stores };
    let facts = RoutingFacts {
        record_id: &record.record_id,
        envelope_store: &record.store_id,
        fields: &fields,
    };
    Ok((audiences(route, &facts, &lookup), also_value))
}

pub fn apply_push(
    group: &mut Group<'_>,
    catalogue: &TableCatalogue,
    site: SiteId,
    records: Vec<PushedRecord>,
) -> Result<PushOutcome> {
    let mut outcome = PushOutcome::default();
    let wanted: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|p| (p.sync_id.as_str(), p.record.table.as_str(), p.record.target_id()))
        .collect();
    group.prefetch(site, &wanted)?;
    for pushed in records {
        if group.already_pushed(site, &pushed.sync_id)? {
            outcome.repeated += 1;
            continue;
        }
        let record = pushed.record;
        let route = catalogue.route(&record.table);
        let target = record.target_id().to_string();
        let previous = group.current(&record.table, &target)?;
        let join_before = match (&previous, route.route) {
            (Some((_, entry)), RouteKind::NameStoreJoin) => join_of(route, &entry.record),
            _ => None,
        };
        // A delete or merge goes to whoever had the record; a new state goes where routing says.
        let lookup = lookups::of_table(&record.table);
        let (audiences, referenced) = match (&previous, record.sync_type.leaves_record()) {
            (Some((_, entry)), false) => (entry.audiences.clone(), None),
            _ => route_record(group, route, &record, lookup.map(|(_, field)| field))?,
        };
        let join_after = if record.sync_type.leaves_record() && route.route == RouteKind::NameStoreJoin {
            join_of(route, &record)
        } else {
            None
        };
        let lookup_before = previous.as_ref().and_then(|(_, entry)| lookups::parent(&entry.record));
        let lookup_after = match (lookup, referenced) {
            (Some((table, _)), Some(id)) if record.sync_type.leaves_record() && !id.is_empty() => Some((table, id)),
            _ => None,
        };
        if lookup_before != lookup_after {
            if let Some((table, parent)) = &lookup_before {
                group.batch.delete_lookup(table, parent, &target);
            }
            if let Some((table, parent)) = &lookup_after {
                group.batch.put_lookup(table, parent, &target);
            }
        }
        let entry = LogEntry {
            origin: site,
            audiences,
            record,
        };
        let seq = group.write_entry(&target, entry, previous);
        group.mark_pushed(site, &pushed.sync_id, seq);
        outcome.applied += 1;

        if join_before != join_after {
            if let Some((name, store)) = &join_before {
                group.set_join(name, store, false);
            }
            if let Some((name, store)) = &join_after {
                group.set_join(name, store, true);
            }
            for (name, _) in join_before.iter().chain(join_after.iter()) {
                reroute_patient(group, catalogue, name)?;
            }
        }
    }
    Ok(outcome)
}

/// The (patient, store) a `name_store_join` record links.
fn join_of(route: &TableRoute, record: &SyncRecord) -> Option<(String, String)> {
    let name_field = route.name_field.as_deref()?;
    let mut wanted = vec![name_field];
    wanted.extend(route.store_fields.iter().map(String::as_str));
    let fields = top_level_strings(&record.data, &wanted);
    let name = fields[0].1.clone().filter(|n| !n.is_empty())?;
    let store = fields[1..]
        .iter()
        .find_map(|(_, v)| v.clone().filter(|s| !s.is_empty()))
        .or_else(|| Some(record.store_id.clone()).filter(|s| !s.is_empty()))?;
    Some((name, store))
}

/// After a join changes, sends the patient's record to the stores it is now joined to.
fn reroute_patient(group: &mut Group<'_>, catalogue: &TableCatalogue, name_id: &str) -> Result<()> {
    let route = catalogue.route("name");
    let Some((seq, entry)) = group.current("name", name_id)? else {
        return Ok(());
    };
    if !entry.record.sync_type.leaves_record() || route.route != RouteKind::Name {
        return Ok(());
    }
    let (audiences, _) = route_record(group, route, &entry.record, None)?;
    if audiences == entry.audiences {
        return Ok(());
    }
    // The primary is the origin of this re-delivery: the site that pushed the patient may need it
    // too (its new store was joined from elsewhere).
    let primary = group.state.directory.primary();
    let moved = LogEntry {
        origin: primary,
        audiences,
        record: entry.record.clone(),
    };
    let target = entry.record.target_id().to_string();
    group.write_entry(&target, moved, Some((seq, entry)));
    Ok(())
}
