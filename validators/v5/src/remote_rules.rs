//! The rules of the other store-owned tables: requisitions and their lines (§3.30, §3.31),
//! stocktakes and their lines (§3.28, §3.29), and the cold-chain records whose missing dates make
//! the translator panic (§3.32).

use serde_json::Value;

use crate::dates;
use crate::enums::{REQUISITION_STATUSES, REQUISITION_TYPES, STOCKTAKE_STATUSES};
use crate::foreign_keys;
use crate::semantics::{Ctx, Stop};

pub(crate) fn requisition(ctx: &mut Ctx) -> Result<(), Stop> {
    let store_id = ctx.text("store_ID").to_string();
    let name_id = ctx.text("name_ID").to_string();
    ctx.state.trades.insert((store_id.clone(), name_id));
    ctx.state.referenced_stores.insert(store_id);

    let customer = match ctx.data.get("oms_fields") {
        Some(Value::Object(fields)) => {
            let original = fields.get("original_customer_id");
            let alias = fields.get("destination_customer_id");
            if original.is_some() && alias.is_some() {
                return Err(Stop::Rejected(
                    "oms_fields: duplicate field original_customer_id (destination_customer_id is its alias)"
                        .to_string(),
                ));
            }
            original.or(alias).and_then(Value::as_str).unwrap_or_default()
        }
        _ => "",
    };
    let modified = ctx
        .data
        .get("lastModifiedAt")
        .and_then(Value::as_i64)
        .unwrap_or_default();
    if !dates::unix_seconds_in_range(modified) {
        return Err(Stop::Aborts(format!(
            "lastModifiedAt {modified} is outside chrono's range: the translator panics"
        )));
    }
    let created = !ctx.text("om_created_datetime").is_empty();
    let om_status = !ctx.text("om_status").is_empty();
    if created && !om_status {
        return Err(Stop::Rejected(
            "om_created_datetime is set but om_status is not".to_string(),
        ));
    }
    let kind = ctx.text("type");
    if !REQUISITION_TYPES.contains(&kind) {
        return Err(Stop::Ignored(format!("requisition type {kind:?} is not handled")));
    }
    let status = ctx.text("status");
    let legacy_status_used = !(created && om_status);
    if legacy_status_used && !REQUISITION_STATUSES.contains(&status) {
        return Err(Stop::Rejected(format!("Unsupported requisition status {status:?}")));
    }
    foreign_keys::check(ctx)?;
    if !customer.is_empty() && !ctx.state.has("name", customer) {
        return Err(Stop::Rejected(format!(
            "oms_fields.original_customer_id {customer:?}: no such name on the site (foreign key)"
        )));
    }
    Ok(())
}

pub(crate) fn requisition_line(ctx: &mut Ctx) -> Result<(), Stop> {
    header_present(ctx, "requisition_ID", "requisition")?;
    foreign_keys::check(ctx)
}

pub(crate) fn stocktake(ctx: &mut Ctx) -> Result<(), Stop> {
    let status = ctx.text("status");
    if !STOCKTAKE_STATUSES.contains(&status) {
        return Err(Stop::Ignored(format!("stocktake status {status:?} is not handled")));
    }
    foreign_keys::check(ctx)
}

pub(crate) fn stocktake_line(ctx: &mut Ctx) -> Result<(), Stop> {
    header_present(ctx, "stock_take_ID", "Stock_take")?;
    foreign_keys::check(ctx)
}

/// Panics when both `date` and `om_datetime` are empty.
pub(crate) fn temperature_log(ctx: &mut Ctx) -> Result<(), Stop> {
    undated(ctx, "date", "om_datetime")?;
    foreign_keys::check(ctx)
}

/// Panics when both `start_date` and `om_start_datetime` are empty.
pub(crate) fn temperature_breach(ctx: &mut Ctx) -> Result<(), Stop> {
    undated(ctx, "start_date", "om_start_datetime")?;
    foreign_keys::check(ctx)
}

fn header_present(ctx: &Ctx, field: &str, header: &str) -> Result<(), Stop> {
    let id = ctx.text(field);
    if ctx.state.has(header, id) {
        Ok(())
    } else {
        Err(Stop::Rejected(format!("{field} {id:?}: no such {header} on the site")))
    }
}

fn undated(ctx: &Ctx, date: &str, datetime: &str) -> Result<(), Stop> {
    let no_date = matches!(ctx.text(date), "" | "0000-00-00");
    if no_date && ctx.text(datetime).is_empty() {
        return Err(Stop::Aborts(format!(
            "{date} and {datetime} are both empty: the translator panics"
        )));
    }
    Ok(())
}
