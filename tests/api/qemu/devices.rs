//! DeviceService on QEMU: a disk and a NIC hot-plugged into the running busybox guest
//! (seen in ListDevices and by the guest itself on its console), unplugged with the
//! guest's consent and the event to prove it; and an unplug the BIOS-only domain
//! never answers, reported as still present, never as a success.

use std::time::Duration;

use tonic::Code;
use virtplane::grpc::pb::{
    self, attach_device_request::Device as Attach, detach_device_request::Device as Detach,
    device_service_client::DeviceServiceClient, disk_spec, interface_spec,
};

use super::{
    console::Console,
    guest::{busybox, define, start},
};
use crate::support::{
    TestApp, TestOptions, eventually,
    qemu::{self, QemuDaemon},
    unique_name,
};

/// The app on `daemon`, disk images allowed from the daemon's scratch folder.
async fn app(daemon: &QemuDaemon) -> TestApp {
    TestApp::spawn(
        TestOptions::new(daemon.uri())
            .call_timeout_ms(60_000)
            .storage_root(daemon.dir()),
    )
    .await
}

fn devices(app: &TestApp) -> DeviceServiceClient<tonic::transport::Channel> {
    DeviceServiceClient::new(app.channel.clone())
}

fn disk(path: &std::path::Path, target: &str, format: &str) -> pb::AttachDeviceRequest {
    pb::AttachDeviceRequest {
        device: Some(Attach::Disk(pb::DiskSpec {
            source: Some(disk_spec::Source::Path(path.display().to_string())),
            target: target.into(),
            format: format.into(),
            ..Default::default()
        })),
        live: true,
        ..Default::default()
    }
}

/// A host bridge for the test's interfaces, deleted on drop. A bridge needs nothing
/// but `ip`; a libvirt network would need the host's firewall tools.
struct Bridge(String);

impl Bridge {
    fn create() -> Bridge {
        let name = format!("vp{:08x}", fastrand::u32(..));
        for args in [
            vec!["link", "add", name.as_str(), "type", "bridge"],
            vec!["link", "set", name.as_str(), "up"],
        ] {
            let status = std::process::Command::new("ip")
                .args(&args)
                .status()
                .expect("ip runs");
            assert!(status.success(), "ip {args:?}");
        }
        Bridge(name)
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["link", "delete", &self.0])
            .status();
    }
}

/// What the guest lists in /sys/block and /sys/class/net, read on its console.
async fn guest_devices(console: &mut Console, round: u32) -> String {
    let (start, end) = (format!("devs-{round}-"), format!("end-{round}-"));
    console
        .type_line(&format!(
            "echo devs-{round}-$((1+1)); ls /sys/block /sys/class/net; echo end-{round}-$((2+2))"
        ))
        .await;
    console
        .read_until(&format!("{end}4"), Duration::from_secs(60))
        .await;
    let text = &console.seen;
    let from = text.rfind(&format!("{start}2")).expect("start marker");
    let to = text.rfind(&format!("{end}4")).expect("end marker");
    text[from..to].to_owned()
}

