//! Pruning: delivered and refused notifications removed after their retention,
//! lifecycle events too when their retention is set, expired request ids.

use tracing::warn;

use crate::store::{Retention, Store, StoreError, idempotency, journal, now_millis};

impl Store {
    /// Deletes notifications of `hostname` delivered or refused before `before_millis`;
    /// returns how many. Pending ones stay, however old.
    ///
    /// # Errors
    /// The database failed.
    pub async fn prune_outbox(
        &self,
        hostname: &str,
        before_millis: i64,
    ) -> Result<u64, StoreError> {
        self.writable()?;
        let done = sqlx::query(
            "DELETE FROM outbox WHERE hostname = $1 AND \
             (delivered_at < $2 OR failed_at < $2)",
        )
        .bind(hostname)
        .bind(before_millis)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

/// Prunes the store: delivered and refused notifications older than
/// `retention.outbox`, hourly; lifecycle events older than `retention.events`, when
/// set, in small batches (see [`journal`]); request ids past their expiry, hourly.
/// Never returns.
pub async fn prune_periodically(store: Store, hostname: String, retention: Retention) {
    let events = async {
        match retention.events {
            Some(keep) => {
                journal::prune_events_periodically(store.clone(), hostname.clone(), keep).await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::join!(
        prune_outbox_periodically(&store, &hostname, retention.outbox),
        events,
        idempotency::prune_requests_periodically(&store, &hostname),
    );
}

async fn prune_outbox_periodically(store: &Store, hostname: &str, retention: std::time::Duration) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let cutoff = now_millis() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        match store.prune_outbox(hostname, cutoff).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "old notifications removed from the outbox"),
            Err(e) => warn!(error = %e, "cannot prune the outbox"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewNotification;
    use crate::{secret::Secret, store::Settings};

    #[tokio::test]
    async fn pruning_removes_finished_notifications_and_keeps_pending_ones() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::connect(&Settings {
            url: Secret::new(format!("sqlite://{}/t.db", dir.path().display())),
            max_connections: 1,
        })
        .await
        .expect("store");
        let note = |key: &str| NewNotification {
            routing_key: key.into(),
            payload: "{}".into(),
        };
        store
            .enqueue(
                "h",
                "webhook:a",
                &[note("delivered"), note("refused"), note("pending")],
            )
            .await
            .expect("enqueue");
        let rows = store.pending("h", "webhook:a", 10).await.expect("pending");
        store
            .record_attempt(rows[0].id, Some(200), "", false)
            .await
            .expect("delivered");
        store
            .record_attempt(rows[1].id, Some(400), "no", true)
            .await
            .expect("refused");
        store
            .record_attempt(rows[2].id, Some(503), "later", false)
            .await
            .expect("retry");

        assert_eq!(
            store
                .prune_outbox("h", now_millis() - 60_000)
                .await
                .expect("prune"),
            0
        );
        assert_eq!(
            store
                .prune_outbox("h", now_millis() + 1)
                .await
                .expect("prune"),
            2
        );
        let left = store.pending("h", "webhook:a", 10).await.expect("pending");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].routing_key, "pending");
    }
}
