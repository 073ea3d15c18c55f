//! The publisher: the configured brokers by name, their keyed pools, and the public
//! calls (publish one, publish a batch, list brokers and pools).

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration,
};

use tokio::time::Instant;

use super::{PublishError, deadline::call_deadline};
use crate::{
    amqp::BrokerSettings,
    amqp::{AmqpManager, BrokerKey, Message},
    pool::{PoolGroup, PoolSettings, PoolStats},
};

/// A configured broker as listed to clients.
#[derive(Debug, Clone)]
pub struct BrokerInfo {
    pub name: String,
    /// The URL with the password hidden.
    pub url: String,
    pub pool: Option<PoolStats>,
}

/// Publishes to the configured brokers.
pub struct Publisher {
    pub(super) brokers: BTreeMap<String, BrokerSettings>,
    pub(super) pools: PoolGroup<BrokerKey, AmqpManager>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("brokers", &self.brokers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// Prepares a pool group for the brokers; no connection is opened yet.
    pub fn new(brokers: &[BrokerSettings], max_pools: usize) -> Arc<Self> {
        let by_name: BTreeMap<String, BrokerSettings> = brokers
            .iter()
            .map(|config| (config.name.clone(), config.clone()))
            .collect();
        // Brokers with equal keys share a pool, which takes the largest limit any of
        // them asks for; other pools keep their own.
        let mut limits: HashMap<BrokerKey, usize> = HashMap::new();
        for config in brokers {
            let limit = limits.entry(config.key.clone()).or_default();
            *limit = (*limit).max(config.max_connections);
        }
        let settings = PoolSettings {
            max_size: 1,
            create_timeout: Duration::from_secs(10),
            // The check reads connection flags: nothing to time out.
            recycle_timeout: None,
            lifo: true,
        };
        let pools = PoolGroup::new("amqp", max_pools, settings, |key: &BrokerKey| {
            AmqpManager::new(key.clone())
        })
        .with_max_size_for(move |key| limits.get(key).copied().unwrap_or(1));
        Arc::new(Publisher {
            brokers: by_name,
            pools,
        })
    }

    /// Publishes one message and waits for the broker's confirm, until `deadline`
    /// (the client's) or the broker's `publish_timeout`, whichever is sooner.
    ///
    /// # Errors
    /// [`PublishError`]: `Unavailable` after the retry policy is spent,
    /// `DeadlineExceeded` when no confirm came by the deadline.
    pub async fn publish(
        &self,
        broker: &str,
        message: &Message,
        deadline: Option<Instant>,
    ) -> Result<(), PublishError> {
        let broker = self.broker(broker)?;
        message
            .validate(broker.max_body_bytes)
            .map_err(PublishError::Invalid)?;
        let deadline = call_deadline(broker, deadline);
        self.publish_all(broker, std::slice::from_ref(message), deadline)
            .await
            .pop()
            .unwrap_or(Ok(()))
    }

    /// Publishes many messages pipelined on one channel, their confirms awaited
    /// together; one result per message, in order, by the deadline (as for
    /// [`Publisher::publish`]). Messages lost to a connection failure are retried
    /// under the policy; a message not confirmed by the deadline is
    /// `DeadlineExceeded`.
    ///
    /// # Errors
    /// An unknown broker; per-message failures are in the returned vector.
    pub async fn publish_batch(
        &self,
        broker: &str,
        messages: &[Message],
        deadline: Option<Instant>,
    ) -> Result<Vec<Result<(), PublishError>>, PublishError> {
        let broker = self.broker(broker)?;
        let deadline = call_deadline(broker, deadline);
        Ok(self.publish_all(broker, messages, deadline).await)
    }

    /// The configured brokers, URLs redacted, with their pools' state.
    pub fn brokers(&self) -> Vec<BrokerInfo> {
        let stats = self.pools.stats();
        self.brokers
            .iter()
            .map(|(name, broker)| {
                let url = broker.key.to_string();
                BrokerInfo {
                    name: name.clone(),
                    pool: stats.iter().find(|s| s.key == url).cloned(),
                    url,
                }
            })
            .collect()
    }

    /// Every AMQP pool.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        self.pools.stats()
    }

    /// Closes every pool.
    pub fn close(&self) {
        self.pools.close_all();
    }

    fn broker(&self, name: &str) -> Result<&BrokerSettings, PublishError> {
        self.brokers
            .get(name)
            .ok_or_else(|| PublishError::UnknownBroker(name.to_owned()))
    }
}
