//! ListNetworkLeases on libvirt's own network driver (loaded by the QEMU daemon): the
//! leases recorded for a network, read through virNetworkGetDHCPLeases, copied and
//! freed by the service's FFI wrapper.
//!
//! The network is defined, not started: starting it would create a bridge and a
//! firewall on the shared host. Its leases are what libvirt's DHCP helper
//! (`libvirt_leaseshelper`, run by dnsmasq) records, in the file libvirt reads them
//! from: `<dnsmasq state dir>/<bridge>.status`, whether the network runs or not.

use std::time::{SystemTime, UNIX_EPOCH};

use virtplane::grpc::pb::{self, IpFamily};

use crate::{
    networks::{bridge_for, network_xml},
    support::{TestApp, TestOptions, qemu::QemuDaemon, unique_name},
};

#[tokio::test]
async fn recorded_leases_are_listed_by_address_filtered_by_mac_and_expired_ones_left_out() {
    let daemon = QemuDaemon::start();
    let options = TestOptions::new(daemon.uri())
        .call_timeout_ms(60_000)
        .manage_networks();
    let mut app = TestApp::spawn(options).await;
    let name = unique_name("net-leases");
    app.networks
        .define_network(pb::DefineNetworkRequest {
            xml: network_xml(&name, None),
            ..Default::default()
        })
        .await
        .expect("define");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (later, earlier) = (now + 3600, now - 60);
    let status = daemon.lib_path(&format!("dnsmasq/{}.status", bridge_for(&name)));
    std::fs::create_dir_all(status.parent().expect("folder")).expect("dnsmasq state folder");
    std::fs::write(
        &status,
        format!(
            r#"[
  {{"ip-address": "10.77.0.150", "mac-address": "52:54:00:00:00:02", "hostname": "web-2",
    "client-id": "01:52:54:00:00:00:02", "expiry-time": {later}}},
  {{"ip-address": "fd77::20", "mac-address": "52:54:00:ab:cd:01", "iaid": "5678",
    "expiry-time": 0}},
  {{"ip-address": "10.77.0.120", "mac-address": "52:54:00:ab:cd:01", "hostname": "web-1",
    "expiry-time": {later}}},
  {{"ip-address": "10.77.0.199", "mac-address": "52:54:00:00:00:09", "expiry-time": {earlier}}}
]"#
        ),
    )
    .expect("lease file");

    let list = |mac: &str| pb::ListNetworkLeasesRequest {
        network: name.clone(),
        mac: mac.into(),
    };
    let leases = app
        .networks
        .list_network_leases(list(""))
        .await
        .expect("leases")
        .into_inner()
        .leases;
    let expires = |seconds: u64| {
        Some(prost_types::Timestamp {
            seconds: seconds as i64,
            nanos: 0,
        })
    };
    let bridge = bridge_for(&name);
    assert_eq!(
        leases,
        [
            pb::NetworkLease {
                mac: "52:54:00:ab:cd:01".into(),
                ip: "10.77.0.120".into(),
                family: IpFamily::Ipv4.into(),
                prefix: 24,
                hostname: "web-1".into(),
                client_id: String::new(),
                iaid: String::new(),
                interface: bridge.clone(),
                expire_time: expires(later),
            },
            pb::NetworkLease {
                mac: "52:54:00:00:00:02".into(),
                ip: "10.77.0.150".into(),
                family: IpFamily::Ipv4.into(),
                prefix: 24,
                hostname: "web-2".into(),
                client_id: "01:52:54:00:00:00:02".into(),
                iaid: String::new(),
                interface: bridge.clone(),
                expire_time: expires(later),
            },
            pb::NetworkLease {
                mac: "52:54:00:ab:cd:01".into(),
                ip: "fd77::20".into(),
                family: IpFamily::Ipv6.into(),
                prefix: 64,
                hostname: String::new(),
                client_id: String::new(),
                iaid: "5678".into(),
                interface: bridge,
                expire_time: None,
            },
        ],
        "by address, the expired lease left out"
    );

    let one_guest = app
        .networks
        .list_network_leases(list("52:54:00:AB:CD:01"))
        .await
        .expect("filtered")
        .into_inner()
        .leases;
    let ips: Vec<&str> = one_guest.iter().map(|l| l.ip.as_str()).collect();
    assert_eq!(ips, ["10.77.0.120", "fd77::20"]);
    app.stop().await;
}
