//! The TOML file as written: one optional table per section, every key optional so
//! defaults fill the gaps, and an unknown key refused by name.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;

use super::{
    ConfigError,
    auth::FileAuth,
    brokers::{FileAmqp, FileBroker},
    database::FileDatabase,
    events::FileEvents,
    host::FileHost,
    http::FileHttp,
    inventory::FileInventory,
    libvirt::FileLibvirt,
    listen::FileListen,
    notifications::FileNotifications,
    requests::FileRequests,
    telemetry::FileTelemetry,
    tls::FileTls,
    webhooks::FileWebhook,
};

/// The TOML file as written; every field optional so defaults fill the gaps.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) listen: Option<String>,
    pub(super) hostname: Option<String>,
    pub(super) log_format: Option<String>,
    pub(super) shutdown_grace_period_ms: Option<u64>,
    #[serde(default)]
    pub(super) libvirt: FileLibvirt,
    #[serde(default)]
    pub(super) database: FileDatabase,
    #[serde(default)]
    pub(super) host: FileHost,
    #[serde(default)]
    pub(super) events: FileEvents,
    #[serde(default)]
    pub(super) brokers: BTreeMap<String, FileBroker>,
    #[serde(default)]
    pub(super) amqp: FileAmqp,
    pub(super) notifications: Option<FileNotifications>,
    #[serde(default)]
    pub(super) http: FileHttp,
    #[serde(default)]
    pub(super) webhooks: Vec<FileWebhook>,
    #[serde(default)]
    pub(super) requests: FileRequests,
    #[serde(default)]
    pub(super) inventory: FileInventory,
    #[serde(default)]
    pub(super) auth: FileAuth,
    #[serde(default)]
    pub(super) tls: FileTls,
    #[serde(default)]
    pub(super) health: FileListen,
    #[serde(default)]
    pub(super) metrics: FileListen,
    #[serde(default)]
    pub(super) telemetry: FileTelemetry,
}

/// Reads and parses the configuration file at `path`.
pub(super) fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    parse_toml(&text, path)
}

/// Parses `text` as the configuration file; `path` names it in the error.
pub(super) fn parse_toml(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        // toml's message names the key and shows the line; flatten it to one line.
        message: e.to_string().trim().replace('\n', " "),
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn unknown_key_is_named_in_the_error() {
        let err = Config::from_toml("[libvirt]\nurl = \"test:///default\"").expect_err("unknown");
        assert!(err.to_string().contains("url"), "{err}");
    }

    #[test]
    fn the_shipped_example_configuration_is_valid() {
        let config = Config::from_toml(include_str!("../../config/example.toml")).expect("valid");
        assert_eq!(config.libvirt.max_concurrent_calls, 4);
    }
}
