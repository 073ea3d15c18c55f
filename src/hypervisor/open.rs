//! Opening one libvirt connection: open, describe, subscribe, on a blocking thread,
//! within a timeout; and taking a connection down again.
//!
//! `virConnectOpen` against a paused daemon blocks with no timeout of its own, and a
//! blocking thread cannot be cancelled: when the timeout gives up on an open, the
//! thread goes on. Whatever it opens late is handed over through a oneshot channel
//! that the abandoned side has closed, so the thread learns nobody owns the
//! connection and deregisters and closes it at once. Without that, its callbacks
//! would record every event once more for as long as the daemon lives.

use std::{ffi::CString, os::raw::c_int, sync::Arc, time::Duration};

use tokio::sync::oneshot;
use tracing::{debug, info, warn};
use virt::{connect::Connect, sys};

use super::{
    event_sink::{CloseSignal, EventSink},
    ffi, uri,
};
use crate::hypervisor::Settings;

/// What the hypervisor said about itself when the connection was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HypervisorInfo {
    pub hypervisor_type: String,
    pub hypervisor_version: String,
    pub libvirt_version: String,
}

/// What was registered on a connection and must be removed before it is closed.
#[derive(Debug, Default, Clone)]
pub(super) struct Registrations {
    lifecycle: Option<c_int>,
    /// Device callbacks and the inventory's change callbacks (metadata, tunable,
    /// balloon), all removed the same way.
    devices: Vec<c_int>,
    close: bool,
}

impl Registrations {
    /// Whether libvirt tells this connection about domain changes.
    pub(super) fn delivers_lifecycle_events(&self) -> bool {
        self.lifecycle.is_some()
    }
}

/// A connection that is open and subscribed.
pub(super) struct Opened {
    pub(super) conn: Connect,
    pub(super) info: HypervisorInfo,
    pub(super) registrations: Registrations,
}

/// Opens a connection on a blocking thread, giving up after `timeout`.
///
/// # Errors
/// libvirt's reason (not yet scrubbed of secrets), or that no answer came in time.
pub(super) async fn open_within(
    settings: Settings,
    events: Arc<EventSink>,
    signal: Arc<CloseSignal>,
    timeout: Duration,
) -> Result<Opened, String> {
    let (handover, mut received) = oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let outcome = open(&settings, events, signal);
        if let Err(Ok(unclaimed)) = handover.send(outcome) {
            info!(
                "a libvirt connect given up at its timeout completed late; closing that connection"
            );
            discard(unclaimed);
        }
    });
    match tokio::time::timeout(timeout, &mut received).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Err("the connect task ended without an answer".to_owned()),
        Err(_) => {
            // From here on the blocking thread's handover fails and it cleans up; an
            // answer that arrived in the same instant is taken back and closed here.
            received.close();
            if let Ok(Ok(late)) = received.try_recv() {
                tokio::task::spawn_blocking(move || discard(late));
            }
            Err(format!("no answer within {timeout:?}"))
        }
    }
}

/// Deregisters the callbacks and releases the connection. Blocking: for a remote URI
/// both are RPCs.
pub(super) fn discard(opened: Opened) {
    let Opened {
        conn,
        registrations,
        ..
    } = opened;
    deregister(&conn, registrations);
    release(conn);
}

/// Releases one reference on a connection without `virt`'s panicking `Drop`.
pub(super) fn release(conn: Connect) {
    if let Err(e) = ffi::close(conn) {
        debug!(error = %e.message(), "libvirt reported an error while closing a connection");
    }
}

/// Removes the callbacks registered on `conn`; libvirt frees their contexts.
pub(super) fn deregister(conn: &Connect, registrations: Registrations) {
    for id in registrations
        .lifecycle
        .into_iter()
        .chain(registrations.devices)
    {
        if let Err(e) = ffi::deregister_lifecycle(conn, id) {
            debug!(error = %e.message(), "event callback not deregistered (connection gone)");
        }
    }
    if registrations.close
        && let Err(e) = ffi::unregister_close(conn)
    {
        debug!(error = %e.message(), "close callback not unregistered (connection gone)");
    }
}

