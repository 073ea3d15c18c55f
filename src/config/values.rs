//! Value helpers every section shares: durations in milliseconds, secrets read from
//! mounted files, names, and listen addresses.

use std::{borrow::Cow, net::SocketAddr, path::Path, time::Duration};

use super::ConfigError;
use crate::secret::Secret;

/// A duration in milliseconds that must not be zero, `default` when not given.
pub(super) fn millis(
    key: impl Into<Cow<'static, str>>,
    value: Option<u64>,
    default: u64,
) -> Result<Duration, ConfigError> {
    match value.unwrap_or(default) {
        0 => Err(ConfigError::invalid(key, "must be greater than 0")),
        ms => Ok(Duration::from_millis(ms)),
    }
}

/// A secret from a mounted file, without its trailing line break; never empty.
pub(super) fn read_secret_file(
    key: impl Into<Cow<'static, str>>,
    path: &Path,
) -> Result<Secret, ConfigError> {
    let key = key.into();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::invalid(key.clone(), format!("cannot read {}: {e}", path.display()))
    })?;
    let value = text.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        return Err(ConfigError::invalid(
            key,
            format!("{} is empty", path.display()),
        ));
    }
    Ok(Secret::new(value.to_owned()))
}

/// Names of brokers and webhooks: they appear in sink names, logs and API calls.
pub(super) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

/// A `host:port` listen address.
pub(super) fn socket_addr(key: &'static str, listen: &str) -> Result<SocketAddr, ConfigError> {
    listen
        .parse()
        .map_err(|e| ConfigError::invalid(key, format!("{listen:?} is not host:port ({e})")))
}
