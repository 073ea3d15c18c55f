//! Publishing with publisher confirms over the brokers' keyed pools.
//!
//! A publish returns OK only after the broker confirmed the message, and a call has
//! one deadline, retries included: the broker's `publish_timeout`, or the client's
//! when sooner. Connection failures are retried under the broker's retry policy, each
//! time on a fresh connection (the broken one is discarded, and the pool's check
//! refuses any other closed or blocked one). What the broker refuses is reported for
//! the message it concerns only: a channel the broker closed over one message is not a
//! broken connection, the messages it never processed go again on a fresh channel,
//! and one whose fate nobody can know is reported as not confirmed.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration,
};

use futures_util::{StreamExt, stream::FuturesUnordered};
use lapin::{
    Channel, Confirmation, ErrorKind, ExchangeKind, PublisherConfirm,
    options::{BasicPublishOptions, ExchangeDeclareOptions},
    protocol::{AMQPError, AMQPErrorKind},
    types::FieldTable,
};
use tokio::time::Instant;
use tracing::warn;

use super::{AmqpConnection, AmqpManager, BrokerKey, BrokerSettings, Message, RetryPolicy};
use crate::pool::{Acquire, AcquireError, PoolGroup, PoolSettings, PoolStats, Pooled};

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
    /// Not confirmed when the call's deadline came: the broker may or may not have
    /// stored it.
    #[error("{0}")]
    DeadlineExceeded(String),
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
    brokers: BTreeMap<String, BrokerSettings>,
    pools: PoolGroup<BrokerKey, AmqpManager>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("brokers", &self.brokers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What became of one message in one attempt.
#[derive(Debug, Clone)]
enum Fate {
    Confirmed,
    /// The broker's answer, or an outcome no retry changes.
    Final(PublishError),
    /// The connection failed: publish again on a fresh one, under the retry policy.
    Retry(String),
    /// The broker never processed it (its channel was closed over another message
    /// first): publish again at once on a fresh channel.
    Resend,
    /// Not confirmed by the call's deadline.
    Late,
    /// Its confirm was refused because the broker closed the channel with this error;
    /// resolved, with the other messages of the channel, by [`resolve_channel_error`].
    ChannelClosed(AMQPError),
    /// Not sent: the channel was already closed. Resolved like `ChannelClosed`.
    Unsent,
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

    /// Attempts until every message has its answer or the deadline has come.
    async fn publish_all(
        &self,
        broker: &BrokerSettings,
        messages: &[Message],
        deadline: Instant,
    ) -> Vec<Result<(), PublishError>> {
        let mut results: Vec<Option<Result<(), PublishError>>> = messages
            .iter()
            .map(|m| {
                m.validate(broker.max_body_bytes)
                    .err()
                    .map(|e| Err(PublishError::Invalid(e)))
            })
            .collect();
        let mut retries = 0;
        loop {
            let pending: Vec<usize> = (0..messages.len())
                .filter(|i| results[*i].is_none())
                .collect();
            if pending.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                for index in pending {
                    results[index] = Some(Err(not_confirmed_by_deadline()));
                }
                break;
            }
            let batch: Vec<&Message> = pending.iter().map(|i| &messages[*i]).collect();
            let fates = self.attempt(broker, &batch, deadline).await;
            let (mut retry, mut resend, mut progressed) = (None, false, false);
            for (index, fate) in pending.iter().zip(fates) {
                let result = match fate {
                    Fate::Confirmed => Ok(()),
                    Fate::Final(e) => Err(e),
                    Fate::Late => Err(not_confirmed_by_deadline()),
                    Fate::Retry(reason) => {
                        retry = Some(reason);
                        continue;
                    }
                    // Resolved inside the attempt; never left over.
                    Fate::Resend | Fate::ChannelClosed(_) | Fate::Unsent => {
                        resend = true;
                        continue;
                    }
                };
                results[*index] = Some(result);
                progressed = true;
            }
            // Resending is free only while it moves: a channel closed under nothing
            // but resends counts as a failed attempt, so the loop always ends.
            if resend && !progressed && retry.is_none() {
                retry =
                    Some("the broker closed the channel before the messages were processed".into());
            }
            if let Some(reason) = retry
                && let Err(e) = self
                    .retry_or_fail(broker, &mut retries, reason, deadline)
                    .await
            {
                for slot in results.iter_mut().filter(|r| r.is_none()) {
                    *slot = Some(Err(e.clone()));
                }
            }
        }
        results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect()
    }

    async fn retry_or_fail(
        &self,
        broker: &BrokerSettings,
        attempt: &mut u32,
        reason: String,
        deadline: Instant,
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
        tokio::time::sleep_until(deadline.min(Instant::now() + wait)).await;
        Ok(())
    }

    /// One try: a connection, a channel, every message published, every confirm
    /// awaited together; a fate per message, by the deadline.
    async fn attempt(
        &self,
        broker: &BrokerSettings,
        messages: &[&Message],
        deadline: Instant,
    ) -> Vec<Fate> {
        let all = |fate: Fate| vec![fate; messages.len()];
        let checkout = self
            .pools
            .acquire(&broker.key, Acquire::Blocking(broker.acquire_timeout));
        let conn = match tokio::time::timeout_at(deadline, checkout).await {
            Err(_) => return all(Fate::Late),
            Ok(Err(e @ (AcquireError::Exhausted { .. } | AcquireError::TooManyPools { .. }))) => {
                return all(Fate::Final(PublishError::Exhausted(e.to_string())));
            }
            Ok(Err(e)) => return all(Fate::Retry(e.to_string())),
            Ok(Ok(conn)) => conn,
        };
        let mut fates: Vec<Option<Fate>> = vec![None; messages.len()];
        if let Err(fate) = self
            .refuse_missing_exchanges(&conn, messages, &mut fates, deadline)
            .await
        {
            self.dispose(broker, Some(conn), &fate);
            return all(fate);
        }
        let channel = match tokio::time::timeout_at(deadline, conn.channel()).await {
            Ok(Ok(channel)) => channel,
            Ok(Err(e)) => {
                let fate = Fate::Retry(format!("cannot open a channel: {e}"));
                self.dispose(broker, Some(conn), &fate);
                return all(fate);
            }
            Err(_) => {
                self.dispose(broker, Some(conn), &Fate::Late);
                return all(Fate::Late);
            }
        };
        let confirms = publish_pending(&conn, &channel, messages, &mut fates, deadline).await;
        // A single message gives its connection back once it is sent: awaiting the
        // broker's confirm needs only the channel, and other callers can meanwhile send
        // on the same connection. A batch keeps its connection to the end. A connection
        // that breaks meanwhile is caught by the pool's check on its next checkout.
        let home = conn.channel_home();
        let conn = (messages.len() > 1).then_some(conn);
        let confirm_by = deadline.min(Instant::now() + broker.confirm_timeout);
        let answers = await_confirms(confirms, messages.len(), confirm_by).await;
        for (index, answer) in answers.into_iter().enumerate() {
            if fates[index].is_some() {
                continue;
            }
            fates[index] = Some(match answer {
                Some(confirmation) => confirmed(messages[index], confirmation),
                None if confirm_by < deadline => Fate::Retry(format!(
                    "no confirm within {} ms (is the broker blocking publishers in a resource alarm?)",
                    broker.confirm_timeout.as_millis()
                )),
                None => Fate::Late,
            });
        }
        let mut fates: Vec<Fate> = fates.into_iter().map(|f| f.unwrap_or(Fate::Late)).collect();
        resolve_channel_error(messages, &mut fates);
        let worst = fates
            .iter()
            .find(|f| matches!(f, Fate::Retry(_)))
            .or_else(|| fates.iter().find(|f| matches!(f, Fate::Late)))
            .cloned()
            .unwrap_or(Fate::Confirmed);
        self.dispose(broker, conn, &worst);
        // A channel with publishes still unconfirmed is not reused: dropping it closes it.
        if matches!(worst, Fate::Confirmed) {
            home.put(channel);
        }
        fates
    }

    /// In a batch over several exchanges, a message to a missing exchange would make the
    /// broker close the channel under every other message in flight: those are found
    /// first with passive declares on a channel of their own, and refused alone.
    async fn refuse_missing_exchanges(
        &self,
        conn: &AmqpConnection,
        messages: &[&Message],
        fates: &mut [Option<Fate>],
        deadline: Instant,
    ) -> Result<(), Fate> {
        let mut exchanges: Vec<&str> = messages.iter().map(|m| m.exchange.as_str()).collect();
        exchanges.sort_unstable();
        exchanges.dedup();
        if exchanges.len() < 2 {
            return Ok(());
        }
        // The default exchange always exists.
        exchanges.retain(|e| !e.is_empty());
        let missing =
            match tokio::time::timeout_at(deadline, missing_exchanges(conn, &exchanges)).await {
                Ok(Ok(missing)) => missing,
                Ok(Err(e)) => return Err(Fate::Retry(format!("cannot check the exchanges: {e}"))),
                Err(_) => return Err(Fate::Late),
            };
        for (message, fate) in messages.iter().zip(fates.iter_mut()) {
            if let Some(error) = missing.get(message.exchange.as_str()) {
                *fate = Some(Fate::Final(error.clone()));
            }
        }
        Ok(())
    }

    /// Gives the connection back, or discards it when it failed or the broker blocked it.
    fn dispose(&self, broker: &BrokerSettings, conn: Option<Pooled<AmqpManager>>, worst: &Fate) {
        let Some(conn) = conn else { return };
        if matches!(worst, Fate::Retry(_)) || conn.blocked() || !conn.connected() {
            self.pools.discard(&broker.key, conn);
        }
    }
}

