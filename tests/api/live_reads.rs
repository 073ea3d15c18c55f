//! LIVE reads (a kept handle: the domain's state and XML) answer exactly what the
//! inventory's full reads hold, in every state a domain can be in, and LIVE pages
//! (the bulk listing, then one XML read per domain of the page) match the
//! inventory's pages, filters and all.

use virtplane::grpc::pb::{self, DomainState, ReadConsistency};

use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

async fn get(app: &TestApp, name: &str, consistency: ReadConsistency) -> pb::Domain {
    app.domains
        .clone()
        .get_domain(pb::GetDomainRequest {
            domain: name.to_owned(),
            consistency: consistency.into(),
        })
        .await
        .expect("GetDomain")
        .into_inner()
}

/// Every page of the domains labelled `batch=prefix` in `state` (any when
/// unspecified), two at a time.
async fn walk(
    app: &TestApp,
    prefix: &str,
    state: DomainState,
    consistency: ReadConsistency,
) -> Vec<pb::Domain> {
    let (mut all, mut token) = (Vec::new(), String::new());
    loop {
        let reply = app
            .domains
            .clone()
            .list_domains(pb::ListDomainsRequest {
                page_size: 2,
                page_token: token,
                state: state.into(),
                label_selector: format!("batch={prefix}"),
                consistency: consistency.into(),
            })
            .await
            .expect("ListDomains")
            .into_inner();
        assert!(reply.domains.len() <= 2, "a page holds at most its size");
        all.extend(reply.domains);
        if reply.next_page_token.is_empty() {
            return all;
        }
        token = reply.next_page_token;
    }
}

#[tokio::test]
async fn live_reads_and_pages_agree_with_the_inventory_in_every_state() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    app.settled().await;
    let prefix = unique_name("live");
    let name = |what: &str| format!("{prefix}-{what}");
    for what in ["off", "running", "paused", "saved", "autostart"] {
        app.define(&name(what)).await;
        app.domains
            .update_domain_labels(pb::UpdateDomainLabelsRequest {
                domain: name(what),
                set: [("batch".to_owned(), prefix.clone())].into(),
                ..Default::default()
            })
            .await
            .expect("labels");
    }
    for what in ["running", "paused", "saved"] {
        app.start(&name(what)).await;
    }
    let mut domains = app.domains.clone();
    domains
        .suspend_domain(pb::SuspendDomainRequest {
            domain: name("paused"),
            ..Default::default()
        })
        .await
        .expect("suspend");
    domains
        .managed_save_domain(pb::ManagedSaveDomainRequest {
            domain: name("saved"),
            ..Default::default()
        })
        .await
        .expect("managed save");
    domains
        .set_domain_autostart(pb::SetDomainAutostartRequest {
            domain: name("autostart"),
            autostart: true,
            ..Default::default()
        })
        .await
        .expect("autostart");

    for (what, state) in [
        ("off", DomainState::Shutoff),
        ("running", DomainState::Running),
        ("paused", DomainState::Paused),
        ("saved", DomainState::Shutoff),
        ("autostart", DomainState::Shutoff),
    ] {
        let live = get(&app, &name(what), ReadConsistency::Live).await;
        let cached = get(&app, &name(what), ReadConsistency::Cached).await;
        assert_eq!(live, cached, "{what}: LIVE and the inventory differ");
        assert_eq!(live.state, i32::from(state), "{what}");
        assert_eq!(live.labels.get("batch"), Some(&prefix), "{what}");
    }
    let saved = get(&app, &name("saved"), ReadConsistency::Live).await;
    assert!(saved.has_managed_save && saved.persistent);
    let running = get(&app, &name("running"), ReadConsistency::Live).await;
    assert!(running.id > 0, "a running domain has an id");
    assert!(
        get(&app, &name("autostart"), ReadConsistency::Live)
            .await
            .autostart
    );

    for state in [
        DomainState::Unspecified,
        DomainState::Shutoff,
        DomainState::Running,
    ] {
        let live = walk(&app, &prefix, state, ReadConsistency::Live).await;
        let cached = walk(&app, &prefix, state, ReadConsistency::Cached).await;
        assert_eq!(
            live, cached,
            "{state:?}: LIVE pages and the inventory's differ"
        );
        let expected = match state {
            DomainState::Shutoff => 3,
            DomainState::Running => 1,
            _ => 5,
        };
        assert_eq!(live.len(), expected, "{state:?}");
        let names: Vec<&str> = live.iter().map(|d| d.name.as_str()).collect();
        assert!(names.is_sorted(), "ordered by name: {names:?}");
    }
}

#[tokio::test]
async fn a_live_read_of_an_undefined_domain_is_not_found() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    app.settled().await;
    let name = unique_name("gone");
    app.define(&name).await;
    app.domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("undefine");
    let err = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: name.clone(),
            consistency: ReadConsistency::Live.into(),
        })
        .await
        .expect_err("gone");
    assert_eq!(err.code(), tonic::Code::NotFound, "{err:?}");
    assert!(err.message().contains(&name), "{}", err.message());
}
