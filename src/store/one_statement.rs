//! A recorder's batch on PostgreSQL as one statement: the events' INSERT and the
//! known-state upserts and removals as data-modifying CTEs of a single INSERT, which
//! PostgreSQL applies atomically without BEGIN and COMMIT.
//!
//! Every commit of every agent in a fleet costs the shared server a round trip per
//! statement; the transaction this replaces took five (BEGIN, INSERT, an upsert per
//! domain, COMMIT) and the fleet bench found the server's CPU spent on them to be the
//! first limit. Batches that carry outbox notifications (which need the new ids),
//! batches over one INSERT's chunk and SQLite take the transaction.

use sqlx::AssertSqlSafe;

use super::{
    Backend, Outbox, Store, StoreError,
    events::{KnownChanges, bind_event, drawn_ids},
    now_millis,
};
use crate::model::NewEvent;

/// Rows per statement, as the transaction's chunks: 7 parameters per event stay far
/// below PostgreSQL's 65535.
const MAX_EVENTS: usize = 500;

impl Store {
    /// Whether `record_events` may write this batch as one statement.
    pub(super) fn fits_one_statement(
        &self,
        events: &[NewEvent],
        changes: &KnownChanges,
        outboxes: &[Outbox],
    ) -> bool {
        let notifies = outboxes
            .iter()
            .any(|o| events.iter().any(|e| o.takes(e.kind)));
        // One statement may not touch a row twice: upserts distinct, none removed.
        let mut uuids: Vec<&str> = changes.upserts.iter().map(|k| k.uuid.as_str()).collect();
        uuids.extend(changes.removals.iter().map(String::as_str));
        let count = uuids.len();
        uuids.sort_unstable();
        uuids.dedup();
        self.backend == Backend::Postgres
            && !events.is_empty()
            && events.len() <= MAX_EVENTS
            && changes.upserts.len() + changes.removals.len() <= MAX_EVENTS
            && !notifies
            && uuids.len() == count
    }
}

/// Writes the batch; returns the events' ids in the order of `events`.
pub(super) async fn record(
    conn: &mut sqlx::AnyConnection,
    hostname: &str,
    events: &[NewEvent],
    changes: &KnownChanges,
) -> Result<Vec<i64>, StoreError> {
    let now = now_millis();
    let sql = statement(events.len(), changes.upserts.len(), changes.removals.len());
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(hostname);
    for e in events {
        query = bind_event(query, e);
    }
    for known in &changes.upserts {
        query = query
            .bind(known.uuid.as_str())
            .bind(known.name.as_str())
            .bind(known.state.key())
            .bind(i32::from(known.persistent))
            .bind(now);
    }
    for uuid in &changes.removals {
        query = query.bind(uuid.as_str());
    }
    drawn_ids(&query.fetch_all(conn).await?)
}

/// The statement for `events` events, `upserts` known states and `removals`, the
/// hostname bound once as `$1`.
fn statement(events: usize, upserts: usize, removals: usize) -> String {
    let mut next = 1;
    let mut params = |n: usize| {
        let list: Vec<String> = (0..n)
            .map(|_| {
                next += 1;
                format!("${next}")
            })
            .collect();
        list.join(", ")
    };
    let rows = |count: usize, width: usize, params: &mut dyn FnMut(usize) -> String| {
        (0..count)
            .map(|_| format!("($1, {})", params(width)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut sql = format!(
        "WITH recorded AS (INSERT INTO lifecycle_events \
         (hostname, domain_uuid, domain_name, type, detail, synthetic, occurred_at) \
         VALUES {} RETURNING id)",
        rows(events, 6, &mut params)
    );
    if upserts > 0 {
        sql.push_str(&format!(
            ", known AS (INSERT INTO domain_states \
             (hostname, domain_uuid, domain_name, state, persistent, updated_at) VALUES {} \
             ON CONFLICT (hostname, domain_uuid) DO UPDATE SET \
             domain_name = excluded.domain_name, state = excluded.state, \
             persistent = excluded.persistent, updated_at = excluded.updated_at)",
            rows(upserts, 5, &mut params)
        ));
    }
    if removals > 0 {
        sql.push_str(&format!(
            ", forgotten AS (DELETE FROM domain_states WHERE hostname = $1 \
             AND domain_uuid IN ({}))",
            params(removals)
        ));
    }
    sql.push_str(" SELECT id FROM recorded");
    sql
}

#[cfg(test)]
mod tests {
    use super::statement;

    #[test]
    fn the_statement_numbers_its_parameters_after_the_hostname() {
        assert_eq!(
            statement(2, 1, 1),
            "WITH recorded AS (INSERT INTO lifecycle_events \
             (hostname, domain_uuid, domain_name, type, detail, synthetic, occurred_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7), ($1, $8, $9, $10, $11, $12, $13) RETURNING id), \
             known AS (INSERT INTO domain_states \
             (hostname, domain_uuid, domain_name, state, persistent, updated_at) \
             VALUES ($1, $14, $15, $16, $17, $18) \
             ON CONFLICT (hostname, domain_uuid) DO UPDATE SET \
             domain_name = excluded.domain_name, state = excluded.state, \
             persistent = excluded.persistent, updated_at = excluded.updated_at), \
             forgotten AS (DELETE FROM domain_states WHERE hostname = $1 \
             AND domain_uuid IN ($19)) SELECT id FROM recorded"
        );
    }
}
