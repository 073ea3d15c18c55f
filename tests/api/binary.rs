//! The `virtplane` binary itself: configuration errors and graceful shutdown.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use crate::support::{Binary, Scratch};

const BINARY: &str = env!("CARGO_BIN_EXE_virtplane");

#[test]
fn an_unknown_configuration_key_stops_the_start_and_is_named() {
    let dir = Scratch::create();
    let config = dir.path().join("virtplane.toml");
    std::fs::write(
        &config,
        "[libvirt]\nuri = \"test:///default\"\nreadonly = true\n",
    )
    .expect("config");

    let out = Command::new(BINARY)
        .arg("--config")
        .arg(&config)
        .output()
        .expect("runs");

    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("readonly"), "{stderr}");
}

#[test]
fn a_bad_flag_value_is_named() {
    let out = Command::new(BINARY)
        .args(["--listen", "localhost"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`listen`"));
}

#[test]
fn sigterm_stops_the_service_gracefully_with_exit_code_zero() {
    let dir = Scratch::create();
    let mut child = Command::new(BINARY)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--libvirt-uri",
            "test:///default",
            "--hostname",
            "sig",
        ])
        .arg("--database-url")
        .arg(format!("sqlite://{}/db.sqlite", dir.path().display()))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let serving = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("virtplane serving"));
    assert!(serving, "the service announced it serves");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop within 15s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(exit.code(), Some(0));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("virtplane stopped")),
        "{rest:?}"
    );
}

#[test]
fn environment_variables_configure_the_service_and_json_logs_are_json() {
    let dir = Scratch::create();
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("VIRTPLANE_LIBVIRT_URI", "test:///default")
        .env("VIRTPLANE_HOSTNAME", "from-env")
        .env(
            "VIRTPLANE_DATABASE_URL",
            format!("sqlite://{}/db.sqlite", dir.path().display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let serving = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.contains("virtplane serving"))
        .expect("a serving line");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();

    assert!(
        serving.starts_with('{') && serving.ends_with('}'),
        "{serving}"
    );
    assert!(serving.contains("\"hostname\":\"from-env\""), "{serving}");
    assert!(
        serving.contains("\"libvirt\":\"test:///default\""),
        "{serving}"
    );
}

#[test]
fn a_non_loopback_address_without_tokens_or_tls_needs_insecure() {
    let dir = Scratch::create();
    let database = format!("sqlite://{}/db.sqlite", dir.path().display());
    let base = [
        "--listen",
        "0.0.0.0:0",
        "--libvirt-uri",
        "test:///default",
        "--hostname",
        "exposed",
        "--database-url",
        &database,
    ];
    let refused = Command::new(BINARY).args(base).output().expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("`listen`") && stderr.contains("--insecure") && stderr.contains("tokens"),
        "{stderr}"
    );

    let mut child = Command::new(BINARY)
        .args(base)
        .arg("--insecure")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take_while(|line| !line.contains("virtplane serving"))
        .collect();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("WARN") && l.contains("--insecure")),
        "{lines:?}"
    );
}

