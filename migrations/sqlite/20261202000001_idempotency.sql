-- Safe retries: a mutating request sent with a `request_id` acts once. Its first
-- arrival claims the id (`pending`); a success stores the encoded reply (`done`), which
-- every repeat with the same id and the same request gets back without acting again;
-- a failure deletes the claim, so a retry acts again. Ids are scoped per host: many
-- agents may share one database.
CREATE TABLE idempotent_requests (
    hostname    TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    -- The gRPC method the id was first used with.
    method      TEXT NOT NULL,
    -- Lower-case hex SHA-256 of the method and the encoded request: the same id with
    -- another request is refused, never answered with this one's reply.
    fingerprint TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    -- The encoded reply; NULL while pending.
    reply       BLOB,
    -- Unix epoch milliseconds. Past `expires_at` the row counts as absent (a claim
    -- replaces it) and the pruner deletes it.
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (hostname, request_id)
);
CREATE INDEX idempotent_requests_expiry ON idempotent_requests (hostname, expires_at);
