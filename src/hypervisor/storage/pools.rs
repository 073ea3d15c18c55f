//! Reading storage pools: listing them, one by name, and a rescan of one.

use virt::connect::Connect;

use super::{describe, lookup};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::StoragePoolInfo,
};

/// Every storage pool, active and inactive, ordered by name.
#[derive(Debug, Clone)]
pub struct ListStoragePools;

impl Operation for ListStoragePools {
    type Output = Vec<StoragePoolInfo>;
    const NAME: &'static str = "list storage pools";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let pools = conn
            .list_all_storage_pools(0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        let mut infos = Vec::with_capacity(pools.len());
        for pool in &pools {
            match describe::pool(pool) {
                Ok(info) => infos.push(info),
                // Undefined between the listing and the read.
                Err(HypervisorError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(infos)
    }
}

/// One storage pool, by name.
#[derive(Debug, Clone)]
pub struct GetStoragePool(pub String);

impl Operation for GetStoragePool {
    type Output = StoragePoolInfo;
    const NAME: &'static str = "get storage pool";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        describe::pool(&lookup::pool(conn, &self.0)?)
    }
}

/// Rescans a running pool (volumes and space changed outside libvirt); the pool after.
#[derive(Debug, Clone)]
pub struct RefreshStoragePool(pub String);

impl Operation for RefreshStoragePool {
    type Output = StoragePoolInfo;
    const NAME: &'static str = "refresh storage pool";
    // A rescan changes nothing but libvirt's view: repeating it is harmless.
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let pool = lookup::pool(conn, &self.0)?;
        describe::ensure_running(&pool, &self.0, Self::NAME)?;
        pool.refresh(0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        describe::pool(&pool)
    }
}
