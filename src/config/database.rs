//! `[database]`: where state is persisted, resolved into [`crate::store::Settings`],
//! and how long to wait for this host's writer lock.

use std::{path::PathBuf, time::Duration};

use serde::Deserialize;

use super::{Cli, ConfigError, values::read_secret_file};
use crate::{secret::Secret, store::Settings};

/// Where the embedded SQLite database lives unless told otherwise.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:///var/lib/virtplane/virtplane.db";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileDatabase {
    url: Option<String>,
    url_file: Option<PathBuf>,
    max_connections: Option<u32>,
    lock_timeout_s: Option<u64>,
}

/// `database.lock_timeout_s`, `--lock-timeout` over the file; `None` waits forever.
pub(super) fn lock_timeout(file: &FileDatabase, cli: &Cli) -> Option<Duration> {
    cli.lock_timeout
        .or(file.lock_timeout_s)
        .map(Duration::from_secs)
}

/// `[database]`, `--database-url` over the file.
pub(super) fn resolve(file: FileDatabase, cli: &Cli) -> Result<Settings, ConfigError> {
    let FileDatabase {
        url,
        url_file,
        max_connections,
        // Resolved with the flag by `lock_timeout`: the lock is not the pool's.
        lock_timeout_s: _,
    } = file;
    let from_file = match (&url, url_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                "database.url",
                "give at most one of url and url_file",
            ));
        }
        (_, Some(path)) => Some(
            read_secret_file("database.url_file", &path)?
                .expose()
                .to_owned(),
        ),
        _ => None,
    };
    let url = cli
        .database_url
        .clone()
        .or(url)
        .or(from_file)
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if !known.iter().any(|scheme| url.starts_with(scheme)) {
        // The URL may hold a password: name the key, not the value.
        return Err(ConfigError::invalid(
            "database.url",
            "must start with sqlite:, postgres:// or postgresql://",
        ));
    }
    let max_connections = max_connections.unwrap_or(5);
    if max_connections == 0 {
        return Err(ConfigError::invalid(
            "database.max_connections",
            "must be at least 1",
        ));
    }
    Ok(Settings {
        url: Secret::new(url),
        max_connections,
    })
}

#[cfg(test)]
mod tests {
    use std::{path::Path, time::Duration};

    use clap::Parser;

    use crate::config::{Cli, Config, file::parse_toml};

    #[test]
    fn database_error_does_not_echo_the_url() {
        let err =
            Config::from_toml("[database]\nurl = \"mysql://u:hunter2@db/x\"").expect_err("bad");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn the_lock_timeout_comes_from_the_file_unless_the_flag_says_otherwise() {
        let forever = Config::from_toml("hostname = \"h\"").expect("valid");
        assert_eq!(forever.lock_timeout, None);
        let file = || {
            parse_toml(
                "hostname = \"h\"\n[database]\nlock_timeout_s = 10",
                Path::new("x"),
            )
            .expect("parses")
        };
        let from_file = Config::resolve(file(), &Cli::parse_from(["virtplane"])).expect("valid");
        assert_eq!(from_file.lock_timeout, Some(Duration::from_secs(10)));
        let cli = Cli::parse_from(["virtplane", "--lock-timeout", "0"]);
        let from_flag = Config::resolve(file(), &cli).expect("valid");
        assert_eq!(from_flag.lock_timeout, Some(Duration::ZERO));
    }
}
