-- no-transaction
-- Every outbox row of one host and sink, whatever its state: ListWebhookDeliveries,
-- the delivery counts and the outbox pruner read by host and sink, and without this
-- index they scanned every host's rows of a shared database. Built CONCURRENTLY
-- (outside a transaction) so agents already running keep writing their outboxes
-- while it builds; IF NOT EXISTS lets a migration interrupted midway run again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_by_host ON outbox (hostname, sink, id);
