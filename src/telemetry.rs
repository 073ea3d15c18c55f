//! Logging setup: human-readable by default, JSON on request; `RUST_LOG` filters.

use std::str::FromStr;

use tracing_subscriber::{filter::Targets, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::LogFormat;

const DEFAULT_FILTER: &str = "info,h2=warn,hyper=warn,tower=warn";

/// Installs the global subscriber. Call once, at start.
pub fn init(format: LogFormat) {
    let registry = tracing_subscriber::registry().with(filter_from(std::env::var("RUST_LOG").ok()));
    match format {
        LogFormat::Human => registry.with(fmt::layer().with_target(false)).init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .init(),
    }
}

/// A filter from a `RUST_LOG`-style spec (`level,target=level`), or the default.
///
/// `Targets` rather than `EnvFilter`: it needs no regex engine, which would cost a
/// megabyte of resident memory for a feature (span-field filters) nobody uses here.
pub fn filter_from(spec: Option<String>) -> Targets {
    spec.and_then(|spec| Targets::from_str(&spec).ok())
        .or_else(|| Targets::from_str(DEFAULT_FILTER).ok())
        .unwrap_or_default()
}
