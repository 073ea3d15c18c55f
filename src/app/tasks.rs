//! The background tasks, in the groups the shutdown stops one after another: what
//! feeds the service, the recorder, the deliveries, and the listeners beside the API.

use std::{sync::Arc, time::Duration};

use tokio::{net::TcpListener, task::JoinHandle, time::Instant};
use tonic::transport::server::{Router, TcpIncoming};
use tracing::warn;

use crate::{
    amqp::Publisher,
    config::Config,
    events::LifecycleRecorder,
    host::HeartbeatStats,
    http::HttpPools,
    hypervisor::Hypervisor,
    store::{Outbox, Store},
    telemetry::metrics::{self, MetricsSources},
    webhook,
    workers::Workers,
};

/// The notification outboxes: AMQP, webhooks (in configuration order) and the pools
/// webhooks are sent through.
pub(super) struct Deliveries<'a> {
    pub(super) amqp: Option<Outbox>,
    pub(super) webhooks: Vec<Outbox>,
    pub(super) pools: &'a Arc<HttpPools>,
}

/// Every background task, by the group it is stopped with.
pub(super) struct Tasks {
    /// Nothing to finish: the libvirt connector, the pruner, the heartbeat, health and
    /// file reloads.
    feeders: Workers,
    recorder: Workers,
    deliveries: Workers,
}

/// What the background tasks work with.
pub(super) struct Parts<'a> {
    pub(super) config: &'a Config,
    pub(super) store: &'a Store,
    pub(super) hypervisor: &'a Arc<Hypervisor>,
    pub(super) publisher: &'a Arc<Publisher>,
    pub(super) heartbeats: &'a Arc<HeartbeatStats>,
}

impl Tasks {
    pub(super) fn start(
        parts: &Parts<'_>,
        recorder: LifecycleRecorder,
        deliveries: Deliveries<'_>,
        spawned: [(&'static str, JoinHandle<()>); 3],
    ) -> Tasks {
        let Parts {
            config,
            store,
            hypervisor,
            heartbeats,
            ..
        } = *parts;
        let mut feeders = Workers::new();
        // Connects now and after every loss, so health turns SERVING as soon as
        // libvirt is there, without waiting for an RPC.
        feeders.spawn_cancellable("libvirt connector", Arc::clone(hypervisor).keep_connected());
        feeders.spawn_cancellable(
            "pruner",
            crate::store::prune_periodically(
                store.clone(),
                config.hostname.clone(),
                crate::store::Retention {
                    outbox: config.events.outbox_retention,
                    events: config.events.retention,
                },
            ),
        );
        feeders.spawn_cancellable(
            "heartbeat",
            crate::host::beat_periodically(
                store.clone(),
                config.hostname.clone(),
                Arc::clone(hypervisor),
                config.host.heartbeat_interval,
                Arc::clone(heartbeats),
            ),
        );
        if let Some(upkeep) = store.maintenance() {
            feeders.spawn_cancellable("SQLite checkpoints", upkeep);
        }
        for (name, task) in spawned {
            feeders.adopt_cancellable(name, task);
        }
        let mut recorders = Workers::new();
        recorders.spawn(
            "lifecycle recorder",
            recorder.run(Arc::clone(hypervisor), recorders.drain()),
        );
        Tasks {
            feeders,
            recorder: recorders,
            deliveries: start_deliveries(parts, deliveries),
        }
    }

    /// Closes libvirt (callbacks deregistered first), lets the recorder store what is
    /// queued, then flushes notifications: everything by `deadline`, the rest stays in
    /// the outbox.
    pub(super) async fn stop(self, hypervisor: &Hypervisor, deadline: Instant) {
        self.feeders.stop(deadline).await;
        if tokio::time::timeout_at(deadline, hypervisor.close())
            .await
            .is_err()
        {
            warn!("shutdown deadline reached while closing the libvirt connection");
        }
        self.recorder.stop(deadline).await;
        // Every sink flushes at once: the shutdown waits for the slowest, not the sum.
        self.deliveries.stop(deadline).await;
    }
}

fn start_deliveries(parts: &Parts<'_>, deliveries: Deliveries<'_>) -> Workers {
    let Parts {
        config,
        store,
        publisher,
        ..
    } = *parts;
    let mut sinks = Workers::new();
    if let Some((settings, outbox)) = config.notifications.as_ref().zip(deliveries.amqp) {
        let notifier = crate::amqp::Notifier {
            store: store.clone(),
            publisher: Arc::clone(publisher),
            hostname: config.hostname.clone(),
            broker: settings.broker.clone(),
            exchange: settings.exchange.clone(),
            wake: outbox.wake,
        };
        sinks.spawn("AMQP notifier", notifier.run(sinks.drain()));
    }
    webhook::announce(&config.webhooks);
    for (hook, outbox) in config.webhooks.iter().zip(deliveries.webhooks) {
        let deliverer = webhook::Deliverer::new(
            store.clone(),
            Arc::clone(deliveries.pools),
            config.hostname.clone(),
            hook.clone(),
            outbox.wake,
        );
        sinks.spawn("webhook deliverer", deliverer.run(sinks.drain()));
    }
    sinks
}

/// The plaintext health listener and the metrics listener, when configured.
pub(super) fn side_servers(
    health: Option<(TcpListener, Router)>,
    metrics: Option<(TcpListener, MetricsSources)>,
) -> Workers {
    let mut side = Workers::new();
    if let Some((listener, router)) = health {
        let mut drain = side.drain();
        side.spawn("health listener", async move {
            let served = router
                .serve_with_incoming_shutdown(
                    TcpIncoming::from(listener).with_nodelay(Some(true)),
                    async move {
                        drain.requested().await;
                    },
                )
                .await;
            if let Err(e) = served {
                warn!(error = %e, "the health listener failed");
            }
        });
    }
    if let Some((listener, sources)) = metrics {
        side.spawn(
            "metrics listener",
            metrics::serve(listener, sources, side.drain()),
        );
    }
    side
}

/// A health `Watch` stream never ends by itself: the listeners beside the API get a
/// second at most to close.
pub(super) fn side_deadline(deadline: Instant) -> Instant {
    deadline.min(Instant::now() + Duration::from_secs(1))
}
