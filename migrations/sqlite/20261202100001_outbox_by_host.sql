-- Every outbox row of one host and sink, whatever its state: ListWebhookDeliveries,
-- the delivery counts and the outbox pruner read by host and sink.
CREATE INDEX IF NOT EXISTS outbox_by_host ON outbox (hostname, sink, id);
