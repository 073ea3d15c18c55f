//! The one deadline of a publish call, retries included, and what missing it means.

use tokio::time::Instant;

use super::PublishError;
use crate::amqp::BrokerSettings;

/// The sooner of the client's deadline and the broker's own.
pub(super) fn call_deadline(broker: &BrokerSettings, client: Option<Instant>) -> Instant {
    let own = Instant::now() + broker.publish_timeout;
    client.map_or(own, |client| client.min(own))
}

pub(super) fn not_confirmed_by_deadline() -> PublishError {
    PublishError::DeadlineExceeded(
        "not confirmed before the deadline (is the broker blocking publishers in a resource alarm?); it may or may not have been stored".into(),
    )
}
