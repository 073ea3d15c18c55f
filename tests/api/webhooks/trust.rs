//! What a receiver trusts and checks: https with the configured CA only, and a
//! rotated secret file signing the next deliveries.

use std::time::Duration;

use virtplane::grpc::pb;

use crate::support::{
    Scratch, TEST_DRIVER, TestApp, TestOptions, Webhook, eventually,
    http_server::TestHttpServer,
    receiver::{audit_webhook, body_json, deliveries, signed_with},
    unique_name,
};

#[tokio::test]
async fn https_webhooks_trust_the_configured_ca_and_refuse_an_unknown_one() {
    let dir = Scratch::create();
    let pki = crate::support::pki::Pki::new(dir.path(), "hooks");
    let server = TestHttpServer::start_tls(&pki.server("hooks-server")).await;
    let trusted = audit_webhook(&server).ca_file(pki.ca_path());
    // The same receiver under another name (so another pool: trust is per host pool)
    // without the CA: the system's trust store does not know it.
    let untrusted = Webhook::new(
        "untrusted",
        format!("https://127.0.0.1:{}/untrusted", server.addr.port()),
    )
    .secret("s")
    .retry_initial_ms(50)
    .retry_max_ms(100);
    let options = TestOptions::new(TEST_DRIVER)
        .webhook(trusted)
        .webhook(untrusted);
    let mut app = TestApp::spawn_in(options, &dir).await;
    app.settled().await;
    let name = unique_name("tls");
    app.define(&name).await;
    eventually(Duration::from_secs(10), "delivered over https", || {
        let got = server.received();
        let name = name.clone();
        async move {
            got.iter()
                .any(|r| body_json(r)["domain_name"] == name.as_str())
        }
    })
    .await;
    let mut hooks = app.webhooks.clone();
    eventually(
        Duration::from_secs(10),
        "the untrusted webhook reports why",
        || {
            let mut hooks = hooks.clone();
            async move {
                deliveries(&mut hooks, "untrusted", None)
                    .await
                    .iter()
                    .any(|d| {
                        d.last_error.contains("TLS") && d.state == pb::DeliveryState::Pending as i32
                    })
            }
        },
    )
    .await;
    assert!(!server.received().iter().any(|r| r.path == "/untrusted"));
    let listed = hooks
        .list_webhooks(pb::ListWebhooksRequest {})
        .await
        .expect("list")
        .into_inner()
        .webhooks;
    let count = |name: &str, field: fn(&pb::Webhook) -> u64| {
        listed
            .iter()
            .find(|w| w.name == name)
            .map(field)
            .expect(name)
    };
    assert!(count("audit", |w| w.delivered) >= 1);
    assert!(count("untrusted", |w| w.pending) >= 1);
    assert_eq!(count("untrusted", |w| w.delivered), 0);
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_secret_file_signs_the_next_deliveries() {
    let server = TestHttpServer::start().await;
    let dir = Scratch::create();
    let secret_file = dir.join("webhook-secret");
    std::fs::write(&secret_file, "first-secret\n").expect("secret");
    let options = TestOptions::new(TEST_DRIVER)
        .webhook(Webhook::new("rotating", server.url("/hook")).secret_file(&secret_file));
    let mut app = TestApp::spawn_in(options, &dir).await;
    app.settled().await;
    let delivered = |name: String| {
        let server = &server;
        async move {
            eventually(Duration::from_secs(10), "the event is posted", || {
                let got = server.received();
                let name = name.clone();
                async move {
                    got.iter()
                        .any(|r| body_json(r)["domain_name"] == name.as_str())
                }
            })
            .await;
            server
                .received()
                .into_iter()
                .find(|r| body_json(r)["domain_name"] == name.as_str())
                .expect("delivery")
        }
    };
    let before = unique_name("before");
    app.define(&before).await;
    assert!(signed_with(&delivered(before).await, "first-secret"));

    std::fs::write(&secret_file, "second-secret\n").expect("rotate");
    let after = unique_name("after");
    app.define(&after).await;
    let rotated = delivered(after).await;
    assert!(signed_with(&rotated, "second-secret"));
    assert!(!signed_with(&rotated, "first-secret"));
    app.stop().await;
}
