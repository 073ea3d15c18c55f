//! Nova-style notifications: the outbox rows of this host published to the configured
//! exchange, in order, each marked delivered only after the broker confirmed it.

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;
use tracing::{debug, warn};

use super::{Message, Publisher};
use crate::{
    delivery::{Pacing, Pass, Sink, drive},
    store::Store,
};

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
    /// Delivers until `stop` fires, then flushes until the deadline it carries.
    pub async fn run(mut self, stop: crate::workers::Drain) {
        let wake = Arc::clone(&self.wake);
        let pacing = Pacing {
            retry_initial: Duration::from_millis(200),
            retry_max: Duration::from_secs(5),
            idle_poll: Duration::from_secs(5),
        };
        drive(&mut self, &wake, stop, pacing).await;
    }

    /// Publishes one batch; true if a full batch was delivered (more may be waiting).
    async fn publish_pending(&self) -> Result<bool, ()> {
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
            .publish_batch(&self.broker, &messages, None)
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

impl Sink for Notifier {
    async fn pass(&mut self) -> Pass {
        match self.publish_pending().await {
            Ok(true) => Pass::More,
            Ok(false) => Pass::Idle,
            Err(()) => Pass::Blocked,
        }
    }
}
