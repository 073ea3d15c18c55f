//! Opening a connection with the caller's credentials, and closing one with its error.

use std::{
    ffi::{CStr, CString},
    mem::ManuallyDrop,
    os::raw::{c_int, c_uint, c_void},
    ptr,
};

use virt::{connect::Connect, error::Error as VirtError, sys};

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
