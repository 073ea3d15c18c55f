//! The network operations, by capability, and the libvirt calls they share.

mod autostart;
mod define;
mod leases;
mod libvirt;
mod lifecycle;
mod network_xml;
mod read;

pub use autostart::SetNetworkAutostart;
pub use define::{DefineNetwork, UndefineNetwork};
pub use leases::ListNetworkLeases;
pub use lifecycle::{StartNetwork, StopNetwork};
pub use read::{GetNetwork, ListNetworks};
