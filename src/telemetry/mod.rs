//! Logs (human or JSON; `RUST_LOG` filters), traces exported over OTLP when an
//! endpoint is configured, and Prometheus metrics ([`metrics`]).

mod code;
pub mod metrics;
mod settings;
mod subscriber;

pub use code::code_name;
pub use settings::{LogFormat, Settings};
pub use subscriber::{Telemetry, filter_from, init};
