//! grpcurl, a real third-party client, discovers and calls the API through reflection.

use std::process::Command;

use crate::support::{TEST_DRIVER, TestApp, TestOptions};

pub fn grpcurl(args: &[&str]) -> String {
    let out = Command::new("grpcurl")
        .args(args)
        .output()
        .expect("grpcurl is installed (make test installs it)");
    assert!(
        out.status.success(),
        "grpcurl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn grpcurl_lists_the_services_and_calls_list_domains_without_proto_files() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let addr = app.addr.to_string();

    let services = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || grpcurl(&["-plaintext", &addr, "list"])
    })
    .await
    .expect("grpcurl list");
    for service in [
        "virtplane.v1.DomainService",
        "virtplane.v1.HostService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            services.contains(service),
            "{service} missing from:\n{services}"
        );
    }

    let described = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || grpcurl(&["-plaintext", &addr, "describe", "virtplane.v1.Domain"])
    })
    .await
    .expect("grpcurl describe");
    assert!(described.contains("memory_kib"), "{described}");

    let listed = tokio::task::spawn_blocking(move || {
        grpcurl(&[
            "-plaintext",
            "-d",
            "{\"page_size\": 10}",
            &addr,
            "virtplane.v1.DomainService/ListDomains",
        ])
    })
    .await
    .expect("grpcurl call");
    assert!(listed.contains("\"name\": \"test\""), "{listed}");
    assert!(listed.contains("DOMAIN_STATE_RUNNING"), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn grpcurl_takes_snapshots_and_labels_in_their_json_form() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let addr = app.addr.to_string();
    let call = |body: &'static str, method: &'static str| {
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || grpcurl(&["-plaintext", "-d", body, &addr, method]))
    };

    let labelled = call(
        r#"{"domain": "test", "set": {"app": "web"}, "request_id": "label-1"}"#,
        "virtplane.v1.DomainService/UpdateDomainLabels",
    )
    .await
    .expect("grpcurl labels");
    assert!(labelled.contains(r#""app": "web""#), "{labelled}");
    let selected = call(
        r#"{"label_selector": "app in (web)"}"#,
        "virtplane.v1.DomainService/ListDomains",
    )
    .await
    .expect("grpcurl select");
    assert!(selected.contains(r#""name": "test""#), "{selected}");

    let snapshot = call(
        r#"{"domain": "test", "name": "by-grpcurl", "description": "from the README"}"#,
        "virtplane.v1.SnapshotService/CreateSnapshot",
    )
    .await
    .expect("grpcurl snapshot");
    assert!(snapshot.contains(r#""current": true"#), "{snapshot}");
    let shutdown = call(
        r#"{"domain": "test", "timeout_s": 10, "force_after_timeout": true}"#,
        "virtplane.v1.DomainService/ShutdownDomain",
    )
    .await
    .expect("grpcurl shutdown");
    assert!(shutdown.contains("SHUTDOWN_OUTCOME_SHUT_OFF"), "{shutdown}");
}

/// grpcurl's output of a call that fails: it prints the status (and its details) on
/// stderr and exits with a code of its own.
fn grpcurl_failing(args: &[&str]) -> String {
    let out = Command::new("grpcurl")
        .args(args)
        .output()
        .expect("grpcurl is installed (make test installs it)");
    assert!(!out.status.success(), "grpcurl {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn grpcurl_shows_the_error_reason_of_an_unknown_domain_from_reflected_descriptors() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let addr = app.addr.to_string();

    let (described, failed) = tokio::task::spawn_blocking(move || {
        let described = grpcurl(&["-plaintext", &addr, "describe", "google.rpc.ErrorInfo"]);
        let failed = grpcurl_failing(&[
            "-plaintext",
            "-d",
            r#"{"domain": "no-such-domain"}"#,
            &addr,
            "virtplane.v1.DomainService/GetDomain",
        ]);
        (described, failed)
    })
    .await
    .expect("grpcurl");

    assert!(described.contains("string reason = 1;"), "{described}");
    assert!(failed.contains("Code: NotFound"), "{failed}");
    assert!(
        failed.contains("type.googleapis.com/google.rpc.ErrorInfo"),
        "{failed}"
    );
    // grpcurl prints each detail as one line of compact JSON.
    assert!(
        failed.contains(r#""reason":"DOMAIN_NOT_FOUND""#),
        "{failed}"
    );
    assert!(failed.contains(r#""domain":"virtplane.v1""#), "{failed}");
    assert!(
        failed.contains(r#""metadata":{"domain":"no-such-domain"}"#),
        "{failed}"
    );
    assert!(
        failed.contains("type.googleapis.com/google.rpc.ResourceInfo"),
        "{failed}"
    );
}
