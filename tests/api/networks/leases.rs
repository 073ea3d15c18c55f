//! ListNetworkLeases on the test driver: it cannot report leases, and says so in
//! libvirt's words; the MAC filter is checked before libvirt is asked, and an unknown
//! network is NOT_FOUND. (Real leases are read on QEMU's network driver:
//! `qemu::network_leases`.)

use tonic::Code;
use virtplane::grpc::pb;

use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

fn leases(network: &str, mac: &str) -> pb::ListNetworkLeasesRequest {
    pb::ListNetworkLeasesRequest {
        network: network.into(),
        mac: mac.into(),
    }
}

#[tokio::test]
async fn the_test_driver_cannot_report_leases_and_says_so() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    for mac in ["", "52:54:00:AB:cd:ef"] {
        let status = app
            .networks
            .list_network_leases(leases("default", mac))
            .await
            .expect_err("the test driver has no DHCP server");
        assert_eq!(status.code(), Code::Unimplemented, "{}", status.message());
        assert!(
            status.message().contains("virNetworkGetDHCPLeases"),
            "libvirt's words: {}",
            status.message()
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_bad_mac_filter_and_an_unknown_network_are_refused_before_libvirt_is_asked() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    for bad in [
        "52:54:00:ab:cd",
        "52-54-00-ab-cd-ef",
        "zz:54:00:ab:cd:ef",
        "x",
    ] {
        let status = app
            .networks
            .list_network_leases(leases("default", bad))
            .await
            .expect_err(bad);
        assert_eq!(status.code(), Code::InvalidArgument, "{bad}");
        assert!(
            status.message().contains("`mac`") && status.message().contains(bad),
            "{}",
            status.message()
        );
    }
    let unknown = unique_name("nowhere");
    let status = app
        .networks
        .list_network_leases(leases(&unknown, "52:54:00:ab:cd:ef"))
        .await
        .expect_err("no such network");
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains(&unknown), "{}", status.message());
    let unnamed = app
        .networks
        .list_network_leases(leases("", ""))
        .await
        .expect_err("no network named");
    assert_eq!(unnamed.code(), Code::InvalidArgument);
    app.stop().await;
}
