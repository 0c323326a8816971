//! The standard data set of the performance spec, deterministic from a seed: `sites` satellites
//! with one store and one user each; central units, items, non-patient names and master lists;
//! per store stock, invoices with lines, requisitions, and patients joined to the store.
//!
//! Every record is generated with the audience it is meant for (central, or store n), so the
//! load-test harness can regenerate the set and know exactly what each satellite should hold,
//! independently of the primary's routing code.

use super::directory::{add_satellites, NewSatellite, NewStore};
use super::{AdminError, Result};
use crate::domain::fields::FieldCatalogue;
use crate::domain::ids::SiteId;
use crate::domain::row;
use crate::domain::values::ValueRules;
use crate::store::{Database, DirectoryReads};

/// The size of a data set (also the command-line flags of `satsync dataset` and the harness).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct DatasetSpec {
    /// Satellite sites, each hosting one store.
    #[arg(long, default_value_t = 1000)]
    pub sites: usize,
    /// Records in all (central and per store).
    #[arg(long, default_value_t = 1_000_000)]
    pub records: usize,
    /// Seed of the generated ids.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Who a generated record is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intended {
    Central,
    /// The store of site number `n` (0-based).
    Store(usize),
}

/// One generated record.
pub struct Generated<'a> {
    pub intended: Intended,
    pub table: &'a str,
    pub id: &'a str,
    /// The record's `data` object: its whole row as the primary keeps it (what it is pushed as,
    /// and what a satellite receives over v2 and v3).
    pub data: &'a str,
}

/// Site number `n` (0-based): id `n + 2`, name `site{id}`, password `pw{id}`, one store, one
/// user `user{id}` with password `pw{id}`.
pub fn site_id(n: usize) -> SiteId {
    SiteId(n as u32 + 2)
}
pub fn site_name(n: usize) -> String {
    format!("site{}", site_id(n))
}
pub fn password(n: usize) -> String {
    format!("pw{}", site_id(n))
}
pub fn user_name(n: usize) -> String {
    format!("user{}", site_id(n))
}
pub fn store_id(n: usize) -> String {
    format!("{:032X}", 0x5700_0000_0000_0000_0000u128 + n as u128)
}
pub fn store_name_id(n: usize) -> String {
    format!("{:032X}", 0x4E00_0000_0000_0000_0000u128 + n as u128)
}

/// A deterministic 32-hex id: the seed and a counter through splitmix64.
struct Ids {
    state: u64,
}

impl Ids {
    fn next(&mut self) -> String {
        let mut word = || {
            self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        format!("{:016X}{:016X}", word(), word())
    }
}

/// Counts of the central tables, scaled down for small data sets: units, items, names, lists,
/// list lines.
fn central_counts(spec: &DatasetSpec) -> [usize; 5] {
    let full = [20, 10_000, 20_000, 10, 1_000];
    let total: usize = full.iter().sum();
    let budget = (spec.records / 3).min(total);
    full.map(|n| (n * budget / total).max(1))
}

/// Central records beside the counted ones: the `invad` name and the home currency.
const FIXED_CENTRAL: usize = 2;
/// Per store beside the counted ones: its store record, its name, its preferences, the join of
/// its own name to the first list.
const FIXED_PER_STORE: usize = 4;

/// Where generated records go: each row completed by the field catalogue (what the primary does
/// on a push), so that what a satellite receives is, byte for byte, what the generator says it
/// should, then handed to the caller.
struct Output<'e> {
    fields: FieldCatalogue,
    emit: &'e mut dyn FnMut(Generated<'_>),
}

