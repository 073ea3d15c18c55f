//! What the broker's answers mean: a confirm, a nack, a returned message, a channel
//! closed over one message (a soft error) or a broken connection.

use std::time::Duration;

use lapin::{
    Confirmation, ErrorKind,
    protocol::{AMQPError, AMQPErrorKind},
};
use tokio::time::Instant;

use super::{
    PublishError,
    fate::{Fate, resolve_channel_error},
};
use crate::{
    amqp::{BrokerSettings, Message},
    model::InvalidArgument,
};

/// A fate for every message still without one, from its confirm (`None`: no answer
/// by `confirm_by`); the fates of a closed channel resolved together.
pub(super) fn settle(
    broker: &BrokerSettings,
    messages: &[&Message],
    mut fates: Vec<Option<Fate>>,
    answers: Vec<Option<lapin::Result<Confirmation>>>,
    confirm_by: Instant,
    deadline: Instant,
) -> Vec<Fate> {
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
    fates
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
        Ok(Confirmation::NotRequested) => Fate::Final(PublishError::Unavailable {
            message: "the channel was not in confirm mode; the message may not be stored".into(),
            retry_after: Duration::ZERO,
        }),
        Err(e) => match channel_error(&e) {
            Some(amqp) => Fate::ChannelClosed(amqp.clone()),
            None => Fate::Retry(e.to_string()),
        },
    }
}

/// The broker's error when it closed only the channel (a soft error); a hard error or
/// any other failure is the connection's.
pub(super) fn channel_error(err: &lapin::Error) -> Option<&AMQPError> {
    match err.kind() {
        ErrorKind::ProtocolError(amqp) if matches!(amqp.kind(), AMQPErrorKind::Soft(_)) => {
            Some(amqp)
        }
        _ => None,
    }
}

/// The broker's refusal of the message that made it close the channel.
pub(super) fn refusal(amqp: &AMQPError) -> PublishError {
    let text = amqp.to_string();
    match amqp.get_id() {
        404 => PublishError::NotFound(format!("the broker has no such exchange: {text}")),
        403 => PublishError::Denied(format!("the broker refused access: {text}")),
        406 => PublishError::Rejected(format!("the broker rejected the publish: {text}")),
        311 => PublishError::Invalid(InvalidArgument::new(
            "body",
            format!("the message is too large for the broker: {text}"),
        )),
        // Only the channel closed: the next one opens at once.
        _ => PublishError::Unavailable {
            message: format!("the broker closed the channel: {text}"),
            retry_after: Duration::ZERO,
        },
    }
}
