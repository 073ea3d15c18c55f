//! Operations made through the API and with virsh are recorded, watched and listed
//! in order, on SQLite and PostgreSQL.

use virtplane::grpc::pb::{self, LifecycleEventType as Type};

use crate::support::{
    TestApp, TestOptions,
    events::{last_event_id, list_after, real, seen, take, watch},
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
                .start_domain(pb::StartDomainRequest {
                    domain,
                    ..Default::default()
                })
                .await
                .map(drop),
            "suspend" => app
                .domains
                .suspend_domain(pb::SuspendDomainRequest {
                    domain,
                    ..Default::default()
                })
                .await
                .map(drop),
            "resume" => app
                .domains
                .resume_domain(pb::ResumeDomainRequest {
                    domain,
                    ..Default::default()
                })
                .await
                .map(drop),
            _ => app
                .domains
                .destroy_domain(pb::DestroyDomainRequest {
                    domain,
                    ..Default::default()
                })
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
