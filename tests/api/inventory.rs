//! The inventory reads are answered from: changes by other libvirt clients show up
//! by their events, the service's own changes before they reply, labels and devices
//! included; stale while libvirt is gone (refused, or served flagged, as configured);
//! LIVE reads libvirt; pages resume after the last name as domains come and go.

use std::time::Duration;

use tonic::Code;
use virtplane::grpc::pb::{
    self, DomainState, ReadConsistency, device_service_client::DeviceServiceClient,
};

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions, eventually, fixtures::state, libvirtd::Libvirtd,
    unique_name, write_domain_xml,
};

const WAIT: Duration = Duration::from_secs(10);

async fn get(app: &TestApp, name: &str) -> Result<pb::Domain, tonic::Status> {
    app.domains
        .clone()
        .get_domain(pb::GetDomainRequest {
            domain: name.to_owned(),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Waits until GetDomain (from the inventory) answers `name` with `ready`.
async fn until(app: &TestApp, name: &str, what: &str, ready: impl Fn(&pb::Domain) -> bool) {
    let (client, ready) = (app.domains.clone(), &ready);
    eventually(WAIT, what, || {
        let mut client = client.clone();
        let name = name.to_owned();
        async move {
            client
                .get_domain(pb::GetDomainRequest {
                    domain: name,
                    ..Default::default()
                })
                .await
                .is_ok_and(|d| ready(d.get_ref()))
        }
    })
    .await;
}

#[tokio::test]
async fn changes_by_another_client_show_up_through_their_events() {
    let daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    app.settled().await;
    let name = unique_name("behind");

    daemon.virsh(&["define", &write_domain_xml(app.scratch.path(), &name)]);
    until(&app, &name, "the defined domain", |d| {
        state(d) == DomainState::Shutoff
    })
    .await;
    daemon.virsh(&["start", &name]);
    until(&app, &name, "the domain running", |d| {
        state(d) == DomainState::Running
    })
    .await;
    daemon.virsh(&["suspend", &name]);
    until(&app, &name, "the domain paused", |d| {
        state(d) == DomainState::Paused
    })
    .await;
    daemon.virsh(&["destroy", &name]);
    daemon.virsh(&["undefine", &name]);
    let client = app.domains.clone();
    eventually(WAIT, "the undefined domain gone", || {
        let mut client = client.clone();
        let name = name.clone();
        async move {
            client
                .get_domain(pb::GetDomainRequest {
                    domain: name,
                    ..Default::default()
                })
                .await
                .is_err_and(|e| e.code() == Code::NotFound)
        }
    })
    .await;
}

#[tokio::test]
async fn the_services_own_changes_are_read_back_at_once() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    app.settled().await;
    let name = unique_name("own");

    let defined = app.define(&name).await;
    assert_eq!(get(&app, &name).await.expect("defined").uuid, defined.uuid);
    app.start(&name).await;
    assert_eq!(
        state(&get(&app, &name).await.expect("started")),
        DomainState::Running
    );

    app.domains
        .update_domain_labels(pb::UpdateDomainLabelsRequest {
            domain: name.clone(),
            set: [("tier".to_owned(), "web".to_owned())].into(),
            ..Default::default()
        })
        .await
        .expect("labels");
    let labelled = get(&app, &name).await.expect("labelled");
    assert_eq!(labelled.labels.get("tier").map(String::as_str), Some("web"));
    let selected = app
        .domains
        .list_domains(pb::ListDomainsRequest {
            label_selector: "tier=web".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(selected.domains.iter().any(|d| d.name == name));
    assert!(!selected.stale);

    app.domains
        .destroy_domain(pb::DestroyDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("destroy");
    app.domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("undefine");
    let gone = get(&app, &name).await.expect_err("undefined");
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn labels_set_by_another_client_show_up() {
    let daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    app.settled().await;
    let name = unique_name("meta");
    app.define(&name).await;

    daemon.virsh(&[
        "metadata",
        &name,
        virtplane::hypervisor::LABELS_NAMESPACE,
        "--key",
        "virtplane",
        "--config",
        "--set",
        "<labels><label key=\"owner\">ops</label></labels>",
    ]);
    until(&app, &name, "the label another client set", |d| {
        d.labels.get("owner").map(String::as_str) == Some("ops")
    })
    .await;
}

#[tokio::test]
async fn devices_are_listed_from_the_inventory_and_live_on_request() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    app.settled().await;
    let mut devices = DeviceServiceClient::new(app.channel.clone());
    for consistency in [ReadConsistency::Cached, ReadConsistency::Live] {
        let listed = devices
            .list_devices(pb::ListDevicesRequest {
                domain: "test".into(),
                consistency: consistency.into(),
                ..Default::default()
            })
            .await
            .expect("list devices")
            .into_inner();
        assert!(!listed.stale);
        assert!(
            !listed.disks.is_empty() || !listed.interfaces.is_empty(),
            "{consistency:?}: {listed:?}"
        );
    }
}

#[tokio::test]
async fn a_lost_libvirt_makes_reads_unavailable_by_default() {
    let mut daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    app.settled().await;
    let name = unique_name("gone");
    app.define(&name).await;

    daemon.kill();
    app.host_until(WAIT, "the loss noticed", |h| !h.connected)
        .await;
    let err = get(&app, &name).await.expect_err("libvirt is gone");
    assert_eq!(err.code(), Code::Unavailable, "{}", err.message());
}

#[tokio::test]
async fn a_lost_libvirt_serves_the_last_view_flagged_stale_when_configured() {
    let mut daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri()).serve_stale()).await;
    app.settled().await;
    let name = unique_name("stale");
    app.define(&name).await;
    app.start(&name).await;

    daemon.kill();
    app.host_until(WAIT, "the loss noticed", |h| !h.connected)
        .await;
    let seen = get(&app, &name)
        .await
        .expect("served while libvirt is gone");
    assert!(seen.stale);
    assert_eq!(state(&seen), DomainState::Running, "as last seen");
    let listed = app
        .domains
        .list_domains(pb::ListDomainsRequest::default())
        .await
        .expect("listed while libvirt is gone")
        .into_inner();
    assert!(listed.stale);
    assert!(listed.domains.iter().all(|d| d.stale));
    let live = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: name.clone(),
            consistency: ReadConsistency::Live.into(),
        })
        .await
        .expect_err("LIVE asks libvirt");
    assert_eq!(live.code(), Code::Unavailable);

    // A restarted test driver starts empty: the refill drops what is gone.
    daemon.restart();
    let client = app.domains.clone();
    eventually(Duration::from_secs(15), "the refilled inventory", || {
        let mut client = client.clone();
        let name = name.clone();
        async move {
            client
                .get_domain(pb::GetDomainRequest {
                    domain: name,
                    ..Default::default()
                })
                .await
                .is_err_and(|e| e.code() == Code::NotFound)
        }
    })
    .await;
    assert!(!get(&app, "test").await.expect("fresh").stale);
}

#[tokio::test]
async fn live_reads_ask_libvirt() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    app.settled().await;
    let live = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: "test".into(),
            consistency: ReadConsistency::Live.into(),
        })
        .await
        .expect("live")
        .into_inner();
    let cached = get(&app, "test").await.expect("cached");
    assert_eq!(live.uuid, cached.uuid);
    let err = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: "test".into(),
            consistency: 9,
        })
        .await
        .expect_err("no such consistency");
    assert_eq!(err.code(), Code::InvalidArgument);
}

