//! grpcurl describes NetworkService from reflection, comments included, and runs the
//! README's network calls.

use crate::{
    grpcurl::grpcurl,
    support::{TEST_DRIVER, TestApp, TestOptions},
};

#[tokio::test(flavor = "multi_thread")]
async fn grpcurl_describes_the_network_service_and_runs_the_readme_calls() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let addr = app.addr.to_string();
    let call = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            grpcurl(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    let described = call(vec![
        "-plaintext".into(),
        addr.clone(),
        "describe".into(),
        "virtplane.v1.NetworkLease".into(),
    ])
    .await
    .expect("describe");
    assert!(
        described.contains("The leased address"),
        "field comments travel with reflection: {described}"
    );

    let listed = call(vec![
        "-plaintext".into(),
        addr.clone(),
        "virtplane.v1.NetworkService/ListNetworks".into(),
    ])
    .await
    .expect("list");
    assert!(listed.contains("\"bridge\": \"virbr0\""), "{listed}");
    let got = call(vec![
        "-plaintext".into(),
        "-d".into(),
        r#"{"network": "default"}"#.into(),
        addr,
        "virtplane.v1.NetworkService/GetNetwork".into(),
    ])
    .await
    .expect("get");
    assert!(got.contains("FORWARD_MODE_NAT"), "{got}");
    assert!(got.contains("\"start\": \"192.168.122.2\""), "{got}");
    app.stop().await;
}
