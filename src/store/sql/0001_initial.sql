-- accessline schema, migration 1. Released migrations are never edited: add a new file instead.
--
-- Times are UTC RFC 3339 with milliseconds ("2025-01-06T08:00:00.000Z"): fixed width, so text
-- order is time order and indexes on them sort correctly.
--
-- CHECKs spell out `a = x OR a = y OR ...` rather than `a IN (x, y, z)`: SQLite evaluates an IN
-- list of more than two constants by building a temporary table, on every insert and update.

-- One row per revision. A draft (revision 1 only) becomes finalized in place; a finalized row
-- never changes again (triggers below). Summary columns come before `payload` so list queries
-- read them from the row's first page without touching the payload's overflow pages.
CREATE TABLE encounter (
    encounter_id   TEXT    NOT NULL CHECK (length(encounter_id) = 36),
    revision       INTEGER NOT NULL CHECK (revision >= 1),
    status         TEXT    NOT NULL CHECK (status IN ('draft', 'finalized')),
    supersedes     INTEGER CHECK (supersedes IS NULL OR supersedes = revision - 1),
    screener       TEXT    NOT NULL,
    device         TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    finalized_at   TEXT,
    received_at    TEXT    NOT NULL,
    caller_display TEXT    NOT NULL DEFAULT 'Anonymous',
    language       TEXT,
    age            INTEGER CHECK (age IS NULL OR age BETWEEN 0 AND 130),
    cell_computed  TEXT,
    cell_chosen    TEXT,
    risk           TEXT    CHECK (risk = 'none' OR risk = 'low' OR risk = 'moderate' OR risk = 'high' OR risk = 'imminent'),
    triage         TEXT    CHECK (triage = 'emergent' OR triage = 'urgent' OR triage = 'routine'),
    crisis         INTEGER NOT NULL DEFAULT 0 CHECK (crisis IN (0, 1)),
    deadline_at    TEXT,
    reason         TEXT,
    note           TEXT,
    audit_seq      INTEGER,
    payload_sha256 TEXT,
    definitions    TEXT    NOT NULL DEFAULT '{}',
    payload        TEXT,
    -- Sort keys for the supervisor list, computed so they can be indexed.
    risk_rank      INTEGER GENERATED ALWAYS AS (CASE risk
                       WHEN 'imminent' THEN 4 WHEN 'high' THEN 3 WHEN 'moderate' THEN 2
                       WHEN 'low' THEN 1 ELSE 0 END) VIRTUAL,
    deadline_key   TEXT    GENERATED ALWAYS AS (coalesce(deadline_at, '9999-12-31T23:59:59.999Z')) VIRTUAL,
    PRIMARY KEY (encounter_id, revision),
    FOREIGN KEY (encounter_id, supersedes) REFERENCES encounter (encounter_id, revision),
    CHECK (status = 'finalized' OR revision = 1),
    CHECK (status = 'draft' OR (payload IS NOT NULL AND payload_sha256 IS NOT NULL
                                AND finalized_at IS NOT NULL AND audit_seq IS NOT NULL))
);

-- Supervisor list: one index per sort order, each ending in the keyset (received_at, id).
CREATE INDEX encounter_by_time     ON encounter (received_at, encounter_id);
CREATE INDEX encounter_by_risk     ON encounter (risk_rank, received_at, encounter_id);
CREATE INDEX encounter_by_deadline ON encounter (deadline_key, received_at, encounter_id);
CREATE INDEX encounter_by_screener ON encounter (screener, received_at, encounter_id);
-- The screener's drafts (few rows, so a partial index).
CREATE INDEX encounter_drafts ON encounter (screener, updated_at) WHERE status = 'draft';

CREATE TRIGGER encounter_finalized_no_update BEFORE UPDATE ON encounter
WHEN OLD.status = 'finalized'
BEGIN
    SELECT RAISE(ABORT, 'finalized encounter revisions are immutable: write an addendum');
END;

CREATE TRIGGER encounter_finalized_no_delete BEFORE DELETE ON encounter
WHEN OLD.status = 'finalized'
BEGIN
    SELECT RAISE(ABORT, 'finalized encounter revisions cannot be deleted');
END;

-- Autosave: one row per answered field of a draft (the cursor is the field "cursor").
CREATE TABLE draft_field (
    encounter_id TEXT    NOT NULL,
    revision     INTEGER NOT NULL DEFAULT 1 CHECK (revision = 1),
    key          TEXT    NOT NULL CHECK (length(key) > 0),
    value        TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (encounter_id, key),
    FOREIGN KEY (encounter_id, revision) REFERENCES encounter (encounter_id, revision)
) WITHOUT ROWID;

CREATE TRIGGER draft_field_only_drafts_insert BEFORE INSERT ON draft_field
WHEN (SELECT status FROM encounter WHERE encounter_id = NEW.encounter_id AND revision = 1)
     IS NOT 'draft'
BEGIN
    SELECT RAISE(ABORT, 'fields can only be saved to a draft');
END;

CREATE TRIGGER draft_field_only_drafts_update BEFORE UPDATE ON draft_field
WHEN (SELECT status FROM encounter WHERE encounter_id = NEW.encounter_id AND revision = 1)
     IS NOT 'draft'
BEGIN
    SELECT RAISE(ABORT, 'fields can only be saved to a draft');
