-- Every domain lifecycle event, in the order it was recorded.
CREATE TABLE lifecycle_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    hostname    TEXT NOT NULL,
    domain_uuid TEXT NOT NULL,
    domain_name TEXT NOT NULL,
    type        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    -- 1 when inferred by reconciliation rather than reported by libvirt.
    synthetic   INTEGER NOT NULL CHECK (synthetic IN (0, 1)),
    -- Unix epoch microseconds.
    occurred_at BIGINT NOT NULL
);
CREATE INDEX lifecycle_events_by_host ON lifecycle_events (hostname, id);
CREATE INDEX lifecycle_events_by_domain ON lifecycle_events (hostname, domain_uuid, id);

-- The last known state of each domain, compared with libvirt's after every connect.
CREATE TABLE domain_states (
    hostname    TEXT NOT NULL,
    domain_uuid TEXT NOT NULL,
    domain_name TEXT NOT NULL,
    state       TEXT NOT NULL,
    persistent  INTEGER NOT NULL CHECK (persistent IN (0, 1)),
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (hostname, domain_uuid)
);
