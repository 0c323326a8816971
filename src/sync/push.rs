//! Applying a push: each record's row is laid over its stored state (or completed with the
//! catalogue's defaults), routed to its audiences, and written as the record's new state in the
//! log. Re-sent records (same sender, same SyncID) change nothing; joins make patients visible;
//! the records that follow a header or a name are routed again when it moves.

use super::group::Group;
use super::site_queue::ClientKind;
use super::transfers::{self, Touched};
use super::Catalogues;
use super::SyncError;
use crate::domain::ids::{key_form, SiteId, StoreKey};
use crate::domain::record::{PushedRecord, SyncRecord};
use crate::domain::routing::{audiences, Audience, RoutingFacts, RoutingLookup};
use crate::domain::row::{self, string_fields, NewRow};
use crate::domain::tables::{RouteKind, TableRoute};
use crate::domain::values::{civil_from_days, ValueRules};
use crate::store::{LogEntry, Result, StoreError, SyncStorage};

/// How far a move is followed: a header's lines, the records that follow those.
const MAX_FOLLOW_DEPTH: usize = 3;

/// What a push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PushOutcome {
    pub applied: usize,
    /// Records whose SyncID this site had pushed before: recognised and skipped.
    pub repeated: usize,
}

struct Lookup<'a, 'g, S: SyncStorage> {
    group: &'a Group<'g, S>,
    joined_stores: Vec<StoreKey>,
    parent_audiences: Option<Vec<Audience>>,
}

impl<S: SyncStorage> RoutingLookup for Lookup<'_, '_, S> {
    fn store_named(&self, name_id: &str) -> Option<StoreKey> {
        self.group.state.directory.store_with_name_id(name_id).cloned()
    }
    fn store_building_transfers(&self, name_id: &str) -> Option<StoreKey> {
        let directory = &self.group.state.directory;
        let store = directory.store_with_name_id(name_id)?;
        let site = directory.site_of_store(store)?;
        (self.group.queue(site).client == ClientKind::OpenMsupply).then(|| store.clone())
    }
    fn patient_stores(&self, _name_id: &str) -> Vec<StoreKey> {
        self.joined_stores.clone()
    }
    fn parent_audiences(&self, _table: &str, _id: &str) -> Option<Vec<Audience>> {
        self.parent_audiences.clone()
    }
}

/// The audiences of a record, and the value of `also` read in the same pass over its data (the
/// field its lookup needs, so a push parses each record's data once).
fn route_record<S: SyncStorage>(
    group: &Group<'_, S>,
    route: &TableRoute,
    record: &SyncRecord,
    also: Option<&str>,
) -> Result<(Vec<Audience>, Option<String>)> {
    let mut wanted = route.routing_fields();
    wanted.extend(also);
    let fields = string_fields(&record.data, &wanted);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(field, _)| field == name)
            .and_then(|(_, value)| value.as_deref())
            .filter(|v| !v.is_empty())
    };
    let also_value = also.and_then(field).map(str::to_string);
    let joined_name = match route.route {
        RouteKind::Name => Some(record.record_id.as_str()),
        RouteKind::JoinedName => route.name_field.as_deref().and_then(field),
        _ => None,
    };
    let joined_stores = match joined_name {
        Some(name) => group.patient_stores(name)?.iter().map(|s| StoreKey::new(s)).collect(),
        None => Vec::new(),
    };
    let parent_audiences = match (route.route, &route.parent_table, &route.parent_field) {
        (RouteKind::Parent, Some(table), Some(parent_field)) => match field(parent_field) {
            Some(id) => group
                .current(table, id)?
                .filter(|(_, entry)| entry.record.sync_type.leaves_record())
                .map(|(_, entry)| entry.audiences),
            None => None,
        },
        _ => None,
    };
    let lookup = Lookup {
        group,
        joined_stores,
        parent_audiences,
    };
    let facts = RoutingFacts {
        record_id: &record.record_id,
        envelope_store: &record.store_id,
        fields: &fields,
    };
    Ok((audiences(route, &facts, &lookup), also_value))
}

/// Applies one push to the group. A push refused (an id another table holds) writes nothing:
/// the other commands of the group commit as if it had not come.
pub fn apply_push<S: SyncStorage>(
    group: &mut Group<'_, S>,
    catalogues: &Catalogues,
    site: SiteId,
    records: Vec<PushedRecord>,
) -> super::Result<PushOutcome> {
    let mut outcome = PushOutcome::default();
    let wanted: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|p| (p.sync_id.as_str(), p.record.table.as_str(), p.record.target_id()))
        .collect();
    group.prefetch(site, &wanted)?;
    refuse_shared_ids(group, site, &records)?;
    let mut touched = Touched::default();
    for pushed in records {
        if group.already_pushed(site, &pushed.sync_id)? {
            outcome.repeated += 1;
            continue;
        }
        let (table, target) = (pushed.record.table.clone(), pushed.record.target_id().to_string());
        let seq = apply_record(group, catalogues, site, pushed.record, pushed.whole_row)?;
        group.mark_pushed(site, &pushed.sync_id, seq);
        touched.note(group, &table, &target)?;
        outcome.applied += 1;
    }
    // After the whole push, so that an invoice's lines pushed with it are there.
    transfers::generate(group, catalogues, touched)?;
    Ok(outcome)
}

