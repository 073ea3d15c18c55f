-- Each agent's heartbeat, so a fleet sharing one database can tell which hosts are
-- alive. Additive only: agents of the previous version keep running against this
-- schema (they never read or write these columns), and every column has a default,
-- so PostgreSQL adds it without rewriting the table.
-- Unix epoch milliseconds of the agent's last heartbeat (0: never).
ALTER TABLE hosts ADD COLUMN heartbeat_at BIGINT NOT NULL DEFAULT 0;
-- 1 while the agent held a live libvirt connection at its last heartbeat.
ALTER TABLE hosts ADD COLUMN connected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN libvirt_version TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN hypervisor_type TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN hypervisor_version TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN agent_version TEXT NOT NULL DEFAULT '';
-- The host's labels from its configuration ([host] labels), a JSON object.
ALTER TABLE hosts ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
