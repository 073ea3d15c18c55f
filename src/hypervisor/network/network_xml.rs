//! libvirt's network XML (`<network>`), read into the model: identity, bridge,
//! forward mode, addresses and their DHCP ranges.

use std::net::Ipv4Addr;

use roxmltree::Node;

use crate::{
    hypervisor::{HypervisorError, xml},
    model::{DhcpRange, ForwardMode, IpFamily, NetworkAddress},
};

/// What a network's XML says, before libvirt's state flags are added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Definition {
    pub(super) name: String,
    pub(super) uuid: String,
    pub(super) bridge: Option<String>,
    pub(super) forward: ForwardMode,
    pub(super) addresses: Vec<NetworkAddress>,
}

/// Reads a network's description.
pub(super) fn parse(xml: &str) -> Result<Definition, HypervisorError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        HypervisorError::internal("read network", format!("network XML unreadable: {e}"))
    })?;
    let root = doc.root_element();
    Ok(Definition {
        name: xml::child_text(root, "name").unwrap_or_default(),
        uuid: xml::child_text(root, "uuid").unwrap_or_default(),
        bridge: xml::child(root, "bridge")
            .and_then(|b| b.attribute("name"))
            .filter(|name| !name.is_empty())
            .map(str::to_owned),
        forward: forward_mode(xml::child(root, "forward")),
        addresses: root
            .children()
            .filter(|n| n.has_tag_name("ip"))
            .filter_map(address)
            .collect(),
    })
}

/// The name and UUID a client's XML gives its network, when it parses.
pub(super) fn identity(xml: &str) -> Option<(Option<String>, Option<String>)> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let root = doc.root_element();
    Some((
        xml::child_text(root, "name").filter(|n| !n.is_empty()),
        xml::child_text(root, "uuid").filter(|u| !u.is_empty()),
    ))
}

/// No `<forward>` is an isolated network; one without a mode is NAT, libvirt's
/// default.
fn forward_mode(forward: Option<Node<'_, '_>>) -> ForwardMode {
    let Some(forward) = forward else {
        return ForwardMode::Isolated;
    };
    match forward.attribute("mode").unwrap_or("nat") {
        "route" => ForwardMode::Route,
        "open" => ForwardMode::Open,
        "bridge" => ForwardMode::Bridge,
        "private" => ForwardMode::Private,
        "vepa" => ForwardMode::Vepa,
        "passthrough" => ForwardMode::Passthrough,
        "hostdev" => ForwardMode::Hostdev,
        // libvirt refuses any other word when the network is defined.
        _ => ForwardMode::Nat,
    }
}

/// One `<ip>` element; `None` without an address.
fn address(ip: Node<'_, '_>) -> Option<NetworkAddress> {
    let address = ip.attribute("address")?.to_owned();
    let family = match ip.attribute("family") {
        Some("ipv6") => IpFamily::V6,
        Some(_) => IpFamily::V4,
        None if address.contains(':') => IpFamily::V6,
        None => IpFamily::V4,
    };
    let dhcp_ranges = xml::child(ip, "dhcp")
        .map(|dhcp| {
            dhcp.children()
                .filter(|n| n.has_tag_name("range"))
                .filter_map(|range| {
                    Some(DhcpRange {
                        start: range.attribute("start")?.to_owned(),
                        end: range.attribute("end")?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(NetworkAddress {
        prefix: prefix(ip, family, &address),
        family,
        address,
        dhcp_ranges,
    })
}

/// The prefix length from `prefix` or `netmask`; without either, what libvirt
/// infers: 64 for IPv6, the address class for IPv4.
fn prefix(ip: Node<'_, '_>, family: IpFamily, address: &str) -> u32 {
    if let Some(prefix) = ip.attribute("prefix").and_then(|p| p.parse().ok()) {
        return prefix;
    }
    if let Some(mask) = ip
        .attribute("netmask")
        .and_then(|m| m.parse::<Ipv4Addr>().ok())
    {
        return u32::from(mask).count_ones();
    }
    match family {
        IpFamily::V6 => 64,
        IpFamily::V4 => match address.parse::<Ipv4Addr>().map(|a| a.octets()[0]) {
            Ok(0..=127) => 8,
            Ok(128..=191) => 16,
            Ok(192..=223) => 24,
            _ => 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nat_network_with_dhcp_on_both_families_is_read_into_the_model() {
        let xml = "<network><name>default</name>\
                   <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>\
                   <forward mode='nat'/><bridge name='virbr0' stp='on' delay='0'/>\
                   <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp>\
                   <range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>\
                   <ip family='ipv6' address='fd00::1' prefix='64'><dhcp>\
                   <range start='fd00::10' end='fd00::ff'/></dhcp></ip></network>";
        let definition = parse(xml).expect("parses");
        assert_eq!(definition.name, "default");
        assert_eq!(definition.uuid, "dd8fe884-6c02-601e-7551-cca97df1c5df");
        assert_eq!(definition.bridge.as_deref(), Some("virbr0"));
        assert_eq!(definition.forward, ForwardMode::Nat);
        assert_eq!(
            definition.addresses,
            [
                NetworkAddress {
                    family: IpFamily::V4,
                    address: "192.168.122.1".into(),
                    prefix: 24,
                    dhcp_ranges: vec![DhcpRange {
                        start: "192.168.122.2".into(),
                        end: "192.168.122.254".into(),
                    }],
                },
                NetworkAddress {
                    family: IpFamily::V6,
                    address: "fd00::1".into(),
                    prefix: 64,
                    dhcp_ranges: vec![DhcpRange {
                        start: "fd00::10".into(),
                        end: "fd00::ff".into(),
                    }],
                },
            ]
        );
    }

    #[test]
    fn forward_modes_read_as_libvirt_means_them() {
        let mode = |inner: &str| {
            parse(&format!("<network><name>n</name>{inner}</network>"))
                .expect("parses")
                .forward
        };
        assert_eq!(mode(""), ForwardMode::Isolated);
        assert_eq!(mode("<forward/>"), ForwardMode::Nat);
        assert_eq!(mode("<forward mode='route'/>"), ForwardMode::Route);
        assert_eq!(mode("<forward mode='open'/>"), ForwardMode::Open);
        assert_eq!(
            mode("<forward mode='bridge'><interface dev='eth0'/></forward>"),
            ForwardMode::Bridge
        );
        assert_eq!(
            mode("<forward mode='passthrough'/>"),
            ForwardMode::Passthrough
        );
        assert_eq!(mode("<forward mode='hostdev'/>"), ForwardMode::Hostdev);
    }

    #[test]
    fn a_prefix_missing_from_the_xml_is_inferred_as_libvirt_does() {
        let prefixes: Vec<u32> = parse(
            "<network><name>n</name><ip address='10.0.0.1'/><ip address='172.16.0.1'/>\
             <ip address='192.168.1.1' prefix='28'/><ip address='fd00::1'/><ip/></network>",
        )
        .expect("parses")
        .addresses
        .iter()
        .map(|a| a.prefix)
        .collect();
        assert_eq!(
            prefixes,
            [8, 16, 28, 64],
            "an <ip> without address is skipped"
        );
    }

    #[test]
    fn a_clients_xml_gives_its_identity_when_it_parses() {
        assert_eq!(
            identity("<network><name>n</name><uuid>u</uuid></network>"),
            Some((Some("n".into()), Some("u".into())))
        );
        assert_eq!(identity("<network><bridge/></network>"), Some((None, None)));
        assert_eq!(identity("<network><name>"), None);
    }
}
