//! Finding pools and volumes by name, with refusals that name what was missing.

use virt::{connect::Connect, storage_pool::StoragePool, storage_vol::StorageVol};

use crate::{
    hypervisor::{HypervisorError, Missing},
    model::VolumeRef,
};

/// The pool named `name`.
pub(super) fn pool(conn: &Connect, name: &str) -> Result<StoragePool, HypervisorError> {
    conn.lookup_storage_pool_by_name(name).map_err(|e| {
        match HypervisorError::from_virt("look up storage pool", &e) {
            HypervisorError::NotFound { operation, .. } => HypervisorError::NotFound {
                operation,
                missing: Missing::StoragePool(name.to_owned()),
                message: format!("no storage pool is named {name:?}"),
            },
            other => other,
        }
    })
}

/// The volume `volume` names, and its pool.
pub(super) fn volume(
    conn: &Connect,
    volume: &VolumeRef,
) -> Result<(StoragePool, StorageVol), HypervisorError> {
    let pool = pool(conn, &volume.pool)?;
    let vol = in_pool(&pool, &volume.pool, &volume.volume)?;
    Ok((pool, vol))
}

/// The volume named `name` in `pool` (named `pool_name`).
pub(super) fn in_pool(
    pool: &StoragePool,
    pool_name: &str,
    name: &str,
) -> Result<StorageVol, HypervisorError> {
    pool.lookup_storage_vol_by_name(name).map_err(|e| {
        match HypervisorError::from_virt("look up storage volume", &e) {
            HypervisorError::NotFound { operation, .. } => HypervisorError::NotFound {
                operation,
                missing: Missing::Volume {
                    pool: pool_name.to_owned(),
                    volume: name.to_owned(),
                },
                message: format!("storage pool {pool_name:?} has no volume named {name:?}"),
            },
            other => other,
        }
    })
}

/// Refuses a name another volume of `pool` has.
pub(super) fn ensure_free(
    pool: &StoragePool,
    pool_name: &str,
    name: &str,
    operation: &'static str,
) -> Result<(), HypervisorError> {
    match in_pool(pool, pool_name, name) {
        Ok(_) => Err(HypervisorError::AlreadyExists {
            operation,
            message: format!("storage pool {pool_name:?} has a volume named {name:?} already"),
        }),
        Err(HypervisorError::NotFound { .. }) => Ok(()),
        Err(other) => Err(other),
    }
}