/// The sooner of the client's deadline and the broker's own.
fn call_deadline(broker: &BrokerSettings, client: Option<Instant>) -> Instant {
    let own = Instant::now() + broker.publish_timeout;
    client.map_or(own, |client| client.min(own))
}

fn not_confirmed_by_deadline() -> PublishError {
    PublishError::DeadlineExceeded(
        "not confirmed before the deadline (is the broker blocking publishers in a resource alarm?); it may or may not have been stored".into(),
    )
}

/// The exchanges among `names` the broker does not have, with the error each gets.
async fn missing_exchanges(
    conn: &AmqpConnection,
    names: &[&str],
) -> Result<HashMap<String, PublishError>, lapin::Error> {
    let mut missing = HashMap::new();
    let mut channel: Option<Channel> = None;
    for name in names {
        let check = match channel.take() {
            Some(channel) => channel,
            None => conn.plain_channel().await?,
        };
        let passive = ExchangeDeclareOptions {
            passive: true,
            ..ExchangeDeclareOptions::default()
        };
        match check
            .exchange_declare(
                (*name).into(),
                ExchangeKind::Direct,
                passive,
                FieldTable::default(),
            )
            .await
        {
            // The broker closed the channel: the next check opens another.
            Err(e) => match channel_error(&e) {
                Some(amqp) if amqp.get_id() == 404 => {
                    missing.insert((*name).to_owned(), refusal(amqp));
                }
                Some(_) => {}
                None => return Err(e),
            },
            Ok(()) => channel = Some(check),
        }
    }
    Ok(missing)
}

