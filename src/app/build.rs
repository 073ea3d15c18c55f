//! Building the service: every part made from the configuration, the listeners bound.
//!
//! [`App::build`] binds the listener, so tests pass port 0 and read the real address.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::net::TcpListener;
use tracing::{info, warn};

use super::standby::Bound;
use crate::{
    amqp::Publisher,
    config::Config,
    console::Consoles,
    events::{EventHub, EventStats, LifecycleRecorder},
    grpc::Requests,
    host::HostController,
    http::HttpPools,
    hypervisor::{EventSink, Hypervisor, Listeners},
    inventory::{Inventory, RefillOnConnect, Refresher},
    security::{Authenticator, ReloadableTls},
    store::{Outbox, Store, WriterLock},
    webhook,
};

/// A built service, listening but not yet serving.
#[derive(Debug)]
pub struct App {
    pub(super) config: Config,
    pub(super) listener: TcpListener,
    /// The plaintext health-only listener, when configured.
    pub(super) health_listener: Option<TcpListener>,
    pub(super) metrics_listener: Option<TcpListener>,
    pub(super) auth: Option<Arc<Authenticator>>,
    pub(super) tls: Option<Arc<ReloadableTls>>,
    pub(super) store: Store,
    /// Held until the store is closed: no other instance writes for this host.
    pub(super) writer_lock: WriterLock,
    pub(super) host: Arc<HostController>,
    pub(super) hypervisor: Arc<Hypervisor>,
    /// Every domain, kept current by events: what domain reads answer from.
    pub(super) inventory: Arc<Inventory>,
    pub(super) refresher: Refresher,
    pub(super) recorder: LifecycleRecorder,
    pub(super) hub: EventHub,
    pub(super) stats: Arc<EventStats>,
    pub(super) publisher: Arc<Publisher>,
    pub(super) outbox: Option<Outbox>,
    pub(super) webhooks: Vec<Outbox>,
    pub(super) http_pools: Arc<HttpPools>,
    /// Runs mutating requests once per `request_id`: for the services that mutate.
    pub(super) requests: Requests,
    /// The serial consoles open through the API.
    pub(super) consoles: Consoles,
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
        ) = super::standby::take_writer_lock(
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
        let requests = open_requests(&store, &config).await?;
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
        let host = HostController::new(
            store.clone(),
            config.hostname.clone(),
            config.host.clone(),
            outbox.clone(),
        )
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
        // Consoles last: a lost connection ends them after the host state is stored.
        let consoles = Consoles::default();
        let refill = RefillOnConnect::default();
        let touched = sink.touched();
        let listeners = Listeners(vec![
            host.clone(),
            Arc::new(reconcile),
            Arc::new(refill.clone()),
            Arc::new(consoles.clone()),
        ]);
        let hypervisor = Arc::new(
            Hypervisor::new(config.libvirt.clone(), Arc::new(listeners), sink)
                .context("cannot prepare the libvirt connection")?,
        );
        let inventory = Inventory::new(Arc::clone(&hypervisor), config.inventory, &refill);
        let refresher = Refresher::new(Arc::clone(&inventory), touched, refill);
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
}

/// The request ids of this host, with the claims a previous instance left pending
/// released: it died while acting, and their retries must act again, not wait.
async fn open_requests(store: &Store, config: &Config) -> anyhow::Result<Requests> {
    let released = store
        .release_pending(&config.hostname)
        .await
        .context("cannot release the request ids a previous instance left pending")?;
    if released > 0 {
        info!(
            released,
            "request ids left pending by a previous instance released; their retries act again"
        );
    }
    Ok(Requests::new(
        store.clone(),
        config.hostname.clone(),
        &config.requests,
    ))
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}
