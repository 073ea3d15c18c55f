//! Publishing with publisher confirms over the brokers' keyed pools.
//!
//! A publish returns OK only after the broker confirmed the message. Connection
//! failures are retried under the broker's retry policy, each time on a fresh
//! connection (the broken one is discarded, and the pool's check refuses any other
//! closed or blocked one); what the broker itself refuses is reported at once.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration,
};

use lapin::{Channel, Confirmation, ErrorKind, PublisherConfirm, options::BasicPublishOptions};
use tracing::warn;

use super::{AmqpManager, BrokerKey, Message};
use crate::{
    config::{BrokerConfig, RetryPolicy},
    pool::{Acquire, AcquireError, PoolGroup, PoolSettings, PoolStats, Pooled},
};

/// Why a publish failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("no broker is configured under the name {0:?}")]
    UnknownBroker(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Exhausted(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(
        "the message was returned unroutable ({code} {text}): no queue is bound to exchange {exchange:?} with routing key {routing_key:?}"
    )]
    Unroutable {
        exchange: String,
        routing_key: String,
        code: u16,
        text: String,
    },
    #[error(
        "the broker refused responsibility for the message (nack); it was not stored: publish it again"
    )]
    Nacked,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    Rejected(String),
}

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
    brokers: BTreeMap<String, BrokerConfig>,
    pools: PoolGroup<BrokerKey, AmqpManager>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("brokers", &self.brokers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What one attempt came to.
enum Attempt {
    /// The connection failed: try again on a fresh one.
    Retry(String),
    Final(PublishError),
}

impl Publisher {
    /// Prepares a pool group for the brokers; no connection is opened yet.
    pub fn new(brokers: &[BrokerConfig], max_pools: usize) -> Arc<Self> {
        let by_name: BTreeMap<String, BrokerConfig> = brokers
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

    /// Publishes one message and waits for the broker's confirm.
    ///
    /// # Errors
    /// [`PublishError`], with `Unavailable` after the retry policy is spent.
    pub async fn publish(&self, broker: &str, message: &Message) -> Result<(), PublishError> {
        let broker = self.broker(broker)?;
        message
            .validate(broker.max_body_bytes)
            .map_err(PublishError::Invalid)?;
        let mut attempt = 0;
        loop {
            match self.attempt(broker, std::slice::from_ref(message)).await {
                Ok(mut results) => {
                    return match results.pop() {
                        Some(Ok(())) | None => Ok(()),
                        Some(Err(Attempt::Final(e))) => Err(e),
                        Some(Err(Attempt::Retry(reason))) => {
                            self.retry_or_fail(broker, &mut attempt, reason).await?;
                            continue;
                        }
                    };
                }
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Retry(reason)) => {
                    self.retry_or_fail(broker, &mut attempt, reason).await?
                }
            }
        }
    }

    /// Publishes many messages pipelined on one channel; one result per message.
    /// Messages lost to a connection failure are retried under the policy.
    ///
    /// # Errors
    /// An unknown broker; per-message failures are in the returned vector.
    pub async fn publish_batch(
        &self,
        broker: &str,
        messages: &[Message],
    ) -> Result<Vec<Result<(), PublishError>>, PublishError> {
        let broker = self.broker(broker)?;
        let mut results: Vec<Option<Result<(), PublishError>>> = messages
            .iter()
            .map(|m| {
                m.validate(broker.max_body_bytes)
                    .err()
                    .map(|e| Err(PublishError::Invalid(e)))
            })
            .collect();
        let mut attempt = 0;
        loop {
            let pending: Vec<usize> = (0..messages.len())
                .filter(|i| results[*i].is_none())
                .collect();
            if pending.is_empty() {
                break;
            }
            let batch: Vec<Message> = pending.iter().map(|i| messages[*i].clone()).collect();
            let outcome = self.attempt(broker, &batch).await;
            let mut retry_reason = None;
            match outcome {
                Ok(outcomes) => {
                    for (index, outcome) in pending.iter().zip(outcomes) {
                        match outcome {
                            Ok(()) => results[*index] = Some(Ok(())),
                            Err(Attempt::Final(e)) => results[*index] = Some(Err(e)),
                            Err(Attempt::Retry(reason)) => retry_reason = Some(reason),
                        }
                    }
                }
                Err(Attempt::Final(e)) => {
                    for index in &pending {
                        results[*index] = Some(Err(e.clone()));
                    }
                }
                Err(Attempt::Retry(reason)) => retry_reason = Some(reason),
            }
            if let Some(reason) = retry_reason
                && let Err(e) = self.retry_or_fail(broker, &mut attempt, reason).await
            {
                for slot in results.iter_mut().filter(|r| r.is_none()) {
                    *slot = Some(Err(e.clone()));
                }
            }
        }
        Ok(results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect())
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

    fn broker(&self, name: &str) -> Result<&BrokerConfig, PublishError> {
        self.brokers
            .get(name)
            .ok_or_else(|| PublishError::UnknownBroker(name.to_owned()))
    }

    async fn retry_or_fail(
        &self,
        broker: &BrokerConfig,
        attempt: &mut u32,
        reason: String,
    ) -> Result<(), PublishError> {
        let RetryPolicy {
            max_retries,
            interval_start,
            interval_step,
            interval_max,
        } = broker.retry;
        if *attempt >= max_retries {
            return Err(PublishError::Unavailable(format!(
                "broker {:?} ({}) is unavailable after {} attempts: {reason}",
                broker.name,
                broker.key,
                *attempt + 1
            )));
        }
        let wait = (interval_start + interval_step * *attempt).min(interval_max);
        warn!(broker = %broker.name, pool = %broker.key, retry_in = ?wait, %reason, "publish failed; retrying on a fresh connection");
        *attempt += 1;
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// One try: a connection, a channel, every message published, every confirm awaited.
    async fn attempt(
        &self,
        broker: &BrokerConfig,
        messages: &[Message],
    ) -> Result<Vec<Result<(), Attempt>>, Attempt> {
        let conn = self
            .pools
            .acquire(&broker.key, Acquire::Blocking(broker.acquire_timeout))
            .await
            .map_err(|e| match e {
                AcquireError::Exhausted { .. } | AcquireError::TooManyPools { .. } => {
                    Attempt::Final(PublishError::Exhausted(e.to_string()))
                }
                other => Attempt::Retry(other.to_string()),
            })?;
        let channel = match conn.channel().await {
            Ok(channel) => channel,
            Err(e) => {
                self.discard(broker, conn);
                return Err(Attempt::Retry(format!("cannot open a channel: {e}")));
            }
        };
        let mut confirms = Vec::with_capacity(messages.len());
        for message in messages {
            confirms.push(publish_one(&channel, message).await);
        }
        // A single message gives its connection back once it is sent: awaiting the
        // broker's confirm needs only the channel, and other callers can meanwhile send
        // on the same connection. A batch keeps its connection to the end. A connection
        // that breaks meanwhile is caught by the pool's check on its next checkout.
        let (conn, home) = if messages.len() == 1 {
            let home = conn.channel_home();
            drop(conn);
            (None, home)
        } else {
            let home = conn.channel_home();
            (Some(conn), home)
        };
        let mut outcomes = Vec::with_capacity(messages.len());
        let mut connection_broken = false;
        for (message, confirm) in messages.iter().zip(confirms) {
            let outcome = match confirm {
                Ok(confirm) => match tokio::time::timeout(broker.confirm_timeout, confirm).await {
                    Ok(confirmation) => confirmed(message, confirmation),
                    Err(_) => Err(Attempt::Retry(format!(
                        "no confirm within {} ms (is the broker blocking publishers in a resource alarm?)",
                        broker.confirm_timeout.as_millis()
                    ))),
                },
                Err(e) => Err(classify(&e)),
            };
            if matches!(outcome, Err(Attempt::Retry(_))) {
                connection_broken = true;
            }
            outcomes.push(outcome);
        }
        match conn {
            Some(conn) if connection_broken || conn.blocked() => self.discard(broker, conn),
            _ if connection_broken => {}
            _ => home.put(channel),
        }
        Ok(outcomes)
    }

    fn discard(&self, broker: &BrokerConfig, conn: Pooled<AmqpManager>) {
        self.pools.discard(&broker.key, conn);
    }
}

async fn publish_one(
    channel: &Channel,
    message: &Message,
) -> Result<PublisherConfirm, lapin::Error> {
    channel
        .basic_publish(
            message.exchange.clone().into(),
            message.routing_key.clone().into(),
            BasicPublishOptions {
                mandatory: message.mandatory,
                immediate: false,
            },
            &message.body,
            message.properties(),
        )
        .await
}

/// What the broker's confirm means for the client.
fn confirmed(message: &Message, confirmation: lapin::Result<Confirmation>) -> Result<(), Attempt> {
    match confirmation {
        // An unroutable mandatory message comes back *and* is acked: the ack alone is
        // not success.
        Ok(Confirmation::Ack(Some(returned))) => Err(Attempt::Final(PublishError::Unroutable {
            exchange: message.exchange.clone(),
            routing_key: message.routing_key.clone(),
            code: returned.reply_code,
            text: returned.reply_text.to_string(),
        })),
        Ok(Confirmation::Ack(None)) => Ok(()),
        Ok(Confirmation::Nack(_)) => Err(Attempt::Final(PublishError::Nacked)),
        Ok(Confirmation::NotRequested) => Err(Attempt::Final(PublishError::Unavailable(
            "the channel was not in confirm mode; the message may not be stored".into(),
        ))),
        Err(e) => Err(classify(&e)),
    }
}

/// The broker's own refusals are final; anything about the connection is retried.
fn classify(err: &lapin::Error) -> Attempt {
    if let ErrorKind::ProtocolError(amqp) = err.kind() {
        let text = amqp.to_string();
        return match amqp.get_id() {
            404 => Attempt::Final(PublishError::NotFound(format!(
                "the broker has no such exchange: {text}"
            ))),
            403 => Attempt::Final(PublishError::Denied(format!(
                "the broker refused access: {text}"
            ))),
            406 => Attempt::Final(PublishError::Rejected(format!(
                "the broker rejected the publish: {text}"
            ))),
            311 => Attempt::Final(PublishError::Invalid(format!(
                "the message is too large for the broker: {text}"
            ))),
            _ => Attempt::Retry(text),
        };
    }
    Attempt::Retry(err.to_string())
}
