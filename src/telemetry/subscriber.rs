//! The global subscriber: logs filtered by `RUST_LOG`, and spans exported over OTLP
//! when an endpoint is configured.

use std::str::FromStr;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing::Level;
use tracing_subscriber::{
    Layer, filter::Targets, fmt, layer::SubscriberExt, util::SubscriberInitExt,
};

use super::{LogFormat, Settings};

const DEFAULT_FILTER: &str = "info,h2=warn,hyper=warn,tower=warn";

/// Holds the trace exporter, if any; [`Telemetry::shutdown`] flushes it.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported (and incoming trace context is worth reading).
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports what is buffered and stops the exporter.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "trace exporter did not shut down cleanly");
        }
    }
}

/// Installs the global subscriber: logs, and an OpenTelemetry layer when
/// `telemetry.otlp_endpoint` is set. Call once, at start, inside the runtime.
///
/// # Errors
/// The OTLP exporter cannot be built (a malformed endpoint).
pub fn init(format: LogFormat, telemetry: &Settings) -> anyhow::Result<Telemetry> {
    let provider = provider(telemetry)?;
    // Only the service's own spans are exported: the transport's own events (h2,
    // hyper, tonic, the exporter itself) would otherwise feed back into exports.
    let otel = provider.as_ref().map(|provider| {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("virtplane"))
            .with_filter(Targets::new().with_target("virtplane", Level::INFO))
    });
    let registry = tracing_subscriber::registry()
        .with(otel)
        .with(filter_from(std::env::var("RUST_LOG").ok()));
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
    Ok(Telemetry { provider })
}

/// The span exporter's provider, when `telemetry.otlp_endpoint` is set.
fn provider(telemetry: &Settings) -> anyhow::Result<Option<SdkTracerProvider>> {
    let Some(endpoint) = &telemetry.otlp_endpoint else {
        return Ok(None);
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint.clone())
        .build()?;
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(telemetry.service_name.clone())
                    .build(),
            )
            .build(),
    ))
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
