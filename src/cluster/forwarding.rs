//! Changes forwarded to this instance as the writer: every instance listens on its own subject;
//! the others send there while the lease names this one. Each change is applied through the
//! engine's writer with the next group and answered with that group's log position. An instance
//! that is not the writer answers so, and the sender looks for the writer again.

use std::sync::Arc;

use futures_util::StreamExt;

use super::Cluster;
use crate::sync::write_op::{decode_forwarded, encode_answer, Answer};
use crate::sync::{SyncEngine, SyncError};

pub async fn serve<P: AsRef<SyncEngine> + Send + Sync + 'static>(cluster: Arc<Cluster>, primary: Arc<P>) {
    let log = &cluster.log;
    let subject = format!("{}{}", log.forward_prefix, cluster.instance());
    let mut requests = loop {
        match log.client.subscribe(subject.clone()).await {
            Ok(requests) => break requests,
            Err(error) => {
                tracing::warn!(%error, subject, "listening for forwarded changes; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
    };
    while let Some(request) = requests.next().await {
        let Some(reply_to) = request.reply.clone() else {
            continue;
        };
        let (client, primary) = (log.client.clone(), primary.clone());
        tokio::spawn(async move {
            let engine = (*primary).as_ref();
            let (answer, position) = match decode_forwarded(&request.payload) {
                Ok(op) => engine.apply_forwarded(op).await,
                Err(error) => (Answer::Done(Err(SyncError::Invalid(error))), 0),
            };
            let reply = encode_answer(&answer, position);
            if let Err(error) = client.publish(reply_to, reply.into()).await {
                tracing::warn!(%error, "answering a forwarded change");
            }
        });
    }
}