END;

-- Workflow state of a finalized revision. It changes (review, sync, superseded by an addendum)
-- while the revision cannot, so it lives beside it. `screener` is copied from the revision so
-- the screener's "returned to me" queue is one small partial index.
CREATE TABLE encounter_state (
    encounter_id TEXT    NOT NULL,
    revision     INTEGER NOT NULL,
    screener     TEXT    NOT NULL,
    current      INTEGER NOT NULL DEFAULT 1 CHECK (current IN (0, 1)),
    review_state TEXT    NOT NULL DEFAULT 'awaiting'
                 CHECK (review_state = 'awaiting' OR review_state = 'approved' OR review_state = 'needs_changes'),
    sync_state   TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (sync_state = 'pending' OR sync_state = 'exported' OR sync_state = 'acknowledged' OR sync_state = 'conflict'),
    sync_error   TEXT,
    PRIMARY KEY (encounter_id, revision),
    FOREIGN KEY (encounter_id, revision) REFERENCES encounter (encounter_id, revision)
) WITHOUT ROWID;

CREATE INDEX encounter_state_returned ON encounter_state (screener)
WHERE review_state = 'needs_changes' AND current = 1;

-- Supervisor decisions on one revision: append-only.
CREATE TABLE review (
    review_id    INTEGER PRIMARY KEY,
    encounter_id TEXT    NOT NULL,
    revision     INTEGER NOT NULL,
    decision     TEXT    NOT NULL CHECK (decision IN ('approved', 'needs_changes')),
    note         TEXT,
    reviewer     TEXT    NOT NULL,
    device       TEXT    NOT NULL,
    reviewed_at  TEXT    NOT NULL,
    audit_seq    INTEGER NOT NULL,
    FOREIGN KEY (encounter_id, revision) REFERENCES encounter (encounter_id, revision),
    CHECK (decision = 'approved' OR coalesce(length(trim(note)), 0) > 0)
);

CREATE INDEX review_by_revision ON review (encounter_id, revision, review_id);

CREATE TRIGGER review_only_finalized BEFORE INSERT ON review
WHEN (SELECT status FROM encounter WHERE encounter_id = NEW.encounter_id AND revision = NEW.revision)
     IS NOT 'finalized'
BEGIN
    SELECT RAISE(ABORT, 'only finalized revisions can be reviewed');
END;

CREATE TRIGGER review_no_update BEFORE UPDATE ON review
BEGIN
    SELECT RAISE(ABORT, 'reviews are append-only');
END;

CREATE TRIGGER review_no_delete BEFORE DELETE ON review
BEGIN
    SELECT RAISE(ABORT, 'reviews are append-only');
END;

-- Hash-chained audit log: hash = sha256(prev_hash || canonical row), see store/audit.rs.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY CHECK (seq >= 1),
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    device    TEXT NOT NULL,
    action    TEXT NOT NULL,
    record    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- What this device must send: every finalized revision and every review, numbered per device.
CREATE TABLE outbox (
    device       TEXT    NOT NULL,
    seq          INTEGER NOT NULL CHECK (seq >= 1),
    kind         TEXT    NOT NULL CHECK (kind IN ('encounter', 'review')),
    encounter_id TEXT    NOT NULL,
    revision     INTEGER NOT NULL,
    review_id    INTEGER REFERENCES review (review_id),
    created_at   TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (state = 'pending' OR state = 'exported' OR state = 'acknowledged' OR state = 'conflict'),
    last_error   TEXT,
    PRIMARY KEY (device, seq),
    FOREIGN KEY (encounter_id, revision) REFERENCES encounter (encounter_id, revision),
    CHECK ((kind = 'review') = (review_id IS NOT NULL))
) WITHOUT ROWID;

CREATE INDEX outbox_unsent ON outbox (device, seq) WHERE state = 'pending';

CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
BEGIN
    SELECT RAISE(ABORT, 'outbox entries are never deleted');
END;

CREATE TRIGGER outbox_identity_fixed
BEFORE UPDATE OF device, seq, kind, encounter_id, revision, review_id, created_at ON outbox
BEGIN
    SELECT RAISE(ABORT, 'an outbox entry only changes its sync state');
END;

-- Full-text search over reasons for call, addendum notes and review notes. The FTS table is
-- contentless (the text already lives in encounter and review); search_doc maps its rowids back
-- to encounters. A document's rowid is `received_at in ms * 1024 + n`: FTS5 returns matches in
-- rowid order, so a search walks its hits newest call first and stops after one page instead
-- of collecting and sorting every hit. Both are written by the store in the same transaction as the row they index
-- (not by triggers: a trigger makes every insert open a statement savepoint, and FTS5 flushes
-- its pending terms to a new segment at each savepoint, which makes bulk loads crawl).
CREATE TABLE search_doc (
    doc          INTEGER PRIMARY KEY,
    encounter_id TEXT    NOT NULL,
    revision     INTEGER NOT NULL
);

CREATE INDEX search_doc_by_encounter ON search_doc (encounter_id);

CREATE VIRTUAL TABLE search_fts USING fts5 (
    body, content = '', tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER search_doc_no_change BEFORE UPDATE ON search_doc
BEGIN
    SELECT RAISE(ABORT, 'the search index follows append-only records');
END;
