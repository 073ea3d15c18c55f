//! The shutdown signal: SIGTERM (Kubernetes, systemd) or Ctrl-C.

use tokio::signal::unix::{self, SignalKind};
use tracing::info;

/// Resolves when the process is asked to stop.
pub async fn signal() {
    let mut term = match unix::signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the service");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => info!("interrupt received"),
    }
}
