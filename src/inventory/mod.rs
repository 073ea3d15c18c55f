//! The inventory: every domain of the host in memory (summary, labels, devices),
//! filled after every (re)connect, refreshed for one domain by each libvirt event that
//! names it and by the service's own changes, so reads never wait for libvirt.

mod catalog;
mod handles;
mod refresh;
mod settings;
mod shared;

pub use refresh::{RefillOnConnect, Refresher};
pub use settings::{Settings, WhenStale};
pub use shared::{Inventory, Served};
