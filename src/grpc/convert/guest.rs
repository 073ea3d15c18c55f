//! A guest's information, to the API.

use crate::{
    grpc::pb,
    model::{
        GuestAddress, GuestFilesystem, GuestInfo, GuestInterface, GuestOs, GuestTimezone, GuestUser,
    },
};

impl From<GuestInfo> for pb::GuestInfo {
    fn from(info: GuestInfo) -> Self {
        let GuestInfo {
            interfaces,
            hostname,
            os,
            timezone,
            users,
            filesystems,
            unsupported,
        } = info;
        pb::GuestInfo {
            interfaces: interfaces.into_iter().map(interface).collect(),
            hostname,
            os: os.map(os_of),
            timezone: timezone
                .map(|GuestTimezone { name, offset_s }| pb::GuestTimezone { name, offset_s }),
            users: users
                .into_iter()
                .map(
                    |GuestUser {
                         name,
                         domain,
                         login_time_ms,
                     }| pb::GuestUser {
                        name,
                        domain,
                        login_time_ms,
                    },
                )
                .collect(),
            filesystems: filesystems.into_iter().map(filesystem).collect(),
            unsupported,
        }
    }
}

fn interface(iface: GuestInterface) -> pb::GuestInterface {
    let GuestInterface {
        name,
        mac,
        addresses,
    } = iface;
    pb::GuestInterface {
        name,
        mac,
        addresses: addresses
            .into_iter()
            .map(
                |GuestAddress {
                     address,
                     prefix,
                     ipv6,
                 }| pb::GuestAddress {
                    address,
                    prefix,
                    ipv6,
                },
            )
            .collect(),
    }
}

fn os_of(os: GuestOs) -> pb::GuestOs {
    let GuestOs {
        id,
        name,
        pretty_name,
        version,
        version_id,
        kernel_release,
        kernel_version,
        machine,
    } = os;
    pb::GuestOs {
        id,
        name,
        pretty_name,
        version,
        version_id,
        kernel_release,
        kernel_version,
        machine,
    }
}

fn filesystem(fs: GuestFilesystem) -> pb::GuestFilesystem {
    let GuestFilesystem {
        mountpoint,
        name,
        fstype,
        total_bytes,
        used_bytes,
    } = fs;
    pb::GuestFilesystem {
        mountpoint,
        name,
        fstype,
        total_bytes,
        used_bytes,
    }
}
