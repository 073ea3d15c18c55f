//! Lifecycle event and close callbacks: registered with a boxed context that libvirt
//! frees exactly once, and the callbacks themselves on libvirt's event loop thread.

use std::{
    os::raw::{c_int, c_void},
    ptr,
    sync::{Arc, atomic::Ordering},
};

use virt::{connect::Connect, error::Error as VirtError, sys};

use super::domain::domain_identity;
use crate::hypervisor::event_sink::{CloseSignal, EventSink, RawLifecycleEvent, now_micros};

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
/// The generic signature `virConnectDomainEventRegisterAny` takes.
type GenericFn = unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void);

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

/// Removes a lifecycle registration; libvirt then frees its context.
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
        event,
        detail,
        occurred_at_micros,
    });
    0
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

unsafe extern "C" fn free_event_sink(opaque: *mut c_void) {
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
