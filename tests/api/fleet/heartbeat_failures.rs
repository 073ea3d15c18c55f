//! Heartbeats that the shared database refuses are counted on /metrics (the alert
//! VirtplaneHeartbeatsFailing reads them), and storing resumes once it accepts them.

use std::time::Duration;

use sqlx::{Connection, PgConnection};

use super::shared::Fleet;
use crate::support::{TEST_DRIVER, TestApp, TestOptions, eventually, metrics::scrape, unique_name};

/// A counter's value on the metrics page.
fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name}"))
}

async fn rename(url: &str, from: &str, to: &str) {
    let mut admin = PgConnection::connect(url).await.expect("admin");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE {from} RENAME TO {to}"
    )))
    .execute(&mut admin)
    .await
    .expect("rename");
}

#[tokio::test]
async fn failed_heartbeats_are_counted_and_storing_resumes_when_the_database_accepts_them() {
    // Arrange: an agent beating every second on a shared PostgreSQL.
    let fleet = Fleet::create(true).await;
    let options = TestOptions::new(TEST_DRIVER)
        .database(fleet.db.url.clone())
        .hostname(unique_name("hv-beat"))
        .fleet(1, 60, "")
        .metrics_listener();
    let mut app = TestApp::spawn_in(options, &fleet.db.scratch).await;
    app.settled().await;
    let metrics = app.metrics_addr.expect("metrics listener");
    eventually(
        Duration::from_secs(30),
        "a stored heartbeat",
        || async move { counter(&scrape(metrics).await, "virtplane_heartbeats_total") >= 1.0 },
    )
    .await;

    // Act: the hosts table goes away, as if a wrong migration or a revoked grant.
    rename(&fleet.db.url, "hosts", "hosts_away").await;

    // Assert: the failures are counted.
    eventually(Duration::from_secs(30), "a failed heartbeat", || async move {
        counter(&scrape(metrics).await, "virtplane_heartbeat_failures_total") >= 1.0
    })
    .await;

    // Act / Assert: with the table back, heartbeats are stored again.
    let stored = counter(&scrape(metrics).await, "virtplane_heartbeats_total");
    rename(&fleet.db.url, "hosts_away", "hosts").await;
    eventually(
        Duration::from_secs(30),
        "heartbeats stored again",
        || async move { counter(&scrape(metrics).await, "virtplane_heartbeats_total") > stored },
    )
    .await;

    app.stop().await;
    fleet.drop_database().await;
}
