//! How the service logs and where its traces go.

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// Trace export.
#[derive(Debug, Clone)]
pub struct Settings {
    /// OTLP/gRPC collector; `OTEL_EXPORTER_OTLP_ENDPOINT` when not configured. `None`:
    /// nothing is exported.
    pub otlp_endpoint: Option<String>,
    pub service_name: String,
}
