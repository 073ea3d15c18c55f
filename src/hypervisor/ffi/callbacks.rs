//! Lifecycle event and close callbacks: registered with a boxed context that libvirt
//! frees exactly once, and the callbacks themselves on libvirt's event loop thread.

use std::{
    ffi::CStr,
    os::raw::{c_char, c_int, c_void},
    ptr,
    sync::{Arc, atomic::Ordering},
};

use virt::{connect::Connect, error::Error as VirtError, sys};

use super::domain::domain_identity;
use crate::hypervisor::event_sink::{
    CloseSignal, EventSink, RawLifecycleEvent, RawWhat, now_micros,
};
use crate::model::EventType;

/// Callback contexts handed to libvirt and not yet freed by it: a diagnostic that
/// proves each is freed exactly once (a leak stays above zero, a double free would
/// go below).
pub(super) static LIVE_CONTEXTS: std::sync::atomic::AtomicI64 =
    std::sync::atomic::AtomicI64::new(0);

/// How many callback contexts libvirt currently holds.
pub fn live_callback_contexts() -> i64 {
    LIVE_CONTEXTS.load(Ordering::SeqCst)
}

/// The C signature of a lifecycle callback (`virConnectDomainEventCallback`).
type LifecycleFn =
    unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, c_int, c_int, *mut c_void) -> c_int;
/// The C signature of the device callbacks (`virConnectDomainEventDeviceAddedCallback`,
/// `...DeviceRemovedCallback`, `...DeviceRemovalFailedCallback`).
type DeviceFn =
    unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *const c_char, *mut c_void);
/// The generic signature `virConnectDomainEventRegisterAny` takes.
pub(super) type GenericFn =
    unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void);

