//! The gRPC router with every service and reflection, and the drain of its calls.

use std::future::Future;

use anyhow::Context;
use tokio::{sync::oneshot, time::Instant};
use tonic::transport::Server;
use tracing::{info, warn};

use crate::grpc::{
    ConsoleApi, DeviceApi, DomainApi, GuestApi, HealthHandle, HostApi, NetworkApi, PoolApi,
    PublishApi, RpcLayer, SnapshotApi, StatsApi, StorageApi, WebhookApi, pb,
};

/// The API's services, ready to be routed.
pub(super) struct Apis {
    pub(super) domain: DomainApi,
    pub(super) snapshot: SnapshotApi,
    pub(super) stats: StatsApi,
    pub(super) guest: GuestApi,
    pub(super) console: ConsoleApi,
    pub(super) device: DeviceApi,
    pub(super) network: NetworkApi,
    pub(super) storage: StorageApi,
    pub(super) host: HostApi,
    pub(super) publish: PublishApi,
    pub(super) pool: PoolApi,
    pub(super) webhook: WebhookApi,
}

pub(super) type Router = tonic::transport::server::Router<
    tower::layer::util::Stack<RpcLayer, tower::layer::util::Identity>,
>;

pub(super) fn router(layer: RpcLayer, apis: Apis) -> anyhow::Result<Router> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // google.rpc's error details: clients such as grpcurl decode an error's
            // details only with their descriptors.
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1().context("reflection v1")?;
    let reflection_v1alpha = reflection().build_v1alpha().context("reflection v1alpha")?;
    Ok(Server::builder()
        // Volume uploads stream data messages of up to 4 MiB: with hyper's defaults
        // (16 KiB frames, 1 MiB windows) a client waits for a window update after each
        // message and the server handles 64 frames per message; this measured uploads
        // 25% faster. The windows bound what one stream (one connection) may buffer.
        .max_frame_size(1024 * 1024)
        .initial_stream_window_size(8 * 1024 * 1024)
        .initial_connection_window_size(16 * 1024 * 1024)
        .layer(layer)
        .add_service(pb::domain_service_server::DomainServiceServer::new(
            apis.domain,
        ))
        .add_service(pb::snapshot_service_server::SnapshotServiceServer::new(
            apis.snapshot,
        ))
        .add_service(pb::stats_service_server::StatsServiceServer::new(
            apis.stats,
        ))
        .add_service(pb::guest_service_server::GuestServiceServer::new(
            apis.guest,
        ))
        .add_service(pb::console_service_server::ConsoleServiceServer::new(
            apis.console,
        ))
        .add_service(pb::device_service_server::DeviceServiceServer::new(
            apis.device,
        ))
        .add_service(pb::network_service_server::NetworkServiceServer::new(
            apis.network,
        ))
        .add_service(
            pb::storage_service_server::StorageServiceServer::new(apis.storage)
                // Uploads carry data chunks of up to 4 MiB, framing aside.
                .max_decoding_message_size(StorageApi::MAX_MESSAGE),
        )
        .add_service(pb::host_service_server::HostServiceServer::new(apis.host))
        .add_service(
            pb::publish_service_server::PublishServiceServer::new(apis.publish)
                // A batch carries many bodies: tonic's 4 MiB default is too small for it.
                .max_decoding_message_size(64 * 1024 * 1024),
        )
        .add_service(pb::pool_service_server::PoolServiceServer::new(apis.pool))
        .add_service(pb::webhook_service_server::WebhookServiceServer::new(
            apis.webhook,
        ))
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha))
}

/// Health NOT_SERVING, no new calls, and the calls in flight finished until `until`.
pub(super) async fn drain(
    health: &HealthHandle,
    stop: oneshot::Sender<()>,
    server: impl Future<Output = Result<(), tonic::transport::Error>>,
    until: Instant,
) -> anyhow::Result<()> {
    info!(calls_until = ?until.saturating_duration_since(Instant::now()), "shutting down: finishing in-flight calls");
    health.shutting_down().await;
    let _ = stop.send(());
    // Streams such as a health Watch never end by themselves: bound the wait.
    match tokio::time::timeout_at(until, server).await {
        Ok(result) => result.context("gRPC server failed while draining"),
        Err(_) => {
            warn!("grace period over; closing the remaining calls");
            Ok(())
        }
    }
}
