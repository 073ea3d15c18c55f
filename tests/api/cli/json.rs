//! `-o json` is the proto's canonical JSON mapping: the very document grpcurl, a
//! third-party client, prints for the same call.

use crate::{
    grpcurl::grpcurl,
    support::{TEST_DRIVER, TestApp, TestOptions, ctl, unique_name},
};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

async fn grpcurl_json(addr: String, request: String, method: &str) -> serde_json::Value {
    let method = format!("virtplane.v1.{method}");
    let out = tokio::task::spawn_blocking(move || {
        grpcurl(&["-plaintext", "-d", &request, &addr, &method])
    })
    .await
    .expect("grpcurl");
    json(&out)
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_is_what_grpcurl_prints_for_the_same_calls() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    app.settled().await;
    let name = unique_name("cli-json");
    app.define(&name).await;
    app.start(&name).await;
    let labels = ctl(app.addr, &["domains", "labels", &name, "--set", "app=web"]).await;
    assert_eq!(labels.code, Some(0), "{}", labels.stderr);
    let addr = app.addr.to_string();

    let domain = ctl(app.addr, &["domains", "get", &name, "-o", "json"]).await;
    let events = ctl(
        app.addr,
        &["events", "list", "--domain", &name, "-o", "json"],
    )
    .await;
    let expected_domain = grpcurl_json(
        addr.clone(),
        format!(r#"{{"domain": "{name}"}}"#),
        "DomainService/GetDomain",
    )
    .await;
    let expected_events = grpcurl_json(
        addr,
        format!(r#"{{"domain": "{name}"}}"#),
        "HostService/ListLifecycleEvents",
    )
    .await;

    assert_eq!(json(&domain.stdout), expected_domain);
    assert_eq!(json(&domain.stdout)["labels"]["app"], "web");
    assert_eq!(json(&events.stdout), expected_events);
    assert!(
        expected_events["events"][0]["occurredAt"].is_string(),
        "{expected_events}"
    );
}
