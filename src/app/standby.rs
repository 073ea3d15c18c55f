//! Standing by for the writer lock: while another instance of this host writes, this
//! one answers only gRPC health, NOT_SERVING, on its bound listeners, and makes no
//! libvirt connection and no database write.
//!
//! The standby server serves clones of the listening sockets (`try_clone`), so the
//! real server takes over the very same ports once the lock is held.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};
use tonic::transport::{Server, server::TcpIncoming};
use tracing::{info, warn};

use crate::{
    grpc::HealthHandle,
    security::{self, ReloadableTls},
    store::{self, WriterLock},
};

/// The listeners the service bound, handed back once the lock is held.
#[derive(Debug)]
pub(super) struct Bound {
    pub(super) api: TcpListener,
    pub(super) health: Option<TcpListener>,
}

/// Takes this host's writer lock, standing by with health NOT_SERVING while another
/// instance holds it, for at most `lock_timeout` (`None`: as long as it takes).
///
/// # Errors
/// `--lock-timeout` passed (the error names the holder), or the database or the
/// lock file cannot be reached.
pub(super) async fn take_writer_lock(
    database: &store::Settings,
    hostname: &str,
    lock_timeout: Option<Duration>,
    bound: Bound,
    tls: Option<Arc<ReloadableTls>>,
) -> anyhow::Result<(WriterLock, Bound)> {
    let (api, api_copy) = twin(bound.api)?;
    let (health, health_copy) = match bound.health {
        Some(listener) => {
            let (listener, copy) = twin(listener)?;
            (Some(listener), Some(copy))
        }
        None => (None, None),
    };
    let addr = api.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let health_addr = health
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.to_string())
        .unwrap_or_default();
    let mut copies = Some((api_copy, health_copy));
    let mut standby: Option<Standby> = None;
    let taken = WriterLock::acquire(
        database,
        hostname,
        lock_timeout,
        |holder| {
            warn!(
                hostname = %hostname,
                holder,
                addr = %addr,
                health = %health_addr,
                lock_timeout = ?lock_timeout,
                "another instance is the writer for this host; standing by with health NOT_SERVING until its lock is free"
            );
            if let Some((api, health)) = copies.take() {
                standby = Some(Standby::start(api, health, tls.clone()));
            }
        },
    )
    .await;
    let waited = standby.is_some();
    if let Some(standby) = standby {
        standby.stop().await;
    }
    let lock = taken.context("cannot become the writer for this host")?;
    if waited {
        info!(hostname = %hostname, "writer lock taken; starting");
    }
    Ok((lock, Bound { api, health }))
}

/// The listener and a second handle on the same socket.
fn twin(listener: TcpListener) -> anyhow::Result<(TcpListener, TcpListener)> {
    let std = listener
        .into_std()
        .context("cannot share the listening socket")?;
    let copy = std
        .try_clone()
        .context("cannot share the listening socket")?;
    Ok((
        TcpListener::from_std(std).context("cannot share the listening socket")?,
        TcpListener::from_std(copy).context("cannot share the listening socket")?,
    ))
}

/// The health-only servers of the standby.
struct Standby {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl Standby {
    fn start(
        api: TcpListener,
        health: Option<TcpListener>,
        tls: Option<Arc<ReloadableTls>>,
    ) -> Standby {
        let (stop, stopped) = watch::channel(false);
        // One task for both servers: aborting it (a Watch stream keeps a server open)
        // closes both copies of the sockets, never leaving one to answer beside the
        // real server.
        let task = tokio::spawn(async move {
            let (reporter, service) = tonic_health::server::health_reporter();
            HealthHandle::new(reporter).shutting_down().await;
            let until_stopped = || {
                let mut stopped = stopped.clone();
                async move {
                    let _ = stopped.wait_for(|s| *s).await;
                }
            };
            let on_api = Server::builder()
                .add_service(service.clone())
                .serve_with_incoming_shutdown(security::incoming(api, tls), until_stopped());
            let on_health = async {
                match health {
                    Some(listener) => {
                        Server::builder()
                            .add_service(service.clone())
                            .serve_with_incoming_shutdown(
                                TcpIncoming::from(listener).with_nodelay(Some(true)),
                                until_stopped(),
                            )
                            .await
                    }
                    None => Ok(()),
                }
            };
            let (api, health) = tokio::join!(on_api, on_health);
            if let Err(e) = api.and(health) {
                warn!(error = %e, "the standby health server failed");
            }
        });
        Standby { task, stop }
    }

    /// Stops both servers; a health Watch stream never ends, so the wait is bounded.
    async fn stop(self) {
        let Standby { mut task, stop } = self;
        let _ = stop.send(true);
        if tokio::time::timeout(Duration::from_secs(1), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}
