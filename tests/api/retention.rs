//! The event journal's retention: old events pruned in the background, domain states
//! kept, and cursors into the pruned range answered with OUT_OF_RANGE, on SQLite and
//! PostgreSQL.
//!
//! Events are made old honestly: they are stored through the service's own store with
//! an `occurred_at` 40 days back, before the service starts with the default 30-day
//! retention. The domain they concern is the test driver's built-in `test`, recorded
//! as running, so the start-up reconciliation finds nothing to report.

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::Code;
use virtplane::{
    grpc::pb,
    model::{DomainState, EventType, KnownDomain, NewEvent},
    secret::Secret,
    store::Settings as DatabaseSettings,
    store::{KnownChanges, Store},
};

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions, database::TestDatabase, events::list_all, eventually,
    unique_name,
};

const OLD_EVENTS: usize = 6;

/// The database a test's apps share, and the old events it starts with.
struct Database(TestDatabase);

impl Database {
    async fn create(postgres: bool) -> Database {
        Database(TestDatabase::create(postgres).await)
    }

    async fn drop_database(self) {
        self.0.drop_database().await;
    }

    /// An app on this database, settled; `keep_everything` sets retention to 0.
    async fn spawn(&self, hostname: &str, keep_everything: bool) -> TestApp {
        let mut options = TestOptions::new(TEST_DRIVER)
            .database(self.0.url.clone())
            .hostname(hostname);
        if keep_everything {
            options = options.retention_days(0);
        }
        let mut app = TestApp::spawn_in(options, &self.0.scratch).await;
        app.settled().await;
        app
    }

    /// Stores `OLD_EVENTS` events about the built-in domain `test`, 40 days old, and
    /// its known state (running); returns their ids.
    async fn seed_old_events(&self, hostname: &str) -> Vec<i64> {
        let uuid = tokio::task::spawn_blocking(|| {
            let conn = virt::connect::Connect::open(Some(TEST_DRIVER)).expect("libvirt");
            conn.lookup_domain_by_name("test")
                .and_then(|d| d.uuid_string())
                .expect("the built-in domain")
        })
        .await
        .expect("join");
        let store = Store::connect(&DatabaseSettings {
            url: Secret::new(self.0.url.clone()),
            max_connections: 1,
        })
        .await
        .expect("store");
        store.ensure_host(hostname).await.expect("host row");
        let forty_days_ago = virtplane::hypervisor::now_micros() - 40 * 86_400 * 1_000_000;
        let events: Vec<NewEvent> = (0..OLD_EVENTS)
            .map(|i| NewEvent {
                domain_uuid: uuid.clone(),
                domain_name: "test".into(),
                kind: if i % 2 == 0 {
                    EventType::Suspended
                } else {
                    EventType::Resumed
                },
                detail: "paused".into(),
                synthetic: false,
                occurred_at_micros: forty_days_ago + i as i64,
            })
            .collect();
        let known = KnownChanges {
            upserts: vec![KnownDomain {
                uuid,
                name: "test".into(),
                state: DomainState::Running,
                persistent: true,
            }],
            removals: Vec::new(),
        };
        let recorded = store
            .record_events(hostname, &events, &known, &[])
            .await
            .expect("old events stored");
        store.close().await;
        recorded.into_iter().map(|e| e.id).collect()
    }
}

/// Waits until none of `old` is listed any more.
async fn wait_until_pruned(app: &TestApp, old: &[i64]) {
    let newest_old = *old.last().expect("old events");
    let client = app.host.clone();
    eventually(
        Duration::from_secs(20),
        "the old events to be pruned",
        || {
            let mut client = client.clone();
            async move {
                client
                    .list_lifecycle_events(pb::ListLifecycleEventsRequest {
                        page_size: 1,
                        order: pb::EventOrder::OldestFirst.into(),
                        ..Default::default()
                    })
                    .await
                    .is_ok_and(|r| {
                        r.into_inner()
                            .events
                            .first()
                            .is_none_or(|e| e.id > newest_old)
                    })
            }
        },
    )
    .await;
}

