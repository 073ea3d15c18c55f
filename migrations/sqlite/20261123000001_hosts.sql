-- One row per agent: whether the host accepts new work, and why not.
CREATE TABLE hosts (
    hostname        TEXT PRIMARY KEY NOT NULL,
    -- 1 = enabled, 0 = disabled. An integer rather than BOOLEAN because sqlx's Any
    -- driver cannot decode SQLite booleans, and one SQL text serves both backends.
    enabled         INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    -- NULL while enabled; "AUTO: ..." when the service disabled the host itself.
    disabled_reason TEXT,
    -- Unix epoch milliseconds of the last change.
    updated_at      BIGINT NOT NULL
);
