//! Labels kept in the domain's libvirt metadata: set and removed over gRPC, seen by
//! another libvirt client (`virsh metadata`) and by a restarted service, and selected
//! with Kubernetes' label selector syntax.

use std::collections::BTreeMap;

use tonic::Code;
use virtplane::{grpc::pb, hypervisor::LABELS_NAMESPACE};

use crate::support::{
    Scratch, TestApp, TestOptions, fixtures::domain_xml, libvirtd::Libvirtd, unique_name,
};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn set_labels(app: &mut TestApp, domain: &str, pairs: &[(&str, &str)]) -> pb::Domain {
    app.domains
        .update_domain_labels(pb::UpdateDomainLabelsRequest {
            domain: domain.into(),
            set: labels(pairs),
            ..Default::default()
        })
        .await
        .expect("update labels")
        .into_inner()
}

async fn names_matching(app: &mut TestApp, selector: &str, prefix: &str) -> Vec<String> {
    app.domains
        .list_domains(pb::ListDomainsRequest {
            label_selector: selector.into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .domains
        .into_iter()
        .map(|d| d.name)
        .filter(|n| n.starts_with(prefix))
        .map(|n| n[prefix.len()..].to_owned())
        .collect()
}

#[tokio::test]
async fn labels_live_in_libvirt_metadata_and_outlive_the_service() {
    let daemon = Libvirtd::start();
    let scratch = Scratch::create();
    let mut app = TestApp::spawn_in(TestOptions::new(daemon.uri()), &scratch).await;
    app.settled().await;
    let name = unique_name("labelled");
    app.define(&name).await;
    app.start(&name).await;

    let domain = set_labels(
        &mut app,
        &name,
        &[("app", "web"), ("example.com/team", "ops")],
    )
    .await;
    assert_eq!(
        domain.labels,
        labels(&[("app", "web"), ("example.com/team", "ops")])
    );
    let updated = app
        .domains
        .update_domain_labels(pb::UpdateDomainLabelsRequest {
            domain: name.clone(),
            set: labels(&[("tier", "front")]),
            remove: vec!["example.com/team".into(), "absent".into()],
            ..Default::default()
        })
        .await
        .expect("set and remove")
        .into_inner();
    assert_eq!(updated.labels, labels(&[("app", "web"), ("tier", "front")]));

    let seen_by_virsh = daemon.virsh(&["metadata", &name, LABELS_NAMESPACE]);
    assert!(
        seen_by_virsh.contains(r#"<label key="app">web</label>"#)
            && seen_by_virsh.contains(r#"<label key="tier">front</label>"#),
        "{seen_by_virsh}"
    );
    let persistent = daemon.virsh(&["metadata", &name, LABELS_NAMESPACE, "--config"]);
    assert!(
        persistent.contains(r#"key="app""#),
        "kept for the next boot too: {persistent}"
    );

    // The daemon keeps the test driver's state while a client holds it open.
    let _holder = virt::connect::Connect::open(Some(&daemon.uri())).expect("hold the state");
    app.stop().await;
    let mut again = TestApp::spawn_in(TestOptions::new(daemon.uri()), &scratch).await;
    let after_restart = again
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        after_restart.labels,
        labels(&[("app", "web"), ("tier", "front")])
    );
    again.stop().await;
}

#[tokio::test]
async fn list_domains_selects_by_label_with_kubernetes_syntax() {
    let daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    app.settled().await;
    let prefix = format!("{}-", unique_name("sel"));
    for (suffix, pairs) in [
        ("a", &[("app", "web"), ("tier", "front")][..]),
        ("b", &[("app", "db")][..]),
        ("c", &[("app", "web"), ("canary", "")][..]),
        ("d", &[][..]),
    ] {
        let name = format!("{prefix}{suffix}");
        app.domains
            .define_domain(pb::DefineDomainRequest {
                xml: domain_xml(&name),
                ..Default::default()
            })
            .await
            .expect("define");
        if !pairs.is_empty() {
            set_labels(&mut app, &name, pairs).await;
        }
    }
    for (selector, want) in [
        ("app=web", vec!["a", "c"]),
        ("app==db", vec!["b"]),
        ("app!=web", vec!["b", "d"]),
        ("app in (db, web), tier", vec!["a"]),
        ("app notin (web)", vec!["b", "d"]),
        ("canary", vec!["c"]),
        ("!app", vec!["d"]),
        ("app=web,!canary", vec!["a"]),
        ("", vec!["a", "b", "c", "d"]),
    ] {
        assert_eq!(
            names_matching(&mut app, selector, &prefix).await,
            want,
            "{selector}"
        );
    }

    let paged = app
        .domains
        .list_domains(pb::ListDomainsRequest {
            label_selector: "app=web".into(),
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner();
    assert_eq!(paged.domains.len(), 1);
    let other_filter = app
        .domains
        .list_domains(pb::ListDomainsRequest {
            label_selector: "app=db".into(),
            page_token: paged.next_page_token,
            ..Default::default()
        })
        .await
        .expect_err("a token is bound to its selector");
    assert_eq!(other_filter.code(), Code::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn malformed_labels_and_selectors_are_refused_naming_the_field() {
    let daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    app.settled().await;
    let name = unique_name("bad-labels");
    app.define(&name).await;

    for (set, remove, field) in [
        (labels(&[("-bad", "x")]), vec![], "\"-bad\""),
        (labels(&[("ok", "has space")]), vec![], "value"),
        (labels(&[("Upper.Example/x", "v")]), vec![], "prefix"),
        (BTreeMap::new(), vec![], "nothing to change"),
        (
            labels(&[("k", "v")]),
            vec!["k".to_owned()],
            "both in `set` and in `remove`",
        ),
    ] {
        let status = app
            .domains
            .update_domain_labels(pb::UpdateDomainLabelsRequest {
                domain: name.clone(),
                set,
                remove,
                ..Default::default()
            })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains(field), "{}", status.message());
    }
    for selector in ["app in web", "app=(", "a b c"] {
        let status = app
            .domains
            .list_domains(pb::ListDomainsRequest {
                label_selector: selector.into(),
                ..Default::default()
            })
            .await
            .expect_err(selector);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().contains("label_selector"),
            "{}",
            status.message()
        );
    }
    let missing = app
        .domains
        .update_domain_labels(pb::UpdateDomainLabelsRequest {
            domain: unique_name("nowhere"),
            set: labels(&[("a", "b")]),
            ..Default::default()
        })
        .await
        .expect_err("no domain");
    assert_eq!(missing.code(), Code::NotFound);
    app.stop().await;
}
