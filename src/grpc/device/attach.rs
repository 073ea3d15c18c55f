//! AttachDevice: the typed request checked and rendered, then attached.

use tonic::Status;

use super::DeviceApi;
use crate::{
    grpc::pb::{self, attach_device_request::Device, disk_spec, interface_spec},
    hypervisor::{AttachDevice, Attached},
    model::{
        ChangeScope, DeviceSpec, DiskSource, DiskSpec, DomainRef, HostPath, InterfaceSource,
        InterfaceSpec, InvalidArgument, MacAddress, check_disk_target, check_word,
    },
};

const BUSES: &[&str] = &["virtio", "scsi", "sata", "usb"];
const FORMATS: &[&str] = &["raw", "qcow2"];
const MODELS: &[&str] = &["virtio", "e1000", "e1000e", "rtl8139"];

impl DeviceApi {
    pub(super) async fn attach(
        &self,
        request: pb::AttachDeviceRequest,
    ) -> Result<pb::AttachDeviceResponse, Status> {
        let pb::AttachDeviceRequest {
            domain,
            device,
            live,
            config,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        let spec = self.spec(device)?;
        let mac = match &spec {
            DeviceSpec::Interface(nic) => nic.mac.as_str().to_owned(),
            _ => String::new(),
        };
        let Attached { devices, alias } = self
            .domains
            .perform(AttachDevice {
                domain: domain.clone(),
                spec,
                scope: ChangeScope { live, config },
            })
            .await?;
        self.domains.written(&domain).await;
        Ok(pb::AttachDeviceResponse {
            devices: Some(devices.into()),
            alias,
            mac,
        })
    }

    fn spec(&self, device: Option<Device>) -> Result<DeviceSpec, Status> {
        match device {
            Some(Device::Disk(disk)) => Ok(DeviceSpec::Disk(self.disk(disk)?)),
            Some(Device::Interface(nic)) => Ok(DeviceSpec::Interface(interface(nic)?)),
            Some(Device::Xml(xml)) if xml.trim().starts_with('<') => Ok(DeviceSpec::Xml(xml)),
            Some(Device::Xml(_)) => Err(Status::from(InvalidArgument::new(
                "xml",
                "`xml` must be libvirt device XML such as <disk ...>...</disk>",
            ))),
            None => Err(Status::from(InvalidArgument::new(
                "device",
                "one of `disk`, `interface` or `xml` is required: the device to attach",
            ))),
        }
    }

    fn disk(&self, disk: pb::DiskSpec) -> Result<DiskSpec, Status> {
        let pb::DiskSpec {
            source,
            target,
            bus,
            format,
            read_only,
        } = disk;
        let source = match source {
            Some(disk_spec::Source::Path(path)) => {
                DiskSource::Path(HostPath::parse("disk.path", &path, &self.storage_roots)?)
            }
            Some(disk_spec::Source::Volume(pb::DiskVolume { pool, volume })) => {
                if pool.is_empty() || volume.is_empty() {
                    return Err(InvalidArgument::new(
                        "disk.volume",
                        "`disk.volume` needs both `pool` and `volume`",
                    )
                    .into());
                }
                DiskSource::Volume { pool, volume }
            }
            None => {
                return Err(Status::from(InvalidArgument::new(
                    "disk",
                    "`disk` needs a source: `path` (an image under the storage roots) or `volume` (a pool's volume)",
                )));
            }
        };
        check_disk_target("disk.target", &target)?;
        let bus = or_default(bus, "virtio");
        check_word("disk.bus", &bus, BUSES)?;
        let format = or_default(format, "raw");
        check_word("disk.format", &format, FORMATS)?;
        Ok(DiskSpec {
            source,
            target,
            bus,
            format,
            read_only,
        })
    }
}

fn interface(nic: pb::InterfaceSpec) -> Result<InterfaceSpec, Status> {
    let pb::InterfaceSpec { source, model, mac } = nic;
    let source = match source {
        Some(interface_spec::Source::Network(name)) if !name.is_empty() => {
            InterfaceSource::Network(name)
        }
        Some(interface_spec::Source::Bridge(name)) if !name.is_empty() => {
            InterfaceSource::Bridge(name)
        }
        _ => {
            return Err(Status::from(InvalidArgument::new(
                "interface",
                "`interface` needs a source: a `network` or a `bridge` name",
            )));
        }
    };
    let model = or_default(model, "virtio");
    check_word("interface.model", &model, MODELS)?;
    let mac = if mac.is_empty() {
        MacAddress::random()
    } else {
        MacAddress::parse("interface.mac", &mac)?
    };
    Ok(InterfaceSpec { source, model, mac })
}

fn or_default(value: String, default: &str) -> String {
    if value.is_empty() {
        default.to_owned()
    } else {
        value
    }
}
