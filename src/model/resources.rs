//! Changing a domain's size: vCPUs and memory, live, in its definition, or both.

use super::InvalidArgument;

/// Where a change applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeScope {
    /// The running domain.
    pub live: bool,
    /// The persistent definition.
    pub config: bool,
}

impl ChangeScope {
    /// Neither: the domain's current state decides (libvirt's `AFFECT_CURRENT`).
    pub fn is_current(self) -> bool {
        !self.live && !self.config
    }
}

/// A requested change of a domain's resources; `None` keeps a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceChange {
    pub vcpus: Option<u32>,
    pub memory_kib: Option<u64>,
    pub max_memory_kib: Option<u64>,
    pub scope: ChangeScope,
}

/// The smallest memory libvirt and QEMU accept for a guest, in KiB.
const MIN_MEMORY_KIB: u64 = 1024;

impl ResourceChange {
    /// Checks what does not depend on the domain: something to change, and no zeros.
    ///
    /// # Errors
    /// The first bad field, named.
    pub fn check(&self) -> Result<(), InvalidArgument> {
        if self.vcpus.is_none() && self.memory_kib.is_none() && self.max_memory_kib.is_none() {
            return Err(InvalidArgument::new(
                "vcpus",
                "nothing to change: set `vcpus`, `memory_kib` or `max_memory_kib`",
            ));
        }
        if self.vcpus == Some(0) {
            return Err(InvalidArgument::new("vcpus", "`vcpus` must be at least 1"));
        }
        for (field, value) in [
            ("memory_kib", self.memory_kib),
            ("max_memory_kib", self.max_memory_kib),
        ] {
            if value.is_some_and(|kib| kib < MIN_MEMORY_KIB) {
                return Err(InvalidArgument::new(
                    field,
                    format!("`{field}` must be at least {MIN_MEMORY_KIB} KiB"),
                ));
            }
        }
        if let (Some(memory), Some(max)) = (self.memory_kib, self.max_memory_kib)
            && memory > max
        {
            return Err(InvalidArgument::new(
                "memory_kib",
                format!("`memory_kib` {memory} is above the requested `max_memory_kib` {max}"),
            ));
        }
        Ok(())
    }
}
