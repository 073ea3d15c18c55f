-- Notifications waiting for (or done with) delivery. A row is marked delivered only
-- after the broker confirmed the message, so delivery is at least once and survives a
-- broker outage or a restart of the service.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    hostname     TEXT NOT NULL,
    sink         TEXT NOT NULL,
    routing_key  TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    delivered_at BIGINT
);
CREATE INDEX outbox_pending ON outbox (hostname, sink, id) WHERE delivered_at IS NULL;
