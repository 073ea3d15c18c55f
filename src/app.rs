//! Wiring: builds every part from the configuration and runs the gRPC server.
//!
//! [`App::build`] binds the listener, so tests pass port 0 and read the real address.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
    task::JoinHandle,
    time::Instant,
};
use tonic::transport::{Server, server::TcpIncoming};
use tracing::{debug, error, info, warn};

use crate::{
    amqp::Publisher,
    config::Config,
    events::{EventHub, EventStats, LifecycleRecorder},
    grpc::{self, DomainApi, HealthHandle, HostApi, PoolApi, PublishApi, RpcLayer, WebhookApi, pb},
    host::HostController,
    http::HttpPools,
    hypervisor::{EventSink, Hypervisor, Listeners},
    security::{self, Authenticator, ReloadableTls},
    standby::Bound,
    store::{Outbox, Store, WriterLock},
    telemetry::metrics::{self, MetricsSources, RpcMetrics},
    webhook,
};

/// A built service, listening but not yet serving.
#[derive(Debug)]
pub struct App {
    config: Config,
    listener: TcpListener,
    /// The plaintext health-only listener, when configured.
    health_listener: Option<TcpListener>,
    metrics_listener: Option<TcpListener>,
    auth: Option<Arc<Authenticator>>,
    tls: Option<Arc<ReloadableTls>>,
    store: Store,
    /// Held until the store is closed: no other instance writes for this host.
    writer_lock: WriterLock,
    host: Arc<HostController>,
    hypervisor: Arc<Hypervisor>,
    recorder: LifecycleRecorder,
    hub: EventHub,
    stats: Arc<EventStats>,
    publisher: Arc<Publisher>,
    outbox: Option<Outbox>,
    webhooks: Vec<Outbox>,
    http_pools: Arc<HttpPools>,
}

