//! NetworkService: listing and reading networks, their DHCP leases, and changing them
//! where the host allows it, on libvirt's test driver (in-process and behind a private
//! libvirtd); each refusal with the code a client expects.

mod fixtures;
mod grpcurl;
mod leases;
mod listing;
mod management;
mod outage;
mod refusals;
mod transient;

pub use fixtures::{bridge_for, get, list_all, network_xml};
