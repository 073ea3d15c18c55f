//! Bearer tokens and roles, TLS and mutual TLS (with reloads), as clients see them.

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::{
    Code, Request,
    metadata::MetadataValue,
    transport::{Certificate, Channel, ClientTlsConfig, Identity},
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_types::StatusExt;
use virtplane::grpc::pb::{self, host_service_client::HostServiceClient};

use crate::support::{
    Role, Scratch, TEST_DRIVER, TestApp, TestOptions, capture_logs, eventually,
    pki::{Issued, Pki},
};

const ADMIN: &str = "admin-token-6f1c2e9a4b7d";
const READER: &str = "reader-token-93ab17c0d5e2";

fn with_token<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        let value: MetadataValue<_> = format!("Bearer {token}").parse().expect("metadata");
        request.metadata_mut().insert("authorization", value);
    }
    request
}

async fn plain(addr: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connects")
}

/// A mutation, a read and a stream with `token`; their status codes.
async fn three_calls(channel: &Channel, token: Option<&str>) -> [Code; 3] {
    let mut host = HostServiceClient::new(channel.clone());
    let mutation = host
        .set_host_enabled(with_token(
            pb::SetHostEnabledRequest {
                enabled: true,
                reason: String::new(),
                ..Default::default()
            },
            token,
        ))
        .await
        .err()
        .map_or(Code::Ok, |s| s.code());
    let read = host
        .get_host(with_token(pb::GetHostRequest::default(), token))
        .await
        .err()
        .map_or(Code::Ok, |s| s.code());
    let stream = match host
        .watch_lifecycle_events(with_token(
            pb::WatchLifecycleEventsRequest::default(),
            token,
        ))
        .await
    {
        Ok(response) => {
            // The stream is open; nothing need arrive.
            let mut stream = response.into_inner();
            let _ = tokio::time::timeout(Duration::from_millis(50), stream.next()).await;
            Code::Ok
        }
        Err(status) => status.code(),
    };
    [mutation, read, stream]
}

#[tokio::test]
async fn each_role_may_call_what_it_should_and_nothing_else() {
    let dir = Scratch::create();
    let reader_file = dir.join("reader-token");
    std::fs::write(&reader_file, format!("{READER}\n")).expect("token file");
    let logs = capture_logs();
    let options = TestOptions::new(TEST_DRIVER)
        .token("ops", Role::Admin, ADMIN)
        .token_file("dashboard", Role::Reader, &reader_file);
    let app = TestApp::spawn_in(options, &dir).await;
    let channel = app.channel.clone();

    assert_eq!(three_calls(&channel, Some(ADMIN)).await, [Code::Ok; 3]);
    assert_eq!(
        three_calls(&channel, Some(READER)).await,
        [Code::PermissionDenied, Code::Ok, Code::Ok]
    );
    assert_eq!(
        three_calls(&channel, None).await,
        [Code::Unauthenticated; 3]
    );
    assert_eq!(
        three_calls(&channel, Some("not-a-configured-token-at-all")).await,
        [Code::Unauthenticated; 3]
    );

    let denied = app
        .host
        .clone()
        .set_host_enabled(with_token(
            pb::SetHostEnabledRequest {
                enabled: false,
                reason: "maintenance".into(),
                ..Default::default()
            },
            Some(READER),
        ))
        .await
        .expect_err("reader");
    assert!(
        denied.message().contains("dashboard"),
        "{}",
        denied.message()
    );
    let missing = app
        .domains
        .clone()
        .list_domains(pb::ListDomainsRequest::default())
        .await
        .expect_err("no token");
    assert!(
        missing.message().contains("authorization"),
        "{}",
        missing.message()
    );
    let publish = app
        .publish
        .clone()
        .publish(with_token(
            pb::PublishRequest {
                broker: "none".into(),
                ..Default::default()
            },
            Some(READER),
        ))
        .await
        .expect_err("reader publish");
    assert_eq!(publish.code(), Code::PermissionDenied);
    let details = publish.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "TOKEN_ROLE");
    assert_eq!(info.metadata["role"], "reader");
    assert_eq!(
        missing
            .get_error_details()
            .error_info()
            .map(|i| i.reason.as_str()),
        Some("TOKEN_INVALID")
    );

    // Health stays open for probes.
    let health = app
        .health
        .clone()
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health without a token");
    assert_eq!(health.into_inner().status, 1);
    // So does reflection: grpcurl lists the services without a token.
    let addr = app.addr.to_string();
    let listed = tokio::task::spawn_blocking(move || {
        std::process::Command::new("grpcurl")
            .args(["-plaintext", &addr, "list"])
            .output()
            .expect("grpcurl runs")
    })
    .await
    .expect("join");
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("virtplane.v1.DomainService"),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );

    // A new reader token in the file replaces the old one without a restart.
    let renewed = "reader-token-renewed-77e1";
    std::fs::write(&reader_file, renewed).expect("rewrite");
    eventually(Duration::from_secs(10), "the new token is accepted", || {
        let channel = channel.clone();
        async move { three_calls(&channel, Some(renewed)).await[1] == Code::Ok }
    })
    .await;
    assert_eq!(
        three_calls(&channel, Some(READER)).await[1],
        Code::Unauthenticated
    );

    app.stop().await;
    let logs = logs.contents();
    for secret in [ADMIN, READER, renewed] {
        assert!(!logs.contains(secret), "a token leaked into the logs");
    }
}

