//! `[inventory]`: what reads answer while libvirt is unreachable, resolved into
//! [`crate::inventory::Settings`].

use serde::Deserialize;

use super::ConfigError;
use crate::inventory::{Settings, WhenStale};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileInventory {
    when_stale: Option<String>,
}

/// `[inventory]`.
pub(super) fn resolve(file: FileInventory) -> Result<Settings, ConfigError> {
    let FileInventory { when_stale } = file;
    let when_stale = match when_stale {
        None => WhenStale::default(),
        Some(word) => WhenStale::parse(&word)
            .map_err(|message| ConfigError::invalid("inventory.when_stale", message))?,
    };
    Ok(Settings { when_stale })
}

#[cfg(test)]
mod tests {
    use crate::{config::Config, inventory::WhenStale};

    #[test]
    fn stale_reads_fail_by_default_serve_on_request_and_other_words_are_refused_by_name() {
        let default = Config::from_toml("hostname = \"h\"").expect("valid");
        assert_eq!(default.inventory.when_stale, WhenStale::Unavailable);
        let serve = Config::from_toml("hostname = \"h\"\n[inventory]\nwhen_stale = \"serve\"")
            .expect("valid");
        assert_eq!(serve.inventory.when_stale, WhenStale::Serve);
        let err = Config::from_toml("hostname = \"h\"\n[inventory]\nwhen_stale = \"maybe\"")
            .expect_err("not a choice");
        assert!(err.to_string().contains("inventory.when_stale"), "{err}");
        let err = Config::from_toml("hostname = \"h\"\n[inventory]\nstale = \"serve\"")
            .expect_err("unknown key");
        assert!(err.to_string().contains("stale"), "{err}");
    }
}
