//! The one configuration error: a file that cannot be read or parsed, or a value
//! that was wrong, named by its key.

use std::{borrow::Cow, fmt, path::PathBuf};

/// A configuration value that was wrong, named by its key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration value for `{key}`: {message}")]
    Invalid {
        key: Cow<'static, str>,
        message: String,
    },
}

impl ConfigError {
    pub(super) fn invalid(key: impl Into<Cow<'static, str>>, message: impl fmt::Display) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            message: message.to_string(),
        }
    }
}
