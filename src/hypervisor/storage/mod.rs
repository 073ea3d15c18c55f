//! Storage pools and volumes: reading, creating, changing and deleting them, and
//! streaming volume contents in and out.

mod describe;
mod in_use;
mod lookup;
mod pool_lifecycle;
mod pool_xml;
mod pools;
mod transfer;
mod volume_changes;
mod volume_xml;
mod volumes;

pub use pool_lifecycle::{CreateStoragePool, DeleteStoragePool, StartStoragePool, StopStoragePool};
pub use pools::{GetStoragePool, ListStoragePools, RefreshStoragePool};
pub use transfer::{VolumeDownload, VolumeUpload};
pub use volume_changes::{DeleteVolume, ResizeVolume};
pub use volumes::{CloneVolume, CreateVolume, GetVolume, ListVolumes};
