//! Judges one buffered record the way the remote integrates it: a table no translator handles is
//! ignored; a merge or delete goes to `actions.rs`; an upsert is deserialised against its table's
//! fields (any error fails the record, §3) and then run through the table's rules. The state is
//! updated with what the remote keeps from it.

use serde_json::Value;

use crate::contract::Table;
use crate::envelope::{Action, Element};
use crate::semantics::{self, Ctx, Stop};
use crate::session::BufferFacts;
use crate::state::RemoteState;
use crate::{actions, fields, invoices, tables, Outcome, Site, Verdict};

pub(crate) fn judge(element: &Element, site: &Site, state: &mut RemoteState, buffer: &BufferFacts) -> Verdict {
    let mut defects = Vec::new();
    let result = match tables::find(&element.table) {
        None => Err(Stop::Ignored("no translator".to_string())),
        Some(table) => match element.action {
            Action::Merge => actions::merge(table, &element.data, state),
            Action::Delete => actions::delete(table, &element.record_id, state),
            Action::Upsert => upsert(table, element, site, state, buffer, &mut defects),
        },
    };
    let outcome = match result {
        Ok(()) => Outcome::Integrated,
        Err(Stop::Ignored(reason)) => Outcome::Ignored(reason),
        Err(Stop::IgnoredWrongly(reason)) => {
            note(&mut defects, &reason);
            Outcome::Ignored(reason)
        }
        Err(Stop::Rejected(reason)) => {
            note(&mut defects, &reason);
            Outcome::Rejected(reason)
        }
        Err(Stop::Aborts(reason)) => {
            note(&mut defects, &reason);
            Outcome::Aborts(reason)
        }
    };
    Verdict {
        table: element.table.clone(),
        record_id: element.record_id.clone(),
        action: element.action_text.clone(),
        outcome,
        defects,
    }
}

/// Puts the outcome's reason first among the defects, once.
fn note(defects: &mut Vec<String>, reason: &str) {
    defects.retain(|defect| defect != reason);
    defects.insert(0, reason.to_string());
}

fn upsert(
    table: &'static Table,
    element: &Element,
    site: &Site,
    state: &mut RemoteState,
    buffer: &BufferFacts,
    defects: &mut Vec<String>,
) -> Result<(), Stop> {
    let Value::Object(sent) = &element.data else {
        return Err(Stop::Rejected("recordData is not an object".to_string()));
    };
    let sanitised = invoices::sanitised(table.name, sent);
    if sanitised.is_some() {
        defects.extend(invoices::destination_copy_defect(site, state, sent));
    }
    let data = sanitised.as_ref().unwrap_or(sent);
    let mut first_error = None;
    for problem in fields::problems(table.fields, data) {
        let error = problem.is_error();
        let message = problem.into_message();
        if error && first_error.is_none() {
            first_error = Some(message.clone());
        }
        defects.push(message);
    }
    if let Some(error) = first_error {
        return Err(Stop::Rejected(error));
    }
    let mut ctx = Ctx {
        site,
        state,
        buffer,
        table: table.name,
        id: element.row_id(),
        data,
        defects: Vec::new(),
        turned_into_delete: false,
    };
    let result = semantics::apply(&mut ctx);
    let turned_into_delete = ctx.turned_into_delete;
    defects.append(&mut ctx.defects);
    if result.is_ok() {
        if turned_into_delete {
            state.remove(table.name, element.row_id());
        } else {
            state.remember(table.name, element.row_id(), data);
        }
    }
    result
}
