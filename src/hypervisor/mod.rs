//! The hypervisor: one lazily reconnecting libvirt connection and the operations
//! made over it (domains, storage). The only place that talks to libvirt.

mod capacity;
mod connection;
mod console;
mod domain;
mod error;
mod event_codes;
mod event_loop;
mod event_sink;
pub(crate) mod ffi;
mod guest;
mod listener;
mod network;
mod open;
mod operation;
mod settings;
mod stats;
mod storage;
mod touched;
pub mod uri;
mod xml;

pub use capacity::GetHostCapacity;
pub use connection::{ConnectionStatus, Hypervisor};
pub use console::{
    ConsoleDevice, ConsoleStream, ConsoleTarget, OpenConsole, ResolveConsole, StreamEnd, Taken,
};
pub use domain::{
    AttachDevice, Attached, CreateSnapshot, DefineDomain, DeleteSnapshot, DestroyDomain,
    DetachDevice, Detached, DeviceGone, DomainHandle, GetDomain, GetDomainXml, GetSnapshot,
    LABELS_NAMESPACE, ListDevices, ListDomainHandles, ListDomainStates, ListDomains, ListSnapshots,
    Listed, ManagedSaveDomain, ReadDomainLive, ReadDomainView, ReadDomainViews, ReadView,
    RebootDomain, RemoveManagedSave, ResetDomain, RestoreDomain, ResumeDomain, RevertToSnapshot,
    SaveDomain, SetDomainAutostart, SetDomainResources, ShutdownDomain, Standing, StartDomain,
    SuspendDomain, UndefineDomain, UndefineOptions, UpdateDomainLabels, XmlOptions,
};
pub use error::HypervisorError;
pub use event_codes::translate;
pub use event_sink::{EventSink, EventSource, RawLifecycleEvent, RawWhat, now_micros};
pub use ffi::live_callback_contexts;
pub use guest::GetGuestInfo;
pub use listener::{BoxFuture, ConnectionListener, Listeners};
pub use network::{
    DefineNetwork, GetNetwork, ListNetworkLeases, ListNetworks, SetNetworkAutostart, StartNetwork,
    StopNetwork, UndefineNetwork,
};
pub use open::HypervisorInfo;
pub use operation::{Admission, Operation, Retry};
pub use settings::Settings;
pub use stats::{GetDomainStats, ListDomainStats, Sampled};
pub use storage::{
    CloneVolume, CreateStoragePool, CreateVolume, DeleteStoragePool, DeleteVolume, GetStoragePool,
    GetVolume, ListStoragePools, ListVolumes, RefreshStoragePool, ResizeVolume, StartStoragePool,
    StopStoragePool, VolumeDownload, VolumeUpload,
};
pub use touched::TouchedDomains;