#[tokio::test]
async fn a_disk_and_a_nic_hot_plug_into_the_guest_and_unplug_with_its_consent() {
    let daemon = QemuDaemon::start();
    let mut app = app(&daemon).await;
    let guest = busybox(&mut app, &daemon, "hotplug", false).await;
    let mut console = Console::open(&app, &guest.name, "", false)
        .await
        .expect("console");
    console.type_line("").await;
    let bridge = Bridge::create();
    let before = guest_devices(&mut console, 100).await;
    assert!(
        !before.contains("vda") && !before.contains("eth0"),
        "{before}"
    );
    let image = daemon.dir().join(format!("{}-data.qcow2", guest.name));
    qemu::create_qcow2(&image, 16);

    let attached = devices(&app)
        .attach_device(pb::AttachDeviceRequest {
            domain: guest.name.clone(),
            ..disk(&image, "vdb", "qcow2")
        })
        .await
        .expect("AttachDevice disk")
        .into_inner();
    assert!(!attached.alias.is_empty(), "{attached:?}");
    let disk_alias = attached.alias.clone();
    let listed = attached.devices.expect("devices");
    let vdb = listed
        .disks
        .iter()
        .find(|d| d.target == "vdb")
        .expect("vdb listed");
    assert_eq!(vdb.source, image.display().to_string());
    assert_eq!((vdb.format.as_str(), vdb.bus.as_str()), ("qcow2", "virtio"));

    let nic = devices(&app)
        .attach_device(pb::AttachDeviceRequest {
            domain: guest.name.clone(),
            device: Some(Attach::Interface(pb::InterfaceSpec {
                source: Some(interface_spec::Source::Bridge(bridge.0.clone())),
                ..Default::default()
            })),
            live: true,
            ..Default::default()
        })
        .await
        .expect("AttachDevice interface")
        .into_inner();
    assert!(nic.mac.starts_with("52:54:00:"), "{nic:?}");
    let listed = devices(&app)
        .list_devices(pb::ListDevicesRequest {
            domain: guest.name.clone(),
            inactive: false,
            ..Default::default()
        })
        .await
        .expect("ListDevices")
        .into_inner();
    let interface = listed
        .interfaces
        .iter()
        .find(|i| i.mac == nic.mac)
        .expect("the new interface is listed");
    assert_eq!(
        (interface.r#type.as_str(), interface.source.as_str()),
        ("bridge", bridge.0.as_str())
    );

    // The guest sees both once its kernel has taken the hot-plug, under its own names:
    // its first virtio disk and its first interface.
    let mut seen = String::new();
    for round in 0..30 {
        seen = guest_devices(&mut console, round).await;
        if seen.contains("vda") && seen.contains("eth0") {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(seen.contains("vda") && seen.contains("eth0"), "{seen}");

    // The same target again is refused, not attached twice.
    let twice = devices(&app)
        .attach_device(pb::AttachDeviceRequest {
            domain: guest.name.clone(),
            ..disk(&image, "vdb", "qcow2")
        })
        .await
        .expect_err("vdb exists");
    assert_eq!(twice.code(), Code::AlreadyExists, "{twice:?}");

    // The busybox guest releases both: removed, with the event to prove it.
    let detached = devices(&app)
        .detach_device(pb::DetachDeviceRequest {
            domain: guest.name.clone(),
            device: Some(Detach::DiskTarget("vdb".into())),
            live: true,
            timeout_s: Some(60),
            ..Default::default()
        })
        .await
        .expect("DetachDevice disk")
        .into_inner();
    assert_eq!(
        detached.outcome(),
        pb::DetachOutcome::Removed,
        "{detached:?}"
    );
    assert_eq!(detached.alias, disk_alias);
    let detached = devices(&app)
        .detach_device(pb::DetachDeviceRequest {
            domain: guest.name.clone(),
            device: Some(Detach::InterfaceMac(nic.mac.to_uppercase())),
            live: true,
            timeout_s: Some(60),
            ..Default::default()
        })
        .await
        .expect("DetachDevice interface")
        .into_inner();
    assert_eq!(
        detached.outcome(),
        pb::DetachOutcome::Removed,
        "{detached:?}"
    );

    let journal = |types: Vec<pb::LifecycleEventType>| {
        let (app, name) = (&app, guest.name.clone());
        async move {
            app.host
                .clone()
                .list_lifecycle_events(pb::ListLifecycleEventsRequest {
                    domain: name,
                    types: types.into_iter().map(Into::into).collect(),
                    ..Default::default()
                })
                .await
                .expect("ListLifecycleEvents")
                .into_inner()
                .events
        }
    };
    eventually(Duration::from_secs(10), "the hot-plug is recorded", || {
        let journal = &journal;
        let alias = disk_alias.clone();
        async move {
            journal(vec![pb::LifecycleEventType::DeviceAdded])
                .await
                .iter()
                .any(|e| e.detail == alias)
        }
    })
    .await;
    eventually(Duration::from_secs(10), "the removal is recorded", || {
        let journal = &journal;
        let alias = disk_alias.clone();
        async move {
            journal(vec![pb::LifecycleEventType::DeviceRemoved])
                .await
                .iter()
                .any(|e| e.detail == alias)
        }
    })
    .await;
    let listed = devices(&app)
        .list_devices(pb::ListDevicesRequest {
            domain: guest.name.clone(),
            inactive: false,
            ..Default::default()
        })
        .await
        .expect("ListDevices")
        .into_inner();
    assert!(listed.disks.iter().all(|d| d.target != "vdb"), "{listed:?}");
    assert!(listed.interfaces.is_empty(), "{listed:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_unplug_the_guest_ignores_is_reported_still_present() {
    let daemon = QemuDaemon::start();
    let mut app = app(&daemon).await;
    let name = unique_name("no-acpi-unplug");
    define(&mut app, qemu::bios_domain_xml(&name)).await;
    start(&mut app, &name).await;
    let image = daemon.dir().join(format!("{name}.raw"));
    std::fs::write(&image, vec![0; 1024 * 1024]).expect("image");
    devices(&app)
        .attach_device(pb::AttachDeviceRequest {
            domain: name.clone(),
            ..disk(&image, "vdb", "raw")
        })
        .await
        .expect("AttachDevice");

    // SeaBIOS idling has no OS to answer the ACPI unplug request.
    let detached = devices(&app)
        .detach_device(pb::DetachDeviceRequest {
            domain: name.clone(),
            device: Some(Detach::DiskTarget("vdb".into())),
            live: true,
            timeout_s: Some(3),
            ..Default::default()
        })
        .await
        .expect("DetachDevice")
        .into_inner();
    assert_eq!(
        detached.outcome(),
        pb::DetachOutcome::StillPresent,
        "{detached:?}"
    );
    assert!(detached.waited_ms >= 3000, "{detached:?}");
    let listed = devices(&app)
        .list_devices(pb::ListDevicesRequest {
            domain: name.clone(),
            inactive: false,
            ..Default::default()
        })
        .await
        .expect("ListDevices")
        .into_inner();
    assert!(listed.disks.iter().any(|d| d.target == "vdb"), "{listed:?}");
    app.stop().await;
}

#[tokio::test]
async fn bad_device_requests_are_refused_saying_why() {
    let daemon = QemuDaemon::start();
    let mut app = app(&daemon).await;
    let name = unique_name("refusals");
    define(&mut app, qemu::bios_domain_xml(&name)).await;
    start(&mut app, &name).await;
    let refused = |request: pb::AttachDeviceRequest| {
        let mut client = devices(&app);
        let name = name.clone();
        async move {
            client
                .attach_device(pb::AttachDeviceRequest {
                    domain: name,
                    ..request
                })
                .await
                .expect_err("refused")
        }
    };
    let outside = refused(disk(std::path::Path::new("/etc/shadow"), "vdb", "raw")).await;
    assert_eq!(outside.code(), Code::PermissionDenied, "{outside:?}");
    assert!(
        outside.message().contains("storage_roots"),
        "{}",
        outside.message()
    );
    let dotted = daemon.dir().join("../escape.raw");
    let malformed = refused(disk(&dotted, "vdb", "raw")).await;
    assert_eq!(malformed.code(), Code::InvalidArgument, "{malformed:?}");
    let target = refused(disk(&daemon.dir().join("x.raw"), "nvme0", "raw")).await;
    assert_eq!(target.code(), Code::InvalidArgument, "{target:?}");
    assert!(
        target.message().contains("disk.target"),
        "{}",
        target.message()
    );
    let format = refused(disk(&daemon.dir().join("x.raw"), "vdb", "vmdk")).await;
    assert_eq!(format.code(), Code::InvalidArgument, "{format:?}");
    let network = refused(pb::AttachDeviceRequest {
        device: Some(Attach::Interface(pb::InterfaceSpec {
            source: Some(interface_spec::Source::Network("no-such-network".into())),
            ..Default::default()
        })),
        live: true,
        ..Default::default()
    })
    .await;
    assert_eq!(network.code(), Code::NotFound, "{network:?}");
    let mac = refused(pb::AttachDeviceRequest {
        device: Some(Attach::Interface(pb::InterfaceSpec {
            source: Some(interface_spec::Source::Bridge("br0".into())),
            mac: "01:00:5e:00:00:01".into(),
            ..Default::default()
        })),
        ..Default::default()
    })
    .await;
    assert_eq!(mac.code(), Code::InvalidArgument, "{mac:?}");

    let missing = devices(&app)
        .detach_device(pb::DetachDeviceRequest {
            domain: name.clone(),
            device: Some(Detach::DiskTarget("vdq".into())),
            live: true,
            ..Default::default()
        })
        .await
        .expect_err("no vdq");
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    assert!(missing.message().contains("vdq"), "{}", missing.message());
    app.stop().await;
}
