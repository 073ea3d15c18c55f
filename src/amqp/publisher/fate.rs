//! What became of each message in one attempt, and the per-message truth after the
//! broker closed a channel: who caused it, what goes again, what nobody can know.

use std::time::Duration;

use lapin::protocol::AMQPError;

use super::{PublishError, confirm::refusal};
use crate::amqp::Message;

/// What became of one message in one attempt.
#[derive(Debug, Clone)]
pub(super) enum Fate {
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

/// The fate that decides what becomes of the connection and the channel: a retry
/// first, then a late one, else confirmed.
pub(super) fn worst(fates: &[Fate]) -> Fate {
    fates
        .iter()
        .find(|f| matches!(f, Fate::Retry(_)))
        .or_else(|| fates.iter().find(|f| matches!(f, Fate::Late)))
        .cloned()
        .unwrap_or(Fate::Confirmed)
}

/// After the broker closed a channel over one message it discarded everything sent
/// after it, and never confirms the messages before it that it had not confirmed yet:
/// the culprit gets the broker's refusal (and so do later messages to the same
/// exchange), later messages go again on a fresh channel, and earlier unconfirmed ones
/// are reported as not confirmed, since they may or may not have been stored.
pub(super) fn resolve_channel_error(messages: &[&Message], fates: &mut [Fate]) {
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
    let culprit = culprit(messages, fates, &error);
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
            // The connection lives on: a new channel can carry the message at once.
            _ => Fate::Final(PublishError::Unavailable {
                message: format!(
                    "not confirmed: the broker closed the channel ({error}) before confirming this message; it may or may not have been stored"
                ),
                retry_after: Duration::ZERO,
            }),
        };
    }
}

/// The message the broker closed the channel over: the one to the exchange its error
/// names, or the only one whose confirm the closing refused.
fn culprit(messages: &[&Message], fates: &[Fate], error: &AMQPError) -> Option<usize> {
    let closed: Vec<usize> = (0..fates.len())
        .filter(|i| matches!(fates[*i], Fate::ChannelClosed(_)))
        .collect();
    let named = exchange_named_in(error.get_message().as_str());
    closed
        .iter()
        .copied()
        .find(|i| named.is_some_and(|name| messages[*i].exchange == name))
        .or(if closed.len() == 1 {
            Some(closed[0])
        } else {
            None
        })
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
    use lapin::protocol::AMQPErrorKind;

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
            matches!(&fates[1], Fate::Final(PublishError::Unavailable { message, .. }) if message.contains("not confirmed")),
            "{:?}",
            fates[1]
        );
        assert!(matches!(fates[2], Fate::Final(PublishError::NotFound(_))));
        assert!(matches!(fates[3], Fate::Resend));
        assert!(matches!(fates[4], Fate::Final(PublishError::NotFound(_))));
        assert!(matches!(fates[5], Fate::Resend));
    }
}
