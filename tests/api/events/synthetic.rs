//! What the service did not see happen is reported as synthetic events: an
//! overflowing queue, a daemon restart, changes made while the service was down.

use std::time::Duration;

use virtplane::grpc::pb::{self, LifecycleEventType as Type};

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions, domain_xml,
    events::{last_event_id, sorted, synthetic, take, wait_for_kind, watch},
    eventually,
    libvirtd::Libvirtd,
    postgres::ScratchDatabase,
    unique_name,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overflowing_event_queue_is_covered_by_a_counted_reconciliation() {
    let options = TestOptions::new(TEST_DRIVER).event_queue_capacity(64);
    let mut app = TestApp::spawn(options).await;
    let prefix = unique_name("overflow");
    let survivor = format!("{prefix}-survivor");
    let before = app
        .host
        .get_host(pb::GetHostRequest::default())
        .await
        .expect("host")
        .into_inner();

    let churn_prefix = prefix.clone();
    let survivor_xml = domain_xml(&survivor);
    tokio::task::spawn_blocking(move || {
        let direct = virt::connect::Connect::open(Some(TEST_DRIVER)).expect("direct");
        for i in 0..2000 {
            let dom = direct
                .define_domain_xml(&domain_xml(&format!("{churn_prefix}-{i}")))
                .expect("define");
            dom.undefine().expect("undefine");
        }
        direct
            .define_domain_xml(&survivor_xml)
            .expect("define survivor");
    })
    .await
    .expect("churn");

    app.host_until(Duration::from_secs(20), "a resync was counted", |h| {
        h.event_resyncs > 0 && h.reconciliations > before.reconciliations
    })
    .await;
    wait_for_kind(&app, &survivor, Type::Defined, Duration::from_secs(20)).await;
}

async fn wait_for_event(app: &TestApp, domain: &str, detail: &str) {
    let client = app.host.clone();
    eventually(Duration::from_secs(10), "the event is recorded", || {
        let mut client = client.clone();
        let (domain, detail) = (domain.to_owned(), detail.to_owned());
        async move {
            client
                .list_lifecycle_events(pb::ListLifecycleEventsRequest {
                    domain: domain.clone(),
                    ..Default::default()
                })
                .await
                .expect("list")
                .into_inner()
                .events
                .iter()
                .any(|e| e.domain_name == domain && e.detail == detail)
        }
    })
    .await;
}

async fn a_daemon_restart_is_reported_as_synthetic_events(database: Option<String>) {
    let mut daemon = Libvirtd::start();
    let mut options = TestOptions::new(daemon.uri());
    if let Some(url) = database {
        options = options.database(url);
    }
    let mut app = TestApp::spawn(options).await;
    let ephemeral = unique_name("ephemeral");
    app.define(&ephemeral).await;
    app.start(&ephemeral).await;
    app.domains
        .destroy_domain(pb::DestroyDomainRequest {
            domain: "test".into(),
            ..Default::default()
        })
        .await
        .expect("destroy test");
    wait_for_event(&app, "test", "destroyed").await;
    let mark = last_event_id(&mut app).await;
    let mut stream = watch(&mut app, Some(mark), "").await;

    // The daemon's state resets: "test" runs again, the new domain is gone. No RPC
    // is made: the close callback starts the reconnect and reconciliation.
    daemon.restart();
    let events = take(&mut stream, 3).await;

    assert_eq!(sorted(&events), {
        let mut want = vec![
            synthetic("test", Type::Started),
            synthetic(&ephemeral, Type::Stopped),
            synthetic(&ephemeral, Type::Undefined),
        ];
        want.sort();
        want
    });
}

#[tokio::test]
async fn a_daemon_restart_is_reported_as_synthetic_events_on_sqlite() {
    a_daemon_restart_is_reported_as_synthetic_events(None).await;
}

#[tokio::test]
async fn a_daemon_restart_is_reported_as_synthetic_events_on_postgres() {
    let db = ScratchDatabase::create().await;
    a_daemon_restart_is_reported_as_synthetic_events(Some(db.url())).await;
    db.drop_database().await;
}

#[tokio::test]
async fn changes_made_while_the_service_was_down_are_reported_on_its_next_start() {
    let daemon = Libvirtd::start();
    let options = TestOptions::new(daemon.uri());
    let mut first = TestApp::spawn(options.clone()).await;
    let mark = last_event_id(&mut first).await;
    // The test driver forgets its state when no client holds it open: another
    // client keeps it while the service is down, and makes the changes.
    let other = virt::connect::Connect::open(Some(&daemon.uri())).expect("other client");
    let scratch = first.scratch.clone();
    first.stop().await;

    let appeared = unique_name("appeared");
    let dom = other
        .define_domain_xml(&domain_xml(&appeared))
        .expect("define");
    dom.create().expect("start");
    other
        .lookup_domain_by_name("test")
        .expect("test domain")
        .suspend()
        .expect("suspend");

    let mut second = TestApp::spawn_in(options, &scratch).await;
    let mut stream = watch(&mut second, Some(mark), "").await;
    let events = take(&mut stream, 3).await;

    let mut want = vec![
        synthetic(&appeared, Type::Defined),
        synthetic(&appeared, Type::Started),
        synthetic("test", Type::Suspended),
    ];
    want.sort();
    assert_eq!(sorted(&events), want);
    drop(dom);
    drop(other);
}
