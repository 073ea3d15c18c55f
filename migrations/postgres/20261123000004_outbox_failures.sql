-- Permanent delivery failures (a webhook answering 4xx other than 408/429): the row
-- leaves the pending queue but stays visible, with the receiver's last status code.
ALTER TABLE outbox ADD COLUMN failed_at BIGINT;
ALTER TABLE outbox ADD COLUMN last_status INTEGER;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (hostname, sink, id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
