//! How a transfer's stream ends: finished cleanly through the call path (a round trip
//! with a deadline), or let go on a blocking thread, where its abort's round trip
//! waits on no async task.

use std::sync::Arc;

use virt::connect::Connect;

use crate::hypervisor::{Admission, HypervisorError, Operation, Retry, ffi::EventStream};

/// Ends a transfer cleanly (`virStreamFinish`): for an upload, libvirt answers once
/// the daemon has written every byte; for a download, the daemon learns the client
/// has read them all.
#[derive(Debug, Clone)]
pub(super) struct FinishStream(pub(super) Arc<EventStream>);

impl Operation for FinishStream {
    type Output = ();
    const NAME: &'static str = "finish volume transfer";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    /// The stream carries its own reference to the connection it was opened on.
    fn call(&self, _conn: &Connect) -> Result<Self::Output, HypervisorError> {
        self.0
            .finish()
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))
    }
}

/// Drops `stream` on a blocking thread: a stream that did not finish is aborted, a
/// round trip to the daemon.
pub(super) fn release(stream: Arc<EventStream>) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(move || drop(stream))),
        Err(_) => drop(stream),
    }
}
