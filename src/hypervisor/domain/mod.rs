//! The domain operations, by capability, and the libvirt calls they share.

mod autostart;
mod define;
mod libvirt;
mod power;
mod read;

pub use autostart::SetDomainAutostart;
pub use define::{DefineDomain, UndefineDomain};
pub use libvirt::XmlOptions;
pub use power::{
    DestroyDomain, RebootDomain, ResetDomain, ResumeDomain, ShutdownDomain, StartDomain,
    SuspendDomain,
};
pub use read::{GetDomain, GetDomainXml, ListDomains};
