//! Reconciliation as clients see it: owed until it succeeds, periodic, and reporting
//! a definition lost or gained while the service was not looking.

use std::time::Duration;

use sqlx::{Connection, Executor, SqliteConnection, sqlite::SqliteConnectOptions};
use virtplane::grpc::pb::{self, LifecycleEventType as Type};

use crate::support::{
    TestApp, TestOptions, domain_xml, events::wait_for_kind, eventually, libvirtd::Libvirtd,
    unique_name,
};

/// The names of the domains with a stored DEFINED event (real or synthetic).
async fn defined_names(app: &TestApp) -> std::collections::HashSet<String> {
    app.host
        .clone()
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            types: vec![Type::Defined.into()],
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .events
        .into_iter()
        .map(|e| e.domain_name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconciliation_that_fails_after_an_overflow_is_retried_until_it_succeeds() {
    let daemon = Libvirtd::start();
    // A frozen daemon must look slow, not lost: keepalive would take 90 s to give up.
    let options = TestOptions::new(daemon.uri())
        .keepalive_interval_s(30)
        .call_timeout_ms(500)
        .event_queue_capacity(64)
        .resync_interval_s(0);
    let mut app = TestApp::spawn(options).await;
    app.settled().await;
    let before = app.host_info().await;

    // Another connection holds SQLite's write lock, so the recorder cannot store and
    // the events below overflow its queue.
    let mut writer = SqliteConnection::connect_with(
        &SqliteConnectOptions::new().filename(app.scratch.sqlite_file()),
    )
    .await
    .expect("second SQLite connection");
    writer.execute("BEGIN IMMEDIATE").await.expect("write lock");
    let prefix = unique_name("gap");
    let names: Vec<String> = (0..150).map(|i| format!("{prefix}-{i}")).collect();
    let (uri, to_define) = (daemon.uri(), names.clone());
    tokio::task::spawn_blocking(move || {
        let direct = virt::connect::Connect::open(Some(&uri)).expect("direct connection");
        for name in &to_define {
            direct.define_domain_xml(&domain_xml(name)).expect("define");
        }
        drop(direct);
    })
    .await
    .expect("defines");

    // The reconciliation that covers the overflow then finds libvirt frozen: its
    // listing times out while the connection itself stays up.
    daemon.signal("STOP");
    writer.execute("ROLLBACK").await.expect("release the lock");
    tokio::time::sleep(Duration::from_secs(2)).await;
    daemon.signal("CONT");

    let wanted: std::collections::HashSet<String> = names.into_iter().collect();
    eventually(
        Duration::from_secs(30),
        "every domain of the overflow recorded as defined",
        || {
            let (app, wanted) = (&app, &wanted);
            async move { defined_names(app).await.is_superset(wanted) }
        },
    )
    .await;
    let after = app.host_info().await;
    assert!(
        after.event_resyncs > before.event_resyncs,
        "the overflow was counted"
    );
    assert!(after.reconciliations > before.reconciliations);
    assert_eq!(
        after.reconnects, before.reconnects,
        "the connection was kept"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_periodic_resync_runs_when_nothing_looks_wrong() {
    let daemon = Libvirtd::start();
    let options = TestOptions::new(daemon.uri()).resync_interval_s(1);
    let mut app = TestApp::spawn(options).await;
    app.settled().await;
    let first = app.host_info().await.reconciliations;

    app.host_until(Duration::from_secs(10), "two more reconciliations", |h| {
        h.reconciliations >= first + 2
    })
    .await;
    let after = app.host_info().await;
    assert_eq!(after.connect_attempts, 1, "no connect caused them");
    assert_eq!(after.reconnects, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_domain_undefined_while_the_service_was_down_gets_an_undefined_event() {
    let daemon = Libvirtd::start();
    // Holds the test driver's state while the service is stopped.
    let keeper = virt::connect::Connect::open(Some(&daemon.uri())).expect("keeper");
    let options = TestOptions::new(daemon.uri());
    let hostname = options.hostname.clone();
    let mut first = TestApp::spawn(options).await;
    let scratch = first.scratch.clone();
    first.settled().await;
    let name = unique_name("transient");
    first.define(&name).await;
    first.start(&name).await;
    wait_for_kind(&first, &name, Type::Started, Duration::from_secs(10)).await;
    first.stop().await;

    // Undefined while running: the domain lives on, transient.
    let domain = keeper.lookup_domain_by_name(&name).expect("lookup");
    domain.undefine().expect("undefine");
    assert!(!domain.is_persistent().expect("persistence"));

    let mut second =
        TestApp::spawn_in(TestOptions::new(daemon.uri()).hostname(hostname), &scratch).await;
    second.settled().await;
    let newest = second
        .host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            domain: name.clone(),
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .events;
    let event = newest.first().expect("an event");
    assert_eq!(event.r#type, i32::from(Type::Undefined));
    assert!(event.synthetic);
    assert_eq!(event.detail, "unknown");
    second.stop().await;
    drop(domain);
    drop(keeper);
}
