//! StatsService on the test driver: every domain in one bulk call (inactive ones with
//! their state), one domain, a label selector, and the refusals.

use std::collections::BTreeMap;

use tonic::Code;
use virtplane::grpc::pb::{self, DomainState};

use crate::support::{TEST_DRIVER, TestApp, TestOptions, unique_name};

#[tokio::test]
async fn every_domain_is_sampled_in_one_call_and_inactive_ones_keep_their_state() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let off = unique_name("stats-off");
    app.define(&off).await;
    let all = app
        .stats
        .list_domain_stats(pb::ListDomainStatsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .domains;
    let state_of = |name: &str| {
        all.iter()
            .find(|d| d.name == name)
            .map(|d| (d.state(), d.stale))
    };
    assert_eq!(state_of("test"), Some((DomainState::Running, false)));
    assert_eq!(state_of(&off), Some((DomainState::Shutoff, false)));
    let names: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "ordered by name");

    let one = app
        .stats
        .get_domain_stats(pb::GetDomainStatsRequest {
            domain: "test".into(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        (one.name.as_str(), one.state()),
        ("test", DomainState::Running)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_label_selector_picks_the_domains_and_bad_requests_are_refused() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let web = unique_name("stats-web");
    app.define(&web).await;
    app.domains
        .update_domain_labels(pb::UpdateDomainLabelsRequest {
            domain: web.clone(),
            set: BTreeMap::from([("app".to_owned(), "web".to_owned())]),
            ..Default::default()
        })
        .await
        .expect("label");
    let selected = app
        .stats
        .list_domain_stats(pb::ListDomainStatsRequest {
            label_selector: "app=web".into(),
        })
        .await
        .expect("select")
        .into_inner()
        .domains;
    let names: Vec<&str> = selected.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, [web.as_str()]);

    let bad = app
        .stats
        .list_domain_stats(pb::ListDomainStatsRequest {
            label_selector: "app in web".into(),
        })
        .await
        .expect_err("bad selector");
    assert_eq!(bad.code(), Code::InvalidArgument);
    for (domain, code) in [
        ("", Code::InvalidArgument),
        ("nowhere-at-all", Code::NotFound),
    ] {
        let status = app
            .stats
            .get_domain_stats(pb::GetDomainStatsRequest {
                domain: domain.into(),
            })
            .await
            .expect_err(domain);
        assert_eq!(status.code(), code, "{}", status.message());
    }
    app.stop().await;
}
