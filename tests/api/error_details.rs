//! A plain Python grpcio client (grpcio-status and google.rpc's error_details_pb2
//! from PyPI, no virtplane code) decodes each kind of detail the service's errors
//! carry.

use std::process::Command;

use serde_json::Value;

use crate::support::{
    Broker, TEST_DRIVER, TestApp, TestOptions,
    amqp::{TestQueue, app_with, guest_url},
};

/// The script's answer per case: code, message and the decoded details.
async fn python_client(addr: String, cases: &[&str]) -> Vec<Value> {
    let cases: Vec<String> = cases.iter().map(|c| (*c).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/python/error_details.py"
        );
        let out = Command::new("python3")
            .arg(script)
            .arg(&addr)
            .args(&cases)
            .output()
            .expect("python3 runs (make test installs grpcio and grpcio-status)");
        assert!(
            out.status.success(),
            "the Python client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
            .collect()
    })
    .await
    .expect("the Python client")
}

/// The detail of type `kind` (`google.rpc.ErrorInfo`, ...), which must be there.
fn detail<'a>(answer: &'a Value, kind: &str) -> &'a Value {
    answer["details"]
        .as_array()
        .and_then(|details| details.iter().find(|d| d["type"] == kind))
        .map(|d| &d["value"])
        .unwrap_or_else(|| panic!("no {kind} in {answer}"))
}

fn seconds(duration: &Value) -> f64 {
    duration
        .as_str()
        .and_then(|d| d.strip_suffix('s'))
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("{duration} is no JSON duration"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_client_decodes_error_info_resource_info_bad_request_and_precondition_failure() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let answers = python_client(
        app.addr.to_string(),
        &["unknown-domain", "negative-page-size", "resume-running"],
    )
    .await;

    let [unknown, negative, running] = answers.as_slice() else {
        panic!("three answers: {answers:?}");
    };
    assert_eq!(unknown["code"], "NOT_FOUND");
    let info = detail(unknown, "google.rpc.ErrorInfo");
    assert_eq!(info["reason"], "DOMAIN_NOT_FOUND");
    assert_eq!(info["domain"], "virtplane.v1");
    assert_eq!(info["metadata"]["domain"], "no-such-domain");
    let resource = detail(unknown, "google.rpc.ResourceInfo");
    assert_eq!(resource["resourceType"], "virtplane.v1.Domain");
    assert_eq!(resource["resourceName"], "no-such-domain");

    assert_eq!(negative["code"], "INVALID_ARGUMENT");
    assert_eq!(
        detail(negative, "google.rpc.ErrorInfo")["reason"],
        "INVALID_ARGUMENT"
    );
    let violations = &detail(negative, "google.rpc.BadRequest")["fieldViolations"];
    assert_eq!(violations[0]["field"], "page_size", "{violations}");

    assert_eq!(running["code"], "FAILED_PRECONDITION");
    assert_eq!(
        running["message"],
        "domain \"test\" is running; Resume needs a paused domain"
    );
    let info = detail(running, "google.rpc.ErrorInfo");
    assert_eq!(info["reason"], "DOMAIN_STATE");
    assert_eq!(info["metadata"]["state"], "DOMAIN_STATE_RUNNING");
    let violation = &detail(running, "google.rpc.PreconditionFailure")["violations"][0];
    assert_eq!(violation["type"], "STATE");
    assert_eq!(violation["subject"], "domain/test");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_client_reads_when_to_retry_an_unreachable_libvirt() {
    // Nothing listens on port 1: every connect fails, and the test configuration's
    // backoff keeps the next attempt within 400 ms.
    let app = TestApp::spawn(TestOptions::new("test+tcp://127.0.0.1:1/default")).await;

    let answers = python_client(app.addr.to_string(), &["list-domains"]).await;

    let answer = &answers[0];
    assert_eq!(answer["code"], "UNAVAILABLE", "{answer}");
    assert_eq!(
        detail(answer, "google.rpc.ErrorInfo")["reason"],
        "LIBVIRT_UNAVAILABLE"
    );
    let delay = seconds(&detail(answer, "google.rpc.RetryInfo")["retryDelay"]);
    assert!((0.0..=0.4).contains(&delay), "retry in {delay}s");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_client_reads_when_a_full_pools_connection_is_likely_free() {
    let queue = TestQueue::new().await;
    let app = app_with(
        Broker::new("main", guest_url())
            .max_connections(1)
            .acquire_timeout_ms(20),
    )
    .await;

    let case = format!("pool-exhausted:{}", queue.name);
    let answers = python_client(app.addr.to_string(), &[&case]).await;

    let answer = &answers[0];
    assert_eq!(answer["code"], "RESOURCE_EXHAUSTED", "{answer}");
    let info = detail(answer, "google.rpc.ErrorInfo");
    assert_eq!(info["reason"], "POOL_EXHAUSTED");
    assert_eq!(info["metadata"]["broker"], "main");
    let delay = seconds(&detail(answer, "google.rpc.RetryInfo")["retryDelay"]);
    // One connection, kept by the batch for a fraction of a second at most.
    assert!((0.0..5.0).contains(&delay), "retry in {delay}s");
}
