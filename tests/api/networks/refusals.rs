//! Network changes refused: on a host that does not allow them, and for requests a
//! client got wrong, each with the code a client expects.

use tonic::{Code, Status};
use virtplane::grpc::pb;

use super::{get, list_all, network_xml};
use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

/// Every change, each asked of the `default` network (or a new one).
async fn every_change(app: &mut TestApp) -> Vec<(&'static str, Status)> {
    let network = || "default".to_owned();
    let n = &mut app.networks;
    vec![
        (
            "DefineNetwork",
            n.define_network(pb::DefineNetworkRequest {
                xml: network_xml(&unique_name("refused"), None),
                ..Default::default()
            })
            .await
            .expect_err("define"),
        ),
        (
            "StartNetwork",
            n.start_network(pb::StartNetworkRequest {
                network: network(),
                ..Default::default()
            })
            .await
            .expect_err("start"),
        ),
        (
            "StopNetwork",
            n.stop_network(pb::StopNetworkRequest {
                network: network(),
                ..Default::default()
            })
            .await
            .expect_err("stop"),
        ),
        (
            "UndefineNetwork",
            n.undefine_network(pb::UndefineNetworkRequest {
                network: network(),
                ..Default::default()
            })
            .await
            .expect_err("undefine"),
        ),
        (
            "SetNetworkAutostart",
            n.set_network_autostart(pb::SetNetworkAutostartRequest {
                network: network(),
                autostart: true,
                ..Default::default()
            })
            .await
            .expect_err("autostart"),
        ),
    ]
}

#[tokio::test]
async fn a_host_that_does_not_allow_network_changes_refuses_them_naming_the_key() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let before = list_all(&mut app, 0).await;

    for (method, status) in every_change(&mut app).await {
        assert_eq!(status.code(), Code::FailedPrecondition, "{method}");
        assert!(
            status.message().contains(method) && status.message().contains("manage_networks"),
            "{method}: {}",
            status.message()
        );
    }
    assert_eq!(list_all(&mut app, 0).await, before, "nothing changed");
    app.stop().await;
}

#[tokio::test]
async fn bad_network_requests_get_the_code_a_client_expects() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER).manage_networks()).await;
    let define = |xml: &str| pb::DefineNetworkRequest {
        xml: xml.into(),
        ..Default::default()
    };
    let name = unique_name("bad");
    for (xml, says) in [
        ("", "`xml`"),
        ("<network><name>", ""),
        ("<network><bridge name='vptnoname'/></network>", "name"),
        (
            &*format!("<network><name>{name}</name><forward mode='bogus'/></network>"),
            "bogus",
        ),
    ] {
        let status = app
            .networks
            .define_network(define(xml))
            .await
            .expect_err(xml);
        assert_eq!(status.code(), Code::InvalidArgument, "{xml}: {status:?}");
        assert!(status.message().contains(says), "{}", status.message());
    }

    let already = app
        .networks
        .start_network(pb::StartNetworkRequest {
            network: "default".into(),
            ..Default::default()
        })
        .await
        .expect_err("default runs already");
    assert_eq!(already.code(), Code::FailedPrecondition);
    assert!(already.message().contains("already active"));
    app.networks
        .define_network(define(&network_xml(&name, None)))
        .await
        .expect("define an inactive network");
    let inactive = app
        .networks
        .stop_network(pb::StopNetworkRequest {
            network: name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("not running");
    assert_eq!(inactive.code(), Code::FailedPrecondition);
    assert!(inactive.message().contains("not active"));

    let unknown = unique_name("nowhere");
    let n = &mut app.networks;
    for status in [
        n.start_network(pb::StartNetworkRequest {
            network: unknown.clone(),
            ..Default::default()
        })
        .await
        .expect_err("start"),
        n.stop_network(pb::StopNetworkRequest {
            network: unknown.clone(),
            ..Default::default()
        })
        .await
        .expect_err("stop"),
        n.set_network_autostart(pb::SetNetworkAutostartRequest {
            network: unknown.clone(),
            autostart: true,
            ..Default::default()
        })
        .await
        .expect_err("autostart"),
    ] {
        assert_eq!(status.code(), Code::NotFound, "{}", status.message());
        assert!(status.message().contains(&unknown), "{}", status.message());
    }
    let unnamed = n
        .start_network(pb::StartNetworkRequest::default())
        .await
        .expect_err("no network named");
    assert_eq!(unnamed.code(), Code::InvalidArgument);
    assert!(get(&mut app, &name).await.is_ok_and(|n| !n.active));
    app.stop().await;
}