/// Refuses a push that would give a record an id another table holds (or that gives one id to
/// two tables): open-mSupply keys what it receives by id alone, and would lose one of the two.
/// Records the site pushed before are not checked again (they are skipped).
fn refuse_shared_ids<S: SyncStorage>(
    group: &Group<'_, S>,
    site: SiteId,
    records: &[PushedRecord],
) -> super::Result<()> {
    // Ids (key form) new in this push → their table.
    let mut new_here: foldhash::HashMap<String, &str> = foldhash::HashMap::default();
    for (n, pushed) in records.iter().enumerate() {
        let (record, id) = (&pushed.record, pushed.record.target_id());
        if !record.sync_type.leaves_record()
            || group.already_pushed(site, &pushed.sync_id)?
            || group.holds(&record.table, id)?
        {
            continue;
        }
        let key = key_form(id);
        let holder = match new_here.get(key.as_str()) {
            Some(table) => Some(*table).filter(|table| *table != record.table),
            None => group.other_holder(&record.table, id),
        };
        if let Some(table) = holder {
            return Err(SyncError::BadRecord(format!(
                "record {} of the push ({} {id}): the id is already a {table} record's; record ids are unique across tables",
                n + 1,
                record.table
            )));
        }
        new_here.insert(key, &record.table);
    }
    Ok(())
}

/// Writes one change as its record's new state, from `origin`; returns its sequence number.
/// For an insert or update, `record.data` holds the fields that change, in the stored form
/// (`whole_row`: all of them, as a whole row).
pub(super) fn apply_record<S: SyncStorage>(
    group: &mut Group<'_, S>,
    catalogues: &Catalogues,
    origin: SiteId,
    mut record: SyncRecord,
    whole_row: bool,
) -> Result<u64> {
    let route = catalogues.tables.route(&record.table);
    let target = record.target_id().to_string();
    let previous = group.current(&record.table, &target)?;
    let leaves_record = record.sync_type.leaves_record();
    let stored = previous
        .as_ref()
        .filter(|(_, entry)| entry.record.sync_type.leaves_record())
        .map(|(_, entry)| entry.record.data.as_slice());
    // The row is the stored one with the pushed fields replaced, or a new one completed with the
    // defaults (a whole row new is complete as it is).
    if leaves_record && !(whole_row && stored.is_none()) {
        record.data = merged_row(catalogues, group.now, &record, &record.data, stored)?;
    }
    if leaves_record && record.table == "store" {
        hosting_site_into_store_row(group, catalogues, &mut record)?;
    }
    let join_before = match (&previous, route.route) {
        (Some((_, entry)), RouteKind::NameStoreJoin) => join_of(route, &entry.record),
        _ => None,
    };
    // A delete or merge goes to whoever had the record; a new state goes where routing says.
    let lookup = catalogues.lookups.of_table(&record.table);
    let (audiences, referenced) = match (&previous, leaves_record) {
        (Some((_, entry)), false) => (entry.audiences.clone(), None),
        _ => route_record(group, route, &record, lookup.map(|(_, field)| field))?,
    };
    let join_after = if leaves_record && route.route == RouteKind::NameStoreJoin {
        join_of(route, &record)
    } else {
        None
    };
    let lookup_before = previous
        .as_ref()
        .and_then(|(_, entry)| catalogues.lookups.parent(&entry.record));
    let lookup_after = match (lookup, referenced) {
        (Some((table, _)), Some(id)) if leaves_record => Some((table.to_string(), id)),
        _ => None,
    };
    if lookup_before != lookup_after {
        if let Some((table, parent)) = &lookup_before {
            group.delete_lookup(table, parent, &target);
        }
        if let Some((table, parent)) = &lookup_after {
            group.put_lookup(table, parent, &target);
        }
    }
    let moved = previous.as_ref().is_none_or(|(_, entry)| entry.audiences != audiences);
    let table = record.table.clone();
    let entry = LogEntry {
        origin,
        audiences,
        record,
    };
    let seq = group.write_entry(&target, entry, previous);

    if join_before != join_after {
        if let Some((name, store)) = &join_before {
            group.set_join(name, store, false);
        }
        if let Some((name, store)) = &join_after {
            group.set_join(name, store, true);
        }
        // The primary is the origin of a patient's re-delivery: the site that pushed the patient
        // may need it too (its new store was joined from elsewhere).
        let primary = group.state.directory.primary();
        for (name, _) in join_before.iter().chain(join_after.iter()) {
            reroute(group, catalogues, "name", name, Some(primary), 0)?;
            reroute_followers(group, catalogues, "name", name, 0)?;
        }
    }
    if moved && leaves_record {
        reroute_followers(group, catalogues, &table, &target, 0)?;
    }
    Ok(seq)
}

