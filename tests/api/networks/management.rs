//! DefineNetwork, StartNetwork, SetNetworkAutostart, StopNetwork and UndefineNetwork
//! on a host that allows them, each seen through GetNetwork and ListNetworks.

use tonic::Code;
use virtplane::grpc::pb::{self, ForwardMode, IpFamily};

use super::{bridge_for, get, list_all, network_xml};
use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

#[tokio::test]
async fn a_network_is_defined_started_autostarted_stopped_and_undefined_when_the_host_allows_it() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER).manage_networks()).await;
    let name = unique_name("net");
    let define = pb::DefineNetworkRequest {
        xml: network_xml(&name, None),
        create_only: true,
        request_id: format!("define-{name}"),
    };

    let defined = app
        .networks
        .define_network(define.clone())
        .await
        .expect("define")
        .into_inner();
    assert_eq!(defined.name, name);
    assert_eq!(defined.bridge, bridge_for(&name));
    assert_eq!(defined.forward_mode(), ForwardMode::Route);
    assert!(!defined.active && defined.persistent && !defined.autostart);
    let families: Vec<(IpFamily, &str, u32, usize)> = defined
        .addresses
        .iter()
        .map(|a| {
            (
                a.family(),
                a.address.as_str(),
                a.prefix,
                a.dhcp_ranges.len(),
            )
        })
        .collect();
    assert_eq!(
        families,
        [
            (IpFamily::Ipv4, "10.77.0.1", 24, 1),
            (IpFamily::Ipv6, "fd77::1", 64, 0)
        ]
    );
    // A retry of the same request is answered from the first reply: `create_only`
    // would refuse a second definition.
    let retried = app
        .networks
        .define_network(define)
        .await
        .expect("a retry")
        .into_inner();
    assert_eq!(retried, defined);
    let listed = list_all(&mut app, 0).await;
    assert!(listed.contains(&defined), "{listed:?}");

    let started = app
        .networks
        .start_network(pb::StartNetworkRequest {
            network: defined.uuid.clone(),
            ..Default::default()
        })
        .await
        .expect("start")
        .into_inner();
    assert!(started.active);
    let autostarted = app
        .networks
        .set_network_autostart(pb::SetNetworkAutostartRequest {
            network: name.clone(),
            autostart: true,
            ..Default::default()
        })
        .await
        .expect("autostart")
        .into_inner();
    assert!(autostarted.active && autostarted.autostart);
    assert_eq!(get(&mut app, &name).await.expect("get"), autostarted);

    let stopped = app
        .networks
        .stop_network(pb::StopNetworkRequest {
            network: name.clone(),
            ..Default::default()
        })
        .await
        .expect("stop")
        .into_inner();
    assert!(!stopped.active && stopped.persistent && stopped.autostart);
    let seen = list_all(&mut app, 0).await;
    assert!(seen.contains(&stopped), "{seen:?}");

    let undefine = |allow_missing| pb::UndefineNetworkRequest {
        network: name.clone(),
        allow_missing,
        ..Default::default()
    };
    app.networks
        .undefine_network(undefine(false))
        .await
        .expect("undefine");
    let gone = get(&mut app, &name).await.expect_err("undefined");
    assert_eq!(gone.code(), Code::NotFound);
    let again = app
        .networks
        .undefine_network(undefine(false))
        .await
        .expect_err("nothing left to undefine");
    assert_eq!(again.code(), Code::NotFound);
    app.networks
        .undefine_network(undefine(true))
        .await
        .expect("allow_missing: an absent network is fine");
    assert!(!list_all(&mut app, 0).await.iter().any(|n| n.name == name));
    app.stop().await;
}

#[tokio::test]
async fn a_definition_is_replaced_through_its_uuid_and_never_by_name_alone() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER).manage_networks()).await;
    let name = unique_name("net-redefine");
    let define = |xml: String, create_only| pb::DefineNetworkRequest {
        xml,
        create_only,
        ..Default::default()
    };
    let first = app
        .networks
        .define_network(define(network_xml(&name, None), false))
        .await
        .expect("define")
        .into_inner();

    let by_name = app
        .networks
        .define_network(define(network_xml(&name, None), false))
        .await
        .expect_err("the name is taken by another UUID");
    assert_eq!(by_name.code(), Code::AlreadyExists);
    assert!(
        by_name.message().contains(&first.uuid),
        "names the UUID to give: {}",
        by_name.message()
    );
    let create_only = app
        .networks
        .define_network(define(network_xml(&name, Some(&first.uuid)), true))
        .await
        .expect_err("create_only never replaces");
    assert_eq!(create_only.code(), Code::AlreadyExists);
    let renamed = app
        .networks
        .define_network(define(
            network_xml(&unique_name("net-renamed"), Some(&first.uuid)),
            false,
        ))
        .await
        .expect_err("a UUID keeps its name");
    assert_eq!(renamed.code(), Code::AlreadyExists);

    let wider = network_xml(&name, Some(&first.uuid)).replace("10.77.0.199", "10.77.0.250");
    let replaced = app
        .networks
        .define_network(define(wider, false))
        .await
        .expect("replaced through its UUID")
        .into_inner();
    assert_eq!(replaced.uuid, first.uuid);
    assert_eq!(replaced.addresses[0].dhcp_ranges[0].end, "10.77.0.250");
    assert_eq!(get(&mut app, &name).await.expect("get"), replaced);
    app.stop().await;
}
