//! `[[webhooks]]`: where lifecycle events are POSTed, each resolved into a
//! [`crate::webhook::Settings`].

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    ConfigError,
    values::{is_valid_name, millis, read_secret_file},
};
use crate::{
    http::{HostKey, Scheme},
    model::EventType,
    secret::Secret,
    security::check_ca_file,
    webhook::Settings,
};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileWebhook {
    name: Option<String>,
    url: Option<String>,
    secret: Option<String>,
    secret_file: Option<PathBuf>,
    types: Option<Vec<String>>,
    timeout_ms: Option<u64>,
    idempotent: Option<bool>,
    max_size: Option<usize>,
    block: Option<bool>,
    pool_timeout_ms: Option<u64>,
    ca_file: Option<PathBuf>,
    retry_initial_ms: Option<u64>,
    retry_max_ms: Option<u64>,
}

/// Every `[[webhooks]]`, in configuration order; names must differ.
pub(super) fn resolve(files: Vec<FileWebhook>) -> Result<Vec<Settings>, ConfigError> {
    let mut hooks: Vec<Settings> = Vec::with_capacity(files.len());
    for (index, file) in files.into_iter().enumerate() {
        let hook = resolve_webhook(index, file)?;
        if hooks.iter().any(|h| h.name == hook.name) {
            return Err(ConfigError::invalid(
                format!("webhooks.{}.name", hook.name),
                "is used by two webhooks",
            ));
        }
        hooks.push(hook);
    }
    Ok(hooks)
}

fn resolve_webhook(index: usize, file: FileWebhook) -> Result<Settings, ConfigError> {
    let FileWebhook {
        name,
        url,
        secret,
        secret_file,
        types,
        timeout_ms,
        idempotent,
        max_size,
        block,
        pool_timeout_ms,
        ca_file,
        retry_initial_ms,
        retry_max_ms,
    } = file;
    let name =
        name.ok_or_else(|| ConfigError::invalid(format!("webhooks[{index}].name"), "is required"))?;
    if !is_valid_name(&name) {
        return Err(ConfigError::invalid(
            format!("webhooks[{index}].name"),
            format!("{name:?} must be 1 to 64 letters, digits, '-' or '_'"),
        ));
    }
    let key_name = |field: &str| format!("webhooks.{name}.{field}");
    let url = url.ok_or_else(|| ConfigError::invalid(key_name("url"), "is required"))?;
    let (url, key) = HostKey::parse(&url).map_err(|e| ConfigError::invalid(key_name("url"), e))?;
    let secret = signing_secret(&name, secret, secret_file.as_deref())?;
    let types = types
        .map(|types| event_types(&key_name("types"), &types))
        .transpose()?;
    let max_size = max_size.unwrap_or(4);
    if !(1..=1024).contains(&max_size) {
        return Err(ConfigError::invalid(
            key_name("max_size"),
            "must be between 1 and 1024",
        ));
    }
    if let Some(path) = &ca_file {
        if key.scheme() != Scheme::Https {
            return Err(ConfigError::invalid(
                key_name("ca_file"),
                "is only used with an https URL",
            ));
        }
        check_ca_file(path).map_err(|e| ConfigError::invalid(key_name("ca_file"), e))?;
    }
    let retry_initial = millis(key_name("retry_initial_ms"), retry_initial_ms, 1_000)?;
    let retry_max = millis(key_name("retry_max_ms"), retry_max_ms, 60_000)?;
    if retry_max < retry_initial {
        return Err(ConfigError::invalid(
            key_name("retry_max_ms"),
            "must not be below retry_initial_ms",
        ));
    }
    Ok(Settings {
        timeout: millis(key_name("timeout_ms"), timeout_ms, 10_000)?,
        pool_timeout: millis(key_name("pool_timeout_ms"), pool_timeout_ms, 5_000)?,
        idempotent: idempotent.unwrap_or(false),
        block: block.unwrap_or(true),
        max_size,
        ca_file,
        retry_initial,
        retry_max,
        url,
        key,
        secret,
        secret_file,
        types,
        name,
    })
}

