//! Passive exchange checks before a batch over several exchanges, so that one message
//! to a missing exchange is refused alone instead of closing the channel under all.

use std::collections::HashMap;

use lapin::{Channel, ExchangeKind, options::ExchangeDeclareOptions, types::FieldTable};
use tokio::time::Instant;

use super::{
    PublishError, Publisher,
    confirm::{channel_error, refusal},
    fate::Fate,
};
use crate::amqp::{AmqpConnection, Message};

impl Publisher {
    /// In a batch over several exchanges, a message to a missing exchange would make the
    /// broker close the channel under every other message in flight: those are found
    /// first with passive declares on a channel of their own, and refused alone.
    pub(super) async fn refuse_missing_exchanges(
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
