-- accessline schema, migration 12: the sync line's counts kept by the database (issues 5, 6).
-- Released migrations are never edited.
--
-- The home screen shows how many records are pending, exported, acknowledged and in conflict
-- (and, on a hub, held, quarantined and waiting). Counting them meant reading the whole outbox
-- at every sign-in: at 1,000,000 calls (1.6 million outbox entries) 1.9 s with the file in the
-- OS cache and 4.5 s without, between the passphrase and the home screen. The counts now live
-- in two tiny tables that triggers keep, in the transaction of each change, whoever writes it
-- (the store, an import, the demo's bulk writer). `verify` recounts them.
CREATE TABLE outbox_count (
    state TEXT    NOT NULL PRIMARY KEY,
    n     INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO outbox_count (state, n)
SELECT s.state, coalesce(c.n, 0)
FROM (SELECT 'pending' AS state UNION ALL SELECT 'exported' UNION ALL SELECT 'acknowledged'
      UNION ALL SELECT 'conflict') s
LEFT JOIN (SELECT state, count(*) AS n FROM outbox GROUP BY state) c ON c.state = s.state;

CREATE TRIGGER outbox_count_insert AFTER INSERT ON outbox
BEGIN
    UPDATE outbox_count SET n = n + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER outbox_count_update AFTER UPDATE OF state ON outbox
WHEN OLD.state IS NOT NEW.state
BEGIN
    UPDATE outbox_count SET n = n - 1 WHERE state = OLD.state;
    UPDATE outbox_count SET n = n + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER outbox_count_delete AFTER DELETE ON outbox
BEGIN
    UPDATE outbox_count SET n = n - 1 WHERE state = OLD.state;
END;

CREATE TABLE sync_inbox_count (
    state TEXT    NOT NULL PRIMARY KEY,
    n     INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO sync_inbox_count (state, n)
SELECT s.state, coalesce(c.n, 0)
FROM (SELECT 'held' AS state UNION ALL SELECT 'conflict' UNION ALL SELECT 'parked') s
LEFT JOIN (SELECT state, count(*) AS n FROM sync_inbox GROUP BY state) c ON c.state = s.state;

CREATE TRIGGER sync_inbox_count_insert AFTER INSERT ON sync_inbox
BEGIN
    UPDATE sync_inbox_count SET n = n + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER sync_inbox_count_update AFTER UPDATE OF state ON sync_inbox
WHEN OLD.state IS NOT NEW.state
BEGIN
    UPDATE sync_inbox_count SET n = n - 1 WHERE state = OLD.state;
    UPDATE sync_inbox_count SET n = n + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER sync_inbox_count_delete AFTER DELETE ON sync_inbox
BEGIN
    UPDATE sync_inbox_count SET n = n - 1 WHERE state = OLD.state;
END;