/// Defines a domain and waits until its event is recorded.
async fn define_recorded(app: &mut TestApp) -> String {
    let name = unique_name("kept");
    app.define(&name).await;
    let client = app.host.clone();
    eventually(Duration::from_secs(10), "the new event listed", || {
        let mut client = client.clone();
        let name = name.clone();
        async move {
            client
                .list_lifecycle_events(pb::ListLifecycleEventsRequest::default())
                .await
                .is_ok_and(|r| r.into_inner().events.iter().any(|e| e.domain_name == name))
        }
    })
    .await;
    name
}

async fn old_events_are_pruned_and_domain_states_are_kept(postgres: bool) {
    let db = Database::create(postgres).await;
    let hostname = unique_name("pruned");
    let old = db.seed_old_events(&hostname).await;

    let mut app = db.spawn(&hostname, false).await;
    wait_until_pruned(&app, &old).await;
    let name = define_recorded(&mut app).await;
    app.stop().await;

    // A restart reconciles against the known states: had they been pruned with the
    // events, `test` would come back as synthetic "defined" and "started" events.
    let app = db.spawn(&hostname, false).await;
    let events = list_all(&app).await;
    assert!(
        events.iter().all(|e| !old.contains(&e.id)),
        "old events left: {events:?}"
    );
    assert!(
        events.iter().all(|e| e.domain_name != "test"),
        "the known state of `test` was lost: {events:?}"
    );
    assert!(events.iter().any(|e| e.domain_name == name), "{events:?}");
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn old_events_are_pruned_and_domain_states_are_kept_on_sqlite() {
    old_events_are_pruned_and_domain_states_are_kept(false).await;
}

#[tokio::test]
async fn old_events_are_pruned_and_domain_states_are_kept_on_postgres() {
    old_events_are_pruned_and_domain_states_are_kept(true).await;
}

async fn a_watch_resuming_before_the_oldest_kept_event_is_out_of_range(postgres: bool) {
    let db = Database::create(postgres).await;
    let hostname = unique_name("watch-pruned");
    let old = db.seed_old_events(&hostname).await;
    let mut app = db.spawn(&hostname, false).await;
    wait_until_pruned(&app, &old).await;
    let name = define_recorded(&mut app).await;
    let kept = list_all(&app).await;
    let oldest = kept.first().expect("the new event is kept").id;
    let watermark = *old.last().expect("old");

    let mut stale = app
        .host
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(old[1]),
            domain: String::new(),
            hostname: String::new(),
        })
        .await
        .expect("the watch starts")
        .into_inner();
    let refused = tokio::time::timeout(Duration::from_secs(10), stale.next())
        .await
        .expect("an answer")
        .expect("a message")
        .expect_err("no event after a gap");

    assert_eq!(refused.code(), Code::OutOfRange, "{refused:?}");
    let message = refused.message();
    assert!(
        message.contains(&format!("oldest available event is id {oldest}")),
        "{message}"
    );
    assert!(message.contains("ListDomains"), "{message}");
    // Resuming exactly at the watermark misses nothing: it is served.
    let mut fresh = app
        .host
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(watermark),
            domain: String::new(),
            hostname: String::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(10), fresh.next())
        .await
        .expect("an event")
        .expect("a message")
        .expect("served");
    assert_eq!((first.id, first.domain_name), (oldest, name));
    drop((stale, fresh));
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_watch_resuming_before_the_oldest_kept_event_is_out_of_range_on_sqlite() {
    a_watch_resuming_before_the_oldest_kept_event_is_out_of_range(false).await;
}

#[tokio::test]
async fn a_watch_resuming_before_the_oldest_kept_event_is_out_of_range_on_postgres() {
    a_watch_resuming_before_the_oldest_kept_event_is_out_of_range(true).await;
}

