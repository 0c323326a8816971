//! The demo data set: three satellites with a store and a user each (the first store supplies the
//! other two), central data (the stores and their names, the `invad` name, a home currency,
//! units, items, a price list, customers), and per store its settings (`pref`), every item made
//! visible (`item_store_join`), stock, a clinician and a medicine administrator, invoices with
//! lines, and patients joined to the store with a dispensing history (what the v4
//! `patient_history` shows); between the stores, finalised orders and issues whose other halves
//! the primary generates. Deterministic from a seed; values as the legacy primary keeps them
//! (32-hex ids, numbers and booleans as strings, `YYYY-MM-DDT00:00:00` dates), every row
//! completed by the field catalogue when it is loaded.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::directory::{add_satellites, declare_client, NewSatellite, NewStore, Satellite};
use super::Result;
use crate::domain::ids::SiteId;
use crate::domain::permissions;
use crate::store::Database;
use crate::sync::ClientKind;

/// Credentials of one demo satellite, for the operator to point a satellite at.
#[derive(Debug, Clone)]
pub struct DemoSite {
    pub site_id: SiteId,
    pub site_name: String,
    pub site_password: String,
    pub store_id: String,
    pub store_name: String,
    pub store_code: String,
    pub store_name_id: String,
    pub user_name: String,
    pub user_password: String,
    /// The client this site is declared for (an open-mSupply site builds its own transfers).
    pub client: ClientKind,
    /// The clients this site's data suits, for the operator choosing where to point which.
    pub suits: &'static str,
}

/// The demo's stores: the first supplies the other two (its customers order from it, and what it
/// issues to them arrives as their supplier invoices). The third is an open-mSupply remote site:
/// what the district store issues to it arrives as the district's own invoice, for its own
/// processors to receive.
const DEMO_SITES: [(&str, ClientKind); 3] = [
    ("District Store South", ClientKind::Current),
    ("Clinic North", ClientKind::Current),
    ("Pharmacy Central", ClientKind::OpenMsupply),
];

/// Registers the demo sites, stores and users.
pub fn create_sites(storage: &Database, primary: SiteId) -> Result<Vec<DemoSite>> {
    let mut sites: Vec<DemoSite> = Vec::new();
    for (n, (title, client)) in DEMO_SITES.iter().enumerate() {
        let site_name = format!("demo{}", n + 1);
        let site_password = format!("demo{}-pass", n + 1);
        let user_name = format!("user{}", n + 1);
        let user_password = format!("user{}-pass", n + 1);
        let every_permission = permissions::ALL.map(str::to_string);
        let new = NewSatellite {
            site_name: &site_name,
            site_password: &site_password,
            site_id: None,
            store: NewStore {
                id: None,
                name: title,
                code: &format!("D{}", n + 1),
                name_id: None,
                site: &site_name,
                // The first demo store supplies the others.
                supplying_store_id: sites.first().map_or("", |supplier| supplier.store_id.as_str()),
            },
            user_name: &user_name,
            user_password: &user_password,
            permissions: &every_permission,
        };
        let Satellite { site, store, .. } = add_satellites(storage, primary, &[new])?.remove(0);
        if *client != ClientKind::Current {
            declare_client(storage, primary, &site_name, *client)?;
        }
        sites.push(DemoSite {
            site_id: site.id,
            site_name,
            site_password,
            store_id: store.id,
            store_name: store.name,
            store_code: store.code,
            store_name_id: store.name_id,
            user_name,
            user_password,
            client: *client,
            suits: match (n, client) {
                (0, _) => "supplier: mSupply Mobile since 2017 (/sync/v3/), which receives its customers' orders; the 2017 app (/sync/v2/) syncs too but is sent no requisitions",
                (_, ClientKind::OpenMsupply) => "customer: an open-mSupply remote site (/sync/v5/, this primary as its central server), which builds its own halves of transfers",
                _ => "customer: mSupply Mobile since 2017 (/sync/v3/) or the 2017 app (/sync/v2/, sent no requisitions)",
            },
        });
    }
    Ok(sites)
}

/// How many records of each kind the demo holds.
pub struct DemoSize {
    pub items: usize,
    pub names: usize,
    pub stock_per_store: usize,
    pub invoices_per_store: usize,
    pub lines_per_invoice: usize,
    pub patients_per_store: usize,
}