/// Opens, describes and subscribes to a connection. Blocking.
fn open(
    settings: &Settings,
    events: Arc<EventSink>,
    signal: Arc<CloseSignal>,
) -> Result<Opened, String> {
    let creds = ffi::Credentials {
        username: settings
            .username
            .as_deref()
            .map(CString::new)
            .transpose()
            .map_err(|_| "libvirt.username contains a NUL byte".to_owned())?,
        passphrase: settings
            .passphrase
            .as_ref()
            .map(|p| CString::new(p.expose()))
            .transpose()
            .map_err(|_| "libvirt.passphrase_file contains a NUL byte".to_owned())?,
    };
    let conn = ffi::open_auth(&settings.uri, &creds, settings.read_only)
        .map_err(|e| e.message().to_owned())?;
    if uri::is_remote(&settings.uri) {
        // Notices a hung daemon within interval * (count + 1) seconds.
        if let Err(e) = conn.set_keep_alive(
            settings.keepalive_interval_secs as i32,
            settings.keepalive_count,
        ) {
            debug!(error = %e.message(), "libvirt keepalive not enabled");
        }
    }
    match describe(&conn) {
        Ok(info) => {
            let registrations = register(&conn, &settings.uri, events, signal);
            Ok(Opened {
                conn,
                info,
                registrations,
            })
        }
        Err(e) => {
            release(conn);
            Err(e)
        }
    }
}

/// Registers the lifecycle callback and, where a socket can drop, the close callback.
fn register(
    conn: &Connect,
    uri: &str,
    events: Arc<EventSink>,
    signal: Arc<CloseSignal>,
) -> Registrations {
    let mut devices = ffi::register_devices(conn, &events).unwrap_or_else(|e| {
        warn!(error = %e.message(), "this libvirt URI delivers no device events; DetachDevice cannot confirm a removal");
        Vec::new()
    });
    // Deregistered with the device callbacks: the same kind of registration.
    devices.extend(ffi::register_changes(conn, &events));
    let lifecycle = match ffi::register_lifecycle(conn, events) {
        Ok(id) => Some(id),
        Err(e) => {
            warn!(error = %e.message(), "this libvirt URI delivers no lifecycle events; changes are seen only at reconciliation");
            None
        }
    };
    // In-process drivers never close by themselves, and some accept the registration
    // without keeping it (so its context would never be freed): remote URIs only.
    let close = uri::is_remote(uri)
        && match ffi::register_close(conn, signal) {
            Ok(()) => true,
            Err(e) => {
                warn!(error = %e.message(), "no close callback: a dropped connection is noticed on use");
                false
            }
        };
    Registrations {
        lifecycle,
        devices,
        close,
    }
}

fn describe(conn: &Connect) -> Result<HypervisorInfo, String> {
    let hypervisor_type = conn.driver_type().map_err(|e| e.message().to_owned())?;
    let hypervisor_version = conn.hyp_version().map(format_version).unwrap_or_default();
    let libvirt_version = conn
        .lib_version()
        .or_else(|_| Connect::version())
        .map(format_version)
        .unwrap_or_default();
    Ok(HypervisorInfo {
        hypervisor_type,
        hypervisor_version,
        libvirt_version,
    })
}

/// libvirt's close reason as words.
pub(super) fn close_reason(reason: i32) -> &'static str {
    match u32::try_from(reason).unwrap_or(u32::MAX) {
        sys::VIR_CONNECT_CLOSE_REASON_EOF => "libvirt closed the connection (end of file)",
        sys::VIR_CONNECT_CLOSE_REASON_KEEPALIVE => "libvirt stopped answering keepalives",
        sys::VIR_CONNECT_CLOSE_REASON_CLIENT => "the connection was closed by this service",
        _ => "the libvirt connection failed",
    }
}

/// libvirt packs versions as major * 1,000,000 + minor * 1,000 + release.
pub(super) fn format_version(packed: u32) -> String {
    format!(
        "{}.{}.{}",
        packed / 1_000_000,
        packed / 1_000 % 1_000,
        packed % 1_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_unpack_like_virsh_prints_them() {
        assert_eq!(format_version(9_000_000), "9.0.0");
        assert_eq!(format_version(10_010_002), "10.10.2");
    }
}