/// A store's row says which site hosts it, as the directory has it (open-mSupply counts a store
/// as its own when `sync_id_remote_site` is its site id): whatever was pushed or imported, the
/// directory decides. A store the directory does not know keeps its value.
fn hosting_site_into_store_row<S: SyncStorage>(
    group: &Group<'_, S>,
    catalogues: &Catalogues,
    record: &mut SyncRecord,
) -> Result<()> {
    let Some(store) = group.state.directory.store(&record.record_id) else {
        return Ok(());
    };
    let site = format!(r#"{{"sync_id_remote_site":"{}"}}"#, store.site.0);
    record.data = merged_row(catalogues, group.now, record, site.as_bytes(), Some(&record.data))?;
    Ok(())
}

/// `pushed` (a row in stored form) laid over `stored`, or over the catalogue's defaults for a new
/// row of `record`'s table ([`row::merge`]).
/// `now` is the group's clock (unix seconds), which every replica of a cluster applies alike.
fn merged_row(
    catalogues: &Catalogues,
    now: u64,
    record: &SyncRecord,
    pushed: &[u8],
    stored: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let fields = catalogues.fields.table(&record.table).map(|t| &**t);
    let today = today(catalogues.values, now);
    let new = NewRow {
        record_id: &record.record_id,
        today: &today,
    };
    row::merge(fields, new, pushed, stored).map_err(|error| StoreError::Corrupt {
        family: crate::store::cf::LOG,
        detail: format!(
            "the row of {} {} cannot be merged: {error}",
            record.table, record.record_id
        ),
    })
}

/// The satellites' day at `now` (unix seconds) as `YYYY-MM-DD`, for the dates a new row defaults
/// to.
fn today(rules: ValueRules, now: u64) -> String {
    let seconds = now as i64 + i64::from(rules.utc_offset_minutes.unwrap_or(0)) * 60;
    civil_from_days(seconds.div_euclid(86_400))
}

/// The (patient, store) a `name_store_join` record links.
fn join_of(route: &TableRoute, record: &SyncRecord) -> Option<(String, String)> {
    let name_field = route.name_field.as_deref()?;
    let mut wanted = vec![name_field];
    wanted.extend(route.store_fields.iter().map(String::as_str));
    let fields = string_fields(&record.data, &wanted);
    let name = fields[0].1.clone().filter(|n| !n.is_empty())?;
    let store = fields[1..]
        .iter()
        .find_map(|(_, v)| v.clone().filter(|s| !s.is_empty()))
        .or_else(|| Some(record.store_id.clone()).filter(|s| !s.is_empty()))?;
    Some((name, store))
}

/// Routes the current state of `table` `id` again; if its audiences changed, writes it anew
/// (from `origin`, or its own origin) and follows the records that follow it.
fn reroute<S: SyncStorage>(
    group: &mut Group<'_, S>,
    catalogues: &Catalogues,
    table: &str,
    id: &str,
    origin: Option<SiteId>,
    depth: usize,
) -> Result<()> {
    let Some((seq, entry)) = group.current(table, id)? else {
        return Ok(());
    };
    if !entry.record.sync_type.leaves_record() {
        return Ok(());
    }
    let route = catalogues.tables.route(table);
    let (audiences, _) = route_record(group, route, &entry.record, None)?;
    if audiences == entry.audiences {
        return Ok(());
    }
    let moved = LogEntry {
        origin: origin.unwrap_or(entry.origin),
        audiences,
        record: entry.record.clone(),
    };
    let target = entry.record.target_id().to_string();
    group.write_entry(&target, moved, Some((seq, entry)));
    reroute_followers(group, catalogues, table, &target, depth + 1)
}

/// Routes again the records that follow `table` `id` (its lines, or the records that follow a
/// name), found through the lookups.
fn reroute_followers<S: SyncStorage>(
    group: &mut Group<'_, S>,
    catalogues: &Catalogues,
    table: &str,
    id: &str,
    depth: usize,
) -> Result<()> {
    if depth >= MAX_FOLLOW_DEPTH {
        return Ok(());
    }
    for (follower, _) in catalogues.tables.followers(table) {
        if catalogues.lookups.of_table(follower).is_none() {
            continue;
        }
        for child in group.children(follower, id)? {
            reroute(group, catalogues, follower, &child, None, depth)?;
        }
    }
    Ok(())
}
