//! The gRPC API: one module per service (its dispatch and handlers by capability), the
//! conversions, the one error-to-status map, the access table, paging and the per-RPC layer.

pub mod access;
mod console;
mod convert;
mod deadline;
mod device;
mod domain;
mod guest;
mod health;
mod host;
pub mod idempotency;
mod layer;
mod network;
mod paging;
pub mod pb;
mod pool;
mod publish;
mod retry_safe;
mod snapshot;
mod stats;
mod status;
mod storage;
mod webhook;

pub use console::ConsoleApi;
pub use device::DeviceApi;
pub use domain::DomainApi;
pub use guest::GuestApi;
pub use health::{HealthHandle, serve_health};
pub use host::HostApi;
pub use idempotency::Requests;
pub use layer::RpcLayer;
pub use network::NetworkApi;
pub use pool::PoolApi;
pub use publish::PublishApi;
pub use snapshot::SnapshotApi;
pub use stats::StatsApi;
pub use storage::StorageApi;
pub use webhook::WebhookApi;