impl Default for DemoSize {
    fn default() -> Self {
        DemoSize {
            items: 300,
            names: 100,
            stock_per_store: 150,
            invoices_per_store: 40,
            lines_per_invoice: 3,
            patients_per_store: 25,
        }
    }
}

fn hex_id(rng: &mut StdRng) -> String {
    hex::encode_upper(rng.random::<[u8; 16]>())
}

fn date(rng: &mut StdRng) -> String {
    format!(
        "20{:02}-{:02}-{:02}T00:00:00",
        rng.random_range(19..26),
        rng.random_range(1..13),
        rng.random_range(1..29)
    )
}

/// The records of the demo, in reference order.
struct Demo {
    rng: StdRng,
    lines: Vec<String>,
}

impl Demo {
    /// One record in the push shape. Values are given as the legacy primary keeps them (text);
    /// the primary completes every row with the fields left out.
    fn push(&mut self, table: &str, store: &str, data: serde_json::Value) {
        let n = self.lines.len() + 1;
        let id = data["ID"].as_str().expect("every demo record has an ID").to_string();
        let record = json!({"SyncID": format!("DEMO{n:028}"), "RecordType": table, "RecordID": id, "SyncType": "I", "StoreID": store, "Data": data});
        self.lines.push(record.to_string());
    }

    fn id(&mut self) -> String {
        hex_id(&mut self.rng)
    }

    fn date(&mut self) -> String {
        date(&mut self.rng)
    }

    fn price(&mut self) -> String {
        format!("{:.2}", self.rng.random_range(0.1..20.0))
    }
}

/// The demo records as JSON lines in the push shape: central data (the stores and their names,
/// the `invad` name, a home currency, units, items, a price list, customers), and per store its
/// settings, item visibility, stock, a clinician and a medicine administrator, patients with a
/// dispensing history, and, between the supplier and its two customers, a finalised order
/// each way and a finalised issue (the primary generates the other halves).
pub fn records(seed: u64, sites: &[DemoSite], size: &DemoSize) -> Vec<String> {
    let mut d = Demo {
        rng: StdRng::seed_from_u64(seed),
        lines: Vec::new(),
    };
    let currency = d.id();
    d.push(
        "currency",
        "",
        json!({"ID": currency, "currency": "USD", "rate": "1", "is_home_currency": "true"}),
    );
    for (n, site) in sites.iter().enumerate() {
        d.push(
            "store",
            "",
            json!({"ID": site.store_id, "name": site.store_name, "code": site.store_code, "name_ID": site.store_name_id,
                   "sync_id_remote_site": site.site_id.0.to_string(), "store_mode": "store", "tags": ""}),
        );
        d.push(
            "name",
            "",
            json!({"ID": site.store_name_id, "name": site.store_name, "code": site.store_code, "type": "store",
                   "customer": if n == 0 { "false" } else { "true" }, "supplier": if n == 0 { "true" } else { "false" },
                   "manufacturer": "false"}),
        );
    }
    d.push(
        "name",
        "",
        json!({"ID": "INVAD", "name": "Inventory adjustments", "code": "invad", "type": "invad",
               "customer": "false", "supplier": "false", "manufacturer": "false"}),
    );
    let unit_names = ["tab", "ml", "bottle", "vial", "each"];
    let mut units = Vec::new();
    for (n, units_name) in unit_names.iter().enumerate() {
        let unit = d.id();
        d.push(
            "unit",
            "",
            json!({"ID": unit, "units": units_name, "comment": "", "order_number": n.to_string()}),
        );
        units.push(unit);
    }
    let mut items = Vec::new();
    for n in 0..size.items {
        let id = d.id();
        let unit = &units[n % units.len()];
        d.push(
            "item",
            "",
            json!({"ID": id, "code": format!("IT{n:05}"), "item_name": format!("Demo item {n}"), "unit_ID": unit,
                   "type_of": "general", "default_pack_size": "1", "doses": "0", "is_vaccine": "false"}),
        );
        items.push(id);
    }
    let list = d.id();
    d.push(
        "list_master",
        "",
        json!({"ID": list, "description": "Essential medicines", "code": "EML", "note": "",
               "isProgram": "false", "programSettings": "", "inactive": "false"}),
    );
    for item in items.iter().take(50) {
        let (id, price) = (d.id(), d.price());
        d.push(
            "list_master_line",
            "",
            json!({"ID": id, "item_master_ID": list, "item_ID": item, "price": price}),
        );
    }
    let mut customers = Vec::new();
    for n in 0..size.names {
        let id = d.id();
        d.push(
            "name",
            "",
            json!({"ID": id, "name": format!("Demo customer {n}"), "code": format!("C{n:04}"), "type": "facility",
                   "customer": "true", "supplier": if n % 5 == 0 { "true" } else { "false" }, "manufacturer": "false"}),
        );
        customers.push(id);
    }
    let mut supplier_stock = Vec::new();
    for (n, site) in sites.iter().enumerate() {
        let stock = store_records(&mut d, site, &items, &customers, &list, size);
        if n == 0 {
            supplier_stock = stock;
        }
    }
    transfers(&mut d, sites, &supplier_stock);
    d.lines
}

