//! The bulk statistics API: every domain's records in one round trip, copied and freed.

use std::{os::raw::c_uint, ptr};

use virt::{connect::Connect, error::Error as VirtError, sys};

use super::{
    domain::domain_identity,
    params::{ParamValue, copy_param},
};

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
