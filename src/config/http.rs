//! `[http]`: the settings every HTTP host pool shares, resolved into
//! [`crate::http::Settings`].

use serde::Deserialize;

use super::{ConfigError, values::millis};
use crate::http::Settings;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileHttp {
    max_pools: Option<usize>,
    connect_timeout_ms: Option<u64>,
}

/// `[http]`.
pub(super) fn resolve(file: FileHttp) -> Result<Settings, ConfigError> {
    Ok(Settings {
        max_pools: match file.max_pools.unwrap_or(16) {
            0 => return Err(ConfigError::invalid("http.max_pools", "must be at least 1")),
            n => n,
        },
        connect_timeout: millis("http.connect_timeout_ms", file.connect_timeout_ms, 5_000)?,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn no_host_pools_at_all_is_refused_by_key() {
        let err = Config::from_toml("[http]\nmax_pools = 0").expect_err("zero");
        assert!(err.to_string().contains("http.max_pools"), "{err}");
    }
}
