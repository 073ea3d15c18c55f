//! Why a publish failed: the answer a client gets for one message.

use std::time::Duration;

use crate::model::InvalidArgument;

/// Why a publish failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("no broker is configured under the name {0:?}")]
    UnknownBroker(String),
    #[error("{0}")]
    Invalid(InvalidArgument),
    /// Every connection of the broker's pool stayed in use.
    #[error("{message}")]
    Exhausted {
        message: String,
        /// When a connection is likely free, once the pool knows how long they are kept.
        retry_after: Option<Duration>,
    },
    #[error("{message}")]
    Unavailable {
        message: String,
        /// When another attempt has a chance: the retry policy's next interval.
        retry_after: Duration,
    },
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
