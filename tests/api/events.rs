//! Lifecycle events: made through the API and behind the service's back, persisted,
//! listed, watched (with resume), reconciled after outages and restarts, on SQLite
//! and PostgreSQL.

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::Code;
use virtplane::grpc::pb::{self, LifecycleEventType as Type};

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions, domain_xml,
    events::{
        last_event_id, list_after, real, seen, sorted, synthetic, take, wait_for_kind, watch,
    },
    eventually,
    fixtures::churn,
    libvirtd::Libvirtd,
    postgres::ScratchDatabase,
    unique_name, write_domain_xml,
};

async fn operations_are_watched_and_listed_in_order(database: Option<String>) {
    let daemon = Libvirtd::start();
    let mut options = TestOptions::new(daemon.uri());
    if let Some(url) = database {
        options = options.database(url);
    }
    let mut app = TestApp::spawn(options).await;
    let via_api = unique_name("api");
    let via_virsh = unique_name("virsh");
    let start = last_event_id(&mut app).await;
    let mut stream = watch(&mut app, Some(start), "").await;

    app.define(&via_api).await;
    for call in ["start", "suspend", "resume", "destroy"] {
        let domain = via_api.clone();
        let result = match call {
            "start" => app
                .domains
                .start_domain(pb::StartDomainRequest { domain })
                .await
                .map(drop),
            "suspend" => app
                .domains
                .suspend_domain(pb::SuspendDomainRequest { domain })
                .await
                .map(drop),
            "resume" => app
                .domains
                .resume_domain(pb::ResumeDomainRequest { domain })
                .await
                .map(drop),
            _ => app
                .domains
                .destroy_domain(pb::DestroyDomainRequest { domain })
                .await
                .map(drop),
        };
        result.unwrap_or_else(|e| panic!("{call}: {e}"));
    }
    daemon.virsh(&["define", &write_domain_xml(app.scratch.path(), &via_virsh)]);
    daemon.virsh(&["start", &via_virsh]);
    daemon.virsh(&["destroy", &via_virsh]);
    daemon.virsh(&["undefine", &via_virsh]);

    let expected = vec![
        real(&via_api, Type::Defined, "added"),
        real(&via_api, Type::Started, "booted"),
        real(&via_api, Type::Suspended, "paused"),
        real(&via_api, Type::Resumed, "unpaused"),
        real(&via_api, Type::Stopped, "destroyed"),
        real(&via_virsh, Type::Defined, "added"),
        real(&via_virsh, Type::Started, "booted"),
        real(&via_virsh, Type::Stopped, "destroyed"),
        real(&via_virsh, Type::Undefined, "removed"),
    ];
    let watched = take(&mut stream, expected.len()).await;
    assert_eq!(watched.iter().map(seen).collect::<Vec<_>>(), expected);
    assert!(
        watched.windows(2).all(|w| w[0].id < w[1].id),
        "ids increase"
    );
    assert!(
        watched
            .iter()
            .all(|e| e.occurred_at.is_some() && e.hostname == app.hostname)
    );

    let listed = list_after(&mut app, start, "").await;
    assert_eq!(listed, watched, "the list holds exactly what was watched");
    let only_virsh = list_after(&mut app, start, &via_virsh).await;
    assert_eq!(only_virsh, watched[5..].to_vec(), "domain filter");
}

#[tokio::test]
async fn api_and_virsh_operations_are_watched_and_listed_in_order_on_sqlite() {
    operations_are_watched_and_listed_in_order(None).await;
}

#[tokio::test]
async fn api_and_virsh_operations_are_watched_and_listed_in_order_on_postgres() {
    let db = ScratchDatabase::create().await;
    operations_are_watched_and_listed_in_order(Some(db.url())).await;
    db.drop_database().await;
}

