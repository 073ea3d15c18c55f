//! A scratch PostgreSQL database per test, dropped afterwards.

use sqlx::{Connection, Executor, PgConnection};

/// The server the tests use; `VIRTPLANE_TEST_POSTGRES` overrides it.
fn server_url() -> String {
    std::env::var("VIRTPLANE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

pub struct ScratchDatabase {
    name: String,
}

impl ScratchDatabase {
    pub async fn create() -> ScratchDatabase {
        let name = super::unique_name("virtplane_test").replace('-', "_");
        let mut admin = PgConnection::connect(&format!("{}/postgres", server_url()))
            .await
            .expect("PostgreSQL reachable (make test starts it)");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create scratch database");
        ScratchDatabase { name }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", server_url(), self.name)
    }

    pub async fn drop_database(self) {
        if let Ok(mut admin) = PgConnection::connect(&format!("{}/postgres", server_url())).await {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                )))
                .await;
        }
    }
}
