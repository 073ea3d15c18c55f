//! Disks and network interfaces: listed from the domain's XML, hot-plugged and
//! unplugged live, in the definition, or both.

mod attach;
mod detach;
mod list;
mod xml;

pub use attach::{AttachDevice, Attached};
pub use detach::{DetachDevice, Detached, DeviceGone};
pub use list::ListDevices;
pub(super) use list::parse as parse_devices;
