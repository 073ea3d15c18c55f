//! The host's capacity, to the API.

use crate::{
    grpc::pb,
    model::{GuestCapability, HostCapacity, NumaCell},
};

impl From<HostCapacity> for pb::HostCapacity {
    fn from(capacity: HostCapacity) -> Self {
        let HostCapacity {
            cpu_model,
            arch,
            cpus,
            mhz,
            sockets,
            cores_per_socket,
            threads_per_core,
            memory_kib,
            free_memory_kib,
            numa_cells,
            guests,
        } = capacity;
        pb::HostCapacity {
            cpu_model,
            arch,
            cpus,
            mhz,
            sockets,
            cores_per_socket,
            threads_per_core,
            memory_kib,
            free_memory_kib,
            numa_cells: numa_cells.into_iter().map(Into::into).collect(),
            guests: guests.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<NumaCell> for pb::NumaCell {
    fn from(cell: NumaCell) -> Self {
        let NumaCell {
            id,
            memory_kib,
            free_memory_kib,
            cpus,
        } = cell;
        pb::NumaCell {
            id,
            memory_kib,
            free_memory_kib,
            cpus,
        }
    }
}

impl From<GuestCapability> for pb::GuestCapability {
    fn from(guest: GuestCapability) -> Self {
        let GuestCapability {
            os_type,
            arch,
            domain_types,
            machines,
        } = guest;
        pb::GuestCapability {
            os_type,
            arch,
            domain_types,
            machines,
        }
    }
}
