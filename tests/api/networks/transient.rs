//! A transient network, made behind the service's back on a private libvirtd: read
//! like any other, refused an autostart flag, and gone once stopped.

use tonic::Code;
use virtplane::grpc::pb;

use super::{get, network_xml};
use crate::support::{TestApp, TestOptions, libvirtd::Libvirtd, unique_name};

#[tokio::test]
async fn a_transient_network_cannot_autostart_and_is_gone_once_stopped() {
    let daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri()).manage_networks()).await;
    let name = unique_name("net-transient");
    let file = app.scratch.join(&format!("{name}.xml"));
    std::fs::write(&file, network_xml(&name, None)).expect("network XML");
    daemon.virsh(&["net-create", &file.display().to_string()]);

    let seen = get(&mut app, &name).await.expect("made by virsh");
    assert!(seen.active && !seen.persistent);
    let autostart = app
        .networks
        .set_network_autostart(pb::SetNetworkAutostartRequest {
            network: name.clone(),
            autostart: true,
            ..Default::default()
        })
        .await
        .expect_err("nothing to mark");
    assert_eq!(autostart.code(), Code::FailedPrecondition);
    assert!(autostart.message().contains("transient"));
    let leases = app
        .networks
        .list_network_leases(pb::ListNetworkLeasesRequest {
            network: name.clone(),
            mac: String::new(),
        })
        .await
        .expect_err("the daemon's test driver cannot report leases either");
    assert_eq!(leases.code(), Code::Unimplemented);

    let stopped = app
        .networks
        .stop_network(pb::StopNetworkRequest {
            network: name.clone(),
            ..Default::default()
        })
        .await
        .expect("stop")
        .into_inner();
    assert_eq!(
        (stopped.name.as_str(), stopped.active, stopped.persistent),
        (name.as_str(), false, false)
    );
    assert_eq!(stopped.uuid, seen.uuid);
    let gone = get(&mut app, &name).await.expect_err("gone");
    assert_eq!(gone.code(), Code::NotFound);
    app.stop().await;
}
