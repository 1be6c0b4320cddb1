-- accessline schema, migration 3: later sync (DESIGN 5). Released migrations are never edited.
--
-- A device writes batches of its outbox to files; a hub (the county) imports them. Both sides
-- record every batch they wrote or read, and the hub keeps an inbox of every record it received
-- with where it came from, so that a re-sent record is recognised, a record that contradicts
-- the hub is quarantined instead of applied, and a record that arrived before the one it builds
-- on waits for it.

-- Every batch file written (direction 'export') or imported ('import'). Metadata only: the
-- same facts as the batch's plaintext manifest, never PHI.
CREATE TABLE sync_batch (
    batch_id     TEXT    NOT NULL CHECK (length(batch_id) = 36),
    direction    TEXT    NOT NULL CHECK (direction = 'export' OR direction = 'import'),
    format       TEXT    NOT NULL CHECK (format = 'ndjson' OR format = 'fhir'),
    device       TEXT    NOT NULL,
    first_seq    INTEGER,
    last_seq     INTEGER,
    count        INTEGER NOT NULL CHECK (count >= 0),
    file_name    TEXT    NOT NULL,
    file_sha256  TEXT    NOT NULL CHECK (length(file_sha256) = 64),
    encrypted    INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
    created_at   TEXT    NOT NULL,
    recorded_at  TEXT    NOT NULL,
    PRIMARY KEY (batch_id, direction)
) WITHOUT ROWID;

CREATE TRIGGER sync_batch_no_update BEFORE UPDATE ON sync_batch
BEGIN
    SELECT RAISE(ABORT, 'sync batches are append-only');
END;

CREATE TRIGGER sync_batch_no_delete BEFORE DELETE ON sync_batch
BEGIN
    SELECT RAISE(ABORT, 'sync batches are append-only');
END;

-- The last NDJSON batch that carried an outbox entry (the reconciliation report's "batch").
ALTER TABLE outbox ADD COLUMN batch_id TEXT;

-- The hub's inbox: one row per record received, keyed by where it came from and what it is.
--   held      the hub holds exactly this record (applied now, or identical to one it held)
--   conflict  the hub holds a different record under the same identity: quarantined here,
--             never applied, listed by `accessline sync status`
--   parked    the record builds on one the hub does not hold yet (an addendum before its
--             revision, a review before its encounter): applied when that one arrives
-- Only a parked row ever changes (to held or conflict); nothing is deleted.
CREATE TABLE sync_inbox (
    origin_device    TEXT    NOT NULL,
    origin_seq       INTEGER NOT NULL CHECK (origin_seq >= 1),
    sha256           TEXT    NOT NULL CHECK (length(sha256) = 64),
    kind             TEXT    NOT NULL CHECK (kind = 'encounter' OR kind = 'review'),
    encounter_id     TEXT    NOT NULL CHECK (length(encounter_id) = 36),
    revision         INTEGER NOT NULL CHECK (revision >= 1),
    origin_review_id INTEGER,
    state            TEXT    NOT NULL CHECK (state = 'held' OR state = 'conflict' OR state = 'parked'),
    -- The hub's own row of a held review.
    review_id        INTEGER REFERENCES review (review_id),
    -- conflict: the hash of the record the hub holds under this identity.
    held_sha256      TEXT,
    -- conflict: why, in words.
    problem          TEXT,
    -- parked or conflict: the record as received (JSON), kept for later or for inspection.
    record           TEXT,
    batch_id         TEXT    NOT NULL,
    line_no          INTEGER NOT NULL,
    received_at      TEXT    NOT NULL,
    PRIMARY KEY (origin_device, origin_seq, sha256),
    CHECK ((kind = 'review') = (origin_review_id IS NOT NULL)),
    CHECK (state = 'held' OR record IS NOT NULL),
    CHECK (state <> 'conflict' OR (held_sha256 IS NOT NULL AND problem IS NOT NULL))
) WITHOUT ROWID;

CREATE INDEX sync_inbox_by_record ON sync_inbox (encounter_id, revision, kind);
CREATE INDEX sync_inbox_open ON sync_inbox (state, origin_device, origin_seq) WHERE state <> 'held';

CREATE TRIGGER sync_inbox_no_delete BEFORE DELETE ON sync_inbox
BEGIN
    SELECT RAISE(ABORT, 'the sync inbox is append-only');
END;

CREATE TRIGGER sync_inbox_settled BEFORE UPDATE ON sync_inbox
WHEN OLD.state <> 'parked'
BEGIN
    SELECT RAISE(ABORT, 'only a parked inbox record changes (when what it waits for arrives)');
END;
