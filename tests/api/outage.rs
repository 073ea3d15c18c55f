//! A private libvirtd hosting the test driver: kill it and restart it while the
//! service runs, as a real hypervisor host loses and regains libvirt.

use std::time::Duration;

use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use virtplane::grpc::pb;

use crate::support::{
    TestApp, TestOptions, eventually, libvirtd::Libvirtd, unique_name, write_domain_xml,
};

const DOMAIN_SERVICE: &str = "virtplane.v1.DomainService";

async fn list(app: &mut TestApp) -> Result<Vec<pb::Domain>, tonic::Status> {
    app.domains
        .list_domains(pb::ListDomainsRequest::default())
        .await
        .map(|r| r.into_inner().domains)
}

async fn wait_until_listing_works(app: &mut TestApp) {
    let client = app.domains.clone();
    eventually(
        Duration::from_secs(15),
        "ListDomains succeeds again",
        || {
            let mut client = client.clone();
            async move {
                client
                    .list_domains(pb::ListDomainsRequest::default())
                    .await
                    .is_ok()
            }
        },
    )
    .await;
}

#[tokio::test]
async fn domains_changed_by_another_client_are_visible_through_the_service() {
    let daemon = Libvirtd::start();
    let app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    let name = unique_name("behind");

    daemon.virsh(&["define", &write_domain_xml(app.scratch.path(), &name)]);
    daemon.virsh(&["start", &name]);

    // Reads come from the inventory, which the daemon's events update within moments.
    let client = app.domains.clone();
    eventually(Duration::from_secs(10), "the domain seen running", || {
        let mut client = client.clone();
        let name = name.clone();
        async move {
            client
                .get_domain(pb::GetDomainRequest {
                    domain: name,
                    ..Default::default()
                })
                .await
                .is_ok_and(|d| d.get_ref().state == i32::from(pb::DomainState::Running))
        }
    })
    .await;
}

/// Reads are answered from the inventory until the service notices the loss.
async fn wait_until_loss_noticed(app: &TestApp) {
    app.host_until(Duration::from_secs(10), "the loss noticed", |h| {
        !h.connected
    })
    .await;
}

#[tokio::test]
async fn killing_libvirtd_disables_the_host_and_restarting_it_recovers() {
    let mut daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    assert!(list(&mut app).await.is_ok());
    assert_eq!(
        app.health_of(DOMAIN_SERVICE).await,
        ServingStatus::Serving as i32
    );

    daemon.kill();
    wait_until_loss_noticed(&app).await;
    let err = list(&mut app).await.expect_err("libvirt is gone");
    assert_eq!(err.code(), Code::Unavailable, "{}", err.message());

    let host = app.host_info().await;
    assert!(!host.enabled);
    assert!(!host.connected);
    assert!(
        host.disabled_reason.starts_with("AUTO: "),
        "{}",
        host.disabled_reason
    );
    assert!(!host.last_error.is_empty());
    assert_eq!(
        app.health_of(DOMAIN_SERVICE).await,
        ServingStatus::NotServing as i32
    );
    assert_eq!(
        app.health_of("virtplane.v1.HostService").await,
        ServingStatus::Serving as i32
    );

    daemon.restart();
    wait_until_listing_works(&mut app).await;

    let host = app.host_info().await;
    assert!(host.enabled, "an automatic disable is lifted: {host:?}");
    assert!(host.disabled_reason.is_empty());
    assert!(host.connected);
    assert_eq!(host.reconnects, 1);
    assert_eq!(
        app.health_of(DOMAIN_SERVICE).await,
        ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn an_operators_disable_survives_an_outage_and_recovery() {
    let mut daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    app.host
        .set_host_enabled(pb::SetHostEnabledRequest {
            enabled: false,
            reason: "firmware update".into(),
            ..Default::default()
        })
        .await
        .expect("disable");

    daemon.kill();
    wait_until_loss_noticed(&app).await;
    list(&mut app).await.expect_err("libvirt is gone");
    let during = app.host_info().await;
    assert!(!during.enabled);
    assert_eq!(
        during.disabled_reason, "firmware update",
        "not overwritten by AUTO"
    );

    daemon.restart();
    wait_until_listing_works(&mut app).await;
    let after = app.host_info().await;
    assert!(after.connected);
    assert!(
        !after.enabled,
        "an operator's disable is never undone by a reconnect"
    );
    assert_eq!(after.disabled_reason, "firmware update");
}

#[tokio::test]
async fn a_hundred_concurrent_calls_during_an_outage_share_few_connect_attempts() {
    let mut daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    assert!(list(&mut app).await.is_ok());
    daemon.kill();
    wait_until_loss_noticed(&app).await;
    list(&mut app).await.expect_err("libvirt is gone");
    let before = app.host_info().await.connect_attempts;

    let calls = (0..100).map(|_| {
        let mut client = app.domains.clone();
        tokio::spawn(async move {
            client
                .list_domains(pb::ListDomainsRequest::default())
                .await
                .map(drop)
        })
    });
    let results = futures_join_all(calls).await;

    let unavailable = results
        .iter()
        .filter(|r| matches!(r, Err(status) if status.code() == Code::Unavailable))
        .count();
    assert_eq!(unavailable, 100, "every call fails clearly: {results:?}");
    let attempts = app.host_info().await.connect_attempts - before;
    // One attempt per backoff window (100-400 ms here), however many callers wait.
    assert!(
        attempts <= 10,
        "{attempts} connect attempts for 100 concurrent calls"
    );
}

async fn futures_join_all(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<Result<(), tonic::Status>>>,
) -> Vec<Result<(), tonic::Status>> {
    let mut results = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        results.push(task.await.expect("task"));
    }
    results
}
