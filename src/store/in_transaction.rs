//! A recorder's batch in one transaction: the events in INSERTs of up to 500 rows,
//! the known-state changes, and the outboxes' notifications of the events (which
//! need the events' new ids). SQLite always takes this path; PostgreSQL when the
//! batch does not fit one statement (see `one_statement`).

use sqlx::AssertSqlSafe;

use super::{
    NewNotification, Outbox, StoreError,
    events::{KnownChanges, bind_event, drawn_ids},
    now_millis,
};
use crate::model::{LifecycleEvent, NewEvent};

/// Rows per INSERT: 7 parameters each stays far below both backends' limits.
const CHUNK: usize = 500;

/// Appends `events` and applies `changes` in one transaction, with the outboxes'
/// notifications of the events.
pub(super) async fn record(
    conn: &mut sqlx::AnyConnection,
    hostname: &str,
    events: &[NewEvent],
    changes: &KnownChanges,
    outboxes: &[Outbox],
) -> Result<Vec<LifecycleEvent>, StoreError> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let mut recorded = Vec::with_capacity(events.len());
    for chunk in events.chunks(CHUNK) {
        let sql = insert_sql(chunk.len());
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for e in chunk {
            query = bind_event(query.bind(hostname), e);
        }
        let ids = drawn_ids(&query.fetch_all(&mut *tx).await?)?;
        recorded.extend(with_ids(hostname, chunk, ids));
    }
    let now = now_millis();
    for known in &changes.upserts {
        sqlx::query(
                "INSERT INTO domain_states (hostname, domain_uuid, domain_name, state, persistent, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hostname, domain_uuid) DO UPDATE SET \
                 domain_name = excluded.domain_name, state = excluded.state, \
                 persistent = excluded.persistent, updated_at = excluded.updated_at",
            )
            .bind(hostname)
            .bind(known.uuid.as_str())
            .bind(known.name.as_str())
            .bind(known.state.key())
            .bind(i32::from(known.persistent))
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    for uuid in &changes.removals {
        sqlx::query("DELETE FROM domain_states WHERE hostname = $1 AND domain_uuid = $2")
            .bind(hostname)
            .bind(uuid.as_str())
            .execute(&mut *tx)
            .await?;
    }
    for outbox in outboxes {
        let notifications: Vec<NewNotification> = recorded
            .iter()
            .filter(|e| outbox.takes(e.kind))
            .map(lifecycle_notification)
            .collect();
        super::outbox::enqueue_in(&mut tx, hostname, &outbox.sink, &notifications).await?;
    }
    tx.commit().await?;
    Ok(recorded)
}

/// `events` as recorded with `ids` (drawn in their order).
pub(super) fn with_ids(hostname: &str, events: &[NewEvent], ids: Vec<i64>) -> Vec<LifecycleEvent> {
    events
        .iter()
        .zip(ids)
        .map(|(e, id)| LifecycleEvent {
            id,
            hostname: hostname.to_owned(),
            domain_uuid: e.domain_uuid.clone(),
            domain_name: e.domain_name.clone(),
            kind: e.kind,
            detail: e.detail.clone(),
            synthetic: e.synthetic,
            occurred_at_micros: e.occurred_at_micros,
        })
        .collect()
}

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO lifecycle_events \
         (hostname, domain_uuid, domain_name, type, detail, synthetic, occurred_at) VALUES ",
    );
    for row in 0..rows {
        let base = row * 7;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
            base + 1,
            base + 2,
            base + 3,
            base + 4,
            base + 5,
            base + 6,
            base + 7
        ));
    }
    sql.push_str(" RETURNING id");
    sql
}

/// The notification announcing a lifecycle event: routing key `lifecycle.<type>`.
fn lifecycle_notification(event: &LifecycleEvent) -> NewNotification {
    let payload = serde_json::json!({
        "id": event.id,
        "hostname": event.hostname,
        "domain_uuid": event.domain_uuid,
        "domain_name": event.domain_name,
        "type": event.kind.key(),
        "detail": event.detail,
        "synthetic": event.synthetic,
        "occurred_at_us": event.occurred_at_micros,
    });
    NewNotification {
        routing_key: format!("lifecycle.{}", event.kind.key()),
        payload: payload.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::insert_sql;

    #[test]
    fn insert_numbers_every_parameter() {
        let sql = insert_sql(2);
        assert!(sql.contains("($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14)"));
        assert!(sql.ends_with("RETURNING id"));
    }
}
