//! The gRPC API: one file per service, the conversions, and the one error-to-status map.

pub mod access;
mod convert;
mod deadline;
mod domain;
mod health;
mod host;
mod layer;
mod paging;
mod pool;
mod publish;
mod status;
mod webhook_service;

pub use domain::DomainApi;
pub use health::{HealthHandle, serve_health};
pub use host::HostApi;
pub use layer::{RpcLayer, code_name};
pub use pool::PoolApi;
pub use publish::PublishApi;
pub use webhook_service::WebhookApi;

/// Generated protobuf types and service stubs of `virtplane.v1`.
#[allow(missing_docs, unreachable_pub, clippy::all, reason = "generated code")]
pub mod pb {
    tonic::include_proto!("virtplane.v1");

    /// The API's descriptors, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("virtplane_descriptor");
}