/// A stock line of a store.
#[derive(Clone)]
struct Batch {
    id: String,
    item: String,
    item_name: String,
    batch: String,
    expiry: String,
    price: String,
}

/// What one store holds of its own; returns its stock.
fn store_records(
    d: &mut Demo,
    site: &DemoSite,
    items: &[String],
    customers: &[String],
    list: &str,
    size: &DemoSize,
) -> Vec<Batch> {
    let store = site.store_id.as_str();
    let pref = d.id();
    d.push(
        "pref",
        store,
        json!({"ID": pref, "store_ID": store, "item": "store_preferences", "user_ID": "", "network_ID": "",
               "data": "{\"usesVaccineModule\":false,\"usesDispensaryModule\":true,\"monthsLeadTime\":1}"}),
    );
    let list_join = d.id();
    d.push(
        "list_master_name_join",
        store,
        json!({"ID": list_join, "name_ID": site.store_name_id, "list_master_ID": list, "description": ""}),
    );
    // Every item is visible in every store, at a default price.
    for item in items {
        let (id, price) = (d.id(), d.price());
        d.push(
            "item_store_join",
            store,
            json!({"ID": id, "item_ID": item, "store_ID": store, "inactive": "false", "default_price": price}),
        );
    }
    for customer in customers.iter().take(10) {
        let id = d.id();
        d.push(
            "name_store_join",
            store,
            json!({"ID": id, "name_ID": customer, "store_ID": store, "inactive": "false"}),
        );
    }
    let mut stock = Vec::new();
    for n in 0..size.stock_per_store {
        let id = d.id();
        let item = &items[(n * 7) % items.len()];
        let (expiry, cost, quantity) = (d.date(), d.price(), d.rng.random_range(10..500).to_string());
        d.push(
            "item_line",
            store,
            json!({"ID": id, "item_ID": item, "store_ID": store, "batch": format!("B{n}"), "expiry_date": expiry,
                   "quantity": quantity, "available": quantity, "pack_size": "1", "cost_price": cost, "sell_price": cost,
                   "donor_id": "", "location_ID": ""}),
        );
        stock.push(Batch {
            id,
            item: item.clone(),
            item_name: format!("Demo item {}", (n * 7) % items.len()),
            batch: format!("B{n}"),
            expiry,
            price: cost,
        });
    }
    let clinician = d.id();
    d.push(
        "clinician",
        store,
        json!({"ID": clinician, "first_name": "Dr Amina", "last_name": format!("of {}", site.store_name),
               "code": format!("CL{}", site.store_code), "initials": "AO", "store_ID": store, "active": "true"}),
    );
    let administrator = d.id();
    d.push(
        "medicine_administrator",
        store,
        json!({"ID": administrator, "first_name": "Nurse Joao", "last_name": format!("of {}", site.store_name),
               "code": format!("MA{}", site.store_code), "store_ID": store, "is_active": "true"}),
    );
    let mut patients = Vec::new();
    for n in 0..size.patients_per_store {
        let (id, born) = (d.id(), d.date());
        d.push(
            "name",
            store,
            json!({"ID": id, "name": format!("Family{n}, Given{n}"), "code": format!("P{}{n:04}", site.store_code),
                   "type": "patient", "customer": "true", "supplier": "false", "manufacturer": "false",
                   "first": format!("Given{n}"), "last": format!("Family{n}"), "date_of_birth": born,
                   "female": if n % 2 == 0 { "true" } else { "false" }, "supplying_store_id": store}),
        );
        let join = d.id();
        d.push(
            "name_store_join",
            store,
            json!({"ID": join, "name_ID": id, "store_ID": store, "inactive": "false"}),
        );
        patients.push(id);
    }
    for n in 0..size.invoices_per_store {
        let id = d.id();
        let to_patient = n % 2 == 0 && !patients.is_empty();
        let name = if to_patient {
            patients[n % patients.len()].clone()
        } else {
            customers[n % customers.len().min(10)].clone()
        };
        let day = d.date();
        d.push(
            "transact",
            store,
            json!({"ID": id, "name_ID": name, "invoice_num": (n + 1).to_string(), "type": "ci", "status": "fn",
                   "mode": if to_patient { "dispensary" } else { "store" }, "entry_date": day, "confirm_date": day,
                   "store_ID": store, "subtotal": "0", "total": "0", "prescriber_ID": if to_patient { clinician.as_str() } else { "" }}),
        );
        for l in 0..size.lines_per_invoice {
            let b = stock[(n * 3 + l) % stock.len()].clone();
            let (line, quantity) = (d.id(), d.rng.random_range(1..30).to_string());
            d.push(
                "trans_line",
                store,
                json!({"ID": line, "transaction_ID": id, "item_ID": b.item, "item_name": b.item_name, "item_line_ID": b.id,
                       "batch": b.batch, "expiry_date": b.expiry, "quantity": quantity,
                       "pack_size": "1", "cost_price": b.price, "sell_price": b.price, "line_number": (l + 1).to_string(),
                       "type": "stock_out", "medicine_administrator_ID": if to_patient { administrator.as_str() } else { "" }}),
            );
        }
    }
    stock
}

