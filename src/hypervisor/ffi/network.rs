//! `virNetworkGetDHCPLeases`, which `virt` 0.5 does not wrap: a network's leases,
//! copied into owned values and freed.

use std::{
    ffi::{CStr, CString, c_char, c_void},
    ptr,
};

use virt::{error::Error as VirtError, network::Network, sys};

/// One lease as libvirt reports it, copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeaseRecord {
    /// The host interface (the network's bridge).
    pub(crate) interface: String,
    /// Seconds since the epoch; 0 for a lease that never expires.
    pub(crate) expiry_time: i64,
    pub(crate) ipv6: bool,
    pub(crate) mac: String,
    pub(crate) iaid: Option<String>,
    pub(crate) ip: String,
    pub(crate) prefix: u32,
    pub(crate) hostname: Option<String>,
    pub(crate) client_id: Option<String>,
}

/// The network's leases, only those of `mac` when given (libvirt compares MAC
/// addresses without regard to case).
pub(crate) fn dhcp_leases(net: &Network, mac: Option<&str>) -> Result<Vec<LeaseRecord>, VirtError> {
    let mac = mac.map(CString::new).transpose()?;
    let mac_ptr = mac.as_ref().map_or(ptr::null(), |m| m.as_ptr());
    let mut leases: *mut sys::virNetworkDHCPLeasePtr = ptr::null_mut();
    // SAFETY: `net` holds a valid network reference for the call; `mac_ptr` is NULL
    // or a NUL-terminated string that outlives it. On success libvirt allocates
    // `leases`, an array of `count` lease pointers this function owns afterwards.
    let count = unsafe { sys::virNetworkGetDHCPLeases(net.as_ptr(), mac_ptr, &mut leases, 0) };
    if count < 0 {
        return Err(VirtError::last_error());
    }
    let count = usize::try_from(count).unwrap_or(0);
    let mut records = Vec::with_capacity(count);
    for i in 0..count {
        // SAFETY: `leases` holds `count` lease pointers; each is read once here.
        let lease = unsafe { *leases.add(i) };
        if lease.is_null() {
            continue;
        }
        // SAFETY: a non-null lease libvirt allocated, valid until freed below.
        records.push(unsafe { copy_lease(&*lease) });
        // SAFETY: each lease is freed exactly once, after its fields were copied.
        unsafe { sys::virNetworkDHCPLeaseFree(lease) };
    }
    if !leases.is_null() {
        // SAFETY: libvirt documents the array itself as the caller's to free() once
        // its members are freed; nothing refers to it any more.
        unsafe { libc::free(leases.cast::<c_void>()) };
    }
    Ok(records)
}

/// Copies a lease's fields into owned values.
///
/// # Safety
/// `lease` must come from libvirt: its string fields are NULL or NUL-terminated.
unsafe fn copy_lease(lease: &sys::virNetworkDHCPLease) -> LeaseRecord {
    // SAFETY: the caller's promise covers every string field read below.
    let text = |p: *mut c_char| unsafe { optional(p) };
    LeaseRecord {
        interface: text(lease.iface).unwrap_or_default(),
        expiry_time: lease.expirytime,
        ipv6: u32::try_from(lease.type_).ok() == Some(sys::VIR_IP_ADDR_TYPE_IPV6),
        mac: text(lease.mac).unwrap_or_default(),
        iaid: text(lease.iaid),
        ip: text(lease.ipaddr).unwrap_or_default(),
        prefix: lease.prefix,
        hostname: text(lease.hostname),
        client_id: text(lease.clientid),
    }
}

/// A C string libvirt owns, copied; `None` for NULL.
///
/// # Safety
/// `p` must be NULL or a valid NUL-terminated string for the duration of the call.
unsafe fn optional(p: *mut c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null, NUL-terminated (the caller's promise).
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}
