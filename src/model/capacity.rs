//! What the host offers guests: CPUs, NUMA cells and memory, and what its hypervisor
//! can run.

/// The host's capacity, as libvirt reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCapacity {
    pub cpu_model: String,
    pub arch: String,
    /// Logical CPUs.
    pub cpus: u32,
    pub mhz: u32,
    pub sockets: u32,
    pub cores_per_socket: u32,
    pub threads_per_core: u32,
    pub memory_kib: u64,
    pub free_memory_kib: u64,
    pub numa_cells: Vec<NumaCell>,
    /// The kinds of guest the hypervisor runs.
    pub guests: Vec<GuestCapability>,
}

/// One NUMA cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumaCell {
    pub id: u32,
    pub memory_kib: u64,
    pub free_memory_kib: u64,
    pub cpus: u32,
}

/// One kind of guest: an OS type on an architecture, its domain types and machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestCapability {
    pub os_type: String,
    pub arch: String,
    pub domain_types: Vec<String>,
    pub machines: Vec<String>,
}
