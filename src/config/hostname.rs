//! `hostname`: the name this host is recorded under, the system's unless given.

use super::{Cli, ConfigError};

/// `hostname`, the flag over the file, else the system hostname; checked either way.
pub(super) fn resolve(hostname: Option<String>, cli: &Cli) -> Result<String, ConfigError> {
    let hostname = match cli.hostname.clone().or(hostname) {
        Some(name) => name,
        None => system_hostname().map_err(|e| ConfigError::invalid("hostname", e))?,
    };
    validate(&hostname)?;
    Ok(hostname)
}

fn validate(name: &str) -> Result<(), ConfigError> {
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if valid {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            "hostname",
            format!("{name:?} is not a host name (letters, digits, '-', '.', '_'; at most 253)"),
        ))
    }
}

fn system_hostname() -> Result<String, String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .map_err(|e| format!("cannot read the system hostname ({e}); set it explicitly"))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn a_hostname_with_a_space_is_named_by_its_key() {
        let err = Config::from_toml("hostname = \"a b\"").expect_err("space");
        assert!(err.to_string().contains("`hostname`"), "{err}");
    }
}
