-- The record screen shows the audit history of one encounter: find its rows without
-- scanning the whole log.
CREATE INDEX audit_by_record ON audit (record, seq);
