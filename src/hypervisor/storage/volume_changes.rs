//! Resizing and deleting volumes, each refused for a volume a domain uses where that
//! would pull the disk from under it (unless forced).

use virt::{connect::Connect, sys};

use super::{describe, in_use, lookup};
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{VolumeInfo, VolumeRef},
};

/// Changes a volume's capacity; the volume after.
#[derive(Debug, Clone)]
pub struct ResizeVolume {
    pub volume: VolumeRef,
    pub capacity_bytes: u64,
    /// Allow a capacity below the current one.
    pub shrink: bool,
    /// Shrink even a volume a domain uses.
    pub force: bool,
}

impl Operation for ResizeVolume {
    type Output = VolumeInfo;
    const NAME: &'static str = "resize storage volume";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let (_, vol) = lookup::volume(conn, &self.volume)?;
        let info = describe::volume(&vol, &self.volume.pool)?;
        if self.capacity_bytes == info.capacity_bytes {
            return Ok(info);
        }
        let shrinking = self.capacity_bytes < info.capacity_bytes;
        if shrinking && !self.shrink {
            return Err(HypervisorError::FailedPrecondition {
                operation: Self::NAME,
                message: format!(
                    "volume {} holds {} bytes; `capacity_bytes` {} would shrink it: set `shrink` to allow that (the data past the new end is lost)",
                    self.volume, info.capacity_bytes, self.capacity_bytes
                ),
            });
        }
        // libvirt's own rule, said before it is met: what is allocated stays.
        if shrinking && self.capacity_bytes < info.allocation_bytes {
            return Err(HypervisorError::FailedPrecondition {
                operation: Self::NAME,
                message: format!(
                    "volume {} has {} bytes allocated; libvirt does not shrink a volume below its allocation",
                    self.volume, info.allocation_bytes
                ),
            });
        }
        if shrinking && !self.force {
            in_use::refuse_if_used(
                conn,
                &info,
                Self::NAME,
                "shrinking it would cut the disk under the guest (set `force` to shrink it anyway)",
            )?;
        }
        let flags = if shrinking {
            sys::VIR_STORAGE_VOL_RESIZE_SHRINK
        } else {
            0
        };
        vol.resize(self.capacity_bytes, flags)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))?;
        describe::volume(&vol, &self.volume.pool)
    }
}

/// Deletes a volume, unless a domain uses it and `force` is not set.
#[derive(Debug, Clone)]
pub struct DeleteVolume {
    pub volume: VolumeRef,
    pub force: bool,
}

impl Operation for DeleteVolume {
    type Output = ();
    const NAME: &'static str = "delete storage volume";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let (_, vol) = lookup::volume(conn, &self.volume)?;
        if !self.force {
            let info = describe::volume(&vol, &self.volume.pool)?;
            in_use::refuse_if_used(
                conn,
                &info,
                Self::NAME,
                "detach it first, or set `force` to delete it anyway",
            )?;
        }
        vol.delete(0)
            .map_err(|e| HypervisorError::from_virt(Self::NAME, &e))
    }
}
