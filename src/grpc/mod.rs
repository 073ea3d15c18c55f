//! The gRPC API: one file per service, the conversions, and the one error-to-status map.

pub mod access;
mod convert;
mod deadline;
mod domain_service;
mod health;
mod host_service;
mod layer;
mod lifecycle;
mod page_token;
mod publish_service;
mod status;
mod webhook_service;

pub use domain_service::DomainApi;
pub use health::{HealthHandle, serve_health};
pub use host_service::HostApi;
pub use layer::RpcLayer;
pub use publish_service::{PoolApi, PublishApi};
pub use webhook_service::WebhookApi;

/// Generated protobuf types and service stubs of `virtplane.v1`.
#[allow(missing_docs, unreachable_pub, clippy::all, reason = "generated code")]
pub mod pb {
    tonic::include_proto!("virtplane.v1");

    /// The API's descriptors, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("virtplane_descriptor");
}
