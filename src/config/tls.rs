//! `[tls]`: how the API is encrypted, resolved into [`crate::security::TlsSettings`]
//! and loaded once so a bad file stops the start with its key named.

use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;
use crate::security::{TlsSettings, tls::server_config};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileTls {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    client_ca: Option<PathBuf>,
}

/// `[tls]`: off when empty; `cert` and `key` come together.
pub(super) fn resolve(file: FileTls) -> Result<Option<TlsSettings>, ConfigError> {
    let FileTls {
        cert,
        key,
        client_ca,
    } = file;
    let (cert, key) = match (cert, key) {
        (Some(cert), Some(key)) => (cert, key),
        (None, None) if client_ca.is_none() => return Ok(None),
        (None, _) => return Err(ConfigError::invalid("tls.cert", "is required with [tls]")),
        (Some(_), None) => {
            return Err(ConfigError::invalid("tls.key", "is required with tls.cert"));
        }
    };
    let tls = TlsSettings {
        cert,
        key,
        client_ca,
    };
    // Load once now: a bad file stops the start with its key named.
    server_config(&tls).map_err(|e| ConfigError::invalid(e.key(), e.to_string()))?;
    Ok(Some(tls))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn tls_files_are_checked_at_start() {
        let err = Config::from_toml("[tls]\ncert = \"/nonexistent/c.pem\"").expect_err("no key");
        assert!(err.to_string().contains("tls.key"), "{err}");
        let err =
            Config::from_toml("[tls]\ncert = \"/nonexistent/c.pem\"\nkey = \"/nonexistent/k.pem\"")
                .expect_err("missing files");
        assert!(err.to_string().contains("tls.cert"), "{err}");
    }
}
