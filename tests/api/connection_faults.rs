//! Fault paths of the libvirt connection, seen by clients: connects that time out
//! against a frozen daemon, a daemon that arrives after the service, and a database
//! that stalls the effects of a connect.

use std::time::Duration;

use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
use virtplane::grpc::pb::{self, LifecycleEventType as Type};

use crate::support::{
    TestApp, TestOptions,
    events::{events_of, kinds},
    eventually,
    libvirtd::Libvirtd,
    postgres::ScratchDatabase,
    unique_name, write_domain_xml,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_given_up_against_a_frozen_daemon_leave_nothing_behind_once_it_wakes() {
    let daemon = Libvirtd::start();
    daemon.signal("STOP");
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri()).connect_timeout_ms(2000)).await;

    app.host_until(
        Duration::from_secs(20),
        "two connects timed out, a third begun",
        |h| h.connect_attempts >= 3,
    )
    .await;
    daemon.signal("CONT");
    app.settled().await;

    let name = unique_name("zombie");
    daemon.virsh(&["define", &write_domain_xml(app.scratch.path(), &name)]);
    daemon.virsh(&["start", &name]);
    daemon.virsh(&["destroy", &name]);
    // A last change: once it is stored, any copy of the others would be too.
    daemon.virsh(&["undefine", &name]);
    eventually(Duration::from_secs(10), "the undefine is recorded", || {
        let (app, name) = (&app, name.clone());
        async move { kinds(&events_of(app, &name).await).contains(&Type::Undefined) }
    })
    .await;

    assert_eq!(
        kinds(&events_of(&app, &name).await),
        vec![Type::Defined, Type::Started, Type::Stopped, Type::Undefined],
        "each change stored exactly once"
    );
    assert_eq!(daemon.client_count(), 1, "one connection from the service");
    eventually(
        Duration::from_secs(10),
        "only the live connection's eight callbacks are registered",
        || async { virtplane::hypervisor::live_callback_contexts() == 8 },
    )
    .await;
    assert!(app.host_info().await.connected);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_alone_turns_serving_soon_after_a_late_daemon_arrives() {
    let mut daemon = Libvirtd::prepare();
    let app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    let mut health = app.health.clone();
    let check = HealthCheckRequest {
        service: "virtplane.v1.DomainService".into(),
    };

    // No RPC but health checks, as a kubelet probes a pod.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = health
        .check(check.clone())
        .await
        .expect("health")
        .into_inner();
    assert_eq!(before.status, ServingStatus::NotServing as i32);

    daemon.launch();
    // The test configuration caps the reconnect backoff at 400 ms.
    eventually(
        Duration::from_millis(400) + Duration::from_secs(1),
        "DomainService SERVING without any RPC",
        || {
            let (mut health, check) = (health.clone(), check.clone());
            async move {
                health
                    .check(check)
                    .await
                    .is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32)
            }
        },
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_database_does_not_hold_up_libvirt_calls_at_a_reconnect() {
    use sqlx::{Connection, Executor};
    let database = ScratchDatabase::create().await;
    let mut daemon = Libvirtd::start();
    let options = TestOptions::new(daemon.uri()).database(database.url());
    let hostname = options.hostname.clone();
    let mut app = TestApp::spawn(options).await;
    app.settled().await;

    daemon.kill();
    app.host_until(
        Duration::from_secs(10),
        "the host disabled by itself",
        |h| !h.enabled,
    )
    .await;

    // Another session holds the host's row: re-enabling it waits for as long.
    let mut blocker = sqlx::PgConnection::connect(&database.url())
        .await
        .expect("second session");
    blocker.execute("BEGIN").await.expect("begin");
    sqlx::query("SELECT hostname FROM hosts WHERE hostname = $1 FOR UPDATE")
        .bind(&hostname)
        .fetch_one(&mut blocker)
        .await
        .expect("row locked");

    daemon.launch();
    let domains = app.domains.clone();
    eventually(
        Duration::from_secs(15),
        "libvirt calls answered while the host's row is locked",
        || {
            let mut domains = domains.clone();
            async move {
                let mut request = tonic::Request::new(pb::ListDomainsRequest::default());
                request.set_timeout(Duration::from_secs(2));
                domains.list_domains(request).await.is_ok()
            }
        },
    )
    .await;
    assert!(
        !app.host_info().await.enabled,
        "the re-enable is still waiting for the row"
    );

    blocker.execute("ROLLBACK").await.expect("rollback");
    app.host_until(Duration::from_secs(10), "the host enabled again", |h| {
        h.enabled
    })
    .await;
    app.stop().await;
    drop(blocker);
    database.drop_database().await;
}
