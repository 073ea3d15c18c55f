//! The domain operations, by capability, and the libvirt calls they share.

mod autostart;
mod define;
mod device;
mod handle;
mod labels;
mod libvirt;
mod power;
mod read;
mod resources;
mod save;
mod scope;
mod snapshot;
mod snapshot_xml;
mod view;
mod xml_summary;

pub use autostart::SetDomainAutostart;
pub use define::{DefineDomain, UndefineDomain, UndefineOptions};
pub use device::{AttachDevice, Attached, DetachDevice, Detached, DeviceGone, ListDevices};
pub use handle::{DomainHandle, ReadDomainLive};
pub use labels::{LABELS_NAMESPACE, UpdateDomainLabels};
pub use libvirt::XmlOptions;
pub(crate) use libvirt::lookup;
pub use power::{
    DestroyDomain, RebootDomain, ResetDomain, ResumeDomain, ShutdownDomain, StartDomain,
    SuspendDomain,
};
pub use read::{GetDomain, GetDomainXml, ListDomains};
pub use resources::SetDomainResources;
pub use save::{ManagedSaveDomain, RemoveManagedSave, RestoreDomain, SaveDomain};
pub use snapshot::{CreateSnapshot, DeleteSnapshot, GetSnapshot, ListSnapshots, RevertToSnapshot};
pub use view::{
    ListDomainHandles, ListDomainStates, Listed, ReadDomainView, ReadDomainViews, ReadView,
};
pub use xml_summary::Standing;