#[tokio::test]
async fn list_lifecycle_events_filters_pages_and_rejects_bad_arguments() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("filters");
    let start = last_event_id(&mut app).await;
    let mut stream = watch(&mut app, Some(start), &name).await;
    app.define(&name).await;
    app.start(&name).await;
    take(&mut stream, 2).await;

    let newest = app
        .host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            page_size: 1,
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("newest first")
        .into_inner();
    assert_eq!(
        seen(&newest.events[0]),
        real(&name, Type::Started, "booted")
    );
    let second = app
        .host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            page_size: 1,
            domain: name.clone(),
            page_token: newest.next_page_token,
            ..Default::default()
        })
        .await
        .expect("second page")
        .into_inner();
    assert_eq!(seen(&second.events[0]), real(&name, Type::Defined, "added"));

    let only_defined = app
        .host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            domain: name.clone(),
            types: vec![Type::Defined.into()],
            ..Default::default()
        })
        .await
        .expect("type filter")
        .into_inner();
    assert_eq!(only_defined.events.len(), 1);

    let future = prost_types::Timestamp {
        seconds: 4_000_000_000,
        nanos: 0,
    };
    let none_yet = app
        .host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            start_time: Some(future),
            ..Default::default()
        })
        .await
        .expect("time filter")
        .into_inner();
    assert!(none_yet.events.is_empty());

    for (what, request) in [
        (
            "bad token",
            pb::ListLifecycleEventsRequest {
                page_token: "zz".into(),
                ..Default::default()
            },
        ),
        (
            "bad type",
            pb::ListLifecycleEventsRequest {
                types: vec![77],
                ..Default::default()
            },
        ),
        (
            "negative size",
            pb::ListLifecycleEventsRequest {
                page_size: -5,
                ..Default::default()
            },
        ),
        (
            "empty range",
            pb::ListLifecycleEventsRequest {
                start_time: Some(future),
                end_time: Some(future),
                ..Default::default()
            },
        ),
    ] {
        let err = app
            .host
            .list_lifecycle_events(request)
            .await
            .expect_err(what);
        assert_eq!(
            err.code(),
            Code::InvalidArgument,
            "{what}: {}",
            err.message()
        );
    }
    let bad_watch = app
        .host
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(-1),
            domain: String::new(),
        })
        .await
        .expect_err("negative after_id");
    assert_eq!(bad_watch.code(), Code::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_watch_gets_exactly_the_missed_events_then_live_ones_under_a_burst() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let prefix = unique_name("burst");
    let start = last_event_id(&mut app).await;
    let mut first = watch(&mut app, Some(start), "").await;
    let direct = virt::connect::Connect::open(Some(TEST_DRIVER)).expect("direct connection");
    let churn = |conn: &virt::connect::Connect, from: usize, to: usize| {
        for i in from..to {
            let dom = conn
                .define_domain_xml(&domain_xml(&format!("{prefix}-{i}")))
                .expect("define");
            dom.undefine().expect("undefine");
        }
    };

    churn(&direct, 0, 10);
    let before_disconnect = take(&mut first, 7).await;
    drop(first);
    let resume_from = before_disconnect.last().expect("events").id;
    churn(&direct, 10, 60);
    let burst = {
        let direct = direct.clone();
        let prefix_len = 60;
        std::thread::spawn(move || {
            for i in prefix_len..prefix_len + 100 {
                let dom = direct
                    .define_domain_xml(&domain_xml(&format!("late-{i}-{}", std::process::id())))
                    .expect("define");
                dom.undefine().expect("undefine");
            }
        })
    };
    let mut resumed = watch(&mut app, Some(resume_from), "").await;
    burst.join().expect("burst");
    // 10 + 50 + 100 domains, two events each, minus the 7 seen before.
    let total_after_start = 2 * 160;
    let rest = take(&mut resumed, total_after_start - 7).await;

    let ids: Vec<i64> = before_disconnect
        .iter()
        .chain(&rest)
        .map(|e| e.id)
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "no duplicate, in order"
    );
    let stored: Vec<i64> = list_after(&mut app, start, "")
        .await
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        ids, stored,
        "no gap: every stored event was delivered exactly once"
    );
    drop(direct);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_watcher_is_cut_off_with_resource_exhausted_without_stalling_others() {
    let options = TestOptions::new(TEST_DRIVER).watch_buffer(1024);
    let mut app = TestApp::spawn(options).await;
    let start = last_event_id(&mut app).await;
    // A client that never reads, with HTTP/2's smallest windows, so the server's
    // buffers for it fill (tonic's default windows would absorb megabytes).
    let tight = tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
        .expect("uri")
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535)
        .connect()
        .await
        .expect("connect");
    let mut slow = pb::host_service_client::HostServiceClient::new(tight)
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(start),
            domain: String::new(),
        })
        .await
        .expect("slow watch")
        .into_inner();
    let mut fast = watch(&mut app, Some(start), "").await;
    // Far more than the slow watcher's buffers hold: its ring, its stream queue and
    // the HTTP/2 window.
    let count = 4000;
    let fast_reader = tokio::spawn(async move { take(&mut fast, 2 * count).await.len() });

    churn(TEST_DRIVER, &unique_name("slow"), count).await;

    assert_eq!(
        fast_reader.await.expect("fast watcher"),
        2 * count,
        "the fast watcher got everything"
    );
    let mut received = 0;
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(20), slow.next()).await {
            Ok(Some(Ok(_))) => received += 1,
            Ok(Some(Err(status))) => break status,
            other => panic!("the slow watcher was not cut off ({received} events): {other:?}"),
        }
    };
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().contains("after_id"),
        "{}",
        status.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overflowing_event_queue_is_covered_by_a_counted_reconciliation() {
    let options = TestOptions::new(TEST_DRIVER).event_queue_capacity(64);
    let mut app = TestApp::spawn(options).await;
    let prefix = unique_name("overflow");
    let survivor = format!("{prefix}-survivor");
    let before = app
        .host
        .get_host(pb::GetHostRequest {})
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

    let host = app.host.clone();
    eventually(Duration::from_secs(20), "a resync was counted", || {
        let mut host = host.clone();
        async move {
            let h = host
                .get_host(pb::GetHostRequest {})
                .await
                .expect("host")
                .into_inner();
            h.event_resyncs > 0 && h.reconciliations > before.reconciliations
        }
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
    // One lifecycle and one close callback on the live connection.
    assert_eq!(virtplane::hypervisor::live_callback_contexts(), 2);

    daemon.restart();
    let client = app.host.clone();
    eventually(Duration::from_secs(10), "reconnected", || {
        let mut client = client.clone();
        async move {
            client
                .get_host(pb::GetHostRequest {})
                .await
                .is_ok_and(|h| h.into_inner().reconnects == 1)
        }
    })
    .await;
    eventually(
        Duration::from_secs(5),
        "the dead connection's contexts freed",
        || async { virtplane::hypervisor::live_callback_contexts() == 2 },
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
