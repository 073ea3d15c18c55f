//! `[notifications]`: where the service publishes its own notifications, resolved
//! into [`crate::amqp::NotificationSettings`] and checked against the brokers.

use serde::Deserialize;

use super::ConfigError;
use crate::amqp::{BrokerSettings, NotificationSettings};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileNotifications {
    broker: String,
    exchange: String,
}

/// `[notifications]`, off when the table is absent.
pub(super) fn resolve(file: Option<FileNotifications>) -> Option<NotificationSettings> {
    file.map(|FileNotifications { broker, exchange }| NotificationSettings { broker, exchange })
}

/// The broker must be one under `[brokers]`, the exchange a valid AMQP name; checked
/// once every section is read.
pub(super) fn check(
    notifications: Option<&NotificationSettings>,
    brokers: &[BrokerSettings],
) -> Result<(), ConfigError> {
    let Some(n) = notifications else {
        return Ok(());
    };
    if !brokers.iter().any(|b| b.name == n.broker) {
        return Err(ConfigError::invalid(
            "notifications.broker",
            format!("{:?} is not a broker configured under [brokers]", n.broker),
        ));
    }
    if n.exchange.is_empty() || n.exchange.len() > 255 {
        return Err(ConfigError::invalid(
            "notifications.exchange",
            "must be 1 to 255 bytes",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn notifications_name_a_configured_broker() {
        let err = Config::from_toml("[notifications]\nbroker = \"nope\"\nexchange = \"x\"")
            .expect_err("unknown");
        assert!(err.to_string().contains("notifications.broker"), "{err}");
    }
}
