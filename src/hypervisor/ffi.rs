//! The few libvirt calls the `virt` crate does not wrap safely enough, fenced here.
//!
//! - `virConnectOpenAuth` with credentials the caller owns: `virt`'s callback is a
//!   plain `fn` and cannot carry the configured user name and passphrase.
//! - `virConnectClose` with its error returned: `virt`'s `Drop` panics on failure.
//! - `virDomainSaveFlags`, which `virt` 0.5 does not wrap, and
//!   `virConnectGetAllDomainStats`, whose records `virt` 0.5 neither reads nor frees.
//! - Lifecycle event and close callback registration, which `virt` 0.5 lacks. Each
//!   callback's context is a boxed `Arc` handed to libvirt together with a free
//!   function; libvirt calls that function exactly once, when it drops the callback
//!   (on deregistration or when the connection is disposed). When registration
//!   fails libvirt keeps nothing, and the box is freed here instead.
#![allow(
    unsafe_code,
    reason = "FFI to libvirt; every block states why it is sound"
)]

use std::{
    ffi::{CStr, CString},
    mem::ManuallyDrop,
    os::raw::{c_char, c_int, c_uint, c_void},
    ptr,
    sync::{Arc, atomic::Ordering},
};

use virt::{connect::Connect, error::Error as VirtError, sys};

use super::event_sink::{CloseSignal, EventSink, RawLifecycleEvent, now_micros};

/// Callback contexts handed to libvirt and not yet freed by it: a diagnostic that
/// proves each is freed exactly once (a leak stays above zero, a double free would
/// go below).
static LIVE_CONTEXTS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// How many callback contexts libvirt currently holds.
pub fn live_callback_contexts() -> i64 {
    LIVE_CONTEXTS.load(Ordering::SeqCst)
}

/// Credentials answered to libvirt's authentication callback.
#[derive(Default)]
pub(crate) struct Credentials {
    pub(crate) username: Option<CString>,
    pub(crate) passphrase: Option<CString>,
}

/// Opens a connection with `virConnectOpenAuth`, answering credential prompts from `creds`.
///
/// Must run on a blocking thread: it may wait on the network for as long as the
/// daemon takes to answer.
pub(crate) fn open_auth(
    uri: &str,
    creds: &Credentials,
    read_only: bool,
) -> Result<Connect, VirtError> {
    let uri = CString::new(uri)?;
    let mut credtypes: [c_int; 4] = [
        sys::VIR_CRED_AUTHNAME as c_int,
        sys::VIR_CRED_USERNAME as c_int,
        sys::VIR_CRED_PASSPHRASE as c_int,
        sys::VIR_CRED_NOECHOPROMPT as c_int,
    ];
    let mut auth = sys::virConnectAuth {
        credtype: credtypes.as_mut_ptr(),
        ncredtype: credtypes.len() as c_uint,
        cb: Some(answer_credentials),
        cbdata: ptr::from_ref(creds).cast_mut().cast::<c_void>(),
    };
    let flags = if read_only { sys::VIR_CONNECT_RO } else { 0 };
    // SAFETY: `uri`, `auth`, `credtypes` and `creds` outlive the call; libvirt calls
    // `answer_credentials` only during it, on this thread.
    let ptr = unsafe { sys::virConnectOpenAuth(uri.as_ptr(), &mut auth, flags) };
    if ptr.is_null() {
        // Read on the failing thread: libvirt's last error is thread-local.
        return Err(VirtError::last_error());
    }
    // SAFETY: a non-null pointer from virConnectOpenAuth carries one reference, which
    // the returned `Connect` now owns.
    Ok(unsafe { Connect::from_ptr(ptr) })
}

/// Closes a connection, returning libvirt's error instead of panicking like `Drop`.
pub(crate) fn close(conn: Connect) -> Result<(), VirtError> {
    let conn = ManuallyDrop::new(conn);
    // SAFETY: the reference owned by `conn` is released exactly once, here; `conn` is
    // never dropped, so `virt`'s `Drop` does not release it a second time.
    let rc = unsafe { sys::virConnectClose(conn.as_ptr()) };
    if rc < 0 {
        Err(VirtError::last_error())
    } else {
        Ok(())
    }
}

