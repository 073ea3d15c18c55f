//! Listing, reading, creating and cloning volumes.

use virt::{connect::Connect, storage_vol::StorageVol};

use super::{describe, lookup, volume_xml};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{BackingStore, NewVolume, VolumeInfo, VolumeRef},
};

/// One page of a running pool's volumes, ordered by name: those after `after`, at most
/// `limit`. Only the page's volumes are read (a round trip each).
#[derive(Debug, Clone)]
pub struct ListVolumes {
    pub pool: String,
    pub after: Option<String>,
    pub limit: usize,
}

impl Operation for ListVolumes {
    type Output = Vec<VolumeInfo>;
    const NAME: &'static str = "list storage volumes";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let pool = lookup::pool(conn, &self.pool)?;
        describe::ensure_running(&pool, &self.pool, Self::NAME)?;
        let volumes = pool
            .list_all_volumes(0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        // A volume object carries its name: sorting costs no round trip.
        let mut named: Vec<(String, &StorageVol)> = volumes
            .iter()
            .filter_map(|vol| Some((vol.name().ok()?, vol)))
            .filter(|(name, _)| self.after.as_ref().is_none_or(|after| name > after))
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let mut infos = Vec::with_capacity(self.limit.min(named.len()));
        for (_, vol) in named {
            if infos.len() == self.limit {
                break;
            }
            match describe::volume(vol, &self.pool) {
                Ok(info) => infos.push(info),
                // Deleted between the listing and the read.
                Err(HypervisorError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(infos)
    }
}

/// One volume.
#[derive(Debug, Clone)]
pub struct GetVolume(pub VolumeRef);

impl Operation for GetVolume {
    type Output = VolumeInfo;
    const NAME: &'static str = "get storage volume";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let (_, vol) = lookup::volume(conn, &self.0)?;
        describe::volume(&vol, &self.0.pool)
    }
}

/// Creates a volume, over a backing volume of the same pool when asked.
#[derive(Debug, Clone)]
pub struct CreateVolume(pub NewVolume);

impl Operation for CreateVolume {
    type Output = VolumeInfo;
    const NAME: &'static str = "create storage volume";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    // Disk space, not the host's CPU or memory.
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let NewVolume {
            pool: pool_name,
            name,
            format,
            capacity_bytes,
            backing_volume,
            preallocate,
        } = &self.0;
        let pool = lookup::pool(conn, pool_name)?;
        describe::ensure_running(&pool, pool_name, Self::NAME)?;
        lookup::ensure_free(&pool, pool_name, name, Self::NAME)?;
        let backing = match backing_volume {
            Some(backing) => {
                let vol = lookup::in_pool(&pool, pool_name, backing).map_err(for_backing)?;
                Some(describe::volume(&vol, pool_name)?)
            }
            None => None,
        };
        let capacity_bytes = match (capacity_bytes, &backing) {
            (Some(bytes), _) => *bytes,
            (None, Some(backing)) => backing.capacity_bytes,
            (None, None) => {
                return Err(HypervisorError::InvalidArgument {
                    operation: Self::NAME,
                    message: "`capacity_bytes` is required without a `backing_volume`".into(),
                });
            }
        };
        let backing = backing.map(|b| BackingStore {
            path: b.path,
            format: b.format,
        });
        let xml = volume_xml::render(volume_xml::Spec {
            name,
            format: format.word(),
            capacity_bytes,
            allocation_bytes: if *preallocate { capacity_bytes } else { 0 },
            backing: backing.as_ref(),
        });
        let vol = StorageVol::create_xml(&pool, &xml, 0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        describe::volume(&vol, pool_name)
    }
}

/// Copies a volume's whole contents into a new volume of the same format and capacity.
#[derive(Debug, Clone)]
pub struct CloneVolume {
    pub source: VolumeRef,
    pub name: String,
    /// The pool of the copy; `None`: the source's.
    pub target_pool: Option<String>,
}

impl Operation for CloneVolume {
    type Output = VolumeInfo;
    const NAME: &'static str = "clone storage volume";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let (pool, vol) = lookup::volume(conn, &self.source)?;
        let source = describe::volume(&vol, &self.source.pool)?;
        let (target, target_name) = match &self.target_pool {
            Some(name) => (lookup::pool(conn, name)?, name),
            None => (pool, &self.source.pool),
        };
        describe::ensure_running(&target, target_name, Self::NAME)?;
        lookup::ensure_free(&target, target_name, &self.name, Self::NAME)?;
        // No backing store: the copy stands alone, whatever the source overlays.
        let xml = volume_xml::render(volume_xml::Spec {
            name: &self.name,
            format: if source.format.is_empty() {
                "raw"
            } else {
                &source.format
            },
            capacity_bytes: source.capacity_bytes,
            allocation_bytes: 0,
            backing: None,
        });
        let copy = StorageVol::create_xml_from(&target, &xml, &vol, 0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        describe::volume(&copy, target_name)
    }
}

/// A missing backing volume, said as the field the client set.
fn for_backing(e: HypervisorError) -> HypervisorError {
    match e {
        HypervisorError::NotFound {
            operation,
            missing,
            message,
        } => HypervisorError::NotFound {
            operation,
            missing,
            message: format!("`backing_volume`: {message}"),
        },
        other => other,
    }
}
