//! Callbacks for changes the journal does not record but the inventory shows: a
//! domain's metadata (its labels), tunables (vCPU pinning, limits) and balloon size.
//! Each only marks the domain for a re-read; the re-read says what changed.

use std::{
    os::raw::{c_char, c_int, c_uint, c_ulonglong, c_void},
    ptr,
    sync::{Arc, atomic::Ordering},
};

use virt::{connect::Connect, error::Error as VirtError, sys};

use super::callbacks::{GenericFn, LIVE_CONTEXTS, free_event_sink};
use super::domain::domain_identity;
use crate::hypervisor::event_sink::EventSink;

/// `virConnectDomainEventMetadataChangeCallback`.
type MetadataFn =
    unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, c_int, *const c_char, *mut c_void);
/// `virConnectDomainEventTunableCallback`.
type TunableFn = unsafe extern "C" fn(
    sys::virConnectPtr,
    sys::virDomainPtr,
    sys::virTypedParameterPtr,
    c_int,
    *mut c_void,
);
/// `virConnectDomainEventBalloonChangeCallback`.
type BalloonFn =
    unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, c_ulonglong, *mut c_void);

/// Registers for metadata, tunable and balloon events of every domain; returns the
/// callback ids of those the driver accepted (a driver may lack some).
pub(crate) fn register_changes(conn: &Connect, sink: &Arc<EventSink>) -> Vec<c_int> {
    // SAFETY: libvirt calls each callback with the signature of its event id; the
    // casts are what its VIR_DOMAIN_EVENT_CALLBACK macro does in C.
    let events: [(c_uint, GenericFn); 3] = unsafe {
        [
            (
                sys::VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                std::mem::transmute::<MetadataFn, GenericFn>(on_metadata),
            ),
            (
                sys::VIR_DOMAIN_EVENT_ID_TUNABLE,
                std::mem::transmute::<TunableFn, GenericFn>(on_tunable),
            ),
            (
                sys::VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
                std::mem::transmute::<BalloonFn, GenericFn>(on_balloon),
            ),
        ]
    };
    let mut ids = Vec::with_capacity(events.len());
    for (event_id, callback) in events {
        match register_one(conn, sink, event_id, callback) {
            Ok(id) => ids.push(id),
            Err(e) => {
                tracing::debug!(event_id, error = %e.message(), "driver refuses a change event; seen at the next event or reconciliation");
            }
        }
    }
    ids
}

fn register_one(
    conn: &Connect,
    sink: &Arc<EventSink>,
    event_id: c_uint,
    callback: GenericFn,
) -> Result<c_int, VirtError> {
    let opaque = Box::into_raw(Box::new(Arc::clone(sink))).cast::<c_void>();
    // SAFETY: `conn` is a live connection; `opaque` is a valid boxed Arc whose
    // ownership passes to libvirt on success (freed by `free_event_sink`).
    let id = unsafe {
        sys::virConnectDomainEventRegisterAny(
            conn.as_ptr(),
            ptr::null_mut(),
            event_id as c_int,
            Some(callback),
            opaque,
            Some(free_event_sink),
        )
    };
    if id < 0 {
        let err = VirtError::last_error();
        // SAFETY: registration failed, so libvirt kept no reference to `opaque`.
        drop(unsafe { Box::from_raw(opaque.cast::<Arc<EventSink>>()) });
        return Err(err);
    }
    LIVE_CONTEXTS.fetch_add(1, Ordering::SeqCst);
    Ok(id)
}

unsafe extern "C" fn on_metadata(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    _kind: c_int,
    _namespace: *const c_char,
    opaque: *mut c_void,
) {
    // SAFETY: forwarded from libvirt's callback, whose arguments are valid for it.
    unsafe { touch(dom, opaque) }
}

unsafe extern "C" fn on_tunable(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    _params: sys::virTypedParameterPtr,
    _nparams: c_int,
    opaque: *mut c_void,
) {
    // SAFETY: forwarded from libvirt's callback, whose arguments are valid for it.
    unsafe { touch(dom, opaque) }
}

unsafe extern "C" fn on_balloon(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    _actual: c_ulonglong,
    opaque: *mut c_void,
) {
    // SAFETY: forwarded from libvirt's callback, whose arguments are valid for it.
    unsafe { touch(dom, opaque) }
}

/// Runs on libvirt's event loop thread: marks the domain, nothing more.
///
/// # Safety
/// `dom` valid for the callback's duration, `opaque` the boxed sink registered with
/// the callback.
unsafe fn touch(dom: sys::virDomainPtr, opaque: *mut c_void) {
    // SAFETY: `opaque` is the boxed Arc registered with this callback, alive until
    // libvirt calls `free_event_sink`, which it never does during a callback.
    let sink = unsafe { &*opaque.cast::<Arc<EventSink>>() };
    // SAFETY: `dom` is valid for the callback's duration.
    let (domain_uuid, _) = unsafe { domain_identity(dom) };
    sink.touch(&domain_uuid);
}