impl Output<'_> {
    fn record(&mut self, intended: Intended, table: &str, id: &str, partial: String) {
        let data = self.complete(table, id, &partial);
        (self.emit)(Generated {
            intended,
            table,
            id,
            data: &data,
        })
    }

    fn complete(&self, table: &str, id: &str, partial: &str) -> String {
        let fields = self.fields.table(table).map(|t| &**t);
        let normal = row::normalize(fields, partial.as_bytes(), ValueRules::default())
            .expect("the data set's values are of their fields' types")
            .into_data(partial.as_bytes().to_vec());
        // Every date the data set leaves to a default is the zero date or given: the day the
        // primary loads it never shows.
        let new = row::NewRow {
            record_id: id,
            today: "2000-01-01",
        };
        let whole = row::merge(fields, new, &normal, None).expect("a normalized row merges");
        String::from_utf8(whole).expect("rows are UTF-8")
    }
}

/// A date of the data set, varied by `n`.
fn date(n: usize) -> String {
    format!("20{:02}-{:02}-{:02}T00:00:00", 19 + n % 7, 1 + n % 12, 1 + n % 28)
}

fn flag(on: bool) -> &'static str {
    if on {
        "true"
    } else {
        "false"
    }
}

/// The central records the stores' records refer to.
struct Central {
    items: Vec<String>,
    customers: Vec<String>,
    lists: Vec<String>,
    /// How many central records there are in all.
    count: usize,
}

/// How many records of each kind every store holds.
struct PerStore {
    patients: usize,
    stock: usize,
    requisitions: usize,
    invoices: usize,
    lines: usize,
}

impl PerStore {
    /// What is left per store once the central records are counted: 5% patients and as many
    /// joins, 10% stock and as many item joins, invoices of 3 lines, 5% requisitions of 2 lines.
    fn of(spec: &DatasetSpec, central: &Central) -> PerStore {
        let per_store = spec
            .records
            .saturating_sub(central.count)
            .saturating_sub(spec.sites * (FIXED_PER_STORE - 2))
            / spec.sites.max(1);
        let patients = per_store / 20;
        let stock = (per_store / 10).min(central.items.len());
        let requisitions = per_store / 20;
        let invoices = per_store.saturating_sub(2 * patients + 2 * stock + 3 * requisitions) / 4;
        let lines = if invoices > 0 && stock > 0 {
            per_store.saturating_sub(2 * patients + 2 * stock + 3 * requisitions + invoices)
        } else {
            0
        };
        PerStore {
            patients,
            stock,
            requisitions,
            invoices,
            lines,
        }
    }
}

