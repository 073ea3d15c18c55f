//! `virtplanectl devices`: a domain's disks and network interfaces, attached and
//! detached.

use clap::Subcommand;

use super::{
    connect::Ctx,
    error::CliError,
    input::read_text,
    output::{Table, bool_word, enum_word},
};
use crate::grpc::pb::{
    self, attach_device_request, detach_device_request, disk_spec, interface_spec,
};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lists a domain's disks and interfaces.
    List {
        /// The domain's name or UUID.
        domain: String,
        /// The persistent definition's devices rather than the live ones.
        #[arg(long)]
        inactive: bool,
    },
    /// Attaches a disk (--disk-path or --pool/--volume), an interface (--network or
    /// --bridge), or a device from XML (--xml-file).
    Attach(AttachArgs),
    /// Detaches a disk by target, an interface by MAC, or any device by alias.
    Detach(DetachArgs),
}

#[derive(Debug, clap::Args)]
#[group(id = "device", required = true, multiple = false, args = ["disk_path", "volume", "network", "bridge", "xml_file"])]
pub(crate) struct AttachArgs {
    domain: String,
    /// A disk image path (under the service's storage roots).
    #[arg(long)]
    disk_path: Option<String>,
    /// A volume of a storage pool, with --pool.
    #[arg(long, requires = "pool")]
    volume: Option<String>,
    #[arg(long)]
    pool: Option<String>,
    /// The disk's target device (vdb, sdc); chosen by the service when empty.
    #[arg(long, default_value = "")]
    target: String,
    /// The disk's bus (virtio, scsi, sata).
    #[arg(long, default_value = "")]
    bus: String,
    /// The disk's format (raw, qcow2).
    #[arg(long, default_value = "")]
    format: String,
    #[arg(long)]
    read_only: bool,
    /// A libvirt network for a new interface.
    #[arg(long)]
    network: Option<String>,
    /// A host bridge for a new interface.
    #[arg(long)]
    bridge: Option<String>,
    /// The interface's model (virtio, e1000).
    #[arg(long, default_value = "")]
    model: String,
    /// The interface's MAC address.
    #[arg(long, default_value = "")]
    mac: String,
    /// A file with the device's libvirt XML; "-" reads stdin.
    #[arg(long)]
    xml_file: Option<std::path::PathBuf>,
    /// Change the running domain.
    #[arg(long)]
    live: bool,
    /// Change the persistent definition.
    #[arg(long)]
    config: bool,
    /// Makes the call safe to retry.
    #[arg(long)]
    request_id: Option<String>,
}

#[derive(Debug, clap::Args)]
#[group(id = "which", required = true, multiple = false, args = ["disk_target", "interface_mac", "alias"])]
pub(crate) struct DetachArgs {
    domain: String,
    #[arg(long)]
    disk_target: Option<String>,
    #[arg(long)]
    interface_mac: Option<String>,
    #[arg(long)]
    alias: Option<String>,
    #[arg(long)]
    live: bool,
    #[arg(long)]
    config: bool,
    /// Wait at most this many seconds for the guest to release the device.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u32>,
    /// Makes the call safe to retry.
    #[arg(long)]
    request_id: Option<String>,
}

fn devices_table(devices: &pb::Devices) -> Table {
    let mut table = Table::new(&["KIND", "ALIAS", "TARGET/MAC", "TYPE", "SOURCE", "DETAIL"]);
    for disk in &devices.disks {
        table.row(vec![
            "disk".into(),
            disk.alias.clone(),
            disk.target.clone(),
            format!("{}/{}", disk.device, disk.bus),
            disk.source.clone(),
            format!("{} read-only={}", disk.format, bool_word(disk.read_only)),
        ]);
    }
    for nic in &devices.interfaces {
        table.row(vec![
            "interface".into(),
            nic.alias.clone(),
            nic.mac.clone(),
            nic.r#type.clone(),
            nic.source.clone(),
            format!("{} {}", nic.model, nic.host_device),
        ]);
    }
    table
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        match self {
            Command::List { domain, inactive } => {
                let devices = ctx
                    .devices()
                    .list_devices(pb::ListDevicesRequest {
                        domain,
                        inactive,
                        consistency: 0,
                    })
                    .await?
                    .into_inner();
                ctx.out.table(&devices, devices_table)
            }
            Command::Attach(args) => attach(ctx, args).await,
            Command::Detach(args) => detach(ctx, args).await,
        }
    }
}

fn device_of(args: &AttachArgs) -> Result<attach_device_request::Device, CliError> {
    let disk = |source| {
        attach_device_request::Device::Disk(pb::DiskSpec {
            source: Some(source),
            target: args.target.clone(),
            bus: args.bus.clone(),
            format: args.format.clone(),
            read_only: args.read_only,
        })
    };
    let nic = |source| {
        attach_device_request::Device::Interface(pb::InterfaceSpec {
            source: Some(source),
            model: args.model.clone(),
            mac: args.mac.clone(),
        })
    };
    Ok(if let Some(path) = &args.disk_path {
        disk(disk_spec::Source::Path(path.clone()))
    } else if let Some(volume) = &args.volume {
        disk(disk_spec::Source::Volume(pb::DiskVolume {
            pool: args.pool.clone().unwrap_or_default(),
            volume: volume.clone(),
        }))
    } else if let Some(network) = &args.network {
        nic(interface_spec::Source::Network(network.clone()))
    } else if let Some(bridge) = &args.bridge {
        nic(interface_spec::Source::Bridge(bridge.clone()))
    } else if let Some(file) = &args.xml_file {
        attach_device_request::Device::Xml(read_text(file)?)
    } else {
        return Err(CliError::usage("name a device to attach"));
    })
}

async fn attach(ctx: &Ctx, args: AttachArgs) -> Result<(), CliError> {
    let device = device_of(&args)?;
    let reply = ctx
        .devices()
        .attach_device(pb::AttachDeviceRequest {
            domain: args.domain,
            device: Some(device),
            live: args.live,
            config: args.config,
            request_id: args.request_id.unwrap_or_default(),
        })
        .await?
        .into_inner();
    ctx.out.record(&reply)
}

async fn detach(ctx: &Ctx, args: DetachArgs) -> Result<(), CliError> {
    let device = match (args.disk_target, args.interface_mac, args.alias) {
        (Some(target), _, _) => detach_device_request::Device::DiskTarget(target),
        (None, Some(mac), _) => detach_device_request::Device::InterfaceMac(mac),
        (None, None, Some(alias)) => detach_device_request::Device::Alias(alias),
        (None, None, None) => return Err(CliError::usage("name a device to detach")),
    };
    let reply = ctx
        .devices()
        .detach_device(pb::DetachDeviceRequest {
            domain: args.domain,
            device: Some(device),
            live: args.live,
            config: args.config,
            timeout_s: args.timeout,
            request_id: args.request_id.unwrap_or_default(),
        })
        .await?
        .into_inner();
    ctx.out.table(&reply, |reply| {
        let outcome = pb::DetachOutcome::try_from(reply.outcome).ok();
        let mut table = Table::new(&["ALIAS", "OUTCOME", "REMOVED FROM CONFIG", "WAITED"]);
        table.row(vec![
            reply.alias.clone(),
            enum_word(
                outcome.as_ref().map(pb::DetachOutcome::as_str_name),
                "DETACH_OUTCOME_",
                reply.outcome,
            ),
            bool_word(reply.removed_from_config),
            format!("{} ms", reply.waited_ms),
        ]);
        table
    })
}
