//! `virtplane.v1.DeviceService`: a domain's disks and interfaces, hot-plugged and
//! unplugged, a detach confirmed by the guest's release of the device.

mod api;
mod attach;
mod convert;
mod detach;

pub use api::DeviceApi;