/// Generates the data set in reference order (what a record refers to comes before it). Every
/// record is a whole row, with values as mSupply Mobile needs them: the stores' own `store`
/// records with their tags, names with every flag, items visible in each store that holds them
/// (`item_store_join`), stock, invoices with lines, requisitions, priced list lines, patients
/// joined to their store, the `invad` name.
pub fn generate(spec: &DatasetSpec, mut emit: impl FnMut(Generated<'_>)) {
    let mut out = Output {
        fields: FieldCatalogue::builtin(),
        emit: &mut emit,
    };
    let mut ids = Ids { state: spec.seed };
    let central = central_records(spec, &mut ids, &mut out);
    let per_store = PerStore::of(spec, &central);
    for site in 0..spec.sites {
        store_records(site, &per_store, &central, &mut ids, &mut out);
    }
}

/// The currency, the `invad` name, each store's `store` and `name`, then units, items,
/// customers, master lists and their lines.
fn central_records(spec: &DatasetSpec, ids: &mut Ids, out: &mut Output<'_>) -> Central {
    let [units, items, names, lists, list_lines] = central_counts(spec);
    let currency = ids.next();
    out.record(
        Intended::Central,
        "currency",
        &currency,
        format!(r#"{{"ID":"{currency}","currency":"USD","rate":"1","is_home_currency":"true"}}"#),
    );
    let invad = ids.next();
    out.record(
        Intended::Central,
        "name",
        &invad,
        format!(
            r#"{{"ID":"{invad}","name":"Inventory adjustments","code":"invad","type":"invad","customer":"false","supplier":"false","manufacturer":"false"}}"#
        ),
    );
    for n in 0..spec.sites {
        let (store, name, site) = (store_id(n), store_name_id(n), site_id(n).0);
        out.record(
            Intended::Central,
            "store",
            &store,
            format!(
                r#"{{"ID":"{store}","name":"Store {n}","code":"S{n}","name_ID":"{name}","sync_id_remote_site":"{site}","store_mode":"store","tags":""}}"#
            ),
        );
        out.record(
            Intended::Central,
            "name",
            &name,
            format!(
                r#"{{"ID":"{name}","name":"Store {n}","code":"S{n}","type":"store","customer":"true","supplier":"true","manufacturer":"false"}}"#
            ),
        );
    }
    let unit_ids: Vec<String> = (0..units).map(|_| ids.next()).collect();
    for (n, id) in unit_ids.iter().enumerate() {
        out.record(
            Intended::Central,
            "unit",
            id,
            format!(r#"{{"ID":"{id}","units":"unit {n}","comment":"","order_number":"{n}"}}"#),
        );
    }
    let item_ids: Vec<String> = (0..items).map(|_| ids.next()).collect();
    for (n, id) in item_ids.iter().enumerate() {
        let unit = &unit_ids[n % units];
        out.record(
            Intended::Central,
            "item",
            id,
            format!(
                r#"{{"ID":"{id}","code":"I{n:05}","item_name":"Item {n}","unit_ID":"{unit}","type_of":"general","default_pack_size":"1","doses":"0","is_vaccine":"false"}}"#
            ),
        );
    }
    let customer_ids: Vec<String> = (0..names).map(|_| ids.next()).collect();
    for (n, id) in customer_ids.iter().enumerate() {
        out.record(
            Intended::Central,
            "name",
            id,
            format!(
                r#"{{"ID":"{id}","name":"Customer {n}","code":"C{n:05}","type":"facility","customer":"true","supplier":"{}","manufacturer":"false"}}"#,
                flag(n % 5 == 0)
            ),
        );
    }
    let list_ids: Vec<String> = (0..lists).map(|_| ids.next()).collect();
    for (n, id) in list_ids.iter().enumerate() {
        out.record(
            Intended::Central,
            "list_master",
            id,
            format!(
                r#"{{"ID":"{id}","description":"List {n}","code":"L{n}","note":"","isProgram":"false","programSettings":"","inactive":"false"}}"#
            ),
        );
    }
    for n in 0..list_lines {
        let id = ids.next();
        let (list, item) = (&list_ids[n % lists], &item_ids[n % items]);
        out.record(
            Intended::Central,
            "list_master_line",
            &id,
            format!(
                r#"{{"ID":"{id}","item_master_ID":"{list}","item_ID":"{item}","price":"{}.50"}}"#,
                n % 40
            ),
        );
    }
    Central {
        count: FIXED_CENTRAL + 2 * spec.sites + units + items + names + lists + list_lines,
        items: item_ids,
        customers: customer_ids,
        lists: list_ids,
    }
}

/// One store's records: its preferences and list join, then stock, patients, invoices and
/// requisitions, each after what it refers to.
fn store_records(site: usize, per_store: &PerStore, central: &Central, ids: &mut Ids, out: &mut Output<'_>) {
    let (store, own_name) = (store_id(site), store_name_id(site));
    let here = Intended::Store(site);
    let pref = ids.next();
    out.record(
        here,
        "pref",
        &pref,
        format!(
            r#"{{"ID":"{pref}","store_ID":"{store}","item":"store_preferences","user_ID":"","network_ID":"","data":"{{\"usesVaccineModule\":false,\"monthsLeadTime\":1}}"}}"#
        ),
    );
    let list_join = ids.next();
    out.record(
        here,
        "list_master_name_join",
        &list_join,
        format!(
            r#"{{"ID":"{list_join}","name_ID":"{own_name}","list_master_ID":"{}","description":""}}"#,
            central.lists[0]
        ),
    );
    let stock = stock_records(site, per_store.stock, central, ids, out);
    let patients = patient_records(site, per_store.patients, ids, out);
    invoice_records(site, per_store, central, &stock, &patients, ids, out);
    requisition_records(site, per_store.requisitions, central, ids, out);
}

/// The store's stock: which items it holds, and the stock lines' ids.
struct Stock {
    items: Vec<usize>,
    lines: Vec<String>,
}

/// `count` items joined to the store, and a stock line of each.
fn stock_records(site: usize, count: usize, central: &Central, ids: &mut Ids, out: &mut Output<'_>) -> Stock {
    let (store, here, item_ids) = (store_id(site), Intended::Store(site), &central.items);
    let stock_items: Vec<usize> = (0..count).map(|n| (n * 7 + site) % item_ids.len()).collect();
    for item in &stock_items {
        let join = ids.next();
        out.record(
            here,
            "item_store_join",
            &join,
            format!(
                r#"{{"ID":"{join}","item_ID":"{}","store_ID":"{store}","inactive":"false","default_price":"1.50"}}"#,
                item_ids[*item]
            ),
        );
    }
    let stock_ids: Vec<String> = (0..count).map(|_| ids.next()).collect();
    for (n, id) in stock_ids.iter().enumerate() {
        out.record(
            here,
            "item_line",
            id,
            format!(
                r#"{{"ID":"{id}","item_ID":"{}","store_ID":"{store}","batch":"B{n}","expiry_date":"{}","quantity":"{}","available":"{}","pack_size":"1","cost_price":"1.25","sell_price":"1.50"}}"#,
                item_ids[stock_items[n]],
                date(n),
                n % 500,
                n % 500
            ),
        );
    }
    Stock {
        items: stock_items,
        lines: stock_ids,
    }
}

/// `count` patients of the store, each joined to it; their ids.
fn patient_records(site: usize, count: usize, ids: &mut Ids, out: &mut Output<'_>) -> Vec<String> {
    let (store, here) = (store_id(site), Intended::Store(site));
    let patient_ids: Vec<String> = (0..count).map(|_| ids.next()).collect();
    for (n, id) in patient_ids.iter().enumerate() {
        out.record(
            here,
            "name",
            id,
            format!(
                r#"{{"ID":"{id}","name":"Family{n}, Given{n}","code":"P{site}-{n}","type":"patient","customer":"true","supplier":"false","manufacturer":"false","first":"Given{n}","last":"Family{n}","date_of_birth":"{}","female":"{}","supplying_store_id":"{store}"}}"#,
                date(n),
                flag(n % 2 == 0)
            ),
        );
        let join = ids.next();
        out.record(
            here,
            "name_store_join",
            &join,
            format!(r#"{{"ID":"{join}","name_ID":"{id}","store_ID":"{store}","inactive":"false"}}"#),
        );
    }
    patient_ids
}

/// Finalised customer invoices, to patients and customers in turn, then their lines.
fn invoice_records(
    site: usize,
    per_store: &PerStore,
    central: &Central,
    stock: &Stock,
    patients: &[String],
    ids: &mut Ids,
    out: &mut Output<'_>,
) {
    let (store, here) = (store_id(site), Intended::Store(site));
    let invoice_ids: Vec<String> = (0..per_store.invoices).map(|_| ids.next()).collect();
    for (n, id) in invoice_ids.iter().enumerate() {
        let name = if n % 2 == 0 && !patients.is_empty() {
            &patients[n % patients.len()]
        } else {
            &central.customers[n % central.customers.len()]
        };
        out.record(
            here,
            "transact",
            id,
            format!(
                r#"{{"ID":"{id}","name_ID":"{name}","invoice_num":"{n}","type":"ci","status":"fn","entry_date":"{}","confirm_date":"{}","store_ID":"{store}","subtotal":"0","total":"0"}}"#,
                date(n),
                date(n)
            ),
        );
    }
    let held = stock.lines.len();
    for n in 0..per_store.lines {
        let id = ids.next();
        let invoice = &invoice_ids[n % invoice_ids.len()];
        let (line, item) = (&stock.lines[n % held], stock.items[n % held]);
        out.record(
            here,
            "trans_line",
            &id,
            format!(
                r#"{{"ID":"{id}","transaction_ID":"{invoice}","item_ID":"{}","item_name":"Item {item}","item_line_ID":"{line}","batch":"B{}","expiry_date":"{}","quantity":"{}","pack_size":"1","cost_price":"1.25","sell_price":"1.50","type":"stock_out","store_ID":"{store}"}}"#,
                central.items[item],
                n % held,
                date(n % held),
                1 + n % 30
            ),
        );
    }
}

/// `count` finalised request requisitions to customers, each of 2 lines.
fn requisition_records(site: usize, count: usize, central: &Central, ids: &mut Ids, out: &mut Output<'_>) {
    let (store, here) = (store_id(site), Intended::Store(site));
    for n in 0..count {
        let id = ids.next();
        out.record(
            here,
            "requisition",
            &id,
            format!(
                r#"{{"ID":"{id}","store_ID":"{store}","name_ID":"{}","type":"request","status":"fn","daysToSupply":"90","date_entered":"{}","serial_number":"{n}","requester_reference":"R{n}"}}"#,
                central.customers[n % central.customers.len()],
                date(n)
            ),
        );
        for l in 0..2 {
            let line = ids.next();
            out.record(
                here,
                "requisition_line",
                &line,
                format!(
                    r#"{{"ID":"{line}","requisition_ID":"{id}","item_ID":"{}","Cust_stock_order":"{}","stock_on_hand":"{}","daily_usage":"1.5","actualQuan":"0","line_number":"{}","store_ID":"{store}"}}"#,
                    central.items[(n + l) % central.items.len()],
                    10 + n % 90,
                    n % 50,
                    l + 1
                ),
            );
        }
    }
}

/// Registers the data set's sites, stores and users in one write (the database must hold no
/// sites), each positioned at the current end of the log.
pub fn create_sites(storage: &Database, primary: SiteId, spec: &DatasetSpec) -> Result<()> {
    if storage.load_directory(primary)?.sites().next().is_some() {
        return Err(AdminError::Invalid(
            "the data set is created on a database without sites".into(),
        ));
    }
    // One write for every site, whatever their number: checked like any other, positioned at
    // the end of the log, which the data set's records already fill.
    let names: Vec<[String; 5]> = (0..spec.sites)
        .map(|n| [site_name(n), password(n), store_id(n), store_name_id(n), user_name(n)])
        .collect();
    let stores: Vec<(String, String)> = (0..spec.sites)
        .map(|n| (format!("Store {n}"), format!("S{n}")))
        .collect();
    let news: Vec<NewSatellite<'_>> = names
        .iter()
        .zip(&stores)
        .enumerate()
        .map(
            |(n, ([site, secret, store, name_id, user], (store_name, code)))| NewSatellite {
                site_name: site,
                site_password: secret,
                site_id: Some(site_id(n).0),
                store: NewStore {
                    id: Some(store),
                    name: store_name,
                    code,
                    name_id: Some(name_id),
                    site,
                    supplying_store_id: "",
                },
                user_name: user,
                user_password: secret,
                permissions: &[],
            },
        )
        .collect();
    add_satellites(storage, primary, &news)?;
    Ok(())
}

/// The data set's records as JSON lines in the push shape (what `import` reads), with SyncIDs
/// that number them, so loading the set twice changes nothing.
pub fn push_lines(spec: &DatasetSpec, mut line: impl FnMut(String)) {
    let mut n = 0u64;
    generate(spec, |g| {
        n += 1;
        let store = match g.intended {
            Intended::Store(site) => store_id(site),
            Intended::Central => String::new(),
        };
        line(format!(
            r#"{{"SyncID":"DS{n:030}","RecordType":"{}","RecordID":"{}","SyncType":"I","StoreID":"{store}","Data":{}}}"#,
            g.table, g.id, g.data
        ));
    });
}

/// Records pushed to the engine per write while loading.
const LOAD_BATCH: usize = 5_000;

/// Loads the data set's records through the sync engine as the primary's own, with generation
/// and decoding on a second thread so that it overlaps the writes. Returns the records applied.
pub async fn load(
    engine: &crate::sync::SyncEngine,
    primary: SiteId,
    spec: &DatasetSpec,
    progress: &indicatif::ProgressBar,
) -> Result<u64> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<crate::domain::record::PushedRecord>>(2);
    let spec = *spec;
    let generator = std::thread::spawn(move || {
        let mut body = Vec::with_capacity(LOAD_BATCH * 400);
        let mut count = 0;
        let flush = |body: &mut Vec<u8>, count: &mut usize| {
            body.push(b']');
            let records = crate::wire::v2::decode_push(body, usize::MAX).expect("the data set decodes");
            body.clear();
            *count = 0;
            sender.blocking_send(records).is_ok()
        };
        // Once the loader has stopped (it failed), the rest is generated but not decoded.
        let mut loader_gone = false;
        push_lines(&spec, |line| {
            if loader_gone {
                return;
            }
            body.push(if count == 0 { b'[' } else { b',' });
            body.extend_from_slice(line.as_bytes());
            count += 1;
            if count == LOAD_BATCH {
                loader_gone = !flush(&mut body, &mut count);
            }
        });
        if count > 0 && !loader_gone {
            flush(&mut body, &mut count);
        }
    });
    let mut applied = 0u64;
    while let Some(records) = receiver.recv().await {
        let outcome = engine.push(primary, records).await?;
        applied += outcome.applied as u64;
        progress.set_position(applied);
    }
    generator
        .join()
        .map_err(|_| AdminError::Invalid("the data set generator panicked".into()))?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_set_has_the_asked_size_and_is_deterministic() {
        let spec = DatasetSpec {
            sites: 10,
            records: 50_000,
            seed: 7,
        };
        let mut first = Vec::new();
        push_lines(&spec, |l| first.push(l));
        let mut second = Vec::new();
        push_lines(&spec, |l| second.push(l));
        assert_eq!(first, second);
        let size = first.len() as f64;
        assert!((size - 50_000.0).abs() / 50_000.0 < 0.01, "{size} records");
        let mut ids: Vec<&str> = first
            .iter()
            .map(|l| &l[l.find("RecordID").unwrap()..][11..43])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), first.len(), "ids are unique");
    }

    #[test]
    fn tiny_data_sets_are_generated_too() {
        for (sites, records) in [(300, 3000), (1, 10), (50, 100)] {
            let mut count = 0;
            generate(
                &DatasetSpec {
                    sites,
                    records,
                    seed: 3,
                },
                |_| count += 1,
            );
            assert!(count >= 2 * sites, "{sites} sites, {records} records: {count}");
        }
    }

    #[test]
    fn every_store_gets_every_kind_of_record() {
        let spec = DatasetSpec {
            sites: 3,
            records: 40_000,
            seed: 1,
        };
        let mut tables = std::collections::BTreeSet::new();
        generate(&spec, |g| {
            if g.intended == Intended::Store(2) {
                tables.insert(g.table.to_string());
            }
        });
        let want = [
            "item_line",
            "item_store_join",
            "list_master_name_join",
            "name",
            "name_store_join",
            "pref",
            "requisition",
            "requisition_line",
            "trans_line",
            "transact",
        ];
        assert_eq!(tables.into_iter().collect::<Vec<_>>(), want);
    }
}
