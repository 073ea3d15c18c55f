//! `grpc.health.v1.Health`: the API services' status, following libvirt's reachability.

use tokio::{sync::watch, task::JoinHandle};
use tonic_health::{ServingStatus, server::HealthReporter};

/// The full names the health service reports on.
pub(crate) const DOMAIN_SERVICE: &str = "virtplane.v1.DomainService";
pub(crate) const HOST_SERVICE: &str = "virtplane.v1.HostService";
pub(crate) const PUBLISH_SERVICE: &str = "virtplane.v1.PublishService";
pub(crate) const POOL_SERVICE: &str = "virtplane.v1.PoolService";
pub(crate) const WEBHOOK_SERVICE: &str = "virtplane.v1.WebhookService";
pub(crate) const SNAPSHOT_SERVICE: &str = "virtplane.v1.SnapshotService";
pub(crate) const STATS_SERVICE: &str = "virtplane.v1.StatsService";
pub(crate) const GUEST_SERVICE: &str = "virtplane.v1.GuestService";
pub(crate) const CONSOLE_SERVICE: &str = "virtplane.v1.ConsoleService";
pub(crate) const DEVICE_SERVICE: &str = "virtplane.v1.DeviceService";
pub(crate) const NETWORK_SERVICE: &str = "virtplane.v1.NetworkService";
pub(crate) const STORAGE_SERVICE: &str = "virtplane.v1.StorageService";

/// The services that need libvirt: NOT_SERVING while it is unreachable.
const LIBVIRT_SERVICES: [&str; 8] = [
    DOMAIN_SERVICE,
    SNAPSHOT_SERVICE,
    STATS_SERVICE,
    GUEST_SERVICE,
    CONSOLE_SERVICE,
    DEVICE_SERVICE,
    NETWORK_SERVICE,
    STORAGE_SERVICE,
];
/// The services that do not.
const OTHER_SERVICES: [&str; 4] = [HOST_SERVICE, PUBLISH_SERVICE, POOL_SERVICE, WEBHOOK_SERVICE];

/// Controls the health statuses; dropping it does not change them.
#[derive(Debug, Clone)]
pub struct HealthHandle {
    reporter: HealthReporter,
}

impl HealthHandle {
    /// Controls the statuses `reporter` reports.
    pub(crate) fn new(reporter: HealthReporter) -> Self {
        HealthHandle { reporter }
    }

    /// Reports every service NOT_SERVING: the first step of a graceful shutdown.
    pub async fn shutting_down(&self) {
        for service in std::iter::once("")
            .chain(LIBVIRT_SERVICES)
            .chain(OTHER_SERVICES)
        {
            self.reporter
                .set_service_status(service, ServingStatus::NotServing)
                .await;
        }
    }
}

/// Sets the initial statuses and keeps the libvirt-backed services (`DomainService`,
/// `SnapshotService`, `StatsService`, `GuestService`, `ConsoleService`, `DeviceService`,
/// `NetworkService`, `StorageService`) in step with `reachable`:
/// SERVING while libvirt is reachable, NOT_SERVING otherwise.
pub async fn serve_health(
    reporter: HealthReporter,
    mut reachable: watch::Receiver<bool>,
) -> (HealthHandle, JoinHandle<()>) {
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    for service in OTHER_SERVICES {
        reporter
            .set_service_status(service, ServingStatus::Serving)
            .await;
    }
    let follower = reporter.clone();
    let task = tokio::spawn(async move {
        loop {
            let status = if *reachable.borrow_and_update() {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            for service in LIBVIRT_SERVICES {
                follower.set_service_status(service, status).await;
            }
            if reachable.changed().await.is_err() {
                break;
            }
        }
    });
    (HealthHandle { reporter }, task)
}
