//! The core: plain types of the domain model. Nothing here knows libvirt, gRPC or
//! the database; adapters convert at their edges.

mod argument;
mod capacity;
mod device;
mod dhcp_lease;
mod domain;
mod event;
mod guest;
mod host_path;
pub mod labels;
mod mac;
mod network;
mod resources;
mod save_file;
mod selector;
mod snapshot;
mod state;
mod stats;
mod storage;
mod time;

pub use argument::InvalidArgument;
pub use capacity::{GuestCapability, HostCapacity, NumaCell};
pub use device::{
    DetachOutcome, DeviceSelector, DeviceSpec, Devices, Disk, DiskSource, DiskSpec, Interface,
    InterfaceSource, InterfaceSpec, check_disk_target, check_word,
};
pub use dhcp_lease::DhcpLease;
pub use domain::{DomainAction, DomainRef, DomainSummary, DomainView};
pub use event::{EventType, KnownDomain, LifecycleEvent, NewEvent, UNKNOWN_DETAIL};
pub use guest::{
    AddressSource, GuestAddress, GuestFilesystem, GuestInfo, GuestInterface, GuestOs,
    GuestTimezone, GuestUser,
};
pub use host_path::{HostPath, PathRefusal};
pub use labels::Labels;
pub use mac::MacAddress;
pub use network::{DhcpRange, ForwardMode, IpFamily, NetworkAddress, NetworkInfo, NetworkRef};
pub use resources::{ChangeScope, ResourceChange};
pub use save_file::SaveFile;
pub use selector::LabelSelector;
pub use snapshot::{SnapshotInfo, check_snapshot_description, check_snapshot_name};
pub use state::DomainState;
pub use stats::{
    BalloonStats, BlockStats, CpuStats, DomainStats, GuestMemory, InterfaceStats, VcpuStats,
};
pub use storage::{
    BackingStore, ChecksumKind, NewPool, NewVolume, PoolState, StoragePoolInfo, TransferSummary,
    VolumeFormat, VolumeInfo, VolumeRef, check_storage_name,
};
pub use time::rfc3339;