/// Between the supplying store and each customer store: the customer's finalised order (the
/// primary generates the supplier's response), and the supplier's finalised issue (the primary
/// generates the customer's supplier invoice).
fn transfers(d: &mut Demo, sites: &[DemoSite], supplier_stock: &[Batch]) {
    let Some((supplier, customers)) = sites.split_first() else {
        return;
    };
    for (n, customer) in customers.iter().enumerate() {
        // Trading stores see each other's names, both ways (open-mSupply needs it of a transfer).
        for (store, name) in [(customer, supplier), (supplier, customer)] {
            let join = d.id();
            d.push(
                "name_store_join",
                &store.store_id,
                json!({"ID": join, "name_ID": name.store_name_id, "store_ID": store.store_id, "inactive": "false"}),
            );
        }
        let (request, day) = (d.id(), d.date());
        d.push(
            "requisition",
            &customer.store_id,
            json!({"ID": request, "store_ID": customer.store_id, "name_ID": supplier.store_name_id, "type": "request",
                   "status": "fn", "daysToSupply": "90", "date_entered": day, "serial_number": (n + 1).to_string(),
                   "requester_reference": format!("Order {}", n + 1), "date_order_received": day}),
        );
        for (l, b) in supplier_stock.iter().skip(n * 5).take(5).enumerate() {
            let (line, item) = (d.id(), &b.item);
            let (asked, held) = (
                d.rng.random_range(10..100).to_string(),
                d.rng.random_range(0..50).to_string(),
            );
            d.push(
                "requisition_line",
                &customer.store_id,
                json!({"ID": line, "requisition_ID": request, "item_ID": item, "Cust_stock_order": asked,
                       "stock_on_hand": held, "daily_usage": "1.5", "actualQuan": "0", "line_number": (l + 1).to_string()}),
            );
        }
        let (issue, day) = (d.id(), d.date());
        d.push(
            "transact",
            &supplier.store_id,
            json!({"ID": issue, "store_ID": supplier.store_id, "name_ID": customer.store_name_id, "type": "ci",
                   "status": "fn", "mode": "store", "invoice_num": (1000 + n).to_string(), "entry_date": day,
                   "confirm_date": day, "their_ref": format!("Issue to {}", customer.store_name), "subtotal": "0", "total": "0"}),
        );
        for (l, b) in supplier_stock.iter().skip(n * 5).take(3).enumerate() {
            let line = d.id();
            d.push(
                "trans_line",
                &supplier.store_id,
                json!({"ID": line, "transaction_ID": issue, "item_ID": b.item, "item_name": b.item_name,
                       "item_line_ID": b.id, "batch": b.batch, "expiry_date": b.expiry, "quantity": "10",
                       "pack_size": "1", "cost_price": b.price, "sell_price": b.price, "line_number": (l + 1).to_string(),
                       "type": "stock_out"}),
            );
        }
    }
}
