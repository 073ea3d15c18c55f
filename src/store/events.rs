//! The `lifecycle_events` and `domain_states` tables.
//!
//! One writer per host (the lifecycle recorder) appends events in batches, with the
//! known-state changes they imply, stored together or not at all: on PostgreSQL as
//! one statement when nothing else goes with them (`one_statement`), otherwise in a
//! transaction (`in_transaction`). Each committed batch is then announced to other
//! agents' watchers (`commit_feed`).

use sqlx::{
    Any, AssertSqlSafe, Row,
    any::{AnyArguments, AnyRow},
    query::Query,
};

use super::{
    Store, StoreError,
    in_transaction::{self, with_ids},
};
use crate::model::{DomainState, EventType, KnownDomain, LifecycleEvent, NewEvent};

/// Which stored events to read.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Domain UUID or name.
    pub domain: Option<String>,
    pub types: Vec<EventType>,
    pub start_micros: Option<i64>,
    pub end_micros: Option<i64>,
    pub newest_first: bool,
    /// Exclusive bound: ids below (newest first) or above (oldest first) this one.
    pub cursor: Option<i64>,
    pub limit: usize,
}

/// Changes to the known domain states, applied with a batch of events.
#[derive(Debug, Clone, Default)]
pub struct KnownChanges {
    pub upserts: Vec<KnownDomain>,
    pub removals: Vec<String>,
}

impl Store {
    /// Appends events and applies known-state changes atomically (on PostgreSQL in
    /// one statement when nothing else goes with them, see `one_statement`); returns
    /// the events with their ids, in order.
    ///
    /// # Errors
    /// The database failed; nothing was stored.
    pub async fn record_events(
        &self,
        hostname: &str,
        events: &[NewEvent],
        changes: &KnownChanges,
        outboxes: &[super::Outbox],
    ) -> Result<Vec<LifecycleEvent>, StoreError> {
        self.writable()?;
        let _turn = self.write_turn().await;
        let mut conn = self.pool.acquire().await?;
        let written = if self.fits_one_statement(events, changes, outboxes) {
            super::one_statement::record(&mut conn, hostname, events, changes)
                .await
                .map(|ids| with_ids(hostname, events, ids))
        } else {
            in_transaction::record(&mut conn, hostname, events, changes, outboxes).await
        };
        let recorded = match written {
            Ok(recorded) => recorded,
            Err(e) => {
                // A connection lost around the commit leaves it unknown whether the
                // batch is stored: the next announcement must not claim to follow
                // the last batch known, or a watcher would skip this one.
                if let Some(feed) = &self.commits {
                    feed.forget(hostname);
                }
                return Err(e);
            }
        };
        self.announce_commit(&mut conn, hostname, &recorded).await;
        Ok(recorded)
    }

    /// Tells watchers on other agents what `hostname` committed (PostgreSQL: see
    /// `commit_feed`). The events are stored whatever happens here: a failure only
    /// leaves watchers to their timer.
    async fn announce_commit(
        &self,
        conn: &mut sqlx::AnyConnection,
        hostname: &str,
        recorded: &[LifecycleEvent],
    ) {
        let (Some(feed), Some(last)) = (&self.commits, recorded.last()) else {
            return;
        };
        let after = feed.committed(hostname, last.id);
        let payload = super::commit_feed::encode(hostname, after, recorded);
        // `IS NULL`: pg_notify returns void, which the Any driver cannot decode.
        let notified = sqlx::query("SELECT pg_notify($1, $2) IS NULL")
            .bind(super::commit_feed::CHANNEL)
            .bind(payload)
            .execute(conn)
            .await;
        if let Err(e) = notified {
            tracing::warn!(error = %e, "stored lifecycle events but could not announce them to other agents' watchers");
        }
    }

