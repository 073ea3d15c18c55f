//! Nova-style notifications: the outbox rows of this host published to the configured
//! exchange, in order, each marked delivered only after the broker confirmed it.

use std::{sync::Arc, time::Duration};

use tokio::sync::{Notify, oneshot};
use tracing::{debug, warn};

use super::{Message, Publisher};
use crate::store::Store;

/// The outbox sink name of AMQP notifications.
pub const SINK: &str = "amqp";
const BATCH: usize = 200;

/// Delivers the outbox to a broker's exchange.
#[derive(Debug)]
pub struct Notifier {
    pub store: Store,
    pub publisher: Arc<Publisher>,
    pub hostname: String,
    pub broker: String,
    pub exchange: String,
    pub wake: Arc<Notify>,
}

impl Notifier {
    /// Delivers until `stop` fires, then makes one last attempt within `grace`.
    pub async fn run(self, mut stop: oneshot::Receiver<()>, grace: Duration) {
        let mut delay = Duration::from_millis(200);
        loop {
            match self.deliver_pending().await {
                Ok(true) => {
                    delay = Duration::from_millis(200);
                    continue;
                }
                Ok(false) => {
                    delay = Duration::from_millis(200);
                    tokio::select! {
                        () = self.wake.notified() => {}
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                        _ = &mut stop => break,
                    }
                }
                Err(()) => {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = &mut stop => break,
                    }
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
        // Flush what can be flushed; the rest waits in the outbox for the next start.
        let _ = tokio::time::timeout(grace, async {
            while let Ok(true) = self.deliver_pending().await {}
        })
        .await;
    }

    /// Publishes one batch; true if a full batch was delivered (more may be waiting).
    async fn deliver_pending(&self) -> Result<bool, ()> {
        let rows = self
            .store
            .pending(&self.hostname, SINK, BATCH)
            .await
            .map_err(|e| warn!(error = %e, "cannot read the outbox"))?;
        if rows.is_empty() {
            return Ok(false);
        }
        let messages: Vec<Message> = rows
            .iter()
            .map(|row| Message {
                exchange: self.exchange.clone(),
                routing_key: row.routing_key.clone(),
                body: row.payload.clone().into_bytes(),
                content_type: "application/json".into(),
                message_id: format!("virtplane:{}:{}", self.hostname, row.id),
                ..Message::default()
            })
            .collect();
        let results = self
            .publisher
            .publish_batch(&self.broker, &messages)
            .await
            .map_err(|e| warn!(error = %e, "notifications cannot be published"))?;
        // Only the confirmed prefix is marked: order is kept, and a failed row is
        // retried before anything after it.
        let delivered: Vec<i64> = rows
            .iter()
            .zip(&results)
            .take_while(|(_, result)| result.is_ok())
            .map(|(row, _)| row.id)
            .collect();
        if let Err(e) = self.store.mark_delivered(&delivered).await {
            warn!(error = %e, "cannot mark notifications delivered; they will be sent again");
            return Err(());
        }
        if let Some((row, Err(e))) = rows.iter().zip(&results).find(|(_, r)| r.is_err()) {
            let _ = self.store.mark_failed(row.id, &e.to_string()).await;
            warn!(error = %e, routing_key = %row.routing_key, "notification not delivered; retrying");
            return Err(());
        }
        debug!(count = delivered.len(), "notifications delivered");
        Ok(rows.len() == BATCH)
    }
}