/// libvirt's credential callback: fills each requested credential from `Credentials`.
///
/// Returns -1 (authentication fails with libvirt's own message) when asked for a
/// credential that is not configured.
unsafe extern "C" fn answer_credentials(
    creds: sys::virConnectCredentialPtr,
    ncred: c_uint,
    cbdata: *mut c_void,
) -> c_int {
    // SAFETY: `cbdata` is the `&Credentials` passed by `open_auth`, alive for the call.
    let answers = unsafe { &*cbdata.cast::<Credentials>() };
    for i in 0..ncred as usize {
        // SAFETY: libvirt passes an array of `ncred` credentials.
        let cred = unsafe { &mut *creds.add(i) };
        let answer: Option<&CStr> = match cred.type_ as u32 {
            sys::VIR_CRED_AUTHNAME | sys::VIR_CRED_USERNAME => answers.username.as_deref(),
            sys::VIR_CRED_PASSPHRASE | sys::VIR_CRED_NOECHOPROMPT => answers.passphrase.as_deref(),
            _ => None,
        };
        let Some(answer) = answer else { return -1 };
        // SAFETY: libvirt frees `result` with free(), so it must come from malloc:
        // strdup allocates with malloc and copies the NUL-terminated answer.
        let copy = unsafe { libc::strdup(answer.as_ptr()) };
        if copy.is_null() {
            return -1;
        }
        cred.result = copy;
        cred.resultlen = answer.to_bytes().len() as c_uint;
    }
    0
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

/// Saves a running domain's memory to `path` and stops it (`virDomainSaveFlags`),
/// which `virt` 0.5 does not wrap. Blocking for as long as the memory takes to write.
pub(crate) fn save_domain(
    dom: &virt::domain::Domain,
    path: &str,
    flags: c_uint,
) -> Result<(), VirtError> {
    let path = CString::new(path)?;
    // SAFETY: `dom` holds a valid domain reference for the duration of the call, and
    // `path` outlives it; libvirt accepts a NULL replacement XML and keeps neither.
    let rc = unsafe { sys::virDomainSaveFlags(dom.as_ptr(), path.as_ptr(), ptr::null(), flags) };
    if rc < 0 {
        Err(VirtError::last_error())
    } else {
        Ok(())
    }
}

/// One value of a typed parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParamValue {
    Int(i64),
    UInt(u64),
    Double(f64),
    Bool(bool),
    Text(String),
}

/// One domain's record from the bulk stats API: who, and its `field = value` pairs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StatsRecord {
    pub(crate) uuid: String,
    pub(crate) name: String,
    pub(crate) params: Vec<(String, ParamValue)>,
}

/// `virConnectGetAllDomainStats`: the `stats` groups of every domain in one round
/// trip. `virt` 0.5 returns raw records and never frees them; this copies each into
/// owned values and frees the list.
pub(crate) fn all_domain_stats(
    conn: &Connect,
    stats: c_uint,
    flags: c_uint,
) -> Result<Vec<StatsRecord>, VirtError> {
    let mut list: *mut sys::virDomainStatsRecordPtr = ptr::null_mut();
    // SAFETY: `conn` is a valid connection for the call; libvirt allocates `list`, a
    // NULL-terminated array this function owns afterwards.
    let count = unsafe { sys::virConnectGetAllDomainStats(conn.as_ptr(), stats, &mut list, flags) };
    if count < 0 {
        return Err(VirtError::last_error());
    }
    let mut records = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for i in 0..usize::try_from(count).unwrap_or(0) {
        // SAFETY: `list` holds `count` valid record pointers (then NULL).
        let record = unsafe { &**list.add(i) };
        records.push(copy_record(record));
    }
    // SAFETY: `list` came from virConnectGetAllDomainStats and is freed once, here;
    // nothing borrowed from it outlives this point (every value was copied).
    unsafe { sys::virDomainStatsRecordListFree(list) };
    Ok(records)
}

/// `virDomainListGetStats` for one domain: its record, or `None` when libvirt
/// returned none.
pub(crate) fn domain_stats(
    dom: &virt::domain::Domain,
    stats: c_uint,
    flags: c_uint,
) -> Result<Option<StatsRecord>, VirtError> {
    let mut list: *mut sys::virDomainStatsRecordPtr = ptr::null_mut();
    // SAFETY: a NULL-terminated array of one valid domain pointer, alive across the call.
    let mut doms = [unsafe { dom.as_ptr() }, ptr::null_mut()];
    // SAFETY: as for virConnectGetAllDomainStats: `list` is allocated by libvirt and
    // owned (and freed) here.
    let count = unsafe { sys::virDomainListGetStats(doms.as_mut_ptr(), stats, &mut list, flags) };
    if count < 0 {
        return Err(VirtError::last_error());
    }
    let record = if count > 0 {
        // SAFETY: at least one valid record pointer.
        Some(copy_record(unsafe { &**list }))
    } else {
        None
    };
    // SAFETY: freed once; every value was copied.
    unsafe { sys::virDomainStatsRecordListFree(list) };
    Ok(record)
}

