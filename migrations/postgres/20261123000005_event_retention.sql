-- The highest lifecycle event id pruned for this host (0: none). Pruning deletes a
-- prefix of the host's journal, in id order, and raises this watermark in the same
-- transaction, so "every id at or below it is gone, every id above it is kept" holds
-- at every commit: a watch or page token that resumes below it is told so, never
-- served a silent gap. `domain_states` is never pruned.
ALTER TABLE hosts ADD COLUMN events_pruned_through BIGINT NOT NULL DEFAULT 0;