impl App {
    /// Binds the listeners, becomes this host's only writer (standing by while
    /// another instance is), opens the database and prepares the hypervisor connection.
    ///
    /// # Errors
    /// An address cannot be bound, `--lock-timeout` passed while another instance
    /// held the writer lock, the database is unreachable, or libvirt's event loop
    /// cannot start.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let auth = Authenticator::new(&config.tokens);
        let tls = config
            .tls
            .clone()
            .map(ReloadableTls::new)
            .transpose()
            .context("cannot load the TLS certificates")?;
        let bound = Bound {
            api: bind(config.listen).await?,
            health: match config.health_listen {
                Some(addr) => Some(bind(addr).await?),
                None => None,
            },
        };
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        // Before the first read of this host's state: what another writer stored
        // until it let go is what this one starts from.
        let (
            writer_lock,
            Bound {
                api: listener,
                health: health_listener,
            },
        ) = crate::standby::take_writer_lock(
            &config.database,
            &config.hostname,
            config.lock_timeout,
            bound,
            tls.clone(),
        )
        .await?;
        let store = Store::connect(&config.database)
            .await
            .context("cannot open the database")?
            .guarded_by(&writer_lock);
        let outbox = config
            .notifications
            .as_ref()
            .map(|_| Outbox::new(crate::amqp::SINK, None));
        let webhooks: Vec<Outbox> = config
            .webhooks
            .iter()
            .map(|hook| Outbox::new(hook.sink(), hook.types.clone()))
            .collect();
        let http_pools = webhook::host_pools(&config.http, &config.webhooks)
            .map_err(|e| anyhow::anyhow!("cannot prepare the webhook host pools: {e}"))?;
        let host = HostController::new(store.clone(), config.hostname.clone(), outbox.clone())
            .await
            .context("cannot load the host's state")?;
        let (sink, source) = EventSink::new(config.events.queue_capacity);
        let hub = EventHub::new(config.events.watch_buffer);
        let (recorder, reconcile, stats) = LifecycleRecorder::new(
            store.clone(),
            config.hostname.clone(),
            source,
            hub.clone(),
            &config.events,
            outbox.iter().chain(&webhooks).cloned().collect(),
        )
        .await
        .context("cannot load the known domain states")?;
        // The host state first: a reconciliation then runs on an enabled host.
        let listeners = Listeners(vec![host.clone(), Arc::new(reconcile)]);
        let hypervisor = Arc::new(
            Hypervisor::new(config.libvirt.clone(), Arc::new(listeners), sink)
                .context("cannot prepare the libvirt connection")?,
        );
        let publisher = Publisher::new(&config.brokers, config.amqp_max_pools);
        if config.is_exposed_without_protection() {
            warn!(listen = %config.listen, "--insecure: the API listens beyond this host with neither tokens nor TLS; anyone who reaches it can control this host's domains");
        }
        Ok(App {
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
            recorder,
            hub,
            stats,
            publisher,
            outbox,
            webhooks,
            http_pools,
        })
    }

    /// The address the gRPC server listens on.
    ///
    /// # Errors
    /// The socket has no local address (never for a bound TCP listener).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The plaintext health listener's address, when one is configured.
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The metrics listener's address, when one is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` resolves, then drains: health NOT_SERVING, stop
    /// accepting, finish in-flight calls within the grace period, close libvirt and
    /// the database.
    ///
    /// # Errors
    /// The server failed.
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
            recorder,
            hub,
            stats,
            publisher,
            outbox,
            webhooks,
            http_pools,
        } = self;
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let (health, health_task) = grpc::serve_health(reporter, host.reachable()).await;
        // Every outbox sink, for the backlog metric (an empty one still shows as 0).
        let sinks: Vec<String> = outbox
            .iter()
            .chain(&webhooks)
            .map(|o| o.sink.clone())
            .collect();
        let workers = Workers::start(
            &config,
            &store,
            &hypervisor,
            &publisher,
            recorder,
            Deliveries {
                amqp: outbox,
                webhooks,
                pools: &http_pools,
            },
            health_task,
        );
        let rpc_metrics = Arc::new(RpcMetrics::default());
        let (stopping, stopped) = watch::channel(false);
        let side = SideServers {
            health: health_listener.map(|listener| {
                let mut stopped = stopped.clone();
                tokio::spawn(
                    Server::builder()
                        .add_service(health_service.clone())
                        .serve_with_incoming_shutdown(
                            TcpIncoming::from(listener).with_nodelay(Some(true)),
                            async move {
                                let _ = stopped.wait_for(|s| *s).await;
                            },
                        ),
                )
            }),
            metrics: metrics_listener.map(|listener| {
                let sources = MetricsSources {
                    rpc: Arc::clone(&rpc_metrics),
                    hypervisor: Arc::clone(&hypervisor),
                    host: Arc::clone(&host),
                    events: Arc::clone(&stats),
                    store: store.clone(),
                    sinks,
                    publisher: Arc::clone(&publisher),
                    http: Arc::clone(&http_pools),
                };
                tokio::spawn(metrics::serve(listener, sources, stopped.clone()))
            }),
            reloader: security::spawn_reloader(auth.clone(), tls.clone()),
        };
        let apis = Apis {
            domain: DomainApi::new(Arc::clone(&hypervisor), Arc::clone(&host)),
            host: HostApi::new(
                Arc::clone(&hypervisor),
                Arc::clone(&host),
                store.clone(),
                hub,
                stats,
            ),
            publish: PublishApi::new(Arc::clone(&publisher)),
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
        let mut lost_to = None;
        let deadline = tokio::select! {
            result = &mut server => {
                result.context("gRPC server failed")?;
                Instant::now() + grace
            }
            () = shutdown => {
                let deadline = Instant::now() + grace;
                drain(&health, stop_tx, server, rpc_deadline(deadline, grace)).await?;
                deadline
            }
            holder = writer_lock.lost() => {
                // Another instance wrote for this host meanwhile: this one's view of
                // it is stale. Stop; a restart stands by until the lock is free.
                error!(%holder, "this instance lost the writer lock to another one; stopping");
                lost_to = Some(holder);
                let deadline = Instant::now() + grace;
                drain(&health, stop_tx, server, rpc_deadline(deadline, grace)).await?;
                deadline
            }
        };
        let _ = stopping.send(true);
        workers.stop(&hypervisor, deadline).await;
        side.stop(deadline).await;
        publisher.close();
        http_pools.close();
        if tokio::time::timeout_at(deadline, store.close())
            .await
            .is_err()
        {
            warn!("shutdown deadline reached while closing the database");
        }
        drop(writer_lock);
        if let Some(holder) = lost_to {
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

/// The listeners beside the API: plaintext health, metrics; and the file reloader.
struct SideServers {
    health: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
    metrics: Option<JoinHandle<()>>,
    reloader: JoinHandle<()>,
}

impl SideServers {
    /// Waits for the listeners to close (they were told to) until `deadline`, stops
    /// the reloader.
    async fn stop(self, deadline: Instant) {
        self.reloader.abort();
        if let Some(metrics) = self.metrics {
            join_by(deadline, metrics, "the metrics listener").await;
        }
        // A health Watch stream never ends by itself: do not wait for it long.
        if let Some(health) = self.health {
            let soon = deadline.min(Instant::now() + Duration::from_secs(1));
            if tokio::time::timeout_at(soon, health).await.is_err() {
                debug!("health listener closed with a watch still open");
            }
        }
    }
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// A background task and the switch that stops it (with the shutdown's deadline).
type Stoppable = (JoinHandle<()>, oneshot::Sender<Instant>);

/// Waits for `task` until `deadline`, then aborts it: nothing it waits on (a blocked
/// broker, a silent webhook receiver, a database that does not answer) holds the
/// shutdown past its deadline.
async fn join_by<T>(deadline: Instant, mut task: JoinHandle<T>, what: &str) {
    match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => warn!(error = %e, task = what, "a background task ended abnormally"),
        Err(_) => {
            task.abort();
            warn!(
                task = what,
                "shutdown deadline reached; stopped where it was (undelivered rows stay pending)"
            );
        }
    }
}

/// The notification outboxes: AMQP, webhooks (in configuration order) and the pools
/// webhooks are sent through.
struct Deliveries<'a> {
    amqp: Option<Outbox>,
    webhooks: Vec<Outbox>,
    pools: &'a Arc<HttpPools>,
}

/// The tasks that run beside the gRPC server, stopped in a deliberate order.
struct Workers {
    recorder: Stoppable,
    notifier: Option<Stoppable>,
    webhooks: Vec<Stoppable>,
    connector: JoinHandle<()>,
    pruner: JoinHandle<()>,
    health: JoinHandle<()>,
}

impl Workers {
    fn start(
        config: &Config,
        store: &Store,
        hypervisor: &Arc<Hypervisor>,
        publisher: &Arc<Publisher>,
        recorder: LifecycleRecorder,
        deliveries: Deliveries<'_>,
        health: JoinHandle<()>,
    ) -> Workers {
        let (stop_recorder, recorder_stopped) = oneshot::channel();
        let recorder = tokio::spawn(recorder.run(Arc::clone(hypervisor), recorder_stopped));
        // Connects now and after every loss, so health turns SERVING as soon as
        // libvirt is there, without waiting for an RPC.
        let connector = tokio::spawn(Arc::clone(hypervisor).keep_connected());
        let pruner = tokio::spawn(crate::store::prune_periodically(
            store.clone(),
            config.hostname.clone(),
            crate::store::Retention {
                outbox: config.events.outbox_retention,
                events: config.events.retention,
            },
        ));
        let notifier =
            config
                .notifications
                .as_ref()
                .zip(deliveries.amqp)
                .map(|(settings, outbox)| {
                    let (stop, stopped) = oneshot::channel();
                    let notifier = crate::amqp::Notifier {
                        store: store.clone(),
                        publisher: Arc::clone(publisher),
                        hostname: config.hostname.clone(),
                        broker: settings.broker.clone(),
                        exchange: settings.exchange.clone(),
                        wake: outbox.wake,
                    };
                    (tokio::spawn(notifier.run(stopped)), stop)
                });
        webhook::announce(&config.webhooks);
        let webhooks = config
            .webhooks
            .iter()
            .zip(deliveries.webhooks)
            .map(|(hook, outbox)| {
                let (stop, stopped) = oneshot::channel();
                let deliverer = webhook::Deliverer::new(
                    store.clone(),
                    Arc::clone(deliveries.pools),
                    config.hostname.clone(),
                    hook.clone(),
                    outbox.wake,
                );
                (tokio::spawn(deliverer.run(stopped)), stop)
            })
            .collect();
        Workers {
            recorder: (recorder, stop_recorder),
            notifier,
            webhooks,
            connector,
            pruner,
            health,
        }
    }

    /// Closes libvirt (callbacks deregistered first), lets the recorder store what is
    /// queued, then flushes notifications: everything by `deadline`, the rest stays in
    /// the outbox.
    async fn stop(self, hypervisor: &Hypervisor, deadline: Instant) {
        self.connector.abort();
        self.pruner.abort();
        self.health.abort();
        if tokio::time::timeout_at(deadline, hypervisor.close())
            .await
            .is_err()
        {
            warn!("shutdown deadline reached while closing the libvirt connection");
        }
        let (recorder, stop) = self.recorder;
        let _ = stop.send(deadline);
        join_by(deadline, recorder, "the lifecycle recorder").await;
        // Every sink flushes at once: the shutdown waits for the slowest, not the sum.
        let flushes: Vec<JoinHandle<()>> = self
            .notifier
            .into_iter()
            .chain(self.webhooks)
            .map(|(task, stop)| {
                let _ = stop.send(deadline);
                task
            })
            .collect();
        for task in flushes {
            join_by(deadline, task, "a notification deliverer").await;
        }
    }
}

async fn drain(
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

/// The API's services, ready to be routed.
struct Apis {
    domain: DomainApi,
    host: HostApi,
    publish: PublishApi,
    pool: PoolApi,
    webhook: WebhookApi,
}

fn router(
    layer: RpcLayer,
    apis: Apis,
) -> anyhow::Result<
    tonic::transport::server::Router<
        tower::layer::util::Stack<RpcLayer, tower::layer::util::Identity>,
    >,
> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1().context("reflection v1")?;
    let reflection_v1alpha = reflection().build_v1alpha().context("reflection v1alpha")?;
    Ok(Server::builder()
        .layer(layer)
        .add_service(pb::domain_service_server::DomainServiceServer::new(
            apis.domain,
        ))
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
