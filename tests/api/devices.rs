//! DeviceService on the test driver: a defined domain's disks and interfaces listed
//! from its definition, and requests refused before libvirt is asked. (Hot-plug
//! needs a hypervisor: see qemu::devices.)

use tonic::Code;
use virtplane::grpc::pb::{self, device_service_client::DeviceServiceClient};

use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

#[tokio::test]
async fn a_definitions_disks_and_interfaces_are_listed() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("devices");
    let xml = format!(
        "<domain type='test'><name>{name}</name><memory unit='KiB'>131072</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices>\
         <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
         <source file='/var/lib/libvirt/images/{name}.qcow2'/><target dev='vda' bus='virtio'/></disk>\
         <disk type='file' device='cdrom'><target dev='sdb' bus='sata'/><readonly/></disk>\
         <interface type='bridge'><mac address='52:54:00:01:02:03'/><source bridge='br0'/>\
         <model type='e1000'/></interface></devices></domain>"
    );
    app.domains
        .define_domain(pb::DefineDomainRequest {
            xml,
            ..Default::default()
        })
        .await
        .expect("DefineDomain");
    let devices = DeviceServiceClient::new(app.channel.clone())
        .list_devices(pb::ListDevicesRequest {
            domain: name.clone(),
            inactive: true,
            ..Default::default()
        })
        .await
        .expect("ListDevices")
        .into_inner();
    assert_eq!(devices.disks.len(), 2, "{devices:?}");
    let vda = &devices.disks[0];
    assert_eq!(
        (vda.target.as_str(), vda.bus.as_str(), vda.format.as_str()),
        ("vda", "virtio", "qcow2")
    );
    assert_eq!(vda.source, format!("/var/lib/libvirt/images/{name}.qcow2"));
    let cdrom = &devices.disks[1];
    assert_eq!((cdrom.device.as_str(), cdrom.read_only), ("cdrom", true));
    assert!(cdrom.source.is_empty());
    let nic = &devices.interfaces[0];
    assert_eq!(
        (
            nic.mac.as_str(),
            nic.model.as_str(),
            nic.r#type.as_str(),
            nic.source.as_str()
        ),
        ("52:54:00:01:02:03", "e1000", "bridge", "br0")
    );
    app.stop().await;
}

#[tokio::test]
async fn device_requests_without_a_device_or_domain_are_refused() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let mut client = DeviceServiceClient::new(app.channel.clone());
    let nothing = client
        .attach_device(pb::AttachDeviceRequest {
            domain: "test".into(),
            ..Default::default()
        })
        .await
        .expect_err("no device");
    assert_eq!(nothing.code(), Code::InvalidArgument, "{nothing:?}");
    assert!(
        nothing.message().contains("`disk`"),
        "{}",
        nothing.message()
    );
    let no_selector = client
        .detach_device(pb::DetachDeviceRequest {
            domain: "test".into(),
            ..Default::default()
        })
        .await
        .expect_err("no device");
    assert_eq!(no_selector.code(), Code::InvalidArgument, "{no_selector:?}");
    let timeout = client
        .detach_device(pb::DetachDeviceRequest {
            domain: "test".into(),
            device: Some(pb::detach_device_request::Device::DiskTarget("vda".into())),
            timeout_s: Some(0),
            ..Default::default()
        })
        .await
        .expect_err("zero timeout");
    assert_eq!(timeout.code(), Code::InvalidArgument, "{timeout:?}");
    assert!(
        timeout.message().contains("timeout_s"),
        "{}",
        timeout.message()
    );
    let unknown = client
        .list_devices(pb::ListDevicesRequest {
            domain: "no-such-domain".into(),
            inactive: false,
            ..Default::default()
        })
        .await
        .expect_err("no domain");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    app.stop().await;
}
