//! libvirt's default event loop, run forever on a dedicated OS thread.
//!
//! It must be registered before the first connection opens, or libvirt never
//! delivers events for that connection; keepalive and the remote driver's
//! detection of a closed socket depend on it too.

use std::sync::OnceLock;

static STARTED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers the default event implementation and starts its thread, once per process.
///
/// # Errors
/// libvirt refused the registration or the thread could not be spawned.
pub(super) fn ensure_running() -> Result<(), String> {
    STARTED
        .get_or_init(|| {
            // libvirt prints every error to stderr by default, bypassing the service's
            // logs (and their redaction): errors are reported through results instead.
            virt::error::clear_error_callback();
            virt::event::event_register_default_impl()
                .map_err(|e| format!("cannot register libvirt's event loop: {}", e.message()))?;
            std::thread::Builder::new()
                .name("libvirt-events".into())
                .spawn(run_forever)
                .map(drop)
                .map_err(|e| format!("cannot start libvirt's event loop thread: {e}"))
        })
        .clone()
}

fn run_forever() {
    loop {
        if let Err(e) = virt::event::event_run_default_impl() {
            tracing::warn!(error = %e.message(), "libvirt event loop iteration failed");
        }
    }
}
