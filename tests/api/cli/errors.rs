//! Failures as one line on stderr with the gRPC code, and an exit code by class.

use crate::support::{TEST_DRIVER, TestApp, TestOptions, ctl, unique_name};

#[tokio::test]
async fn an_unknown_domain_is_one_not_found_line_and_exit_code_3() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;

    let out = ctl(app.addr, &["domains", "get", "no-such-domain"]).await;

    assert_eq!(out.code, Some(3));
    assert_eq!(out.stdout, "");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].starts_with("error: NOT_FOUND: "), "{}", out.stderr);
    assert!(lines[0].contains("no-such-domain"), "{}", out.stderr);
    assert!(
        lines[0].ends_with("(reason: DOMAIN_NOT_FOUND)"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn a_call_the_domain_state_refuses_exits_with_4() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("cli-state");
    app.define(&name).await;

    let out = ctl(app.addr, &["domains", "suspend", &name]).await;

    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error: FAILED_PRECONDITION: "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.trim_end().ends_with("(reason: DOMAIN_STATE)"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn no_service_at_the_address_is_unavailable_with_exit_code_5() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = unused.local_addr().expect("address");
    drop(unused);

    let out = ctl(addr, &["host", "get"]).await;

    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error: UNAVAILABLE: "),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn a_bad_flag_is_a_usage_error_with_exit_code_2() {
    let out = ctl("127.0.0.1:1", &["domains", "list", "--state", "sideways"]).await;

    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("sideways"), "{}", out.stderr);
}

#[tokio::test]
async fn a_service_that_does_not_answer_within_the_timeout_exits_with_5() {
    // Accepts connections and never speaks: the call waits until --timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = silent.local_addr().expect("address");
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });

    let started = std::time::Instant::now();
    let out = ctl(addr, &["--timeout", "1", "host", "get"]).await;

    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error: DEADLINE_EXCEEDED: "),
        "{}",
        out.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    held.abort();
}