async fn page(app: &TestApp, prefix: &str, token: String) -> (Vec<String>, String) {
    let reply = app
        .domains
        .clone()
        .list_domains(pb::ListDomainsRequest {
            page_size: 2,
            page_token: token,
            label_selector: format!("batch={prefix}"),
            ..Default::default()
        })
        .await
        .expect("page")
        .into_inner();
    (
        reply.domains.into_iter().map(|d| d.name).collect(),
        reply.next_page_token,
    )
}

async fn define_labelled(app: &mut TestApp, prefix: &str, name: &str) {
    app.define(name).await;
    app.domains
        .update_domain_labels(pb::UpdateDomainLabelsRequest {
            domain: name.to_owned(),
            set: [("batch".to_owned(), prefix.to_owned())].into(),
            ..Default::default()
        })
        .await
        .expect("labels");
}

async fn undefine(app: &mut TestApp, name: &str) {
    app.domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name.to_owned(),
            ..Default::default()
        })
        .await
        .expect("undefine");
}

#[tokio::test]
async fn pages_resume_after_the_last_name_while_domains_come_and_go() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    app.settled().await;
    let prefix = unique_name("churn");
    for i in 0..6 {
        define_labelled(&mut app, &prefix, &format!("{prefix}-{i}")).await;
    }

    let (first, token) = page(&app, &prefix, String::new()).await;
    assert_eq!(first, [format!("{prefix}-0"), format!("{prefix}-1")]);
    // The cursor itself and the next domain go, one comes between them, one before.
    undefine(&mut app, &format!("{prefix}-1")).await;
    undefine(&mut app, &format!("{prefix}-2")).await;
    define_labelled(&mut app, &prefix, &format!("{prefix}-1a")).await;
    define_labelled(&mut app, &prefix, &format!("{prefix}-0a")).await;

    let (second, token) = page(&app, &prefix, token).await;
    assert_eq!(second, [format!("{prefix}-1a"), format!("{prefix}-3")]);
    let (third, token) = page(&app, &prefix, token).await;
    assert_eq!(third, [format!("{prefix}-4"), format!("{prefix}-5")]);
    assert!(token.is_empty(), "the last page");
}
