//! One writer per (database, hostname): a second instance of the same host stands by
//! with health NOT_SERVING, names the holder, and takes over when the first stops; or
//! gives up after `--lock-timeout`. On SQLite (a lock file) and PostgreSQL (a session
//! advisory lock).

use std::time::Duration;

use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use virtplane::grpc::pb::{self, host_service_client::HostServiceClient};

use crate::support::{
    Binary, TEST_DRIVER, TestApp, TestOptions, database::TestDatabase, eventually, unique_name,
};

const BINARY: &str = env!("CARGO_BIN_EXE_virtplane");
const STANDING_BY: &str = "standing by with health NOT_SERVING";

/// The arguments that start the binary as `hostname` on `db`.
fn args<'a>(db: &'a TestDatabase, hostname: &'a str) -> Vec<&'a str> {
    vec![
        "--listen",
        "127.0.0.1:0",
        "--libvirt-uri",
        TEST_DRIVER,
        "--hostname",
        hostname,
        "--database-url",
        &db.url,
    ]
}

async fn health(addr: &str, service: &str) -> Result<i32, tonic::Status> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut client = HealthClient::new(channel);
    client
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .map(|r| r.into_inner().status)
}

const SERVING: i32 = 1;
const NOT_SERVING: i32 = 2;

async fn a_second_instance_stands_by_and_takes_over_when_the_first_stops(postgres: bool) {
    let shared = TestDatabase::create(postgres).await;
    let hostname = unique_name("one-writer");
    let first = TestApp::spawn_in(
        TestOptions::new(TEST_DRIVER)
            .database(shared.url.clone())
            .hostname(hostname.clone()),
        &shared.scratch,
    )
    .await;

    // The standby answers on the plaintext health listener too, where probes look.
    let config = shared.scratch.path().join("second.toml");
    std::fs::write(&config, "[health]\nlisten = \"127.0.0.1:0\"\n").expect("config");
    let mut args = args(&shared, &hostname);
    args.extend(["--config", config.to_str().expect("utf-8")]);
    let (second, waiting) = Binary::start_until(&args, &[], STANDING_BY);
    let health_addr = waiting
        .split_whitespace()
        .find_map(|w| w.strip_prefix("health="))
        .expect("the health address")
        .to_owned();

    // The holder is this test process, named by its pid.
    let holder = format!("pid={}", std::process::id());
    assert!(waiting.contains(&holder), "{waiting}");
    assert!(waiting.contains(&hostname), "{waiting}");
    assert_eq!(health(&second.addr, "").await.expect("health"), NOT_SERVING);
    assert_eq!(health(&health_addr, "").await.expect("health"), NOT_SERVING);
    assert_eq!(
        health(&second.addr, "virtplane.v1.HostService")
            .await
            .expect("health"),
        NOT_SERVING
    );
    let mut standby = HostServiceClient::connect(format!("http://{}", second.addr))
        .await
        .expect("connects");
    let refused = standby
        .get_host(pb::GetHostRequest::default())
        .await
        .expect_err("only health is served while standing by");
    assert_eq!(refused.code(), Code::Unimplemented, "{refused:?}");
    drop(standby);

    first.stop().await;
    let serving = second
        .line_containing("virtplane serving", Duration::from_secs(30))
        .await;
    assert!(serving.is_some(), "the second instance took over");
    let addr = second.addr.clone();
    eventually(Duration::from_secs(10), "the new writer serving", || {
        let addr = addr.clone();
        async move { health(&addr, "").await.is_ok_and(|s| s == SERVING) }
    })
    .await;
    let probe = health_addr.clone();
    eventually(
        Duration::from_secs(10),
        "the health listener serving",
        || {
            let probe = probe.clone();
            async move { health(&probe, "").await.is_ok_and(|s| s == SERVING) }
        },
    )
    .await;
    let mut host = HostServiceClient::connect(format!("http://{}", second.addr))
        .await
        .expect("connects");
    let record = host
        .set_host_enabled(pb::SetHostEnabledRequest {
            enabled: false,
            reason: "maintenance".into(),
            ..Default::default()
        })
        .await
        .expect("the new writer writes")
        .into_inner();
    assert_eq!(record.hostname, hostname);
    drop(host);
    second.signal("TERM");
    let (status, _) = second.wait().await;
    assert_eq!(status.code(), Some(0));
    shared.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_stands_by_and_takes_over_when_the_first_stops_on_sqlite() {
    a_second_instance_stands_by_and_takes_over_when_the_first_stops(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_stands_by_and_takes_over_when_the_first_stops_on_postgres() {
    a_second_instance_stands_by_and_takes_over_when_the_first_stops(true).await;
}

async fn with_a_lock_timeout_a_second_instance_exits_naming_the_holder(postgres: bool) {
    let shared = TestDatabase::create(postgres).await;
    let hostname = unique_name("timeout");
    let first = TestApp::spawn_in(
        TestOptions::new(TEST_DRIVER)
            .database(shared.url.clone())
            .hostname(hostname.clone()),
        &shared.scratch,
    )
    .await;

    let mut command = std::process::Command::new(BINARY);
    command.args(args(&shared, &hostname)).env("NO_COLOR", "1");
    // The flag on one backend, the environment variable on the other.
    if postgres {
        command.env("VIRTPLANE_LOCK_TIMEOUT", "1");
    } else {
        command.args(["--lock-timeout", "1"]);
    }
    let out = tokio::task::spawn_blocking(move || command.output().expect("runs"))
        .await
        .expect("join");

    assert!(!out.status.success(), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another virtplane instance is the writer")
            && stderr.contains(&format!("pid={}", std::process::id()))
            && stderr.contains("--lock-timeout"),
        "{stderr}"
    );
    first.stop().await;
    shared.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_lock_timeout_a_second_instance_exits_naming_the_holder_on_sqlite() {
    with_a_lock_timeout_a_second_instance_exits_naming_the_holder(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_lock_timeout_a_second_instance_exits_naming_the_holder_on_postgres() {
    with_a_lock_timeout_a_second_instance_exits_naming_the_holder(true).await;
}

/// The PostgreSQL backend holding this test process's writer lock, and its key.
async fn lock_session(admin: &mut sqlx::PgConnection) -> Option<(i32, i64)> {
    use sqlx::Row;
    sqlx::query(
        "SELECT a.pid, (l.classid::bigint << 32) | l.objid::bigint AS key \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE $1",
    )
    .bind(format!("virtplane pid={} %", std::process::id()))
    .fetch_optional(admin)
    .await
    .expect("pg_locks")
    .map(|row| (row.get("pid"), row.get("key")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_the_writer_takes_its_lock_again_after_its_connection_drops() {
    use sqlx::Connection;
    let shared = TestDatabase::create(true).await;
    let mut app = TestApp::spawn_in(
        TestOptions::new(TEST_DRIVER).database(shared.url.clone()),
        &shared.scratch,
    )
    .await;
    app.settled().await;
    let mut admin = sqlx::PgConnection::connect(&shared.url)
        .await
        .expect("admin");
    let (first_pid, _) = lock_session(&mut admin).await.expect("the lock is held");

    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(first_pid)
        .execute(&mut admin)
        .await
        .expect("terminate");

    let mut retaken = None;
    for _ in 0..200 {
        if let Some((pid, _)) = lock_session(&mut admin).await
            && pid != first_pid
        {
            retaken = Some(pid);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(retaken.is_some(), "the lock was not taken again");
    // The flag that lets writes through is raised just after the lock shows in
    // pg_locks: the first call may still find it down.
    let client = app.host.clone();
    eventually(Duration::from_secs(10), "writes to resume", || {
        let mut client = client.clone();
        async move {
            client
                .set_host_enabled(pb::SetHostEnabledRequest {
                    enabled: false,
                    reason: "after the blip".into(),
                    ..Default::default()
                })
                .await
                .is_ok_and(|r| !r.into_inner().enabled)
        }
    })
    .await;
    app.stop().await;
    let _ = admin.close().await;
    shared.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_writer_whose_lock_was_taken_meanwhile_stops_with_an_error() {
    use sqlx::Connection;
    let shared = TestDatabase::create(true).await;
    let mut app = TestApp::spawn_in(
        TestOptions::new(TEST_DRIVER).database(shared.url.clone()),
        &shared.scratch,
    )
    .await;
    app.settled().await;
    let mut admin = sqlx::PgConnection::connect(&shared.url)
        .await
        .expect("admin");
    let (pid, key) = lock_session(&mut admin).await.expect("the lock is held");

    // Another session takes the lock as soon as the writer's connection is gone: the
    // writer notices the drop, cannot take the lock back, and stops.
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .expect("terminate");
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut admin)
        .await
        .expect("the test takes the lock");
    let outcome = tokio::time::timeout(Duration::from_secs(30), app.outcome())
        .await
        .expect("the writer stops by itself");

    let err = outcome.expect_err("stopping for a lost lock is an error");
    assert!(err.to_string().contains("lost the writer lock"), "{err:#}");
    let _ = admin.close().await;
    shared.drop_database().await;
}
