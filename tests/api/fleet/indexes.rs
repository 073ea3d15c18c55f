//! Every query an agent runs on the shared PostgreSQL, bounded by its hostname, is
//! served by an index: with sequential scans priced out, no plan scans a table.
//!
//! The queries are the store's, with literals for their parameters; a plan that still
//! reads a whole table with `enable_seqscan = off` has no index it can use.

use sqlx::{Connection, Executor, PgConnection, Row};
use virtplane::{
    secret::Secret,
    store::{Settings as DatabaseSettings, Store},
};

use crate::support::database::TestDatabase;

const QUERIES: &[&str] = &[
    // hosts: the agent's own row, read and written by primary key.
    "SELECT * FROM hosts WHERE hostname = 'h'",
    "UPDATE hosts SET heartbeat_at = 1, connected = 1, libvirt_version = '', \
     hypervisor_type = '', hypervisor_version = '' WHERE hostname = 'h'",
    "UPDATE hosts SET enabled = 0, disabled_reason = 'r', updated_at = 1 \
     WHERE hostname = 'h' AND enabled = 1",
    "UPDATE hosts SET events_pruned_through = 5 WHERE hostname = 'h' AND events_pruned_through < 5",
    // ListHosts pages walk the primary key in order.
    "SELECT * FROM hosts WHERE 1 = 1 AND enabled = 1 AND heartbeat_at >= 0 \
     AND hostname > 'a' ORDER BY hostname LIMIT 101",
    // lifecycle_events: listing, watching, pruning.
    "SELECT * FROM lifecycle_events WHERE hostname = 'h' AND id > 10 ORDER BY id LIMIT 500",
    "SELECT * FROM lifecycle_events WHERE hostname = 'h' \
     AND (domain_uuid = 'd' OR domain_name = 'd') AND id < 10 ORDER BY id DESC LIMIT 101",
    "SELECT id, occurred_at FROM lifecycle_events WHERE hostname = 'h' ORDER BY id LIMIT 250",
    "DELETE FROM lifecycle_events WHERE hostname = 'h' AND id >= 1 AND id <= 250",
    "SELECT id FROM lifecycle_events WHERE hostname = 'h' ORDER BY id LIMIT 1",
    // domain_states: reconciliation's base.
    "SELECT domain_uuid, domain_name, state, persistent FROM domain_states WHERE hostname = 'h'",
    "DELETE FROM domain_states WHERE hostname = 'h' AND domain_uuid = 'u'",
    // outbox: delivery, listing, counts, pruning.
    "SELECT id, routing_key, payload FROM outbox WHERE hostname = 'h' AND sink = 'amqp' \
     AND delivered_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT 100",
    "SELECT * FROM outbox WHERE hostname = 'h' AND sink = 'amqp' AND id < 99 \
     AND delivered_at IS NOT NULL ORDER BY id DESC LIMIT 101",
    "SELECT COUNT(*) FROM outbox WHERE hostname = 'h' AND sink = 'amqp'",
    "SELECT sink, COUNT(*) FROM outbox WHERE hostname = 'h' AND delivered_at IS NULL \
     AND failed_at IS NULL GROUP BY sink",
    "DELETE FROM outbox WHERE hostname = 'h' AND (delivered_at < 5 OR failed_at < 5)",
    // idempotent_requests: claims and their cleanup.
    "SELECT * FROM idempotent_requests WHERE hostname = 'h' AND request_id = 'r'",
    "DELETE FROM idempotent_requests WHERE hostname = 'h' AND state = 'pending'",
    "DELETE FROM idempotent_requests WHERE hostname = 'h' AND expires_at <= 5 \
     AND request_id IN (SELECT request_id FROM idempotent_requests \
     WHERE hostname = 'h' AND expires_at <= 5 LIMIT 100)",
];

#[tokio::test]
async fn on_postgres_every_query_bounded_by_hostname_is_served_by_an_index() {
    // Arrange: the schema as the agents migrate it.
    let db = TestDatabase::create(true).await;
    let store = Store::connect(&DatabaseSettings {
        url: Secret::new(db.url.clone()),
        max_connections: 1,
    })
    .await
    .expect("migrated");
    store.close().await;
    let mut conn = PgConnection::connect(&db.url).await.expect("PostgreSQL");
    conn.execute("SET enable_seqscan = off").await.expect("set");

    // Act: each query's plan.
    let mut scans = Vec::new();
    for query in QUERIES {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {query}")))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("EXPLAIN {query}: {e}"));
        let plan: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>(0).expect("a plan line"))
            .collect();
        if plan.iter().any(|line| line.contains("Seq Scan")) {
            scans.push(format!("{query}\n{}", plan.join("\n")));
        }
    }

    // Assert
    assert!(
        scans.is_empty(),
        "queries scanning a whole table:\n\n{}",
        scans.join("\n\n")
    );
    drop(conn);
    db.drop_database().await;
}
