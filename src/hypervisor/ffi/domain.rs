//! Domain calls `virt` 0.5 does not wrap: saving to a file, unplugging a device by
//! alias and the guest agent's information; and a domain's identity read from a raw
//! pointer.

use std::{
    ffi::{CStr, CString},
    os::raw::{c_char, c_int, c_uint},
    ptr,
};

use virt::{error::Error as VirtError, sys};

use super::params::{ParamValue, copy_param};

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

/// `virDomainDetachDeviceAlias`: asks to unplug the device named `alias`. For a live
/// domain it returns at once; libvirt's DEVICE_REMOVED or DEVICE_REMOVAL_FAILED event
/// says how it ended. `virt` 0.5 does not wrap it.
pub(crate) fn detach_device_alias(
    dom: &virt::domain::Domain,
    alias: &str,
    flags: c_uint,
) -> Result<(), VirtError> {
    let alias = CString::new(alias)?;
    // SAFETY: `dom` holds a valid domain reference and `alias` outlives the call;
    // libvirt keeps neither.
    let rc = unsafe { sys::virDomainDetachDeviceAlias(dom.as_ptr(), alias.as_ptr(), flags) };
    if rc < 0 {
        Err(VirtError::last_error())
    } else {
        Ok(())
    }
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

/// A domain's UUID and name, copied (empty when libvirt cannot say).
///
/// # Safety
/// `dom` must be a valid domain pointer for the duration of the call.
pub(super) unsafe fn domain_identity(dom: sys::virDomainPtr) -> (String, String) {
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

/// Whether `dom` was obtained on `conn`. A domain handle keeps the connection it came
/// from; used on another one, its calls would go to a closed or older connection.
pub(crate) fn same_connection(dom: &virt::domain::Domain, conn: &virt::connect::Connect) -> bool {
    // SAFETY: both pointers are only compared, never dereferenced; `dom` is a valid
    // domain for the call, and virDomainGetConnect neither allocates nor takes a
    // reference.
    unsafe { sys::virDomainGetConnect(dom.as_ptr()) == conn.as_ptr() }
}

/// `virDomainGetState` as libvirt's numbers (state, reason), which the bulk stats API
/// also gives, so both read the same way.
pub(crate) fn state_numbers(dom: &virt::domain::Domain) -> Result<(u32, u32), VirtError> {
    let (mut state, mut reason): (c_int, c_int) = (-1, -1);
    // SAFETY: `dom` is a valid domain for the call; both outputs are plain integers.
    if unsafe { sys::virDomainGetState(dom.as_ptr(), &mut state, &mut reason, 0) } < 0 {
        return Err(VirtError::last_error());
    }
    Ok((
        u32::try_from(state).unwrap_or(0),
        u32::try_from(reason).unwrap_or(0),
    ))
}
