//! `[requests]`: how long the replies of requests sent with a `request_id` are kept
//! for their retries, resolved into [`crate::grpc::idempotency::Settings`].

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use crate::grpc::idempotency::Settings;

/// A year: longer would only keep replies no retry asks for.
const MAX_RETENTION_HOURS: u64 = 8_760;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRequests {
    retention_hours: Option<u64>,
}

/// `[requests]`.
pub(super) fn resolve(file: FileRequests) -> Result<Settings, ConfigError> {
    let FileRequests { retention_hours } = file;
    let hours = retention_hours.unwrap_or(24);
    if hours == 0 {
        // A reply kept for no time answers no retry: the id would mean nothing.
        return Err(ConfigError::invalid(
            "requests.retention_hours",
            "must be at least 1: a reply must be kept as long as its retries may come",
        ));
    }
    if hours > MAX_RETENTION_HOURS {
        return Err(ConfigError::invalid(
            "requests.retention_hours",
            format!("must be at most {MAX_RETENTION_HOURS} (one year)"),
        ));
    }
    Ok(Settings {
        retention: Duration::from_secs(hours * 3600),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::Config;

    #[test]
    fn replies_are_kept_a_day_by_default_and_zero_hours_is_refused_by_name() {
        let default = Config::from_toml("hostname = \"h\"").expect("valid");
        assert_eq!(default.requests.retention, Duration::from_secs(24 * 3600));
        let week = Config::from_toml("hostname = \"h\"\n[requests]\nretention_hours = 168")
            .expect("valid");
        assert_eq!(week.requests.retention, Duration::from_secs(168 * 3600));
        for bad in ["0", "8761"] {
            let err = Config::from_toml(&format!(
                "hostname = \"h\"\n[requests]\nretention_hours = {bad}"
            ))
            .expect_err("out of range");
            assert!(
                err.to_string().contains("requests.retention_hours"),
                "{err}"
            );
        }
        let err = Config::from_toml("hostname = \"h\"\n[requests]\nretention_days = 1")
            .expect_err("unknown key");
        assert!(err.to_string().contains("retention_days"), "{err}");
    }
}
