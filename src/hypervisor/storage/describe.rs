//! Reading a pool or a volume into the model.

use virt::{storage_pool::StoragePool, storage_vol::StorageVol, sys};

use super::{pool_xml, volume_xml};
use crate::{
    hypervisor::HypervisorError,
    model::{PoolState, StoragePoolInfo, VolumeInfo},
};

/// A pool's description: its info, flags and XML.
pub(super) fn pool(pool: &StoragePool) -> Result<StoragePoolInfo, HypervisorError> {
    let fail = |op| move |e: virt::error::Error| HypervisorError::from_virt(op, &e);
    let info = pool.info().map_err(fail("read storage pool info"))?;
    let xml = pool.xml_desc(0).map_err(fail("read storage pool XML"))?;
    let pool_xml::PoolXml { kind, target_path } = pool_xml::parse(&xml)?;
    Ok(StoragePoolInfo {
        name: pool.name().map_err(fail("read storage pool name"))?,
        uuid: pool.uuid_string().map_err(fail("read storage pool uuid"))?,
        kind,
        state: state(info.state),
        persistent: pool
            .is_persistent()
            .map_err(fail("read storage pool persistence"))?,
        autostart: pool
            .autostart()
            .map_err(fail("read storage pool autostart"))?,
        capacity_bytes: info.capacity,
        allocation_bytes: info.allocation,
        available_bytes: info.available,
        target_path,
    })
}

/// A volume of `pool_name`, from its XML alone (one round trip).
pub(super) fn volume(vol: &StorageVol, pool_name: &str) -> Result<VolumeInfo, HypervisorError> {
    let xml = vol
        .xml_desc(0)
        .map_err(|e| HypervisorError::from_virt("read storage volume XML", &e))?;
    volume_xml::parse(&xml, pool_name)
}

/// Whether a pool runs (its volumes can be listed and used).
pub(super) fn is_active(pool: &StoragePool) -> Result<bool, HypervisorError> {
    pool.is_active()
        .map_err(|e| HypervisorError::from_virt("read storage pool state", &e))
}

/// Refuses `operation` on a pool that is not running, saying so: drivers word (and
/// code) it differently.
pub(super) fn ensure_running(
    pool: &StoragePool,
    name: &str,
    operation: &'static str,
) -> Result<(), HypervisorError> {
    if is_active(pool)? {
        return Ok(());
    }
    Err(HypervisorError::FailedPrecondition {
        operation,
        message: format!("storage pool {name:?} is not running: start it first"),
    })
}

fn state(raw: u32) -> PoolState {
    match raw {
        sys::VIR_STORAGE_POOL_BUILDING => PoolState::Building,
        sys::VIR_STORAGE_POOL_RUNNING => PoolState::Running,
        sys::VIR_STORAGE_POOL_DEGRADED => PoolState::Degraded,
        sys::VIR_STORAGE_POOL_INACCESSIBLE => PoolState::Inaccessible,
        _ => PoolState::Inactive,
    }
}
