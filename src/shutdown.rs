//! The shutdown signal: SIGTERM (Kubernetes, systemd) or SIGINT (Ctrl-C).

use std::future::Future;

use tokio::signal::unix::{self, SignalKind};
use tracing::{error, info};

/// Installs the signal handlers now and returns a future that resolves when the
/// process is asked to stop.
///
/// Call it before anything announces that the service is up: until a handler is
/// installed, SIGTERM kills the process without a graceful shutdown.
pub fn signal() -> impl Future<Output = ()> {
    let term = unix::signal(SignalKind::terminate());
    let interrupt = unix::signal(SignalKind::interrupt());
    async move {
        match (term, interrupt) {
            (Ok(mut term), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = term.recv() => info!("SIGTERM received"),
                    _ = interrupt.recv() => info!("interrupt received"),
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                error!(error = %e, "cannot install signal handlers; only Ctrl-C stops the service");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
