//! The named brokers, their retry policy, and where the service's own notifications
//! go.

use std::time::Duration;

use super::BrokerKey;

/// A named AMQP broker.
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    pub name: String,
    /// The normalised URL (its display hides the password).
    pub key: BrokerKey,
    pub max_connections: usize,
    pub acquire_timeout: Duration,
    /// How long a publish waits for the broker's confirm (a broker in a resource alarm
    /// blocks publishers and never confirms).
    pub confirm_timeout: Duration,
    /// The deadline of a whole `Publish` or `PublishBatch` call, retries included
    /// (sooner when the client's `grpc-timeout` is); default `acquire_timeout` +
    /// `confirm_timeout`.
    pub publish_timeout: Duration,
    pub max_body_bytes: usize,
    pub retry: RetryPolicy,
}

/// kombu's retry policy: `max_retries` more attempts, waiting `interval_start`, then
/// `interval_step` more each time, at most `interval_max`.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub interval_start: Duration,
    pub interval_step: Duration,
    pub interval_max: Duration,
}

/// Where the service publishes its own notifications.
#[derive(Debug, Clone)]
pub struct NotificationSettings {
    pub broker: String,
    pub exchange: String,
}
