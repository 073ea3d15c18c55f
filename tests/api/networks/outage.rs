//! NetworkService needs libvirt: its health follows libvirt's reachability, and its
//! calls answer UNAVAILABLE while libvirt is gone.

use std::time::Duration;

use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
use virtplane::grpc::pb;

use crate::support::{TestApp, TestOptions, eventually, libvirtd::Libvirtd};

const NETWORK_SERVICE: &str = "virtplane.v1.NetworkService";

#[tokio::test]
async fn the_network_service_is_not_serving_while_libvirt_is_gone() {
    let mut daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    app.networks
        .list_networks(pb::ListNetworksRequest::default())
        .await
        .expect("a first call connects");
    assert_eq!(
        app.health_of(NETWORK_SERVICE).await,
        ServingStatus::Serving as i32
    );

    daemon.kill();
    let health = app.health.clone();
    eventually(
        Duration::from_secs(10),
        "NetworkService NOT_SERVING",
        || {
            let mut health = health.clone();
            async move {
                health
                    .check(HealthCheckRequest {
                        service: NETWORK_SERVICE.into(),
                    })
                    .await
                    .is_ok_and(|r| r.into_inner().status == ServingStatus::NotServing as i32)
            }
        },
    )
    .await;
    let status = app
        .networks
        .list_networks(pb::ListNetworksRequest::default())
        .await
        .expect_err("libvirt is gone");
    assert_eq!(status.code(), Code::Unavailable, "{}", status.message());
    app.stop().await;
}
