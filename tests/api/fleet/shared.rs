//! Several agents on one scratch database, and rows written as another agent would.

use std::time::Duration;

use sqlx::{Connection, PgConnection};
use virtplane::grpc::pb;

use crate::support::{TEST_DRIVER, TestApp, TestOptions, database::TestDatabase, eventually};

/// A database the fleet's agents share.
pub struct Fleet {
    pub db: TestDatabase,
}

/// Another agent's row, as it would have written it.
pub struct Row<'a> {
    pub hostname: &'a str,
    pub enabled: bool,
    /// `None`: it never sent a heartbeat.
    pub heartbeat_ms: Option<i64>,
    /// A JSON object.
    pub labels: &'a str,
}

impl Fleet {
    pub async fn create(postgres: bool) -> Fleet {
        Fleet {
            db: TestDatabase::create(postgres).await,
        }
    }

    /// An agent on this database with a heartbeat every second, down after
    /// `down_after_s`, and `labels` (an inline table's body); settled.
    pub async fn spawn(&self, hostname: &str, down_after_s: u64, labels: &str) -> TestApp {
        self.spawn_watching_every(hostname, down_after_s, labels, 100)
            .await
    }

    /// [`Fleet::spawn`], its watches of other hosts reading the database every
    /// `watch_interval_ms` when no commit is announced.
    pub async fn spawn_watching_every(
        &self,
        hostname: &str,
        down_after_s: u64,
        labels: &str,
        watch_interval_ms: u64,
    ) -> TestApp {
        let options = TestOptions::new(TEST_DRIVER)
            .database(self.db.url.clone())
            .hostname(hostname)
            .fleet(1, down_after_s, labels)
            .watch_interval_ms(watch_interval_ms);
        let mut app = TestApp::spawn_in(options, &self.db.scratch).await;
        app.settled().await;
        app
    }

    /// Writes a host's row directly, as an agent elsewhere would (PostgreSQL only).
    pub async fn insert(&self, row: Row<'_>) {
        let mut conn = PgConnection::connect(&self.db.url)
            .await
            .expect("PostgreSQL");
        let now = now_ms();
        sqlx::query(
            "INSERT INTO hosts (hostname, enabled, disabled_reason, updated_at, heartbeat_at, \
             connected, libvirt_version, agent_version, labels) \
             VALUES ($1, $2, $3, $4, $5, 1, '10.0.0', '0.0.1', $6)",
        )
        .bind(row.hostname)
        .bind(i32::from(row.enabled))
        .bind((!row.enabled).then_some("maintenance"))
        .bind(now)
        .bind(row.heartbeat_ms.unwrap_or(0))
        .bind(row.labels)
        .execute(&mut conn)
        .await
        .expect("insert a host row");
    }

    pub async fn drop_database(self) {
        self.db.drop_database().await;
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).expect("in range"))
        .expect("after 1970")
}

/// `GetHost` of `hostname` asked of `app`.
pub async fn host_of(app: &TestApp, hostname: &str) -> Result<pb::Host, tonic::Status> {
    app.host
        .clone()
        .get_host(pb::GetHostRequest {
            hostname: hostname.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Polls `GetHost` of `hostname` on `app` until `ready` holds.
pub async fn host_until(
    app: &TestApp,
    hostname: &str,
    what: &str,
    ready: impl Fn(&pb::Host) -> bool,
) -> pb::Host {
    let ready = &ready;
    eventually(Duration::from_secs(30), what, || async move {
        host_of(app, hostname).await.is_ok_and(|h| ready(&h))
    })
    .await;
    host_of(app, hostname).await.expect("GetHost")
}
