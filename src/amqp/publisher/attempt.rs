//! One attempt on one channel: a connection checked out, every message published,
//! every confirm awaited together, and the connection given back or discarded.

use futures_util::{StreamExt, stream::FuturesUnordered};
use lapin::{Channel, Confirmation, PublisherConfirm, options::BasicPublishOptions};
use tokio::time::Instant;

use super::{
    PublishError, Publisher,
    confirm::settle,
    fate::{Fate, worst},
};
use crate::{
    amqp::BrokerSettings,
    amqp::{AmqpConnection, AmqpManager, Message},
    pool::{Acquire, AcquireError, Pooled},
};

impl Publisher {
    /// One try: a connection, a channel, every message published, every confirm
    /// awaited together; a fate per message, by the deadline.
    pub(super) async fn attempt(
        &self,
        broker: &BrokerSettings,
        messages: &[&Message],
        deadline: Instant,
    ) -> Vec<Fate> {
        let all = |fate: Fate| vec![fate; messages.len()];
        let conn = match self.checkout(broker, deadline).await {
            Ok(conn) => conn,
            Err(fate) => return all(fate),
        };
        let checked_out = Instant::now();
        let mut fates: Vec<Option<Fate>> = vec![None; messages.len()];
        let opened = match self
            .refuse_missing_exchanges(&conn, messages, &mut fates, deadline)
            .await
        {
            Ok(()) => open_channel(&conn, deadline).await,
            Err(fate) => Err(fate),
        };
        let channel = match opened {
            Ok(channel) => channel,
            Err(fate) => {
                self.dispose(broker, Some(conn), &fate, checked_out);
                return all(fate);
            }
        };
        let confirms = publish_pending(&conn, &channel, messages, &mut fates, deadline).await;
        // A single message gives its connection back once it is sent: awaiting the
        // broker's confirm needs only the channel, and other callers can meanwhile send
        // on the same connection. A batch keeps its connection to the end. A connection
        // that breaks meanwhile is caught by the pool's check on its next checkout.
        let home = conn.channel_home();
        let conn = if messages.len() > 1 {
            Some(conn)
        } else {
            self.pools.record_hold(&broker.key, checked_out.elapsed());
            None
        };
        let confirm_by = deadline.min(Instant::now() + broker.confirm_timeout);
        let answers = await_confirms(confirms, messages.len(), confirm_by).await;
        let fates = settle(broker, messages, fates, answers, confirm_by, deadline);
        let worst = worst(&fates);
        self.dispose(broker, conn, &worst, checked_out);
        // A channel with publishes still unconfirmed is not reused: dropping it closes it.
        if matches!(worst, Fate::Confirmed) {
            home.put(channel);
        }
        fates
    }

    /// A connection of the broker's pool by the deadline; the fate of every message
    /// when there is none.
    async fn checkout(
        &self,
        broker: &BrokerSettings,
        deadline: Instant,
    ) -> Result<Pooled<AmqpManager>, Fate> {
        let checkout = self
            .pools
            .acquire(&broker.key, Acquire::Blocking(broker.acquire_timeout));
        match tokio::time::timeout_at(deadline, checkout).await {
            Err(_) => Err(Fate::Late),
            Ok(Err(
                e @ AcquireError::Exhausted {
                    likely_free_in: retry_after,
                    ..
                },
            )) => Err(Fate::Final(PublishError::Exhausted {
                message: e.to_string(),
                retry_after,
            })),
            // Every pool is busy: how long is up to other brokers' callers.
            Ok(Err(e @ AcquireError::TooManyPools { .. })) => {
                Err(Fate::Final(PublishError::Exhausted {
                    message: e.to_string(),
                    retry_after: None,
                }))
            }
            Ok(Err(e)) => Err(Fate::Retry(e.to_string())),
            Ok(Ok(conn)) => Ok(conn),
        }
    }

    /// Gives the connection back, or discards it when it failed or the broker blocked it.
    fn dispose(
        &self,
        broker: &BrokerSettings,
        conn: Option<Pooled<AmqpManager>>,
        worst: &Fate,
        checked_out: Instant,
    ) {
        let Some(conn) = conn else { return };
        self.pools.record_hold(&broker.key, checked_out.elapsed());
        if matches!(worst, Fate::Retry(_)) || conn.blocked() || !conn.connected() {
            self.pools.discard(&broker.key, conn);
        }
    }
}

/// A confirm-mode channel on `conn` by the deadline.
async fn open_channel(conn: &AmqpConnection, deadline: Instant) -> Result<Channel, Fate> {
    match tokio::time::timeout_at(deadline, conn.channel()).await {
        Ok(Ok(channel)) => Ok(channel),
        Ok(Err(e)) => Err(Fate::Retry(format!("cannot open a channel: {e}"))),
        Err(_) => Err(Fate::Late),
    }
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
