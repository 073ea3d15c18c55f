//! A domain's devices, to the API.

use crate::{
    grpc::pb,
    model::{Devices, Disk, Interface},
};

impl From<Devices> for pb::Devices {
    fn from(devices: Devices) -> Self {
        let Devices { disks, interfaces } = devices;
        pb::Devices {
            disks: disks.into_iter().map(Into::into).collect(),
            interfaces: interfaces.into_iter().map(Into::into).collect(),
            stale: false,
        }
    }
}

impl From<Disk> for pb::DiskDevice {
    fn from(disk: Disk) -> Self {
        let Disk {
            target,
            bus,
            device,
            source,
            format,
            read_only,
            alias,
        } = disk;
        pb::DiskDevice {
            target,
            bus,
            device,
            source,
            format,
            read_only,
            alias,
        }
    }
}

impl From<Interface> for pb::InterfaceDevice {
    fn from(interface: Interface) -> Self {
        let Interface {
            mac,
            model,
            kind,
            source,
            host_device,
            alias,
        } = interface;
        pb::InterfaceDevice {
            mac,
            model,
            r#type: kind,
            source,
            host_device,
            alias,
        }
    }
}
