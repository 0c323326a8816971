//! What a device remembers between records that judging later records needs: whether it has had its
//! own store record, how each header (transaction, requisition, stocktake) it received was handled,
//! the batch IDs it has seen, the names of stores, and the transfers it has numbered. A batch works on a
//! copy, which is kept only when the batch is not rolled back.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::tables::Table;
use crate::{Device, Outcome};

/// The header types whose lines must belong to a header the device integrates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum HeaderKind {
    Transaction,
    Requisition,
    Stocktake,
}

impl HeaderKind {
    pub(crate) fn of_header(record_type: &str) -> Option<HeaderKind> {
        match record_type {
            "transact" => Some(HeaderKind::Transaction),
            "requisition" => Some(HeaderKind::Requisition),
            "Stock_take" => Some(HeaderKind::Stocktake),
            _ => None,
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            HeaderKind::Transaction => "transaction",
            HeaderKind::Requisition => "requisition",
            HeaderKind::Stocktake => "stocktake",
        }
    }
}

/// How the device handled a header it received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HeaderFate {
    Integrated,
    /// Integrated although it belongs to another store (a type the app does not filter).
    Foreign,
    Ignored(String),
    Dropped(String),
}

#[derive(Clone, Debug)]
pub(crate) struct Header {
    pub(crate) fate: HeaderFate,
    pub(crate) type_code: String,
    pub(crate) status: String,
    /// An own-store transfer the device numbers when it integrates it (linked, number below 1).
    pub(crate) renumbered: bool,
}

/// What judging a record learnt, for `DeviceState::remember`.
pub(crate) struct Learnt<'a> {
    pub(crate) table: &'static Table,
    pub(crate) id: &'a str,
    pub(crate) data: &'a Map<String, Value>,
    pub(crate) own_store: bool,
    pub(crate) renumbered: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct DeviceState {
    /// The device has integrated its own `store` record (so `tags` and `code` have earlier values).
    pub(crate) own_store_record: bool,
    pub(crate) headers: HashMap<(HeaderKind, String), Header>,
    /// Every `item_line` ID received, of any store: a received invoice's lines need new ones.
    pub(crate) item_lines: HashSet<String>,
    /// Names integrated with type `store`: invoices from them are transfers.
    pub(crate) store_names: HashSet<String>,
    /// Transfers the device numbered on integration.
    pub(crate) numbered: HashSet<(HeaderKind, String)>,
    /// The transaction of each `trans_line` integrated: a 2017 device refuses to delete lines of a
    /// finalised transaction.
    pub(crate) line_transactions: HashMap<String, String>,
    /// 2017 number sequences the device has, by key: it takes only the first record of each.
    pub(crate) sequences: HashSet<String>,
    pub(crate) own_name: bool,
    pub(crate) invad_name: bool,
}

fn text<'a>(data: &'a Map<String, Value>, key: &str) -> &'a str {
    data.get(key).and_then(Value::as_str).unwrap_or_default()
}

impl DeviceState {
    pub(crate) fn header(&self, kind: HeaderKind, id: &str) -> Option<&Header> {
        self.headers.get(&(kind, id.to_string()))
    }

    /// Records what an upsert that did not crash leaves on the device.
    pub(crate) fn remember(&mut self, device: &Device, learnt: &Learnt<'_>, outcome: &Outcome) {
        let Learnt {
            table,
            id,
            data,
            own_store,
            renumbered,
        } = *learnt;
        let integrated = *outcome == Outcome::Integrated;
        if let Some(kind) = HeaderKind::of_header(table.record_type) {
            let fate = match outcome {
                Outcome::Integrated if own_store => HeaderFate::Integrated,
                Outcome::Integrated => HeaderFate::Foreign,
                Outcome::Ignored(reason) => HeaderFate::Ignored(reason.clone()),
                Outcome::Dropped(reason) | Outcome::Crash(reason) => HeaderFate::Dropped(reason.clone()),
            };
            let header = Header {
                fate,
                type_code: text(data, "type").to_string(),
                status: text(data, "status").to_string(),
                renumbered: renumbered && integrated,
            };
            self.headers.insert((kind, id.to_string()), header);
            if renumbered && integrated {
                self.numbered.insert((kind, id.to_string()));
            }
        }
        match table.record_type {
            "item_line" => {
                self.item_lines.insert(id.to_string());
            }
            "store" if integrated && own_store => self.own_store_record = true,
            "name" if integrated => {
                let type_code = text(data, "type");
                if type_code == "store" {
                    self.store_names.insert(id.to_string());
                }
                self.invad_name |= type_code == "invad";
                self.own_name |= id == device.name_id;
            }
            "trans_line" if integrated => {
                self.line_transactions
                    .insert(id.to_string(), text(data, "transaction_ID").to_string());
            }
            "number" if integrated => {
                self.sequences.insert(text(data, "name").to_string());
            }
            _ => {}
        }
    }

    /// Forgets a deleted row.
    pub(crate) fn forget(&mut self, record_type: &str, id: &str) {
        if let Some(kind) = HeaderKind::of_header(record_type) {
            self.headers.remove(&(kind, id.to_string()));
        }
        match record_type {
            "item_line" => {
                self.item_lines.remove(id);
            }
            "trans_line" => {
                self.line_transactions.remove(id);
            }
            _ => {}
        }
    }
}