async fn page(
    app: &mut TestApp,
    size: i32,
    order: pb::EventOrder,
    token: &str,
) -> pb::ListLifecycleEventsResponse {
    app.host
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            page_size: size,
            page_token: token.to_owned(),
            order: order.into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
}

async fn a_page_token_into_the_pruned_range_is_out_of_range(postgres: bool) {
    let db = Database::create(postgres).await;
    let hostname = unique_name("list-pruned");
    let old = db.seed_old_events(&hostname).await;
    let mut keeping = db.spawn(&hostname, true).await;
    let oldest_first = page(&mut keeping, 2, pb::EventOrder::OldestFirst, "").await;
    let newest_first = page(&mut keeping, 2, pb::EventOrder::NewestFirst, "").await;
    assert_eq!(oldest_first.events[1].id, old[1]);
    assert_eq!(newest_first.events[1].id, old[OLD_EVENTS - 2]);
    keeping.stop().await;

    let mut app = db.spawn(&hostname, false).await;
    wait_until_pruned(&app, &old).await;
    define_recorded(&mut app).await;
    for (order, token) in [
        (pb::EventOrder::OldestFirst, oldest_first.next_page_token),
        (pb::EventOrder::NewestFirst, newest_first.next_page_token),
    ] {
        let refused = app
            .host
            .list_lifecycle_events(pb::ListLifecycleEventsRequest {
                page_size: 2,
                page_token: token,
                order: order.into(),
                ..Default::default()
            })
            .await
            .expect_err("no page after a gap");
        assert_eq!(refused.code(), Code::OutOfRange, "{order:?}: {refused:?}");
        assert!(
            refused.message().contains("oldest available event is id")
                && refused.message().contains("ListDomains"),
            "{}",
            refused.message()
        );
    }
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_page_token_into_the_pruned_range_is_out_of_range_on_sqlite() {
    a_page_token_into_the_pruned_range_is_out_of_range(false).await;
}

#[tokio::test]
async fn a_page_token_into_the_pruned_range_is_out_of_range_on_postgres() {
    a_page_token_into_the_pruned_range_is_out_of_range(true).await;
}

async fn retention_zero_keeps_every_event(postgres: bool) {
    let db = Database::create(postgres).await;
    let hostname = unique_name("keep");
    let old = db.seed_old_events(&hostname).await;

    let mut app = db.spawn(&hostname, true).await;
    // The pruner would have run at start; give it ample time to show it does not.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let listed: Vec<i64> = list_all(&app).await.iter().map(|e| e.id).collect();

    assert_eq!(listed, old);
    let mut watch = app
        .host
        .watch_lifecycle_events(pb::WatchLifecycleEventsRequest {
            after_id: Some(0),
            domain: String::new(),
            hostname: String::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("an event")
        .expect("a message")
        .expect("served from the start");
    assert_eq!(first.id, old[0]);
    drop(watch);
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn retention_zero_keeps_every_event_on_sqlite() {
    retention_zero_keeps_every_event(false).await;
}

#[tokio::test]
async fn retention_zero_keeps_every_event_on_postgres() {
    retention_zero_keeps_every_event(true).await;
}

#[tokio::test]
async fn on_a_shared_postgres_each_agent_prunes_only_its_own_hosts_events() {
    let db = Database::create(true).await;
    let (mine, other) = (unique_name("pruner"), unique_name("bystander"));
    let old = db.seed_old_events(&mine).await;
    let others = db.seed_old_events(&other).await;

    let app = db.spawn(&mine, false).await;
    wait_until_pruned(&app, &old).await;
    let kept = app
        .host
        .clone()
        .list_lifecycle_events(pb::ListLifecycleEventsRequest {
            hostname: other.clone(),
            ..Default::default()
        })
        .await
        .expect("the other host's events")
        .into_inner()
        .events;

    let mut kept: Vec<i64> = kept.iter().map(|e| e.id).collect();
    kept.sort_unstable();
    assert_eq!(kept, others, "another host's old events were touched");
    app.stop().await;
    db.drop_database().await;
}
