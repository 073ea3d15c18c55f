//! ListNetworks and GetNetwork on the test driver's built-in `default` network.

use tonic::Code;
use virtplane::grpc::pb::{self, ForwardMode, IpFamily};

use super::{get, list_all};
use crate::support::{TEST_DRIVER, TestApp, TestOptions};

#[tokio::test]
async fn the_default_network_is_listed_and_read_by_name_or_uuid_with_its_addressing() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let listed = list_all(&mut app, 1).await;
    let names: Vec<&str> = listed.iter().map(|n| n.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "ordered by name across pages");
    let default = listed
        .iter()
        .find(|n| n.name == "default")
        .expect("the test driver's network")
        .clone();
    assert_eq!(default.uuid, "dd8fe884-6c02-601e-7551-cca97df1c5df");
    assert_eq!(default.bridge, "virbr0");
    assert_eq!(default.forward_mode(), ForwardMode::Nat);
    assert!(default.active && default.persistent && !default.autostart);
    assert_eq!(
        default.addresses,
        [pb::NetworkAddress {
            family: IpFamily::Ipv4.into(),
            address: "192.168.122.1".into(),
            prefix: 24,
            dhcp_ranges: vec![pb::DhcpRange {
                start: "192.168.122.2".into(),
                end: "192.168.122.254".into(),
            }],
        }]
    );

    assert_eq!(get(&mut app, "default").await.expect("by name"), default);
    let spelled = default.uuid.replace('-', "").to_uppercase();
    assert_eq!(get(&mut app, &spelled).await.expect("by UUID"), default);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_network_is_not_found_and_a_missing_one_an_invalid_argument() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    for unknown in ["no-such-network", "00000000-0000-0000-0000-000000000001"] {
        let status = get(&mut app, unknown).await.expect_err(unknown);
        assert_eq!(status.code(), Code::NotFound, "{}", status.message());
        assert!(status.message().contains(unknown), "{}", status.message());
    }
    let missing = get(&mut app, "").await.expect_err("no network named");
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert!(
        missing.message().contains("`network`"),
        "{}",
        missing.message()
    );
    let bad_token = app
        .networks
        .list_networks(pb::ListNetworksRequest {
            page_size: 1,
            page_token: "not-a-token".into(),
        })
        .await
        .expect_err("a token this call never returned");
    assert_eq!(bad_token.code(), Code::InvalidArgument);
    assert!(bad_token.message().contains("`page_token`"));
    app.stop().await;
}
