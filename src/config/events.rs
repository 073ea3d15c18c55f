//! `[events]`: how lifecycle events are queued, fanned out, reconciled and kept,
//! resolved into [`crate::events::Settings`].

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use crate::events::Settings;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileEvents {
    queue_capacity: Option<usize>,
    watch_buffer: Option<usize>,
    retention_days: Option<u64>,
    outbox_retention_hours: Option<u64>,
    resync_interval_s: Option<u64>,
}

/// `[events]`.
pub(super) fn resolve(file: FileEvents) -> Result<Settings, ConfigError> {
    let FileEvents {
        queue_capacity,
        watch_buffer,
        retention_days,
        outbox_retention_hours,
        resync_interval_s,
    } = file;
    let bounded = |key, value: Option<usize>, default| match value.unwrap_or(default) {
        n if (64..=1_048_576).contains(&n) => Ok(n),
        _ => Err(ConfigError::invalid(key, "must be between 64 and 1048576")),
    };
    Ok(Settings {
        queue_capacity: bounded("events.queue_capacity", queue_capacity, 16_384)?,
        watch_buffer: bounded("events.watch_buffer", watch_buffer, 4_096)?,
        retention: retention(retention_days)?,
        outbox_retention: match outbox_retention_hours.unwrap_or(168) {
            0 => {
                return Err(ConfigError::invalid(
                    "events.outbox_retention_hours",
                    "must be at least 1",
                ));
            }
            hours => Duration::from_secs(hours.saturating_mul(3600)),
        },
        // Nova resyncs every 600 s, KubeVirt every 300 s.
        resync_interval: match resync_interval_s.unwrap_or(300) {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        },
    })
}

/// `events.retention_days`: 30 by default, 0 keeps everything.
fn retention(days: Option<u64>) -> Result<Option<Duration>, ConfigError> {
    match days.unwrap_or(30) {
        0 => Ok(None),
        // A century is long enough to mean "forever" and keeps the arithmetic finite.
        days if days > 36_500 => Err(ConfigError::invalid(
            "events.retention_days",
            "must be at most 36500 (100 years); 0 keeps every event",
        )),
        days => Ok(Some(Duration::from_secs(days * 86_400))),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::Config;

    #[test]
    fn event_retention_defaults_to_thirty_days_and_zero_keeps_everything() {
        let default = Config::from_toml("hostname = \"h\"").expect("valid");
        assert_eq!(
            default.events.retention,
            Some(Duration::from_secs(30 * 86_400))
        );
        let keep =
            Config::from_toml("hostname = \"h\"\n[events]\nretention_days = 0").expect("valid");
        assert_eq!(keep.events.retention, None);
        let err = Config::from_toml("hostname = \"h\"\n[events]\nretention_days = 99999")
            .expect_err("too long");
        assert!(err.to_string().contains("events.retention_days"), "{err}");
        let err = Config::from_toml("hostname = \"h\"\n[events]\nretention_days = -1")
            .expect_err("negative");
        assert!(err.to_string().contains("retention_days"), "{err}");
    }
}