    /// The known state of every domain of `hostname`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn known_domains(&self, hostname: &str) -> Result<Vec<KnownDomain>, StoreError> {
        let rows = sqlx::query(
            "SELECT domain_uuid, domain_name, state, persistent FROM domain_states WHERE hostname = $1",
        )
        .bind(hostname)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let state: String = row.try_get("state")?;
                Ok(KnownDomain {
                    uuid: row.try_get("domain_uuid")?,
                    name: row.try_get("domain_name")?,
                    state: DomainState::from_key(&state).unwrap_or(DomainState::NoState),
                    persistent: row.try_get::<i64, _>("persistent")? != 0,
                })
            })
            .collect()
    }

    /// Stored events of `hostname` matching `query`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn lifecycle_events(
        &self,
        hostname: &str,
        query: &EventQuery,
    ) -> Result<Vec<LifecycleEvent>, StoreError> {
        let (sql, binds) = select_sql(query, true);
        let mut q: Query<'_, Any, _> = sqlx::query(AssertSqlSafe(sql)).bind(hostname);
        for bind in binds {
            q = match bind {
                Bind::Text(s) => q.bind(s),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Stored events of every host matching `query`, in id order: one sequence
    /// numbers them all, but hosts commit independently, so the order says nothing of
    /// which host's event came first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn fleet_lifecycle_events(
        &self,
        query: &EventQuery,
    ) -> Result<Vec<LifecycleEvent>, StoreError> {
        let (sql, binds) = select_sql(query, false);
        let mut q: Query<'_, Any, _> = sqlx::query(AssertSqlSafe(sql));
        for bind in binds {
            q = match bind {
                Bind::Text(s) => q.bind(s),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(event_from_row).collect()
    }
}

enum Bind {
    Text(String),
    Int(i64),
}

/// The SELECT for `query`, of one host (its name bound first, as `$1`) or of all.
fn select_sql(query: &EventQuery, one_host: bool) -> (String, Vec<Bind>) {
    let mut sql = String::from(
        "SELECT id, hostname, domain_uuid, domain_name, type, detail, synthetic, occurred_at \
         FROM lifecycle_events WHERE ",
    );
    sql.push_str(if one_host { "hostname = $1" } else { "1 = 1" });
    let offset = usize::from(one_host);
    let mut binds = Vec::new();
    let next = |bind: Bind, binds: &mut Vec<Bind>| {
        binds.push(bind);
        format!("${}", binds.len() + offset)
    };
    if let Some(domain) = &query.domain {
        let p = next(Bind::Text(domain.clone()), &mut binds);
        sql.push_str(&format!(" AND (domain_uuid = {p} OR domain_name = {p})"));
    }
    if !query.types.is_empty() {
        let params: Vec<String> = query
            .types
            .iter()
            .map(|t| next(Bind::Text(t.key().to_owned()), &mut binds))
            .collect();
        sql.push_str(&format!(" AND type IN ({})", params.join(", ")));
    }
    if let Some(start) = query.start_micros {
        let p = next(Bind::Int(start), &mut binds);
        sql.push_str(&format!(" AND occurred_at >= {p}"));
    }
    if let Some(end) = query.end_micros {
        let p = next(Bind::Int(end), &mut binds);
        sql.push_str(&format!(" AND occurred_at < {p}"));
    }
    if let Some(cursor) = query.cursor {
        let p = next(Bind::Int(cursor), &mut binds);
        let op = if query.newest_first { "<" } else { ">" };
        sql.push_str(&format!(" AND id {op} {p}"));
    }
    let order = if query.newest_first { "DESC" } else { "ASC" };
    let limit = next(
        Bind::Int(i64::try_from(query.limit).unwrap_or(i64::MAX)),
        &mut binds,
    );
    sql.push_str(&format!(" ORDER BY id {order} LIMIT {limit}"));
    (sql, binds)
}

fn event_from_row(row: &AnyRow) -> Result<LifecycleEvent, StoreError> {
    let kind: String = row.try_get("type")?;
    Ok(LifecycleEvent {
        id: row.try_get("id")?,
        hostname: row.try_get("hostname")?,
        domain_uuid: row.try_get("domain_uuid")?,
        domain_name: row.try_get("domain_name")?,
        kind: EventType::from_key(&kind).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "lifecycle_events.type {kind:?} is not an event type"
            ))
        })?,
        detail: row.try_get("detail")?,
        synthetic: row.try_get::<i64, _>("synthetic")? != 0,
        occurred_at_micros: row.try_get("occurred_at")?,
    })
}

/// Binds an event's columns after the hostname, in `lifecycle_events`' order
/// (domain_uuid, domain_name, type, detail, synthetic, occurred_at).
pub(super) fn bind_event<'q>(
    query: Query<'q, Any, AnyArguments>,
    e: &'q NewEvent,
) -> Query<'q, Any, AnyArguments> {
    query
        .bind(e.domain_uuid.as_str())
        .bind(e.domain_name.as_str())
        .bind(e.kind.key())
        .bind(e.detail.as_str())
        .bind(i32::from(e.synthetic))
        .bind(e.occurred_at_micros)
}

/// The ids an INSERT ... RETURNING id gave, in the order they were drawn: the order
/// of its VALUES (RETURNING's own order is not promised).
pub(super) fn drawn_ids(rows: &[AnyRow]) -> Result<Vec<i64>, StoreError> {
    let mut ids: Vec<i64> = rows
        .iter()
        .map(|row| row.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_binds_filters_in_order() {
        let (sql, binds) = select_sql(
            &EventQuery {
                domain: Some("web".into()),
                types: vec![EventType::Started, EventType::Stopped],
                start_micros: Some(1),
                end_micros: None,
                newest_first: true,
                cursor: Some(10),
                limit: 5,
            },
            true,
        );
        assert!(
            sql.contains("(domain_uuid = $2 OR domain_name = $2)"),
            "{sql}"
        );
        assert!(sql.contains("type IN ($3, $4)"), "{sql}");
        assert!(sql.contains("occurred_at >= $5"), "{sql}");
        assert!(sql.contains("id < $6"), "{sql}");
        assert!(sql.ends_with("ORDER BY id DESC LIMIT $7"), "{sql}");
        assert_eq!(binds.len(), 6);
    }
}
