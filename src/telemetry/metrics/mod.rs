//! Prometheus metrics on their own HTTP listener (`GET /metrics`).
//!
//! RPC counters and latency histograms are kept as calls finish; everything else
//! (libvirt, host, events, outbox, pools) is read from its owner at scrape time, so
//! no gauge can drift from the truth. The text format is written by hand: a few
//! dozen lines against a dependency and its registry abstractions.

mod pools;
mod rpc;
mod server;
mod sources;
mod text;

pub use rpc::RpcMetrics;
pub use server::serve;
pub use sources::MetricsSources;
