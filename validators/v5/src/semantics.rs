//! The table rules that run once a record has deserialised: what makes a translator ignore it,
//! which hard checks reject it, and which silent surprises are defects. This module dispatches to
//! each table's rule and holds those of the central tables; `programs.rs`, `invoices.rs` and
//! `remote_rules.rs` hold the rest. Tables without a rule of their own get the foreign-key check.

use serde_json::{Map, Value};

use crate::contract::Field;
use crate::enums::{DOCUMENT_CATEGORIES, SYSTEM_STORE_CODES};
use crate::session::BufferFacts;
use crate::state::RemoteState;
use crate::tables::STORE_PREFERENCES;
use crate::{fields, foreign_keys, invoices, ownership, programs, remote_rules, Site};

/// Why a rule stops a record from being integrated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The translator ignores it, and the contract allows that.
    Ignored(String),
    /// The translator ignores it, and a correct primary must not cause that.
    IgnoredWrongly(String),
    /// A hard check or a deserialisation error: marked integrated with an error.
    Rejected(String),
    /// A panic: the whole integration step aborts.
    Aborts(String),
}

/// One upsert being judged, with what the site holds.
pub(crate) struct Ctx<'a> {
    pub(crate) site: &'a Site,
    pub(crate) state: &'a mut RemoteState,
    pub(crate) buffer: &'a BufferFacts,
    pub(crate) table: &'static str,
    /// The row's own ID (`recordData.ID`, else `recordId`).
    pub(crate) id: &'a str,
    /// `recordData`, after any sanitising the translator does first.
    pub(crate) data: &'a Map<String, Value>,
    /// Rules the record breaks without changing its outcome.
    pub(crate) defects: Vec<String>,
    /// The translator turned the upsert into a delete (`name_store_join` with `inactive: true`).
    pub(crate) turned_into_delete: bool,
}

impl Ctx<'_> {
    /// A string field's value; `""` when it is missing, null or not a string.
    pub(crate) fn text(&self, key: &str) -> &str {
        self.data.get(key).and_then(Value::as_str).unwrap_or_default()
    }

    /// Reads a nested object the translator parses in a second step; its errors reject the record.
    pub(crate) fn read_nested(
        &mut self,
        fields: &[Field],
        object: &Map<String, Value>,
        path: &str,
    ) -> Result<(), Stop> {
        let mut problems = Vec::new();
        fields::read(fields, object, path, &mut problems);
        let mut first_error = None;
        for problem in problems {
            let error = problem.is_error();
            let message = problem.into_message();
            if error && first_error.is_none() {
                first_error = Some(message);
            } else {
                self.defects.push(message);
            }
        }
        first_error.map_or(Ok(()), |message| Err(Stop::Rejected(message)))
    }
}

/// Runs the table's rule, then the check for own records echoed back.
pub(crate) fn apply(ctx: &mut Ctx) -> Result<(), Stop> {
    match ctx.table {
        "store" => store(ctx),
        "name_store_join" => name_store_join(ctx),
        "list_master" => programs::list_master(ctx),
        "list_master_line" => list_master_line(ctx),
        "list_master_name_join" | "name_tag_join" => join_of_name(ctx),
        "pref" => pref(ctx),
        "om_document_registry" => document_registry(ctx),
        "transact" => invoices::transact(ctx),
        "trans_line" => invoices::trans_line(ctx),
        "Goods_received" => invoices::goods_received(ctx),
        "requisition" => remote_rules::requisition(ctx),
        "requisition_line" => remote_rules::requisition_line(ctx),
        "Stock_take" => remote_rules::stocktake(ctx),
        "Stock_take_lines" => remote_rules::stocktake_line(ctx),
        "temperature_log" => remote_rules::temperature_log(ctx),
        "temperature_breach" => remote_rules::temperature_breach(ctx),
        _ => foreign_keys::check(ctx),
    }?;
    ownership::note_echo(ctx);
    Ok(())
}

/// §3.7: system stores, stores without a name, and stores whose name has not arrived are ignored.
fn store(ctx: &mut Ctx) -> Result<(), Stop> {
    ownership::check_store_activity(ctx);
    let code = ctx.text("code");
    if SYSTEM_STORE_CODES.contains(&code) {
        return Err(Stop::Ignored(format!("system store {code}")));
    }
    let name_id = ctx.text("name_ID");
    if name_id.is_empty() {
        return Err(Stop::Ignored("the store has an empty name_ID".to_string()));
    }
    if !ctx.state.has("name", name_id) {
        return Err(Stop::IgnoredWrongly(format!(
            "name_ID {name_id:?}: the store's name is not integrated (send it in the same or an earlier sync)"
        )));
    }
    Ok(())
}

/// §3.8: `inactive: true` is a delete; the name must exist; a store's join to its own name is ignored.
fn name_store_join(ctx: &mut Ctx) -> Result<(), Stop> {
    if ctx.data.get("inactive") == Some(&Value::Bool(true)) {
        ctx.turned_into_delete = true;
        return Ok(());
    }
    foreign_keys::check(ctx)?;
    let own_name = ctx
        .state
        .stores
        .get(ctx.text("store_ID"))
        .is_some_and(|store| store.name_id == ctx.text("name_ID"));
    if own_name {
        return Err(Stop::Ignored("a store's join to its own name".to_string()));
    }
    Ok(())
}

/// §3.10: a line of an unknown list is ignored; its item must exist.
fn list_master_line(ctx: &mut Ctx) -> Result<(), Stop> {
    let list = ctx.text("item_master_ID");
    if !ctx.state.has("list_master", list) {
        return Err(Stop::Ignored(format!(
            "item_master_ID {list:?}: master list not on the site"
        )));
    }
    foreign_keys::check(ctx)
}

/// §3.11, §3.13: joins with an empty `name_ID` are ignored; the others need their rows.
fn join_of_name(ctx: &mut Ctx) -> Result<(), Stop> {
    if ctx.text("name_ID").is_empty() {
        return Err(Stop::Ignored("empty name_ID".to_string()));
    }
    foreign_keys::check(ctx)
}

/// §3.16: only `store_preferences` is read; its `data` fields then have to deserialise.
fn pref(ctx: &mut Ctx) -> Result<(), Stop> {
    let item = ctx.text("item");
    if item != "store_preferences" {
        return Err(Stop::Ignored(format!("pref item {item:?} is not store_preferences")));
    }
    match ctx.data.get("data") {
        Some(Value::Object(data)) => ctx.read_nested(STORE_PREFERENCES, data, "data"),
        _ => Ok(()),
    }
}

/// §3.20: registry entries of other categories are ignored.
fn document_registry(ctx: &mut Ctx) -> Result<(), Stop> {
    let category = ctx.text("category");
    if !DOCUMENT_CATEGORIES.contains(&category) {
        return Err(Stop::Ignored(format!("document category {category:?} is not handled")));
    }
    Ok(())
}
