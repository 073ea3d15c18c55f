//! Creating, starting, stopping and deleting storage pools.

use virt::{connect::Connect, storage_pool::StoragePool};

use super::{describe, lookup, pool_xml};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{NewPool, PoolState, StoragePoolInfo},
};

/// Defines a persistent directory pool, builds its directory and starts it.
#[derive(Debug, Clone)]
pub struct CreateStoragePool(pub NewPool);

impl Operation for CreateStoragePool {
    type Output = StoragePoolInfo;
    const NAME: &'static str = "create storage pool";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    // Disk space, not the host's CPU or memory.
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let NewPool {
            name,
            target,
            autostart,
        } = &self.0;
        let taken = |message| HypervisorError::AlreadyExists {
            operation: Self::NAME,
            message,
        };
        match lookup::pool(conn, name) {
            Ok(_) => return Err(taken(format!("a storage pool named {name:?} exists"))),
            Err(HypervisorError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        // libvirt refuses a second pool on one directory with an opaque error; a
        // driver that cannot look pools up by path leaves it to libvirt.
        if let Ok(other) = conn.lookup_storage_pool_by_target_path(target.as_str()) {
            let other = other.name().unwrap_or_default();
            return Err(taken(format!(
                "storage pool {other:?} uses directory {:?} already",
                target.as_str()
            )));
        }
        let fail = |e: virt::error::Error| HypervisorError::from_virt(Self::NAME, &e);
        let xml = pool_xml::render_dir_pool(name, target.as_str());
        let pool = conn.define_storage_pool_xml(&xml, 0).map_err(fail)?;
        let started = pool.build(0).and_then(|()| pool.create(0)).and_then(|()| {
            if *autostart {
                pool.set_autostart(true)
            } else {
                Ok(())
            }
        });
        if let Err(e) = started {
            // Half a pool helps nobody: the definition goes, the directory (which may
            // have existed before) stays.
            if pool.is_active().unwrap_or(false) {
                let _ = pool.destroy();
            }
            let _ = pool.undefine();
            return Err(fail(e));
        }
        describe::pool(&pool)
    }
}

/// Starts an inactive pool.
#[derive(Debug, Clone)]
pub struct StartStoragePool(pub String);

impl Operation for StartStoragePool {
    type Output = StoragePoolInfo;
    const NAME: &'static str = "start storage pool";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let pool = lookup::pool(conn, &self.0)?;
        if describe::is_active(&pool)? {
            return Err(HypervisorError::FailedPrecondition {
                operation: Self::NAME,
                message: format!("storage pool {:?} is running already", self.0),
            });
        }
        pool.create(0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        describe::pool(&pool)
    }
}

/// Stops a running pool; its volumes stay where they are.
#[derive(Debug, Clone)]
pub struct StopStoragePool(pub String);

impl Operation for StopStoragePool {
    type Output = StoragePoolInfo;
    const NAME: &'static str = "stop storage pool";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let pool = lookup::pool(conn, &self.0)?;
        describe::ensure_running(&pool, &self.0, Self::NAME)?;
        // A transient pool vanishes when it stops: describe it while it is there.
        let before = describe::pool(&pool)?;
        pool.destroy()
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        if before.persistent {
            return describe::pool(&pool);
        }
        Ok(StoragePoolInfo {
            state: PoolState::Inactive,
            capacity_bytes: 0,
            allocation_bytes: 0,
            available_bytes: 0,
            ..before
        })
    }
}

/// Stops a pool if it runs and removes its definition, and its directory when asked.
#[derive(Debug, Clone)]
pub struct DeleteStoragePool {
    pub name: String,
    pub remove_directory: bool,
}

impl Operation for DeleteStoragePool {
    type Output = ();
    const NAME: &'static str = "delete storage pool";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let fail = |e: virt::error::Error| HypervisorError::from_virt(Self::NAME, &e);
        let pool = lookup::pool(conn, &self.name)?;
        let persistent = pool.is_persistent().map_err(fail)?;
        if self.remove_directory && !persistent {
            return Err(self.refused(
                "it is transient: libvirt removes a pool's directory only while the pool is defined and stopped",
            ));
        }
        if describe::is_active(&pool)? {
            if self.remove_directory {
                self.ensure_empty(&pool)?;
            }
            pool.destroy().map_err(fail)?;
        }
        if self.remove_directory {
            pool.delete(0).map_err(|e| self.not_removed(&e))?;
        }
        if persistent {
            pool.undefine().map_err(fail)?;
        }
        Ok(())
    }
}

impl DeleteStoragePool {
    fn refused(&self, why: &str) -> HypervisorError {
        HypervisorError::FailedPrecondition {
            operation: Self::NAME,
            message: format!(
                "the directory of storage pool {:?} cannot be removed: {why}",
                self.name
            ),
        }
    }

    /// Refuses to remove a directory that still holds volumes, naming a few.
    fn ensure_empty(&self, pool: &StoragePool) -> Result<(), HypervisorError> {
        let mut names = pool
            .list_volumes()
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        if names.is_empty() {
            return Ok(());
        }
        names.sort();
        let count = names.len();
        names.truncate(5);
        Err(self.refused(&format!(
            "it holds {count} volume(s) ({}{}): delete them first, or keep the directory",
            names.join(", "),
            if count > names.len() { ", ..." } else { "" }
        )))
    }

    /// libvirt's failure to remove the directory (files left in it, most often) is the
    /// directory's state, not the service's fault.
    fn not_removed(&self, e: &virt::error::Error) -> HypervisorError {
        match HypervisorError::from_virt(Self::NAME, e) {
            HypervisorError::Internal { message, .. } => self.refused(&format!(
                "{message} (the pool is stopped and still defined)"
            )),
            other => other,
        }
    }
}