/// Registers for every domain's lifecycle events; returns the callback id.
pub(crate) fn register_lifecycle(conn: &Connect, sink: Arc<EventSink>) -> Result<c_int, VirtError> {
    let opaque = Box::into_raw(Box::new(sink)).cast::<c_void>();
    // SAFETY: libvirt calls the callback with the lifecycle signature for
    // VIR_DOMAIN_EVENT_ID_LIFECYCLE; the cast is what its VIR_DOMAIN_EVENT_CALLBACK
    // macro does in C.
    let callback = unsafe { std::mem::transmute::<LifecycleFn, GenericFn>(on_lifecycle) };
    // SAFETY: `conn` is a live connection; `opaque` is a valid boxed Arc whose
    // ownership passes to libvirt on success (freed by `free_event_sink`).
    let id = unsafe {
        sys::virConnectDomainEventRegisterAny(
            conn.as_ptr(),
            ptr::null_mut(),
            sys::VIR_DOMAIN_EVENT_ID_LIFECYCLE as c_int,
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

/// Registers for every domain's device events (added, removed, removal failed);
/// returns the callback ids of those the driver accepted.
pub(crate) fn register_devices(
    conn: &Connect,
    sink: &Arc<EventSink>,
) -> Result<Vec<c_int>, VirtError> {
    let events: [(u32, DeviceFn); 3] = [
        (sys::VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, on_device_added),
        (sys::VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, on_device_removed),
        (
            sys::VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
            on_device_removal_failed,
        ),
    ];
    let mut ids = Vec::with_capacity(events.len());
    for (event_id, callback) in events {
        let opaque = Box::into_raw(Box::new(Arc::clone(sink))).cast::<c_void>();
        // SAFETY: libvirt calls the callback with the device signature for these
        // event ids; the cast is what its VIR_DOMAIN_EVENT_CALLBACK macro does in C.
        let callback = unsafe { std::mem::transmute::<DeviceFn, GenericFn>(callback) };
        // SAFETY: as for `register_lifecycle`.
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
            for id in ids {
                let _ = deregister_lifecycle(conn, id);
            }
            return Err(err);
        }
        LIVE_CONTEXTS.fetch_add(1, Ordering::SeqCst);
        ids.push(id);
    }
    Ok(ids)
}

/// Removes a lifecycle (or device) registration; libvirt then frees its context.
pub(crate) fn deregister_lifecycle(conn: &Connect, id: c_int) -> Result<(), VirtError> {
    // SAFETY: `conn` is live and `id` came from `register_lifecycle` on it.
    if unsafe { sys::virConnectDomainEventDeregisterAny(conn.as_ptr(), id) } < 0 {
        return Err(VirtError::last_error());
    }
    Ok(())
}

/// Registers the close callback that flags `signal` when the connection drops.
pub(crate) fn register_close(conn: &Connect, signal: Arc<CloseSignal>) -> Result<(), VirtError> {
    let opaque = Box::into_raw(Box::new(signal)).cast::<c_void>();
    // SAFETY: as for `register_lifecycle`; ownership of `opaque` passes to libvirt on
    // success and returns to us on failure.
    let rc = unsafe {
        sys::virConnectRegisterCloseCallback(
            conn.as_ptr(),
            Some(on_close),
            opaque,
            Some(free_close_signal),
        )
    };
    if rc < 0 {
        let err = VirtError::last_error();
        // SAFETY: registration failed, so libvirt kept no reference to `opaque`.
        drop(unsafe { Box::from_raw(opaque.cast::<Arc<CloseSignal>>()) });
        return Err(err);
    }
    LIVE_CONTEXTS.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// Removes the close callback; libvirt then frees its context.
pub(crate) fn unregister_close(conn: &Connect) -> Result<(), VirtError> {
    // SAFETY: `conn` is live; libvirt matches the registration by function pointer.
    if unsafe { sys::virConnectUnregisterCloseCallback(conn.as_ptr(), Some(on_close)) } < 0 {
        return Err(VirtError::last_error());
    }
    Ok(())
}

/// Runs on libvirt's event loop thread: copy what is needed and hand it over.
unsafe extern "C" fn on_lifecycle(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    event: c_int,
    detail: c_int,
    opaque: *mut c_void,
) -> c_int {
    let occurred_at_micros = now_micros();
    // SAFETY: `opaque` is the boxed Arc registered with this callback, alive until
    // libvirt calls `free_event_sink`, which it never does during a callback.
    let sink = unsafe { &*opaque.cast::<Arc<EventSink>>() };
    // SAFETY: `dom` is valid for the callback's duration.
    let (domain_uuid, domain_name) = unsafe { domain_identity(dom) };
    sink.push(RawLifecycleEvent {
        domain_uuid,
        domain_name,
        what: RawWhat::Lifecycle { event, detail },
        occurred_at_micros,
    });
    0
}

unsafe extern "C" fn on_device_added(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    alias: *const c_char,
    opaque: *mut c_void,
) {
    // SAFETY: forwarded from libvirt's callback, whose arguments are valid for it.
    unsafe { push_device(dom, alias, opaque, EventType::DeviceAdded) }
}

unsafe extern "C" fn on_device_removed(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    alias: *const c_char,
    opaque: *mut c_void,
) {
    // SAFETY: forwarded from libvirt's callback, whose arguments are valid for it.
    unsafe { push_device(dom, alias, opaque, EventType::DeviceRemoved) }
}

unsafe extern "C" fn on_device_removal_failed(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    alias: *const c_char,
    opaque: *mut c_void,
) {
    // SAFETY: forwarded from libvirt's callback, whose arguments are valid for it.
    unsafe { push_device(dom, alias, opaque, EventType::DeviceRemovalFailed) }
}

/// Runs on libvirt's event loop thread: copy the domain and the alias, hand them over.
///
/// # Safety
/// The arguments of a device callback: `dom` valid, `alias` NULL or a C string,
/// `opaque` the boxed sink registered with the callback.
unsafe fn push_device(
    dom: sys::virDomainPtr,
    alias: *const c_char,
    opaque: *mut c_void,
    kind: EventType,
) {
    let occurred_at_micros = now_micros();
    // SAFETY: `opaque` is the boxed Arc registered with this callback, alive until
    // libvirt calls `free_event_sink`, which it never does during a callback.
    let sink = unsafe { &*opaque.cast::<Arc<EventSink>>() };
    // SAFETY: `dom` is valid for the callback's duration.
    let (domain_uuid, domain_name) = unsafe { domain_identity(dom) };
    let alias = if alias.is_null() {
        String::new()
    } else {
        // SAFETY: a non-null alias is a NUL-terminated string owned by libvirt for
        // the callback's duration; it is copied here.
        unsafe { CStr::from_ptr(alias) }
            .to_string_lossy()
            .into_owned()
    };
    sink.push(RawLifecycleEvent {
        domain_uuid,
        domain_name,
        what: RawWhat::Device { kind, alias },
        occurred_at_micros,
    });
}

/// Runs on libvirt's event loop thread when the connection closes for any reason.
unsafe extern "C" fn on_close(_conn: sys::virConnectPtr, reason: c_int, opaque: *mut c_void) {
    // SAFETY: `opaque` is the boxed Arc registered with this callback, alive until
    // libvirt calls `free_close_signal`.
    let signal = unsafe { &*opaque.cast::<Arc<CloseSignal>>() };
    signal.reason.store(reason, Ordering::Release);
    signal.closed.store(true, Ordering::Release);
    signal.wake.notify_one();
}

pub(super) unsafe extern "C" fn free_event_sink(opaque: *mut c_void) {
    // SAFETY: libvirt calls this exactly once per successful registration, with the
    // pointer `register_lifecycle` boxed.
    drop(unsafe { Box::from_raw(opaque.cast::<Arc<EventSink>>()) });
    LIVE_CONTEXTS.fetch_sub(1, Ordering::SeqCst);
}

unsafe extern "C" fn free_close_signal(opaque: *mut c_void) {
    // SAFETY: libvirt calls this exactly once per successful registration, with the
    // pointer `register_close` boxed.
    drop(unsafe { Box::from_raw(opaque.cast::<Arc<CloseSignal>>()) });
    LIVE_CONTEXTS.fetch_sub(1, Ordering::SeqCst);
}