/// `secret` or `secret_file` of the webhook `name`: exactly one, never empty.
fn signing_secret(
    name: &str,
    secret: Option<String>,
    secret_file: Option<&Path>,
) -> Result<Secret, ConfigError> {
    let key_name = |field: &str| format!("webhooks.{name}.{field}");
    match (secret, secret_file) {
        (Some(secret), None) if !secret.is_empty() => Ok(Secret::new(secret)),
        (Some(_), None) => Err(ConfigError::invalid(key_name("secret"), "is empty")),
        (None, Some(path)) => read_secret_file(key_name("secret_file"), path),
        _ => Err(ConfigError::invalid(
            key_name("secret"),
            "give exactly one of secret and secret_file",
        )),
    }
}

/// `types`, named by `key`: lifecycle event types, at least one when given.
fn event_types(key: &str, types: &[String]) -> Result<Vec<EventType>, ConfigError> {
    if types.is_empty() {
        return Err(ConfigError::invalid(
            key.to_owned(),
            "is empty: leave it out to receive every event type",
        ));
    }
    types
        .iter()
        .map(|t| {
            EventType::from_key(t).ok_or_else(|| {
                ConfigError::invalid(
                    key.to_owned(),
                    format!(
                        "{t:?} is not a lifecycle event type (defined, undefined, started, \
                         suspended, resumed, stopped, shutdown, pmsuspended, crashed)"
                    ),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn hook(body: &str) -> String {
        format!("[[webhooks]]\nname = \"audit\"\n{body}")
    }

    #[test]
    fn a_webhook_is_read_with_its_defaults() {
        let config = Config::from_toml(&hook(
            "url = \"HTTPS://Hooks.example.com/in?token=abc\"\nsecret = \"s3cret\"\ntypes = [\"started\", \"stopped\"]",
        ))
        .expect("valid");
        let hook = &config.webhooks[0];
        assert_eq!(hook.redacted_url(), "https://hooks.example.com:443/in");
        assert_eq!(hook.sink(), "webhook:audit");
        assert_eq!(hook.types.as_ref().map(Vec::len), Some(2));
        assert!(hook.block && !hook.idempotent && hook.max_size == 4);
        assert!(!format!("{hook:?}").contains("s3cret"));
    }

    #[test]
    fn bad_webhooks_fail_naming_the_webhook_and_never_echo_secrets() {
        let cases = [
            (
                hook("url = \"ftp://h/\"\nsecret = \"s\""),
                "webhooks.audit.url",
            ),
            (
                hook("url = \"https://user:hunter2@h/\"\nsecret = \"s\""),
                "webhooks.audit.url",
            ),
            (hook("url = \"http://h/\""), "webhooks.audit.secret"),
            (
                hook("url = \"http://h/\"\nsecret = \"s\"\nmax_size = 0"),
                "webhooks.audit.max_size",
            ),
            (
                hook("url = \"http://h/\"\nsecret = \"s\"\ntimeout_ms = 0"),
                "webhooks.audit.timeout_ms",
            ),
            (
                hook("url = \"http://h/\"\nsecret = \"s\"\npool_timeout_ms = 0"),
                "webhooks.audit.pool_timeout_ms",
            ),
            (
                hook("url = \"http://h/\"\nsecret = \"s\"\ntypes = [\"exploded\"]"),
                "webhooks.audit.types",
            ),
            (
                format!(
                    "{}\n{}",
                    hook("url = \"http://h/\"\nsecret = \"s\""),
                    hook("url = \"http://g/\"\nsecret = \"s\"")
                ),
                "webhooks.audit.name",
            ),
        ];
        for (toml, key) in cases {
            let err = Config::from_toml(&toml).expect_err(&toml);
            let message = err.to_string();
            assert!(message.contains(key), "{toml}: {message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }
}