async fn tls_channel(
    addr: std::net::SocketAddr,
    ca: &std::path::Path,
    identity: Option<&Issued>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(ca).expect("ca")))
        .domain_name("localhost");
    if let Some(identity) = identity {
        tls = tls.identity(Identity::from_pem(
            std::fs::read(&identity.cert).expect("cert"),
            std::fs::read(&identity.key).expect("key"),
        ));
    }
    Channel::from_shared(format!("https://localhost:{}", addr.port()))
        .expect("uri")
        .tls_config(tls)?
        .connect()
        .await
}

async fn get_host(channel: Channel) -> Result<pb::Host, tonic::Status> {
    HostServiceClient::new(channel)
        .get_host(pb::GetHostRequest::default())
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn tls_serves_clients_that_trust_its_ca_and_reloads_certificates_in_place() {
    let dir = Scratch::create();
    let pki = Pki::new(dir.path(), "first");
    let server = pki.server("server");
    let options = TestOptions::new(TEST_DRIVER).tls(&server, None);
    let app = TestApp::spawn_in(options, &dir).await;

    let trusted = tls_channel(app.addr, &pki.ca_path(), None)
        .await
        .expect("TLS connects");
    get_host(trusted.clone()).await.expect("a call over TLS");
    let plaintext = Channel::from_shared(format!("http://{}", app.addr))
        .expect("uri")
        .connect()
        .await;
    let refused = match plaintext {
        Ok(channel) => get_host(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a plaintext client is not served");

    // New certificates from another CA replace the files: new connections get them,
    // the open one carries on.
    let next = Pki::new(dir.path(), "second");
    let renewed = next.server("renewed");
    std::fs::copy(&renewed.key, &server.key).expect("key");
    std::fs::copy(&renewed.cert, &server.cert).expect("cert");
    eventually(
        Duration::from_secs(10),
        "the renewed certificate is served",
        || {
            let ca = next.ca_path();
            async move {
                match tls_channel(app.addr, &ca, None).await {
                    Ok(channel) => get_host(channel).await.is_ok(),
                    Err(_) => false,
                }
            }
        },
    )
    .await;
    get_host(trusted)
        .await
        .expect("the open connection still works");
    assert!(
        tls_channel(app.addr, &pki.ca_path(), None).await.is_err(),
        "the old CA no longer verifies new connections"
    );
    app.stop().await;
}

#[tokio::test]
async fn mutual_tls_refuses_clients_without_a_certificate_from_its_ca() {
    let dir = Scratch::create();
    let pki = Pki::new(dir.path(), "main");
    let other = Pki::new(dir.path(), "other");
    let server = pki.server("server");
    let options = TestOptions::new(TEST_DRIVER).tls(&server, Some(pki.ca_path()));
    let app = TestApp::spawn_in(options, &dir).await;

    let client = pki.client("client");
    let good = tls_channel(app.addr, &pki.ca_path(), Some(&client))
        .await
        .expect("mTLS connects");
    get_host(good)
        .await
        .expect("a call with a client certificate");

    for identity in [None, Some(other.client("stranger"))] {
        let outcome = match tls_channel(app.addr, &pki.ca_path(), identity.as_ref()).await {
            Ok(channel) => get_host(channel)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        assert!(outcome.is_err(), "refused: {identity:?}");
    }

    // grpcurl, a real client, with the CA and a client certificate.
    let addr = format!("localhost:{}", app.addr.port());
    let (ca, cert, key) = (
        pki.ca_path().display().to_string(),
        client.cert.display().to_string(),
        client.key.display().to_string(),
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("grpcurl")
            .args(["-cacert", &ca, "-cert", &cert, "-key", &key, &addr])
            .arg("virtplane.v1.HostService/GetHost")
            .output()
            .expect("grpcurl runs")
    })
    .await
    .expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("hostname"));
    app.stop().await;
}

#[tokio::test]
async fn probes_reach_health_on_a_plaintext_listener_while_the_api_wants_mtls() {
    let dir = Scratch::create();
    let pki = Pki::new(dir.path(), "probe");
    let server = pki.server("server");
    let options = TestOptions::new(TEST_DRIVER)
        .tls(&server, Some(pki.ca_path()))
        .health_listener();
    let app = TestApp::spawn_in(options, &dir).await;
    let health_addr = app.health_addr.expect("health listener");
    let mut health = HealthClient::new(plain(health_addr).await);
    eventually(Duration::from_secs(10), "DomainService SERVING", || {
        let mut health = health.clone();
        async move {
            health
                .check(HealthCheckRequest {
                    service: "virtplane.v1.DomainService".into(),
                })
                .await
                .is_ok_and(|r| r.into_inner().status == 1)
        }
    })
    .await;
    // Only health is served there.
    let other = HostServiceClient::new(plain(health_addr).await)
        .get_host(pb::GetHostRequest::default())
        .await
        .expect_err("not on the health listener");
    assert_eq!(other.code(), Code::Unimplemented);
    let overall = health
        .check(HealthCheckRequest::default())
        .await
        .expect("overall");
    assert_eq!(overall.into_inner().status, 1, "the server is SERVING");
    app.stop().await;
}
