//! `log_format` and `[telemetry]`: how the service logs and where its traces go.

use serde::Deserialize;

use super::{Cli, ConfigError};
use crate::telemetry::{LogFormat, Settings};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileTelemetry {
    otlp_endpoint: Option<String>,
    service_name: Option<String>,
}

/// `log_format`, the flag over the file: `human` (the default) or `json`.
pub(super) fn log_format(file: Option<String>, cli: &Cli) -> Result<LogFormat, ConfigError> {
    match cli.log_format.clone().or(file).as_deref() {
        None | Some("human") => Ok(LogFormat::Human),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(ConfigError::invalid(
            "log_format",
            format!("{other:?} is neither \"human\" nor \"json\""),
        )),
    }
}

/// `[telemetry]`; `env_endpoint` (`OTEL_EXPORTER_OTLP_ENDPOINT`) when the file names
/// no collector.
pub(super) fn resolve(
    file: FileTelemetry,
    env_endpoint: Option<String>,
) -> Result<Settings, ConfigError> {
    let endpoint = file
        .otlp_endpoint
        .or(env_endpoint)
        .filter(|e| !e.is_empty());
    if let Some(endpoint) = &endpoint
        && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
    {
        return Err(ConfigError::invalid(
            "telemetry.otlp_endpoint",
            "must be an http:// or https:// URL (OTLP over gRPC)",
        ));
    }
    Ok(Settings {
        otlp_endpoint: endpoint,
        service_name: file
            .service_name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "virtplane".to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn an_otlp_endpoint_must_be_a_url() {
        let err =
            Config::from_toml("[telemetry]\notlp_endpoint = \"collector:4317\"").expect_err("bad");
        assert!(err.to_string().contains("telemetry.otlp_endpoint"), "{err}");
    }
}
