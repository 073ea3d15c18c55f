//! Device XML: rendered from a typed request, and a domain's disks and interfaces
//! read back from its XML, with the snippet that names each for a detach.

use roxmltree::{Document, Node};

use crate::{
    hypervisor::xml::{child, escape},
    model::{
        DeviceSelector, Devices, Disk, DiskSource, DiskSpec, Interface, InterfaceSource,
        InterfaceSpec,
    },
};

/// A disk's libvirt XML.
pub(super) fn disk_xml(disk: &DiskSpec) -> String {
    let DiskSpec {
        source,
        target,
        bus,
        format,
        read_only,
    } = disk;
    let (kind, source) = match source {
        DiskSource::Path(path) => (
            "file",
            format!("<source file=\"{}\"/>", escape(path.as_str())),
        ),
        DiskSource::Volume { pool, volume } => (
            "volume",
            format!(
                "<source pool=\"{}\" volume=\"{}\"/>",
                escape(pool),
                escape(volume)
            ),
        ),
    };
    format!(
        "<disk type=\"{kind}\" device=\"disk\"><driver name=\"qemu\" type=\"{}\"/>{source}<target dev=\"{}\" bus=\"{}\"/>{}</disk>",
        escape(format),
        escape(target),
        escape(bus),
        if *read_only { "<readonly/>" } else { "" }
    )
}

/// An interface's libvirt XML.
pub(super) fn interface_xml(interface: &InterfaceSpec) -> String {
    let InterfaceSpec { source, model, mac } = interface;
    let (kind, attribute, name) = match source {
        InterfaceSource::Network(name) => ("network", "network", name),
        InterfaceSource::Bridge(name) => ("bridge", "bridge", name),
    };
    format!(
        "<interface type=\"{kind}\"><source {attribute}=\"{}\"/><mac address=\"{}\"/><model type=\"{}\"/></interface>",
        escape(name),
        mac.as_str(),
        escape(model)
    )
}

/// The disks and interfaces of a domain's XML.
pub(super) fn devices(domain_xml: &str) -> Result<Devices, roxmltree::Error> {
    let doc = Document::parse(domain_xml)?;
    let mut found = Devices::default();
    for node in device_nodes(&doc) {
        if node.has_tag_name("disk") {
            found.disks.push(disk(node));
        } else if node.has_tag_name("interface") {
            found.interfaces.push(interface(node));
        }
    }
    Ok(found)
}

/// A device the selector names: its alias (empty in a definition without aliases)
/// and its XML as the domain's XML holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub(super) alias: String,
    pub(super) xml: String,
}

/// The device `selector` names in `domain_xml`, if any.
pub(super) fn find(
    domain_xml: &str,
    selector: &DeviceSelector,
) -> Result<Option<Found>, roxmltree::Error> {
    let doc = Document::parse(domain_xml)?;
    let found = device_nodes(&doc).find(|node| match selector {
        DeviceSelector::DiskTarget(target) => {
            node.has_tag_name("disk") && attribute_of(*node, "target", "dev") == *target
        }
        DeviceSelector::InterfaceMac(mac) => {
            node.has_tag_name("interface")
                && attribute_of(*node, "mac", "address").eq_ignore_ascii_case(mac.as_str())
        }
        DeviceSelector::Alias(alias) => attribute_of(*node, "alias", "name") == *alias,
    });
    Ok(found.map(|node| Found {
        alias: attribute_of(node, "alias", "name"),
        xml: domain_xml[node.range()].to_owned(),
    }))
}

fn device_nodes<'a, 'input>(doc: &'a Document<'input>) -> impl Iterator<Item = Node<'a, 'input>> {
    child(doc.root_element(), "devices")
        .into_iter()
        .flat_map(|devices| devices.children().filter(Node::is_element))
}

/// An attribute of `node`'s first child `tag`, or empty.
fn attribute_of(node: Node<'_, '_>, tag: &str, attribute: &str) -> String {
    child(node, tag)
        .and_then(|c| c.attribute(attribute))
        .unwrap_or_default()
        .to_owned()
}

fn disk(node: Node<'_, '_>) -> Disk {
    let source = child(node, "source").map_or(String::new(), |s| {
        match (s.attribute("pool"), s.attribute("volume")) {
            (Some(pool), Some(volume)) => format!("{pool}/{volume}"),
            _ => s
                .attribute("file")
                .or_else(|| s.attribute("dev"))
                .or_else(|| s.attribute("name"))
                .unwrap_or_default()
                .to_owned(),
        }
    });
    Disk {
        target: attribute_of(node, "target", "dev"),
        bus: attribute_of(node, "target", "bus"),
        device: node.attribute("device").unwrap_or("disk").to_owned(),
        source,
        format: attribute_of(node, "driver", "type"),
        read_only: child(node, "readonly").is_some(),
        alias: attribute_of(node, "alias", "name"),
    }
}

