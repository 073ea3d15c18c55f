//! Running the service: background tasks, the listeners, the API; then the stop
//! sequence, every stage within the one deadline the shutdown started.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{sync::oneshot, time::Instant};
use tracing::{error, info, warn};

use super::{
    App,
    serve::{Apis, drain, router},
    tasks::{Deliveries, Parts, Tasks, side_deadline, side_servers},
};
use crate::{
    grpc::{
        self, ConsoleApi, DeviceApi, DomainApi, GuestApi, HostApi, NetworkApi, PoolApi, PublishApi,
        RpcLayer, SnapshotApi, StatsApi, StorageApi, WebhookApi,
    },
    host::HeartbeatStats,
    security,
    telemetry::metrics::{DomainSeries, MetricsSources, RpcMetrics},
};

/// Why serving ended.
enum Ended {
    /// The server stopped by itself: nothing is left to drain.
    ServerStopped,
    /// SIGTERM.
    Shutdown,
    /// Another instance became this host's writer: this one's view is stale.
    LostWriterLock(String),
}

impl App {
    /// Serves until `shutdown` resolves, then drains: health NOT_SERVING, stop
    /// accepting, finish in-flight calls within the grace period, close libvirt and
    /// the database.
    ///
    /// # Errors
    /// The server failed, or another instance took this host's writer lock.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let App {
            config,
            listener,
            health_listener,
            metrics_listener,
            auth,
            tls,
            store,
            writer_lock,
            host,
            hypervisor,
            inventory,
            refresher,
            recorder,
            hub,
            stats,
            publisher,
            outbox,
            webhooks,
            http_pools,
            requests,
            consoles,
        } = self;
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let (health, health_task) = grpc::serve_health(reporter, host.reachable()).await;
        // Every outbox sink, for the backlog metric (an empty one still shows as 0).
        let sinks: Vec<String> = outbox
            .iter()
            .chain(&webhooks)
            .map(|o| o.sink.clone())
            .collect();
        let heartbeats = Arc::new(HeartbeatStats::default());
        let parts = Parts {
            config: &config,
            store: &store,
            hypervisor: &hypervisor,
            publisher: &publisher,
            heartbeats: &heartbeats,
        };
        let reloader = security::spawn_reloader(auth.clone(), tls.clone());
        let tasks = Tasks::start(
            &parts,
            recorder,
            Deliveries {
                amqp: outbox,
                webhooks,
                pools: &http_pools,
            },
            [
                ("health status", health_task),
                ("file reloader", reloader),
                ("inventory refresh", tokio::spawn(refresher.run())),
            ],
        );
        let rpc_metrics = Arc::new(RpcMetrics::default());
        let side = side_servers(
            health_listener.map(|listener| {
                let router =
                    tonic::transport::Server::builder().add_service(health_service.clone());
                (listener, router)
            }),
            metrics_listener.map(|listener| {
                let sources = MetricsSources {
                    rpc: Arc::clone(&rpc_metrics),
                    hypervisor: Arc::clone(&hypervisor),
                    host: Arc::clone(&host),
                    heartbeats: Arc::clone(&heartbeats),
                    events: Arc::clone(&stats),
                    store: store.clone(),
                    sinks,
                    publisher: Arc::clone(&publisher),
                    http: Arc::clone(&http_pools),
                    domains: Arc::new(DomainSeries::new(Arc::clone(&hypervisor))),
                };
                (listener, sources)
            }),
        );
        let domains = DomainApi::new(
            Arc::clone(&hypervisor),
            inventory,
            Arc::clone(&host),
            requests.clone(),
            config.libvirt.save_dir.clone(),
        );
        let apis = Apis {
            snapshot: SnapshotApi::new(domains.clone(), requests.clone()),
            stats: StatsApi::new(domains.clone()),
            guest: GuestApi::new(domains.clone()),
            console: ConsoleApi::new(Arc::clone(&hypervisor), hub.clone(), consoles.clone()),
            device: DeviceApi::new(
                domains.clone(),
                requests.clone(),
                config.libvirt.storage_roots.clone(),
                hub.clone(),
            ),
            network: NetworkApi::new(
                domains.clone(),
                requests.clone(),
                config.libvirt.manage_networks,
            ),
            storage: StorageApi::new(
                Arc::clone(&hypervisor),
                requests.clone(),
                config.libvirt.storage_roots.clone(),
            ),
            domain: domains,
            host: HostApi::new(
                Arc::clone(&hypervisor),
                Arc::clone(&host),
                store.clone(),
                hub,
                stats,
                requests.clone(),
            ),
            publish: PublishApi::new(Arc::clone(&publisher), requests),
            pool: PoolApi::new(Arc::clone(&publisher), Arc::clone(&http_pools)),
            webhook: WebhookApi::new(
                store.clone(),
                config.hostname.clone(),
                config.webhooks.clone(),
            ),
        };
        let addr = listener.local_addr().unwrap_or(config.listen);
        let layer = RpcLayer::new(auth, rpc_metrics, config.telemetry.otlp_endpoint.is_some());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = router(layer, apis)?
            .add_service(health_service)
            .serve_with_incoming_shutdown(security::incoming(listener, tls.clone()), async {
                let _ = stop_rx.await;
            });
        info!(
            %addr,
            tls = tls.is_some(),
            mutual_tls = tls.as_ref().is_some_and(|t| t.mutual()),
            tokens = config.tokens.len(),
            health = ?config.health_listen,
            metrics = ?config.metrics_listen,
            hostname = %config.hostname,
            libvirt = %hypervisor.redacted_uri(),
            "virtplane serving"
        );

        tokio::pin!(server);
        let grace = config.shutdown_grace_period;
        let ended = tokio::select! {
            result = &mut server => {
                result.context("gRPC server failed")?;
                Ended::ServerStopped
            }
            () = shutdown => Ended::Shutdown,
            holder = writer_lock.lost() => {
                error!(%holder, "this instance lost the writer lock to another one; stopping");
                Ended::LostWriterLock(holder)
            }
        };
        // One deadline for every stage from here on.
        let deadline = Instant::now() + grace;
        // A console never ends by itself: told now, its client hears why.
        consoles.end_all(&crate::console::Ending::ServiceStopping);
        if !matches!(ended, Ended::ServerStopped) {
            drain(&health, stop_tx, server, rpc_deadline(deadline, grace)).await?;
        }
        side.stop(side_deadline(deadline)).await;
        tasks.stop(&hypervisor, deadline).await;
        publisher.close();
        http_pools.close();
        if tokio::time::timeout_at(deadline, store.close())
            .await
            .is_err()
        {
            warn!("shutdown deadline reached while closing the database");
        }
        drop(writer_lock);
        if let Ended::LostWriterLock(holder) = ended {
            anyhow::bail!(
                "lost the writer lock for host {:?} to another instance ({holder})",
                config.hostname
            );
        }
        info!("virtplane stopped");
        Ok(())
    }
}

/// Calls in flight may use the first three quarters of the grace period; the rest is
/// kept for storing the last lifecycle events and flushing deliveries, so that every
/// stage ends by the one deadline whatever the calls do.
fn rpc_deadline(deadline: Instant, grace: Duration) -> Instant {
    deadline - grace / 4
}
