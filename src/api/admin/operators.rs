//! Operators of the admin API, managed on the running server: listed (`GET operators`: names and
//! how many tokens, never a hash), added (`POST operators` `{"name","password"}`) and given a
//! bearer token (`POST operators/{name}/tokens`, its text in the reply this once), each a plan of
//! `admin::operators` run by the sync writer, as the command line runs it with the server stopped.

use crate::admin::operators::{new_password, new_token_secret, plan_add_operator, plan_issue_token, put_operator};
use crate::api::error::ApiError;
use crate::domain::directory::Directory;
use crate::sync::SyncEngine;
use crate::wire::admin::{decode_request, one_body, operators_body, token_body, NewOperatorRequest, OperatorSummary};

pub fn list(engine: &SyncEngine) -> Vec<u8> {
    let mut operators: Vec<OperatorSummary> = engine.with_directory(|d| {
        d.operators()
            .map(|o| OperatorSummary {
                name: o.name.clone(),
                tokens: o.tokens.len(),
            })
            .collect()
    });
    operators.sort_by(|a, b| a.name.cmp(&b.name));
    operators_body(&operators)
}

pub async fn add(engine: &SyncEngine, operator: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let request: NewOperatorRequest = decode_request(body)?;
    let password = new_password(&request.password).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let name = request.name.clone();
    let changes = engine
        .change_directory(Box::new(move |d: &Directory| {
            plan_add_operator(d, &name, password).map_err(|e| e.to_string())
        }))
        .await?;
    let added = put_operator(changes);
    tracing::info!(operator, added = %added.name, "operator added");
    Ok(one_body(&OperatorSummary {
        name: added.name,
        tokens: 0,
    }))
}

pub async fn issue_token(engine: &SyncEngine, operator: &str, name: &str) -> Result<Vec<u8>, ApiError> {
    let secret = new_token_secret();
    let (owned, held) = (name.to_string(), secret.clone());
    let changes = engine
        .change_directory(Box::new(move |d: &Directory| {
            plan_issue_token(d, &owned, &held).map_err(|e| e.to_string())
        }))
        .await?;
    let holder = put_operator(changes);
    tracing::info!(operator, holder = %holder.name, "bearer token issued");
    Ok(token_body(&holder.name, &holder.token(&secret)))
}