/// SIGTERM while a call waits on a frozen libvirtd: the call completes once the
/// daemon resumes, the process exits 0, and undelivered notifications stay in the
/// outbox for the next start.
#[tokio::test]
async fn sigterm_lets_in_flight_calls_finish_and_keeps_the_outbox() {
    use virtplane::grpc::pb::{self, domain_service_client::DomainServiceClient};

    let daemon = crate::support::libvirtd::Libvirtd::start();
    let mut receiver = crate::support::http_server::TestHttpServer::start().await;
    let hook = receiver.url("/hook");
    receiver.stop();
    let dir = Scratch::create();
    let config = dir.path().join("virtplane.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nhostname = \"draining\"\nshutdown_grace_period_ms = 8000\n\
             [libvirt]\nuri = \"{}\"\ncall_timeout_ms = 20000\nkeepalive_interval_s = 30\n\
             [database]\nurl = \"sqlite://{}/db.sqlite\"\n\
             [[webhooks]]\nname = \"down\"\nurl = \"{hook}\"\nsecret = \"s\"\nretry_initial_ms = 100\n",
            daemon.uri(),
            dir.path().display()
        ),
    )
    .expect("config");
    let binary = Binary::start(&["--config", config.to_str().expect("utf-8")], &[]);
    let addr = binary.addr.clone();
    let mut domains = DomainServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("client");
    domains
        .define_domain(pb::DefineDomainRequest {
            xml: crate::support::domain_xml("drained"),
            ..Default::default()
        })
        .await
        .expect("define");

    daemon.signal("STOP");
    let in_flight = tokio::spawn({
        let mut domains = domains.clone();
        async move {
            domains
                .get_domain(pb::GetDomainRequest {
                    domain: "drained".into(),
                    // A live read: one the stopped daemon holds up.
                    consistency: pb::ReadConsistency::Live.into(),
                })
                .await
        }
    });
    // Time for the call to reach the service (a loaded machine is slow).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    binary.signal("TERM");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!in_flight.is_finished(), "the call waits for libvirt");
    daemon.signal("CONT");
    let answer = in_flight
        .await
        .expect("join")
        .expect("the in-flight call completes");
    assert_eq!(answer.into_inner().name, "drained");
    let (status, rest) = binary.wait().await;
    assert_eq!(status.code(), Some(0));
    assert!(
        rest.iter().any(|l| l.contains("virtplane stopped")),
        "{rest:?}"
    );

    use sqlx::{Connection, Row};
    let mut db =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}/db.sqlite", dir.path().display()))
            .await
            .expect("db");
    let pending: i64 = sqlx::query(
        "SELECT COUNT(*) FROM outbox WHERE sink = 'webhook:down' AND delivered_at IS NULL \
         AND failed_at IS NULL AND payload LIKE '%drained%'",
    )
    .fetch_one(&mut db)
    .await
    .expect("count")
    .get(0);
    assert!(pending >= 1, "the undelivered event waits in the outbox");
}

#[tokio::test]
async fn sighup_reloads_a_rewritten_token_at_once() {
    use virtplane::grpc::pb::{self, host_service_client::HostServiceClient};

    let dir = Scratch::create();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "first-token-0123456789").expect("token");
    let config = dir.path().join("virtplane.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nhostname = \"hup\"\n[libvirt]\nuri = \"test:///default\"\n\
             [database]\nurl = \"sqlite://{}/db.sqlite\"\n\
             [[auth.tokens]]\nname = \"ops\"\ntoken_file = \"{}\"\nrole = \"admin\"\n",
            dir.path().display(),
            token_file.display()
        ),
    )
    .expect("config");
    let binary = Binary::start(&["--config", config.to_str().expect("utf-8")], &[]);
    let addr = binary.addr.clone();
    let mut client = HostServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("client");
    let call = |token: &'static str| {
        let mut request = tonic::Request::new(pb::GetHostRequest::default());
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("metadata"),
        );
        request
    };
    client
        .get_host(call("first-token-0123456789"))
        .await
        .expect("first token");

    std::fs::write(&token_file, "second-token-0123456789").expect("rewrite");
    binary.signal("HUP");
    // Well within the 2 s file poll: the signal did it.
    let deadline = std::time::Instant::now() + Duration::from_millis(1500);
    loop {
        if client
            .get_host(call("second-token-0123456789"))
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not reloaded on SIGHUP"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let old = client
        .get_host(call("first-token-0123456789"))
        .await
        .expect_err("the old token is gone");
    assert_eq!(old.code(), tonic::Code::Unauthenticated);
    binary.signal("TERM");
    let (status, logs) = binary.wait().await;
    assert_eq!(status.code(), Some(0), "SIGHUP did not stop it");
    assert!(logs.iter().any(|l| l.contains("SIGHUP")), "{logs:?}");
    assert!(
        !logs.iter().any(|l| l.contains("token-0123456789")),
        "a token in the logs"
    );
}

#[tokio::test]
async fn sighup_without_anything_to_reload_does_not_stop_the_service() {
    let dir = Scratch::create();
    let database = format!("sqlite://{}/db.sqlite", dir.path().display());
    let binary = Binary::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--libvirt-uri",
            "test:///default",
            "--hostname",
            "hup-plain",
            "--database-url",
            &database,
        ],
        &[],
    );
    binary.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut client = virtplane::grpc::pb::host_service_client::HostServiceClient::connect(format!(
        "http://{}",
        binary.addr
    ))
    .await
    .expect("still serving");
    client
        .get_host(virtplane::grpc::pb::GetHostRequest::default())
        .await
        .expect("still answering");
    drop(client);
    binary.signal("TERM");
    let (status, _) = binary.wait().await;
    assert_eq!(status.code(), Some(0));
}
