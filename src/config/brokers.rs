//! `[brokers.NAME]` and `[amqp]`: the named AMQP brokers, resolved into
//! [`crate::amqp::BrokerSettings`], and how many pools are kept.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::Deserialize;

use super::{
    ConfigError,
    values::{is_valid_name, millis, read_secret_file},
};
use crate::{
    amqp::{BrokerKey, BrokerSettings, RetryPolicy},
    secret::Secret,
};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileBroker {
    url: Option<String>,
    url_file: Option<PathBuf>,
    max_connections: Option<usize>,
    acquire_timeout_ms: Option<u64>,
    confirm_timeout_ms: Option<u64>,
    publish_timeout_ms: Option<u64>,
    max_body_bytes: Option<usize>,
    max_retries: Option<u32>,
    interval_start_ms: Option<u64>,
    interval_step_ms: Option<u64>,
    interval_max_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileAmqp {
    max_pools: Option<usize>,
}

/// Every `[brokers.NAME]`, in name order.
pub(super) fn resolve(
    brokers: BTreeMap<String, FileBroker>,
) -> Result<Vec<BrokerSettings>, ConfigError> {
    brokers
        .into_iter()
        .map(|(name, broker)| resolve_broker(name, broker))
        .collect()
}

/// `amqp.max_pools`: 16 by default.
pub(super) fn max_pools(file: FileAmqp) -> Result<usize, ConfigError> {
    match file.max_pools.unwrap_or(16) {
        0 => Err(ConfigError::invalid("amqp.max_pools", "must be at least 1")),
        n => Ok(n),
    }
}

fn resolve_broker(name: String, file: FileBroker) -> Result<BrokerSettings, ConfigError> {
    let FileBroker {
        url,
        url_file,
        max_connections,
        acquire_timeout_ms,
        confirm_timeout_ms,
        publish_timeout_ms,
        max_body_bytes,
        max_retries,
        interval_start_ms,
        interval_step_ms,
        interval_max_ms,
    } = file;
    let key_name = |field: &str| format!("brokers.{name}.{field}");
    if !is_valid_name(&name) {
        return Err(ConfigError::invalid(
            "brokers",
            format!("broker name {name:?} must be 1 to 64 letters, digits, '-' or '_'"),
        ));
    }
    let url = match (url, url_file) {
        (Some(url), None) => Secret::new(url),
        (None, Some(path)) => read_secret_file(key_name("url_file"), &path)?,
        _ => {
            return Err(ConfigError::invalid(
                key_name("url"),
                "give exactly one of url and url_file",
            ));
        }
    };
    let key = BrokerKey::parse(&url).map_err(|e| ConfigError::invalid(key_name("url"), e))?;
    let max_connections = max_connections.unwrap_or(4);
    if !(1..=1024).contains(&max_connections) {
        return Err(ConfigError::invalid(
            key_name("max_connections"),
            "must be between 1 and 1024",
        ));
    }
    let max_body_bytes = max_body_bytes.unwrap_or(1024 * 1024);
    if max_body_bytes == 0 || max_body_bytes > 128 * 1024 * 1024 {
        return Err(ConfigError::invalid(
            key_name("max_body_bytes"),
            "must be between 1 and 134217728",
        ));
    }
    let zero_ok = |value: Option<u64>, default| Duration::from_millis(value.unwrap_or(default));
    let acquire_timeout = millis(key_name("acquire_timeout_ms"), acquire_timeout_ms, 5_000)?;
    let confirm_timeout = millis(key_name("confirm_timeout_ms"), confirm_timeout_ms, 30_000)?;
    // One checkout and one confirm wait; retries of quick connection failures fit in it.
    let default_publish_timeout = acquire_timeout + confirm_timeout;
    let publish_timeout = millis(
        key_name("publish_timeout_ms"),
        publish_timeout_ms,
        u64::try_from(default_publish_timeout.as_millis()).unwrap_or(u64::MAX),
    )?;
    Ok(BrokerSettings {
        key,
        max_connections,
        acquire_timeout,
        confirm_timeout,
        publish_timeout,
        max_body_bytes,
        retry: RetryPolicy {
            max_retries: max_retries.unwrap_or(3),
            interval_start: zero_ok(interval_start_ms, 200),
            interval_step: zero_ok(interval_step_ms, 200),
            interval_max: zero_ok(interval_max_ms, 1_000),
        },
        name,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn brokers_are_checked_and_never_echo_their_url() {
        let config = Config::from_toml(
            "[brokers.main]\nurl = \"amqp://u:hunter2@Rabbit:5672/%2f\"\n[notifications]\nbroker = \"main\"\nexchange = \"virtplane\"",
        )
        .expect("valid");
        assert_eq!(
            config.brokers[0].key.to_string(),
            "amqp://u:***@rabbit:5672/%2f"
        );
        assert!(!format!("{config:?}").contains("hunter2"));
        let err =
            Config::from_toml("[brokers.main]\nurl = \"http://u:hunter2@h\"").expect_err("scheme");
        assert!(
            err.to_string().contains("brokers.main.url") && !err.to_string().contains("hunter2"),
            "{err}"
        );
    }

    #[test]
    fn a_broker_url_can_come_from_a_mounted_secret_file() {
        let dir = std::env::temp_dir().join(format!("virtplane-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("url");
        std::fs::write(&file, "amqp://svc:fromfile@rabbit/prod\n").expect("secret file");
        let config = Config::from_toml(&format!(
            "[brokers.main]\nurl_file = \"{}\"",
            file.display()
        ))
        .expect("valid");
        assert_eq!(
            config.brokers[0].key.to_string(),
            "amqp://svc:***@rabbit:5672/prod"
        );
        let both = Config::from_toml(&format!(
            "[brokers.main]\nurl = \"amqp://h\"\nurl_file = \"{}\"",
            file.display()
        ))
        .expect_err("both");
        assert!(both.to_string().contains("exactly one"), "{both}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