fn interface(node: Node<'_, '_>) -> Interface {
    let source = child(node, "source").map_or(String::new(), |s| {
        s.attribute("network")
            .or_else(|| s.attribute("bridge"))
            .or_else(|| s.attribute("dev"))
            .unwrap_or_default()
            .to_owned()
    });
    Interface {
        mac: attribute_of(node, "mac", "address"),
        model: attribute_of(node, "model", "type"),
        kind: node.attribute("type").unwrap_or_default().to_owned(),
        source,
        host_device: attribute_of(node, "target", "dev"),
        alias: attribute_of(node, "alias", "name"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HostPath, MacAddress};

    const LIVE: &str = "<domain><devices>\
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/srv/vm/a.qcow2'/><target dev='vda' bus='virtio'/><alias name='virtio-disk0'/></disk>\
        <disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='p' volume='v'/><target dev='vdb' bus='virtio'/><readonly/><alias name='virtio-disk1'/></disk>\
        <interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='default'/><target dev='vnet3'/><model type='virtio'/><alias name='net0'/></interface>\
        <serial type='pty'><alias name='serial0'/></serial>\
        </devices></domain>";

    #[test]
    fn disks_and_interfaces_are_read_from_the_domain_xml() {
        let found = devices(LIVE).expect("parses");
        assert_eq!(found.disks.len(), 2);
        assert_eq!(found.disks[0].source, "/srv/vm/a.qcow2");
        assert_eq!(found.disks[1].source, "p/v");
        assert!(found.disks[1].read_only);
        assert_eq!(found.interfaces[0].mac, "52:54:00:aa:bb:cc");
        assert_eq!(found.interfaces[0].host_device, "vnet3");
        assert_eq!(found.interfaces[0].alias, "net0");
    }

    #[test]
    fn a_device_is_found_by_target_mac_or_alias_with_its_own_xml() {
        let by_target = find(LIVE, &DeviceSelector::DiskTarget("vdb".into())).expect("parses");
        let by_target = by_target.expect("found");
        assert_eq!(by_target.alias, "virtio-disk1");
        assert!(
            by_target.xml.starts_with("<disk type='volume'") && by_target.xml.ends_with("</disk>")
        );
        let mac = MacAddress::parse("mac", "52:54:00:AA:BB:CC").expect("mac");
        let by_mac = find(LIVE, &DeviceSelector::InterfaceMac(mac)).expect("parses");
        assert_eq!(by_mac.expect("found").alias, "net0");
        let by_alias = find(LIVE, &DeviceSelector::Alias("serial0".into())).expect("parses");
        assert!(by_alias.is_some());
        assert_eq!(
            find(LIVE, &DeviceSelector::DiskTarget("vdz".into())).expect("parses"),
            None
        );
    }

    #[test]
    fn typed_devices_render_as_libvirt_xml_with_values_escaped() {
        let disk = DiskSpec {
            source: DiskSource::Path(
                HostPath::parse("path", "/srv/vm/a&b.raw", &["/srv/vm".into()]).expect("path"),
            ),
            target: "vdc".into(),
            bus: "virtio".into(),
            format: "raw".into(),
            read_only: true,
        };
        let xml = disk_xml(&disk);
        assert!(xml.contains("file=\"/srv/vm/a&amp;b.raw\""), "{xml}");
        assert!(xml.contains("<readonly/>"), "{xml}");
        let parsed =
            devices(&format!("<domain><devices>{xml}</devices></domain>")).expect("parses");
        assert_eq!(parsed.disks[0].source, "/srv/vm/a&b.raw");
        let nic = InterfaceSpec {
            source: InterfaceSource::Bridge("br0".into()),
            model: "virtio".into(),
            mac: MacAddress::parse("mac", "52:54:00:00:00:01").expect("mac"),
        };
        let xml = interface_xml(&nic);
        let parsed =
            devices(&format!("<domain><devices>{xml}</devices></domain>")).expect("parses");
        assert_eq!(parsed.interfaces[0].kind, "bridge");
        assert_eq!(parsed.interfaces[0].source, "br0");
        assert_eq!(parsed.interfaces[0].mac, "52:54:00:00:00:01");
    }
}
