//! Prometheus metrics on their own HTTP listener (`GET /metrics`).
//!
//! RPC counters and latency histograms are kept as calls finish; everything else
//! (libvirt, the domains, host, events, outbox, pools) is read from its owner at
//! scrape time (the domains' bulk sample shared for a few seconds), so
//! no gauge can drift from the truth. The text format is written by hand: a few
//! dozen lines against a dependency and its registry abstractions.

mod domains;
mod pools;
mod rpc;
mod server;
mod sources;
mod text;

pub use domains::DomainSeries;
pub use rpc::RpcMetrics;
pub use server::serve;
pub use sources::MetricsSources;
