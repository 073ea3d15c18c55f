//! `[host]`: the heartbeat, when another host counts as down, how often host watches
//! poll, and this host's labels, resolved into [`crate::host::Settings`].

use std::{collections::BTreeMap, time::Duration};

use serde::Deserialize;

use super::ConfigError;
use crate::{
    host::Settings,
    model::{Labels, labels},
};

/// A day: a longer heartbeat tells the fleet nothing useful.
const MAX_SECONDS: u64 = 86_400;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileHost {
    heartbeat_interval_s: Option<u64>,
    down_after_s: Option<u64>,
    watch_interval_ms: Option<u64>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// `[host]`.
pub(super) fn resolve(file: FileHost) -> Result<Settings, ConfigError> {
    let FileHost {
        heartbeat_interval_s,
        down_after_s,
        watch_interval_ms,
        labels,
    } = file;
    let defaults = Settings::default();
    let seconds = |key: &'static str, value: Option<u64>, default: Duration| match value {
        None => Ok(default),
        Some(s) if (1..=MAX_SECONDS).contains(&s) => Ok(Duration::from_secs(s)),
        Some(_) => Err(ConfigError::invalid(
            key,
            format!("must be between 1 and {MAX_SECONDS}"),
        )),
    };
    let heartbeat_interval = seconds(
        "host.heartbeat_interval_s",
        heartbeat_interval_s,
        defaults.heartbeat_interval,
    )?;
    let down_after = seconds("host.down_after_s", down_after_s, defaults.down_after)?;
    if down_after <= heartbeat_interval {
        // A healthy host would then flap between up and down between its beats.
        return Err(ConfigError::invalid(
            "host.down_after_s",
            format!(
                "must be greater than host.heartbeat_interval_s ({} s)",
                heartbeat_interval.as_secs()
            ),
        ));
    }
    let watch_interval = match watch_interval_ms {
        None => defaults.watch_interval,
        Some(ms) if (100..=60_000).contains(&ms) => Duration::from_millis(ms),
        Some(_) => {
            return Err(ConfigError::invalid(
                "host.watch_interval_ms",
                "must be between 100 and 60000",
            ));
        }
    };
    Ok(Settings {
        heartbeat_interval,
        down_after,
        watch_interval,
        labels: check_labels(labels)?,
    })
}

fn check_labels(raw: BTreeMap<String, String>) -> Result<Labels, ConfigError> {
    if raw.len() > labels::MAX_LABELS {
        return Err(ConfigError::invalid(
            "host.labels",
            format!("at most {} labels", labels::MAX_LABELS),
        ));
    }
    for (key, value) in &raw {
        labels::check_key("host.labels", key)
            .and_then(|()| labels::check_value("host.labels", key, value))
            .map_err(|e| ConfigError::invalid("host.labels", e.message))?;
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::Config;

    #[test]
    fn heartbeats_default_to_nova_timings_and_bad_values_are_named() {
        let default = Config::from_toml("hostname = \"h\"").expect("valid");
        assert_eq!(default.host.heartbeat_interval, Duration::from_secs(10));
        assert_eq!(default.host.down_after, Duration::from_secs(60));
        let set = Config::from_toml(
            "hostname = \"h\"\n[host]\nheartbeat_interval_s = 1\ndown_after_s = 3\n\
             labels = { rack = \"r1\", zone = \"a\" }",
        )
        .expect("valid");
        assert_eq!(set.host.down_after, Duration::from_secs(3));
        assert_eq!(set.host.labels.get("rack").map(String::as_str), Some("r1"));
        for (bad, key) in [
            ("heartbeat_interval_s = 0", "host.heartbeat_interval_s"),
            (
                "heartbeat_interval_s = 5\ndown_after_s = 5",
                "host.down_after_s",
            ),
            ("watch_interval_ms = 1", "host.watch_interval_ms"),
            ("labels = { \"bad key\" = \"v\" }", "host.labels"),
        ] {
            let err = Config::from_toml(&format!("hostname = \"h\"\n[host]\n{bad}"))
                .expect_err("refused");
            assert!(err.to_string().contains(key), "{bad}: {err}");
        }
    }
}
