//! The demo data set: a few satellites with a store and a user each, central data (units, items,
//! names, a master list), and per store stock, a clinician and a medicine administrator,
//! invoices with lines, requisitions, and patients joined to the store with a dispensing history
//! (what the v4 `patient_history` shows). Deterministic from a seed; shapes as the mSupply clients expect them
//! (32-hex ids, numbers as strings, `YYYY-MM-DDT00:00:00` dates).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::directory::{add_site, add_store, add_user, NewStore};
use super::Result;
use crate::domain::ids::SiteId;
use crate::domain::permissions;
use crate::store::Storage;

/// Credentials of one demo satellite, for the operator to point a satellite at.
#[derive(Debug, Clone)]
pub struct DemoSite {
    pub site_id: SiteId,
    pub site_name: String,
    pub site_password: String,
    pub store_id: String,
    pub store_name: String,
    pub store_name_id: String,
    pub user_name: String,
    pub user_password: String,
}

const DEMO_SITES: [&str; 3] = ["Clinic North", "Pharmacy Central", "District Store South"];

/// Registers the demo sites, stores and users.
pub fn create_sites(storage: &Storage, primary: SiteId) -> Result<Vec<DemoSite>> {
    let mut sites = Vec::new();
    for (n, title) in DEMO_SITES.iter().enumerate() {
        let site_name = format!("demo{}", n + 1);
        let site_password = format!("demo{}-pass", n + 1);
        let site = add_site(storage, primary, &site_name, &site_password, None)?;
        let store = add_store(
            storage,
            primary,
            NewStore {
                id: None,
                name: title,
                code: &format!("D{}", n + 1),
                name_id: None,
                site: &site_name,
                supplying_store_id: "",
            },
        )?;
        let user_name = format!("user{}", n + 1);
        let user_password = format!("user{}-pass", n + 1);
        add_user(
            storage,
            primary,
            &user_name,
            &user_password,
            std::slice::from_ref(&store.id),
            false,
            &permissions::ALL.map(str::to_string),
        )?;
        sites.push(DemoSite {
            site_id: site.id,
            site_name,
            site_password,
            store_id: store.id,
            store_name: store.name,
            store_name_id: store.name_id,
            user_name,
            user_password,
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

/// The demo records as JSON lines in the push shape.
pub fn records(seed: u64, sites: &[DemoSite], size: &DemoSize) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut lines = Vec::new();
    let mut sync_n = 0u64;
    let mut push = |lines: &mut Vec<String>, table: &str, store: &str, data: serde_json::Value| {
        sync_n += 1;
        let id = data["ID"].as_str().expect("every demo record has an ID").to_string();
        let record = json!({"SyncID": format!("DEMO{sync_n:028}"), "RecordType": table, "RecordID": id, "SyncType": "I", "StoreID": store, "Data": data});
        lines.push(record.to_string());
    };
    for site in sites {
        push(
            &mut lines,
            "store",
            "",
            json!({"ID": site.store_id, "name": site.store_name, "code": site.store_name.chars().take(3).collect::<String>(), "name_ID": site.store_name_id}),
        );
        push(
            &mut lines,
            "name",
            "",
            json!({"ID": site.store_name_id, "name": site.store_name, "code": "", "type": "store", "customer": true, "supplier": true}),
        );
    }
    let units: Vec<String> = ["tab", "ml", "bottle", "vial", "each"]
        .iter()
        .map(|_| hex_id(&mut rng))
        .collect();
    for (unit, units_name) in units.iter().zip(["tab", "ml", "bottle", "vial", "each"]) {
        push(
            &mut lines,
            "unit",
            "",
            json!({"ID": unit, "units": units_name, "order_number": "0"}),
        );
    }
    let mut items = Vec::new();
    for n in 0..size.items {
        let id = hex_id(&mut rng);
        let unit = &units[n % units.len()];
        push(
            &mut lines,
            "item",
            "",
            json!({"ID": id, "code": format!("IT{n:05}"), "item_name": format!("Demo item {n}"), "unit_ID": unit, "type_of": "general", "default_pack_size": "1", "doses": "0", "is_vaccine": false}),
        );
        items.push(id);
    }
    let list = hex_id(&mut rng);
    push(
        &mut lines,
        "list_master",
        "",
        json!({"ID": list, "description": "Essential medicines", "code": "EML"}),
    );
    for item in items.iter().take(50) {
        push(
            &mut lines,
            "list_master_line",
            "",
            json!({"ID": hex_id(&mut rng), "item_master_ID": list, "item_ID": item}),
        );
    }
    let mut customers = Vec::new();
    for n in 0..size.names {
        let id = hex_id(&mut rng);
        push(
            &mut lines,
            "name",
            "",
            json!({"ID": id, "name": format!("Demo customer {n}"), "code": format!("C{n:04}"), "type": "facility", "customer": true, "supplier": n % 5 == 0}),
        );
        customers.push(id);
    }
    for site in sites {
        let store = site.store_id.as_str();
        let mut stock = Vec::new();
        for n in 0..size.stock_per_store {
            let id = hex_id(&mut rng);
            let item = &items[(n * 7) % items.len()];
            push(
                &mut lines,
                "item_line",
                store,
                json!({"ID": id, "item_ID": item, "store_ID": store, "batch": format!("B{n}"), "expiry_date": date(&mut rng), "available": rng.random_range(0..500).to_string(), "pack_size": "1", "cost_price": format!("{:.2}", rng.random_range(0.1..20.0))}),
            );
            stock.push((id, item.clone()));
        }
        let clinician = hex_id(&mut rng);
        push(
            &mut lines,
            "clinician",
            store,
            json!({"ID": clinician, "first_name": "Dr Amina", "last_name": format!("of {}", site.store_name), "store_ID": store}),
        );
        let administrator = hex_id(&mut rng);
        push(
            &mut lines,
            "medicine_administrator",
            store,
            json!({"ID": administrator, "first_name": "Nurse Joao", "last_name": format!("of {}", site.store_name), "store_ID": store}),
        );
        let mut patients = Vec::new();
        for n in 0..size.patients_per_store {
            let id = hex_id(&mut rng);
            push(
                &mut lines,
                "name",
                store,
                json!({"ID": id, "name": format!("Patient {n} of {}", site.store_name), "code": format!("P{n:04}"), "type": "patient", "first": format!("Given{n}"), "last": format!("Family{n}"), "date_of_birth": date(&mut rng)}),
            );
            push(
                &mut lines,
                "name_store_join",
                store,
                json!({"ID": hex_id(&mut rng), "name_ID": id, "store_ID": store, "inactive": false}),
            );
            patients.push(id);
        }
        for n in 0..size.invoices_per_store {
            let id = hex_id(&mut rng);
            let to_patient = n % 2 == 0 && !patients.is_empty();
            let name = if to_patient {
                patients[n % patients.len()].clone()
            } else {
                customers[n % customers.len()].clone()
            };
            push(
                &mut lines,
                "transact",
                store,
                json!({"ID": id, "name_ID": name, "invoice_num": (n + 1).to_string(), "type": "ci", "status": "fn", "confirm_date": date(&mut rng), "store_ID": store, "total": "0", "clinician_ID": clinician}),
            );
            for l in 0..size.lines_per_invoice {
                let (line_item, item) = &stock[(n * 3 + l) % stock.len()];
                let item_name = format!("Demo item {}", items.iter().position(|i| i == item).unwrap_or(0));
                push(
                    &mut lines,
                    "trans_line",
                    store,
                    json!({"ID": hex_id(&mut rng), "transaction_ID": id, "item_ID": item, "item_name": item_name, "item_line_ID": line_item, "quantity": rng.random_range(1..30).to_string(), "store_ID": store, "medicine_administrator_ID": administrator}),
                );
            }
        }
        for (n, customer) in customers.iter().take(5).enumerate() {
            push(
                &mut lines,
                "requisition",
                store,
                json!({"ID": hex_id(&mut rng), "store_ID": store, "name_ID": customer, "status": "wf", "daysToSupply": "90", "date_entered": date(&mut rng), "serial_number": (n + 1).to_string()}),
            );
        }
    }
    lines
}