/// Publishes every message without a fate yet; a fate for each that cannot be sent.
async fn publish_pending(
    conn: &AmqpConnection,
    channel: &Channel,
    messages: &[&Message],
    fates: &mut [Option<Fate>],
    deadline: Instant,
) -> Vec<(usize, PublisherConfirm)> {
    let mut confirms = Vec::with_capacity(messages.len());
    let mut stopped: Option<Fate> = None;
    for (index, message) in messages.iter().enumerate() {
        if fates[index].is_some() {
            continue;
        }
        if let Some(fate) = &stopped {
            fates[index] = Some(fate.clone());
            continue;
        }
        match tokio::time::timeout_at(deadline, publish_one(channel, message)).await {
            Ok(Ok(confirm)) => confirms.push((index, confirm)),
            // The connection is fine: the broker closed the channel over an earlier
            // message, and never saw this one.
            Ok(Err(_)) if conn.connected() => stopped = Some(Fate::Unsent),
            Ok(Err(e)) => stopped = Some(Fate::Retry(e.to_string())),
            Err(_) => stopped = Some(Fate::Late),
        }
        if let Some(fate) = &stopped {
            fates[index] = Some(fate.clone());
        }
    }
    confirms
}

/// Every confirm awaited together until `by`; `None` for those still unanswered.
async fn await_confirms(
    confirms: Vec<(usize, PublisherConfirm)>,
    count: usize,
    by: Instant,
) -> Vec<Option<lapin::Result<Confirmation>>> {
    let mut answers: Vec<Option<lapin::Result<Confirmation>>> = (0..count).map(|_| None).collect();
    let mut waiting: FuturesUnordered<_> = confirms
        .into_iter()
        .map(|(index, confirm)| async move { (index, confirm.await) })
        .collect();
    let _ = tokio::time::timeout_at(by, async {
        while let Some((index, answer)) = waiting.next().await {
            answers[index] = Some(answer);
        }
    })
    .await;
    answers
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
fn confirmed(message: &Message, confirmation: lapin::Result<Confirmation>) -> Fate {
    match confirmation {
        // An unroutable mandatory message comes back *and* is acked: the ack alone is
        // not success.
        Ok(Confirmation::Ack(Some(returned))) => Fate::Final(PublishError::Unroutable {
            exchange: message.exchange.clone(),
            routing_key: message.routing_key.clone(),
            code: returned.reply_code,
            text: returned.reply_text.to_string(),
        }),
        Ok(Confirmation::Ack(None)) => Fate::Confirmed,
        Ok(Confirmation::Nack(_)) => Fate::Final(PublishError::Nacked),
        Ok(Confirmation::NotRequested) => Fate::Final(PublishError::Unavailable(
            "the channel was not in confirm mode; the message may not be stored".into(),
        )),
        Err(e) => match channel_error(&e) {
            Some(amqp) => Fate::ChannelClosed(amqp.clone()),
            None => Fate::Retry(e.to_string()),
        },
    }
}

/// The broker's error when it closed only the channel (a soft error); a hard error or
/// any other failure is the connection's.
fn channel_error(err: &lapin::Error) -> Option<&AMQPError> {
    match err.kind() {
        ErrorKind::ProtocolError(amqp) if matches!(amqp.kind(), AMQPErrorKind::Soft(_)) => {
            Some(amqp)
        }
        _ => None,
    }
}

/// The broker's refusal of the message that made it close the channel.
fn refusal(amqp: &AMQPError) -> PublishError {
    let text = amqp.to_string();
    match amqp.get_id() {
        404 => PublishError::NotFound(format!("the broker has no such exchange: {text}")),
        403 => PublishError::Denied(format!("the broker refused access: {text}")),
        406 => PublishError::Rejected(format!("the broker rejected the publish: {text}")),
        311 => PublishError::Invalid(format!("the message is too large for the broker: {text}")),
        _ => PublishError::Unavailable(format!("the broker closed the channel: {text}")),
    }
}

/// After the broker closed a channel over one message it discarded everything sent
/// after it, and never confirms the messages before it that it had not confirmed yet:
/// the culprit gets the broker's refusal (and so do later messages to the same
/// exchange), later messages go again on a fresh channel, and earlier unconfirmed ones
/// are reported as not confirmed, since they may or may not have been stored.
fn resolve_channel_error(messages: &[&Message], fates: &mut [Fate]) {
    let error = fates.iter().find_map(|f| match f {
        Fate::ChannelClosed(e) => Some(e.clone()),
        _ => None,
    });
    let Some(error) = error else {
        for fate in fates.iter_mut().filter(|f| matches!(f, Fate::Unsent)) {
            *fate = Fate::Resend;
        }
        return;
    };
    let closed: Vec<usize> = (0..fates.len())
        .filter(|i| matches!(fates[*i], Fate::ChannelClosed(_)))
        .collect();
    let named = exchange_named_in(error.get_message().as_str());
    let culprit = closed
        .iter()
        .copied()
        .find(|i| named.is_some_and(|name| messages[*i].exchange == name))
        .or(if closed.len() == 1 {
            Some(closed[0])
        } else {
            None
        });
    for index in 0..fates.len() {
        if !matches!(fates[index], Fate::ChannelClosed(_) | Fate::Unsent) {
            continue;
        }
        fates[index] = match culprit {
            Some(culprit) if index >= culprit => {
                if messages[index].exchange == messages[culprit].exchange {
                    Fate::Final(refusal(&error))
                } else {
                    Fate::Resend
                }
            }
            _ if matches!(fates[index], Fate::Unsent) => Fate::Resend,
            _ => Fate::Final(PublishError::Unavailable(format!(
                "not confirmed: the broker closed the channel ({error}) before confirming this message; it may or may not have been stored"
            ))),
        };
    }
}

/// The exchange RabbitMQ names in a channel error: `NOT_FOUND - no exchange 'x' in
/// vhost '/'`, `ACCESS_REFUSED - access to exchange 'x' in vhost '/' refused ...`.
fn exchange_named_in(text: &str) -> Option<&str> {
    let start = text.find("exchange '")? + "exchange '".len();
    let end = start + text[start..].find("' in vhost")?;
    Some(&text[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exchange_a_channel_error_names_is_found() {
        assert_eq!(
            exchange_named_in("NOT_FOUND - no exchange 'vp-x' in vhost '/'"),
            Some("vp-x")
        );
        assert_eq!(
            exchange_named_in(
                "ACCESS_REFUSED - access to exchange 'it''s' in vhost 'v' refused for user 'u'"
            ),
            Some("it''s")
        );
        assert_eq!(
            exchange_named_in("PRECONDITION_FAILED - message size"),
            None
        );
    }

    #[test]
    fn after_a_channel_error_only_the_culprits_exchange_is_refused_and_unknown_fates_are_not_confirmed()
     {
        use lapin::protocol::AMQPSoftError;
        let to = |exchange: &str| Message {
            exchange: exchange.into(),
            routing_key: "k".into(),
            ..Message::default()
        };
        let (a, b, gone) = (to("a"), to("b"), to("gone"));
        let messages = [&a, &b, &gone, &a, &gone, &b];
        let error = AMQPError::new(
            AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND),
            "NOT_FOUND - no exchange 'gone' in vhost '/'".into(),
        );
        let mut fates = vec![
            Fate::Confirmed,
            Fate::ChannelClosed(error.clone()),
            Fate::ChannelClosed(error.clone()),
            Fate::ChannelClosed(error.clone()),
            Fate::Unsent,
            Fate::Unsent,
        ];

        resolve_channel_error(&messages, &mut fates);

        assert!(matches!(fates[0], Fate::Confirmed));
        assert!(
            matches!(&fates[1], Fate::Final(PublishError::Unavailable(m)) if m.contains("not confirmed")),
            "{:?}",
            fates[1]
        );
        assert!(matches!(fates[2], Fate::Final(PublishError::NotFound(_))));
        assert!(matches!(fates[3], Fate::Resend));
        assert!(matches!(fates[4], Fate::Final(PublishError::NotFound(_))));
        assert!(matches!(fates[5], Fate::Resend));
    }
}
