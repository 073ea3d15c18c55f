//! Running one call over the connection: a permit, a deadline, a liveness check in
//! the call's own blocking hop, and one repeat on a fresh connection when allowed.

use std::{
    sync::{Arc, PoisonError, atomic::Ordering},
    time::Instant,
};

use tokio::sync::OwnedSemaphorePermit;
use tracing::Span;
use virt::connect::Connect;

use super::{CallError, Hypervisor, LiveConnection};
use crate::hypervisor::{HypervisorError, Retry, open};

impl Hypervisor {
    /// Runs `op` against the connection on a blocking thread.
    ///
    /// The connection is checked for liveness first; if it is dead it is replaced
    /// and `op` runs on the new one. If it breaks while `op` is in flight, `op` is
    /// repeated once on a fresh connection when `retry` allows it.
    ///
    /// # Errors
    /// `op`'s own error, [`HypervisorError::Unavailable`] when libvirt cannot be
    /// reached, [`HypervisorError::Timeout`] when it does not answer in time.
    pub async fn call<T, F>(
        &self,
        operation: &'static str,
        retry: Retry,
        op: F,
    ) -> Result<T, HypervisorError>
    where
        T: Send + 'static,
        F: Fn(&Connect) -> Result<T, HypervisorError> + Send + Sync + 'static,
    {
        let op = Arc::new(op);
        let live = self.connection().await?;
        match self.call_once(&live, operation, Arc::clone(&op)).await {
            Ok(value) => Ok(value),
            Err(CallError::DeadBeforeSend) => {
                self.lost(&live, "libvirt connection found closed");
                let fresh = self.connection().await?;
                self.call_once(&fresh, operation, op)
                    .await
                    .map_err(into_error)
            }
            Err(CallError::Failed(e)) if e.is_connection_loss() => {
                self.lost(&live, &e.to_string());
                let fresh = self.connection().await?;
                if retry == Retry::Safe {
                    self.call_once(&fresh, operation, op)
                        .await
                        .map_err(into_error)
                } else {
                    Err(e)
                }
            }
            Err(CallError::Failed(e)) => Err(e),
        }
    }

    pub(super) async fn call_once<T, F>(
        &self,
        live: &Arc<LiveConnection>,
        operation: &'static str,
        op: Arc<F>,
    ) -> Result<T, CallError>
    where
        T: Send + 'static,
        F: Fn(&Connect) -> Result<T, HypervisorError> + Send + Sync + 'static,
    {
        let deadline = Instant::now() + self.settings.call_timeout;
        let timeout = || {
            CallError::Failed(HypervisorError::Timeout {
                operation,
                after: self.settings.call_timeout,
            })
        };
        // libvirtd serves a handful of requests per client at once: queue here, not there.
        let permit =
            tokio::time::timeout_at(deadline.into(), Arc::clone(&live.calls).acquire_owned())
                .await
                .map_err(|_| timeout())?
                .map_err(|_| {
                    CallError::Failed(HypervisorError::unavailable("libvirt connection closed"))
                })?;
        let live = Arc::clone(live);
        let span = Span::current();
        let task = tokio::task::spawn_blocking(move || {
            let _permit: OwnedSemaphorePermit = permit;
            span.in_scope(|| live.run(|conn| op(conn)))
        });
        match tokio::time::timeout_at(deadline.into(), task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(CallError::Failed(HypervisorError::internal(
                operation,
                format!("panicked: {join}"),
            ))),
            // The blocking thread keeps its permit until libvirt answers.
            Err(_) => Err(timeout()),
        }
    }
}

impl LiveConnection {
    pub(super) fn is_dead(&self) -> bool {
        self.signal.closed.load(Ordering::Acquire)
    }

    /// Runs `op` if the connection is still alive. Blocking.
    fn run<T>(
        &self,
        op: impl FnOnce(&Connect) -> Result<T, HypervisorError>,
    ) -> Result<T, CallError> {
        let guard = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(conn) = guard.as_ref() else {
            return Err(CallError::DeadBeforeSend);
        };
        // A cheap local check: the event loop flags a remote socket that hit EOF.
        if self.is_dead() || !conn.is_alive().unwrap_or(false) {
            return Err(CallError::DeadBeforeSend);
        }
        // The connect cannot be shared across threads while a call runs on it, but
        // libvirt connections are thread-safe: hold a clone, not the lock.
        let conn = conn.clone();
        drop(guard);
        let result = confirm_loss(&conn, op(&conn));
        open::release(conn);
        result.map_err(CallError::Failed)
    }
}

/// An error that looks like a lost connection is believed only when a cheap ping
/// (`virConnectGetLibVersion`) fails too, as Nova's `_test_connection` does: tearing
/// down a healthy connection would deregister every callback and report every
/// domain's state as unknown.
fn confirm_loss<T>(
    conn: &Connect,
    result: Result<T, HypervisorError>,
) -> Result<T, HypervisorError> {
    match result {
        Err(lost @ HypervisorError::ConnectionLost { .. }) if conn.lib_version().is_ok() => {
            Err(HypervisorError::unavailable(format!(
                "{lost} (the connection still answers and is kept)"
            )))
        }
        other => other,
    }
}

fn into_error(e: CallError) -> HypervisorError {
    match e {
        CallError::DeadBeforeSend => {
            HypervisorError::unavailable("libvirt connection closed right after connecting")
        }
        CallError::Failed(e) => e,
    }
}