/// Copies one record's domain identity and parameters into owned values.
fn copy_record(record: &sys::_virDomainStatsRecord) -> StatsRecord {
    // SAFETY: `record.dom` is a valid domain for the record's life.
    let (uuid, name) = unsafe { domain_identity(record.dom) };
    let count = usize::try_from(record.nparams).unwrap_or(0);
    let params = (0..count)
        .map(|i| {
            // SAFETY: `params` holds `nparams` initialised parameters.
            let param = unsafe { &*record.params.add(i) };
            copy_param(param)
        })
        .collect();
    StatsRecord { uuid, name, params }
}

fn copy_param(param: &sys::virTypedParameter) -> (String, ParamValue) {
    // SAFETY: `field` is a NUL-terminated name within its 80 bytes (VIR_TYPED_PARAM_FIELD_LENGTH).
    let field = unsafe { CStr::from_ptr(param.field.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: each arm reads the union member that `type_` says is set.
    let value = unsafe {
        match param.type_ as u32 {
            sys::VIR_TYPED_PARAM_INT => ParamValue::Int(i64::from(param.value.i)),
            sys::VIR_TYPED_PARAM_UINT => ParamValue::UInt(u64::from(param.value.ui)),
            sys::VIR_TYPED_PARAM_LLONG => ParamValue::Int(param.value.l),
            sys::VIR_TYPED_PARAM_ULLONG => ParamValue::UInt(param.value.ul),
            sys::VIR_TYPED_PARAM_DOUBLE => ParamValue::Double(param.value.d),
            sys::VIR_TYPED_PARAM_BOOLEAN => ParamValue::Bool(param.value.b != 0),
            sys::VIR_TYPED_PARAM_STRING if !param.value.s.is_null() => {
                ParamValue::Text(CStr::from_ptr(param.value.s).to_string_lossy().into_owned())
            }
            _ => ParamValue::Text(String::new()),
        }
    };
    (field, value)
}

/// A domain's UUID and name, copied (empty when libvirt cannot say).
///
/// # Safety
/// `dom` must be a valid domain pointer for the duration of the call.
unsafe fn domain_identity(dom: sys::virDomainPtr) -> (String, String) {
    let mut uuid = [0 as c_char; sys::VIR_UUID_STRING_BUFLEN as usize];
    // SAFETY: `dom` is valid (the caller's promise); the buffer has the size libvirt
    // documents (VIR_UUID_STRING_BUFLEN) and is NUL-terminated on success.
    let uuid = if unsafe { sys::virDomainGetUUIDString(dom, uuid.as_mut_ptr()) } == 0 {
        // SAFETY: filled with a NUL-terminated string above.
        unsafe { CStr::from_ptr(uuid.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    } else {
        String::new()
    };
    // SAFETY: `dom` is valid; the name belongs to it and is only read here.
    let name = unsafe { sys::virDomainGetName(dom) };
    let name = if name.is_null() {
        String::new()
    } else {
        // SAFETY: non-null names are NUL-terminated C strings owned by `dom`.
        unsafe { CStr::from_ptr(name) }
            .to_string_lossy()
            .into_owned()
    };
    (uuid, name)
}

/// `virDomainGetGuestInfo`: what the guest agent reports, as `field = value` pairs,
/// copied and freed. `virt` 0.5 does not wrap it.
pub(crate) fn guest_info(
    dom: &virt::domain::Domain,
    types: c_uint,
    flags: c_uint,
) -> Result<Vec<(String, ParamValue)>, VirtError> {
    let mut params: sys::virTypedParameterPtr = ptr::null_mut();
    let mut count: c_int = 0;
    // SAFETY: a valid domain for the call; libvirt allocates `params` (`count` of
    // them), owned and freed here.
    let rc =
        unsafe { sys::virDomainGetGuestInfo(dom.as_ptr(), types, &mut params, &mut count, flags) };
    if rc < 0 {
        return Err(VirtError::last_error());
    }
    let copied = (0..usize::try_from(count).unwrap_or(0))
        // SAFETY: `params` holds `count` initialised parameters.
        .map(|i| copy_param(unsafe { &*params.add(i) }))
        .collect();
    // SAFETY: allocated by virDomainGetGuestInfo, freed once; every value was copied.
    unsafe { sys::virTypedParamsFree(params, count) };
    Ok(copied)
}
