//! AMQP: brokers named in the configuration, keyed connection pools, publishing with
//! confirms.

mod connection;
mod key;
mod message;
mod notifier;
mod publisher;
mod settings;

pub use connection::{AmqpConnection, AmqpManager};
pub use key::{BrokerKey, BrokerUrlError};
pub use message::Message;
pub use notifier::{Notifier, SINK};
pub use publisher::{BrokerInfo, PublishError, Publisher};
pub use settings::{BrokerSettings, NotificationSettings, RetryPolicy};
