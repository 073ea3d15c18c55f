//! The connection's libvirt callbacks: a closed connection disables the host without
//! any RPC, and every callback context is freed exactly once.

use std::time::Duration;

use virtplane::grpc::pb::{self};

use crate::support::{TestApp, TestOptions, events::last_event_id, eventually, libvirtd::Libvirtd};

#[tokio::test]
async fn killing_the_daemon_disables_the_host_without_any_rpc() {
    let mut daemon = Libvirtd::start();
    // Keepalive would notice too, but only after 60 s: only the close callback is fast.
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri()).keepalive_interval_s(30)).await;
    app.domains
        .list_domains(pb::ListDomainsRequest::default())
        .await
        .expect("connected");
    let database = app.scratch.sqlite_url();
    let hostname = app.hostname.clone();

    daemon.kill();

    // Observed without touching libvirt: the database row and the health service.
    eventually(
        Duration::from_secs(3),
        "the host row is AUTO-disabled",
        || {
            let (database, hostname) = (database.clone(), hostname.clone());
            async move {
                use sqlx::{Connection, Row};
                let mut conn = sqlx::SqliteConnection::connect(&database)
                    .await
                    .expect("open db");
                let row =
                    sqlx::query("SELECT enabled, disabled_reason FROM hosts WHERE hostname = ?1")
                        .bind(hostname)
                        .fetch_one(&mut conn)
                        .await
                        .expect("row");
                let enabled: i64 = row.get(0);
                let reason: Option<String> = row.get(1);
                enabled == 0 && reason.is_some_and(|r| r.starts_with("AUTO: "))
            }
        },
    )
    .await;
    assert_eq!(
        app.health_of("virtplane.v1.DomainService").await,
        tonic_health::pb::health_check_response::ServingStatus::NotServing as i32
    );
}

#[tokio::test]
async fn callback_contexts_are_freed_exactly_once_across_reconnects_and_shutdown() {
    let mut daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    last_event_id(&mut app).await;
    // One lifecycle, three device (added, removed, removal failed), three for the
    // inventory (metadata, tunable, balloon) and one close callback on the live
    // connection.
    assert_eq!(virtplane::hypervisor::live_callback_contexts(), 8);

    daemon.restart();
    app.host_until(Duration::from_secs(10), "reconnected", |h| {
        h.reconnects == 1
    })
    .await;
    eventually(
        Duration::from_secs(5),
        "the dead connection's contexts freed",
        || async { virtplane::hypervisor::live_callback_contexts() == 8 },
    )
    .await;

    app.stop().await;
    // libvirt frees a callback that is being dispatched from its event loop, a moment
    // later: wait for it rather than race it.
    eventually(
        Duration::from_secs(10),
        "every context freed after shutdown",
        || async { virtplane::hypervisor::live_callback_contexts() == 0 },
    )
    .await;
}
